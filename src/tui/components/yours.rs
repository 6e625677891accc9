//! The Genre pane in "your genres": the learned head's verdict (a genre it
//! is confident in, or `unsure` with the top candidates) beside the current
//! tag, then the library's genres ranked. GTZAN's bars are one key away.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use unicode_width::UnicodeWidthStr;

use super::prediction::PredictionPane;
use super::{Ctx, pane_block};
use crate::tui::action::Action;
use crate::tui::vocab::MineAnswer;
use crate::vocab::Suggestion;

pub fn draw(frame: &mut Frame, area: Rect, ctx: &Ctx, id: u32, answer: &MineAnswer) {
    let t = ctx.theme;
    let block = pane_block(t, false, Span::styled(" Your genres ", t.title));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height == 0 || inner.width < 4 {
        return;
    }
    let width = usize::from(inner.width);
    let mut head = Vec::new();
    match &answer.suggestion {
        Suggestion::Genre { genre, confidence } => {
            head.push(Span::styled("Suggest ", t.label));
            // cut as the Tag line is: a 331-character genre hid the bars
            head.push(Span::styled(
                super::prediction::shown_genre(genre),
                t.suggest,
            ));
            head.push(Span::styled(
                format!(" {:.0}%", confidence * 100.0),
                t.count,
            ));
        }
        Suggestion::Unsure { .. } => {
            head.push(Span::styled("Suggest ", t.label));
            head.push(Span::styled("unsure", t.dim));
            // Why, where the head knows (the bars below show the candidates);
            // else the candidates themselves.
            let why = ctx
                .vocab
                .active()
                .and_then(|h| h.why_unsure(&answer.suggestion));
            let detail = why.map_or_else(
                || format!(" ({})", answer.suggestion.candidates_line()),
                |why| format!(": {why}"),
            );
            let detail = crate::text::fit_width(&detail, 2 * super::prediction::GENRE_SHOWN_COLS);
            head.push(Span::styled(detail, t.count));
        }
    }
    let mut lines = PredictionPane::header_lines(head, PredictionPane::tag_spans(ctx, id), width);
    // The header wraps: the bars get the rows it leaves, the footer the last.
    let header_rows = super::prediction::wrapped_rows(&lines, width);
    let rows = usize::from(inner.height).saturating_sub(1 + header_rows);
    // names as long as the longest shown needs, the bar keeping half the row
    let label_w = answer
        .ranked
        .iter()
        .take(rows)
        .map(|(g, _)| g.width())
        .max()
        .unwrap_or(0)
        .clamp(
            super::prediction::GTZAN_LABEL,
            (width / 2).max(super::prediction::GTZAN_LABEL),
        );
    for (rank, (genre, p)) in answer.ranked.iter().enumerate().take(rows) {
        lines.push(PredictionPane::bar_line_named(
            ctx, rank, genre, *p, width, label_w,
        ));
    }
    let drawn = answer.ranked.len().min(rows);
    ctx.ranks_shown
        .set(Some(super::prediction::first_ranks(drawn)));
    let toggle = ctx.keymap.label(Action::GenreView);
    let mut foot = format!("learned from your tags · {toggle} shows GTZAN's");
    if ctx.vocab.relearn_due() {
        let learn = ctx.keymap.label(Action::Relearn);
        foot = format!(
            "{} tagged since learned · {learn} learns again",
            ctx.vocab.tagged_since
        );
    }
    if let Some((done, total)) = ctx.vocab.learning {
        foot = format!("learning your genres… {done}/{total}");
    }
    lines.push(Line::styled(foot, t.dim));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}
