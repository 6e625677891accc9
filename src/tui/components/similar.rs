//! "Sounds like this": the library's tracks nearest to the focused one (by
//! cosine similarity of the model's embeddings), best first. Enter plays the
//! row; the list stays open to try another.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use unicode_width::UnicodeWidthStr;

use super::{Component, Ctx, centered, pane_block};
use crate::library::tree::NodeId;
use crate::tui::effect::ReqId;

/// How many neighbours the list asks for.
pub const SIMILAR_TOP: usize = 20;

#[derive(Debug, Clone)]
pub struct SimilarList {
    /// The track the list is for.
    pub query: NodeId,
    /// The request computing it (None once answered).
    pub req: Option<ReqId>,
    /// Embeddings computed so far: (done, total).
    pub progress: Option<(usize, usize)>,
    /// The nearest tracks, or why there are none; None while computing.
    pub rows: Option<Result<Vec<(NodeId, f32)>, String>>,
    pub cursor: usize,
}

impl SimilarList {
    pub fn new(query: NodeId, req: ReqId) -> SimilarList {
        SimilarList {
            query,
            req: Some(req),
            progress: None,
            rows: None,
            cursor: 0,
        }
    }

    fn found(&self) -> &[(NodeId, f32)] {
        match &self.rows {
            Some(Ok(r)) => r,
            _ => &[],
        }
    }

    pub fn move_by(&mut self, delta: isize) {
        let n = self.found().len();
        if n > 0 {
            self.cursor = self.cursor.saturating_add_signed(delta).min(n - 1);
        }
    }

    /// The track under the cursor.
    pub fn selected(&self) -> Option<NodeId> {
        self.found().get(self.cursor).map(|(n, _)| *n)
    }
}

impl Component for SimilarList {
    fn draw(&self, frame: &mut Frame, area: Rect, ctx: &Ctx) {
        let t = ctx.theme;
        // at least 6 rows, when the window has them (clamp panicked below)
        let h = (self.found().len() as u16 + 4).max(6).min(area.height);
        let popup = centered(area, area.width.saturating_sub(8).min(90), h);
        frame.render_widget(Clear, popup);
        let name = ctx.tree.node(self.query).label().into_owned();
        let block = pane_block(
            t,
            true,
            Span::styled(format!(" Sounds like {name} "), t.title),
        )
        .style(t.help);
        let inner = block.inner(popup);
        frame.render_widget(block, popup);
        let rows = usize::from(inner.height.saturating_sub(1));
        let mut lines: Vec<Line> = Vec::new();
        match &self.rows {
            None => {
                let msg = match self.progress {
                    Some((done, total)) if total > 0 => {
                        format!("embeddings {done}/{total} (missing ones are computed)…")
                    }
                    _ => "loading embeddings…".to_string(),
                };
                lines.push(Line::styled(msg, t.count));
            }
            Some(Err(e)) => lines.push(Line::styled(e.clone(), t.bad)),
            Some(Ok(found)) if found.is_empty() => {
                lines.push(Line::styled("no other track to compare with", t.dim));
            }
            Some(Ok(found)) => {
                let first = self.cursor.saturating_sub(rows.saturating_sub(1));
                for (i, (node, sim)) in found.iter().enumerate().skip(first).take(rows) {
                    let style = if i == self.cursor { t.selected } else { t.help };
                    let playing = ctx.player.node == Some(*node);
                    let w = usize::from(inner.width).saturating_sub(9);
                    let path = crate::text::fit_tail(&ctx.library_path(*node), w);
                    let pad = " ".repeat(w.saturating_sub(path.width()));
                    lines.push(Line::from(vec![
                        Span::styled(
                            format!("{:>6.3} ", sim),
                            if i == self.cursor {
                                t.selected
                            } else {
                                t.count
                            },
                        ),
                        Span::styled(if playing { "▶" } else { " " }, t.playing),
                        Span::styled(format!("{path}{pad}"), style),
                    ]));
                }
            }
        }
        while lines.len() < rows {
            lines.push(Line::raw(""));
        }
        lines.push(Line::styled(
            "cosine similarity of the model's embeddings · enter plays · esc closes",
            t.count,
        ));
        frame.render_widget(Paragraph::new(lines), inner);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_paths_keep_their_end_in_screen_columns() {
        assert_eq!(crate::text::fit_tail("a/b.mp3", 10), "a/b.mp3");
        assert_eq!(
            crate::text::fit_tail("music/album/track.mp3", 10),
            "…track.mp3"
        );
        // Wide characters count two columns.
        let cut = crate::text::fit_tail("音楽/アルバム/曲.mp3", 9);
        assert!(cut.width() <= 9 && cut.ends_with("曲.mp3"), "{cut}");
    }
}
