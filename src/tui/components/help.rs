//! The help overlay, generated from the key map (so rebinding keys in the
//! config file changes the help too).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use super::browser::MARKS_LEGEND;
use super::{Component, Ctx, OverlayScroll, centered, pane_block};

#[derive(Debug, Default)]
pub struct HelpOverlay {
    pub visible: bool,
    /// Lines scrolled when the keys do not fit.
    scroll: OverlayScroll,
}

const KEYS_WIDTH: usize = 13;

impl HelpOverlay {
    /// Scroll by `lines` (when the keys do not fit); false when it cannot scroll.
    pub fn scroll_by(&mut self, lines: i32) -> bool {
        self.scroll.by(lines)
    }

    pub fn close(&mut self) {
        self.visible = false;
        self.scroll.to_top();
    }

    /// Mouse, config and theme lines under the keys.
    fn footer(ctx: &Ctx) -> Vec<Line<'static>> {
        let t = ctx.theme;
        let mut footer = vec![Line::styled(
            "Mouse: click selects, click again plays, wheel scrolls, click gauge seeks, click a matrix cell selects it.",
            t.help,
        )];
        let config = match ctx.config_path {
            Some(p) if ctx.config_found => format!("Config (keys, theme): {}", p.display()),
            Some(p) => format!(
                "Config (keys, theme): none, defaults in use; write {} to change them",
                p.display()
            ),
            None => "Config (keys, theme): earmark/config.toml in your config folder".to_string(),
        };
        footer.push(Line::styled(config, t.count));
        footer.push(Line::styled(
            format!(
                "Theme: {}{}. Any other key closes this help.",
                t.name,
                if t.colourless {
                    ", colours off (NO_COLOR)"
                } else {
                    ""
                }
            ),
            t.count,
        ));
        footer
    }

    fn group_lines<'a>(
        ctx: &Ctx,
        groups: &[(&'static str, Vec<(String, &'static str)>)],
    ) -> Vec<Line<'a>> {
        let t = ctx.theme;
        let mut lines = Vec::new();
        for (i, (group, entries)) in groups.iter().enumerate() {
            if i > 0 {
                lines.push(Line::raw(""));
            }
            lines.push(Line::styled(group.to_string(), t.title));
            for (keys, desc) in entries {
                // keys wider than their column (several rebound to one
                // action) get a line of their own: they ran into the text
                let keys = if unicode_width::UnicodeWidthStr::width(keys.as_str()) > KEYS_WIDTH {
                    lines.push(Line::styled(format!(" {keys}"), t.key));
                    ""
                } else {
                    keys.as_str()
                };
                lines.push(Line::from(vec![
                    Span::styled(format!(" {keys:<KEYS_WIDTH$}"), t.key),
                    Span::styled(format!(" {desc}"), t.help),
                ]));
            }
        }
        lines
    }
}

/// The key map's groups, then the legend of the browser's marks.
fn keys_and_marks(ctx: &Ctx) -> Vec<(&'static str, Vec<(String, &'static str)>)> {
    let mut groups = ctx.keymap.help();
    groups.push((
        "Marks",
        MARKS_LEGEND
            .iter()
            .map(|&(mark, meaning)| (mark.to_string(), meaning))
            .collect(),
    ));
    groups
}

/// Lines `text` takes when word-wrapped to `width` columns (display
/// columns: a CJK character takes two).
pub(super) fn wrapped_lines(text: &str, width: usize) -> u16 {
    let width = width.max(1);
    let mut lines = 1u16;
    let mut used = 0usize;
    for word in text.split(' ') {
        let w = unicode_width::UnicodeWidthStr::width(word);
        if used > 0 && used + 1 + w > width {
            lines = lines.saturating_add(1);
            used = w;
        } else {
            used += if used > 0 { 1 + w } else { w };
        }
        while used > width {
            lines = lines.saturating_add(1);
            used -= width;
        }
    }
    lines
}

