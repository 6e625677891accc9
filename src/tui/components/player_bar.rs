//! The player bar: what is playing, a progress gauge with time, the volume.

use std::cell::Cell;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{LineGauge, Paragraph};

use super::{Component, Ctx, PlayState, clock, pane_block};
use crate::player::OutputStatus;

#[derive(Debug, Default)]
pub struct PlayerBar {
    /// Where the gauge was drawn, for clicks.
    gauge_area: Cell<Rect>,
}

impl PlayerBar {
    /// The fraction of the track under a screen position on the gauge.
    pub fn fraction_at(&self, column: u16, row: u16) -> Option<f64> {
        let a = self.gauge_area.get();
        if a.width == 0 || row != a.y || column < a.x || column >= a.x + a.width {
            return None;
        }
        Some(f64::from(column - a.x) / f64::from(a.width.max(1)))
    }
}

impl Component for PlayerBar {
    #[allow(clippy::too_many_lines)] // long before the lint; listed in issue 14 to split
    fn draw(&self, frame: &mut Frame, area: Rect, ctx: &Ctx) {
        let t = ctx.theme;
        let p = ctx.player;
        let mut title = vec![Span::styled(" Player ", t.title)];
        if let OutputStatus::Silent { .. } = p.output {
            title.push(Span::styled("(silent) ", t.count));
        }
        let block = pane_block(t, false, Line::from(title));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        if inner.height == 0 {
            self.gauge_area.set(Rect::default());
            return;
        }
        let [top, bottom] = if inner.height >= 2 {
            Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(inner)
        } else {
            [inner, Rect::default()]
        };

        let (symbol, state_style) = match p.state {
            PlayState::Playing => ("▶", t.playing),
            PlayState::Paused => ("‖", t.key),
            PlayState::Loading => ("…", t.count),
            PlayState::Ended => ("■", t.count),
            PlayState::Stopped => ("■", t.count),
        };
        let what = match p.node.and_then(|id| ctx.tree.get(id).map(|n| (id, n))) {
            Some((_, node)) => {
                let tags = node.inspection().and_then(|i| i.tags.as_ref().ok());
                match tags.and_then(|t| t.title.clone()) {
                    Some(title) => match tags.and_then(|t| t.artist.clone()) {
                        Some(artist) => format!("{title} — {artist}"),
                        None => title,
                    },
                    None => node.label().into_owned(),
                }
            }
            // A clip from outside the library (the evaluation view's), or a
            // library track deleted or moved away while it plays.
            None if p.external.is_some() => {
                p.external.as_deref().map_or_else(String::new, |path| {
                    let name = crate::library::shown_file_name(path);
                    if p.left_the_library(ctx.tree.root_path()) {
                        format!("{name} · no longer in the folder")
                    } else {
                        format!("{name} · evaluation clip")
                    }
                })
            }
            // Play-pause may have been left without a key by a rebinding.
            None => match ctx.keymap.hint(crate::tui::action::Action::PlayPause) {
                Some(hint) => format!("nothing playing — {hint} plays the selected file"),
                None => "nothing playing".to_string(),
            },
        };
        let state_word = match p.state {
            PlayState::Paused => " (paused)",
            PlayState::Ended => " (ended)",
            PlayState::Loading => " (opening)",
            _ => "",
        };
        // What plays when this track ends, ncmpcpp-style beside the volume,
        // where the line leaves room for the track's name.
        let mut volume = format!("vol {:>3}%", (p.volume * 100.0).round() as u32);
        let then = format!("then: {} · ", ctx.after_track.word());
        if usize::from(top.width) >= then.chars().count() + volume.len() + 40 {
            volume.insert_str(0, &then);
        }
        let [left, right] = Layout::horizontal([
            Constraint::Min(1),
            Constraint::Length(volume.chars().count() as u16 + 1),
        ])
        .areas(top);
        // A name too long for its room ends in `…`, not mid-word at the edge.
        let room = usize::from(left.width).saturating_sub(2 + state_word.len());
        let what = crate::text::fit_width(&what, room);
        frame.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled(format!("{symbol} "), state_style),
                Span::styled(what, if p.has_track() { t.value } else { t.dim }),
                Span::styled(state_word, t.count),
            ])),
            left,
        );
        frame.render_widget(
            Paragraph::new(Span::styled(volume, t.count)).right_aligned(),
            right,
        );

        if bottom.height == 0 {
            self.gauge_area.set(Rect::default());
            return;
        }
        let duration = p.duration();
        let pos = match p.state {
            PlayState::Stopped => 0.0,
            _ => p.position,
        };
        // An evaluation clip has no node but plays all the same.
        let label = match (p.has_track(), duration) {
            (false, _) => "0:00 / 0:00".to_string(),
            (true, Some(d)) => format!("{} / {}", clock(pos.min(d)), clock(d)),
            (true, None) => format!("{} / ?", clock(pos)),
        };
        let ratio = match duration {
            Some(d) if d > 0.0 => (pos / d).clamp(0.0, 1.0),
            _ => 0.0,
        };
        let label_width = label.chars().count() as u16 + 1;
        self.gauge_area.set(Rect {
            x: bottom.x + label_width.min(bottom.width),
            width: bottom.width.saturating_sub(label_width),
            ..bottom
        });
        let gauge = LineGauge::default()
            .ratio(ratio)
            .label(Span::styled(label, t.value))
            .filled_style(t.gauge)
            .unfilled_style(t.gauge_rest)
            .filled_symbol("━")
            .unfilled_symbol("─");
        frame.render_widget(gauge, bottom);
    }
}
