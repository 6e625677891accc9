//! One frame from the state. Drawing only reads: it asks no service for
//! anything (what the frame put on screen comes back as `Msg::Drawn`); the
//! panes remember only where they drew, for mouse hits and paging.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::widgets::{Block, Paragraph};

use super::components::prediction::{self, PredictionPane};
use super::components::track::TrackPane;
use super::components::{Component, Ctx, JobsView};
use super::effect::Work;
use super::state::State;

/// Draw one frame.
pub fn draw(s: &State, frame: &mut Frame) {
    let area = frame.area();
    frame.render_widget(Block::default().style(s.theme.base), area);
    s.too_small.set(area.width < 20 || area.height < 6);
    if s.too_small.get() {
        // wrapped, so that a narrow window still reads the whole message
        frame.render_widget(
            // the quit key as bound (ctrl-c always quits, bound or not)
            Paragraph::new(format!(
                "earmark: window too small (20×6 at least); {} quits",
                s.keymap
                    .hint(super::action::Action::Quit)
                    .unwrap_or_else(|| "ctrl-c".into())
            ))
            .wrap(ratatui::widgets::Wrap { trim: true })
            .style(s.theme.base),
            area,
        );
        return;
    }
    let [main, player, status] = Layout::vertical([
        Constraint::Min(3),
        Constraint::Length(4),
        Constraint::Length(1),
    ])
    .areas(area);
    let running = s.inflight.running();
    let ctx = Ctx {
        theme: &s.theme,
        keymap: &s.keymap,
        tree: &s.tree,
        player: &s.player,
        selected: s.browser.selected(),
        root_label: &s.root_label,
        root_title: &s.root_title,
        config_path: s.config_path.as_deref(),
        config_found: s.config_found,
        results: &s.results,
        genre_mode: s.genre_mode,
        vocab: &s.vocab,
        jobs: JobsView {
            done: s.run_done,
            total: s.run_total,
            running: &running,
            writing: s.inflight.writing(),
            peeking: s.inflight.count(|w| matches!(w, Work::Peek(_))),
        },
        after_track: s.after_this_track(),
        filter: s.browser.filter(),
        in_eval: s.eval.visible,
        typing_filter: s.browser.filter_focused && !s.eval.visible,
        // the similar list has the keys too (q closes it, not the app)
        popup_open: s.popup.is_some() || s.similar.is_some(),
        ranks_shown: &s.ranks_shown,
    };
    if s.eval.visible {
        s.eval.draw(frame, main, &ctx);
    } else {
        let panes = layout(main, s.results.labels().map_or(10, <[String]>::len));
        s.browser.draw(frame, panes.browser, &ctx);
        if panes.track.height > 0 {
            TrackPane.draw(frame, panes.track, &ctx);
        }
        if panes.prediction.height > 0 {
            PredictionPane.draw(frame, panes.prediction, &ctx);
        }
        if panes.spectrogram.height > 0 {
            s.spectrogram.draw(frame, panes.spectrogram, &ctx);
        }
    }
    s.player_bar.draw(frame, player, &ctx);
    s.status.draw(frame, status, &ctx);
    // Overlays leave the status line whole (a box over it left stray
    // characters of the message at both ends).
    let above_status = Rect {
        height: area.height.saturating_sub(status.height),
        ..area
    };
    // A short window leaves the panes a row or two: a prompt there had no
    // room for its text (typed blind), so pop-ups cover the player bar too.
    let popup_area = if main.height >= 7 { main } else { above_status };
    if let Some(p) = &s.popup {
        p.draw(frame, popup_area, &ctx);
    }
    if let Some(l) = &s.similar {
        l.draw(frame, popup_area, &ctx);
    }
    s.status.log.draw(frame, above_status, &ctx);
    s.help.draw(frame, above_status, &ctx);
}

/// Where the panes go in the main area.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Panes {
    pub browser: Rect,
    pub track: Rect,
    pub prediction: Rect,
    pub spectrogram: Rect,
}

/// The browser on the left; track and prediction panes stacked on the right;
/// the spectrogram across the bottom. Narrow windows keep the browser only;
/// short ones give the bars two columns and the track pane fewer lines.
pub fn layout(main: Rect, n_labels: usize) -> Panes {
    if main.width < 60 {
        return Panes {
            browser: main,
            ..Panes::default()
        };
    }
    let spec_h = if main.height >= 16 {
        (main.height / 3).clamp(5, 14)
    } else {
        0
    };
    let [top, spectrogram] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(spec_h)]).areas(main);
    let browser_pct = if main.width >= 120 { 45 } else { 42 };
    let [browser, right] = Layout::horizontal([
        Constraint::Percentage(browser_pct),
        Constraint::Percentage(100 - browser_pct),
    ])
    .areas(top);
    let full = prediction::full_height(n_labels);
    let compact = prediction::compact_height(n_labels);
    let pred_h = if right.height >= full + 8 {
        full
    } else if right.height >= compact + 4 {
        compact
    } else {
        // No room for a useful track pane: the prediction takes it all.
        right.height
    };
    let [track, prediction] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(pred_h)]).areas(right);
    Panes {
        browser,
        track,
        prediction,
        spectrogram,
    }
}