impl Component for HelpOverlay {
    fn draw(&self, frame: &mut Frame, area: Rect, ctx: &Ctx) {
        if !self.visible {
            return;
        }
        let t = ctx.theme;
        let groups = keys_and_marks(ctx);
        let footer = Self::footer(ctx);

        let one_column = Self::group_lines(ctx, &groups);
        let mut width = area.width.saturating_sub(4).min(78);
        let footer_height = |w: u16| -> u16 {
            footer
                .iter()
                .map(|l| wrapped_lines(&l.to_string(), usize::from(w.saturating_sub(2))))
                .sum()
        };
        let two_columns = width >= 60
            && one_column.len() as u16 + 1 + footer_height(width.min(64)) + 2 > area.height;
        if !two_columns {
            width = width.min(64);
        }
        // On a short screen the keys come first: the footer goes when it
        // would leave them fewer than four rows.
        let footer_height = match footer_height(width) {
            h if area.height < h + 3 + 4 => 0,
            h => h,
        };
        let (left, right) = if two_columns {
            // Balance groups across columns by line count.
            let total: usize = groups.iter().map(|(_, e)| e.len() + 2).sum();
            let mut acc = 0;
            let mut split = groups.len();
            for (i, (_, e)) in groups.iter().enumerate() {
                if acc + (e.len() + 2) / 2 > total / 2 {
                    split = i.max(1);
                    break;
                }
                acc += e.len() + 2;
            }
            (
                Self::group_lines(ctx, &groups[..split]),
                Self::group_lines(ctx, &groups[split..]),
            )
        } else {
            (one_column, Vec::new())
        };
        let full_body = left.len().max(right.len()) as u16;
        let body_height = full_body.min(area.height.saturating_sub(footer_height + 3).max(1));
        let max_scroll = full_body - body_height;
        let scroll = self.scroll.fit(max_scroll);
        let height = body_height + u16::from(footer_height > 0) + footer_height + 2;
        let popup = centered(area, width, height);
        frame.render_widget(Clear, popup);
        let mut title = vec![Span::styled(" Keys ", t.title)];
        if max_scroll > 0 {
            title.push(Span::styled(
                format!(
                    "· {} ↑/↓ scroll ",
                    if scroll < max_scroll {
                        "more below ·"
                    } else {
                        "end ·"
                    }
                ),
                t.count,
            ));
        }
        let block = pane_block(t, true, Line::from(title)).style(t.help);
        let inner = block.inner(popup);
        frame.render_widget(block, popup);
        let [body, _, foot] = Layout::vertical([
            Constraint::Length(body_height),
            Constraint::Length(u16::from(footer_height > 0)),
            Constraint::Min(0),
        ])
        .areas(inner);
        if two_columns {
            let [l, _, r] = Layout::horizontal([
                Constraint::Fill(1),
                Constraint::Length(1),
                Constraint::Fill(1),
            ])
            .areas(body);
            frame.render_widget(Paragraph::new(left).scroll((scroll, 0)), l);
            frame.render_widget(Paragraph::new(right).scroll((scroll, 0)), r);
        } else {
            frame.render_widget(Paragraph::new(left).scroll((scroll, 0)), body);
        }
        if footer_height > 0 {
            frame.render_widget(Paragraph::new(footer).wrap(Wrap { trim: true }), foot);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{MARKS_LEGEND, wrapped_lines};

    #[test]
    fn wrapping_counts_display_columns() {
        assert_eq!(wrapped_lines("abc def", 7), 1);
        assert_eq!(wrapped_lines("abc def", 6), 2);
        // 20 × 3 CJK characters: 120 columns, no space to break at.
        assert_eq!(wrapped_lines(&"ポップ".repeat(20), 50), 3);
        assert_eq!(wrapped_lines(&"x".repeat(1_000_000), 1), u16::MAX);
    }

    /// The help's legend and the README's marks table name the same marks.
    #[test]
    fn legend_matches_the_readme_marks_table() {
        let readme = include_str!("../../../README.md");
        let table = readme
            .split("| mark | meaning | mark | meaning |")
            .nth(1)
            .expect("README has a marks table");
        let rows: Vec<&str> = table
            .lines()
            .skip(2)
            .take_while(|l| l.starts_with('|'))
            .collect();
        let mut documented: Vec<&str> = rows
            .iter()
            .flat_map(|r| r.split('|'))
            .filter_map(|cell| {
                let cell = cell.trim();
                (cell.len() > 2 && cell.starts_with('`') && cell.ends_with('`'))
                    .then(|| cell.trim_matches('`'))
            })
            .filter(|c| c.chars().count() == 1)
            .collect();
        let mut legend: Vec<&str> = MARKS_LEGEND.iter().map(|(m, _)| *m).collect();
        documented.sort_unstable();
        legend.sort_unstable();
        assert_eq!(legend, documented);
    }
}
