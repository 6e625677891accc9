//! The prediction pane: the suggestion beside the file's current genre tag,
//! a bar per genre (ranked, the top three highlighted) and a timeline of the
//! genre each segment leaned to, marked with the genre's rank.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::{Component, Ctx, PlayState, clock, pane_block};
use crate::classifier::Classified;
use crate::library::tree::{NodeId, NodeKind};
use crate::model::top_k;
use crate::tags::genre_tag_name;
use crate::tui::action::Action;
use crate::tui::results::{JobMark, ModelStatus};
use unicode_width::UnicodeWidthStr;

/// Columns for a GTZAN genre's name beside its bar (the longest, Classical, takes 9).
pub(super) const GTZAN_LABEL: usize = 10;

#[derive(Debug, Default)]
pub struct PredictionPane;

/// How long a model segment lasts (187 frames at 16 ms); the timeline shows a
/// gap where no segment was heard (between the excerpts of a long track).
pub const SEGMENT_S: f64 = 3.0;

/// Lines the full layout needs for `n` genres (borders included).
pub fn full_height(n: usize) -> u16 {
    // border, suggestion, n bars, timeline, axis, border
    n as u16 + 5
}

/// Lines the compact layout (bars in two columns, no axis) needs.
pub fn compact_height(n: usize) -> u16 {
    n.div_ceil(2) as u16 + 4
}

/// The rank symbol of the `i`-th genre (0-based): 1…9, 0, then letters.
pub fn rank_symbol(i: usize) -> char {
    match i {
        0..=8 => char::from(b'1' + i as u8),
        9 => '0',
        i => char::from(b'a' + ((i - 10) % 26) as u8),
    }
}

/// A bar of `width` cells filled to `frac`, in eighths.
pub fn bar(frac: f32, width: usize) -> String {
    const PARTS: [char; 8] = [' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
    let eighths = (frac.clamp(0.0, 1.0) * width as f32 * 8.0).round() as usize;
    let mut s = "█".repeat(eighths / 8);
    if !eighths.is_multiple_of(8) && s.chars().count() < width {
        s.push(PARTS[eighths % 8]);
    }
    let len = s.chars().count();
    s.extend(std::iter::repeat_n(' ', width.saturating_sub(len)));
    s
}

fn pct(p: f32) -> String {
    format!("{:>3.0}%", p * 100.0)
}

/// The style of a genre ranked `rank` (0-based): the top three stand out.
fn rank_style(ctx: &Ctx, rank: usize) -> Style {
    match rank {
        0 => ctx.theme.bar_top.add_modifier(Modifier::BOLD),
        1 | 2 => ctx.theme.bar_top,
        _ => ctx.theme.bar,
    }
}

impl PredictionPane {
    /// The first line: suggestion and current tag (or what is going on).
    pub(super) fn header<'a>(
        ctx: &Ctx,
        id: u32,
        c: Option<&Classified>,
        width: usize,
    ) -> Vec<Line<'a>> {
        let t = ctx.theme;
        let state = ctx.results.get(id);
        let mut spans = Vec::new();
        match c {
            Some(c) => {
                let top = c.prediction.top(1);
                if let Some((label, p)) = top.first() {
                    spans.push(Span::styled("Suggest ", t.label));
                    spans.push(Span::styled(genre_tag_name(label), t.suggest));
                    spans.push(Span::styled(format!(" {}", pct(*p).trim()), t.count));
                }
            }
            None => {
                let (msg, style) = match (&ctx.results.model, state) {
                    (ModelStatus::Off, _) => ("classification is off".to_string(), t.dim),
                    (ModelStatus::Failed(e), _) => (e.clone(), t.bad),
                    // Not a failure: there is no music to judge.
                    (_, Some(s)) if s.nothing_to_judge() => (
                        format!("no genre: {}", s.error.as_deref().unwrap_or_default()),
                        t.dim,
                    ),
                    (_, Some(s)) if s.error.is_some() => (
                        format!("failed: {}", s.error.as_deref().unwrap_or_default()),
                        t.bad,
                    ),
                    (_, Some(s)) if s.job == JobMark::Running => {
                        ("classifying…".to_string(), t.count)
                    }
                    (_, Some(s)) if s.job == JobMark::Queued => ("queued…".to_string(), t.count),
                    (ModelStatus::Loading, _) => ("loading the model…".to_string(), t.count),
                    _ => {
                        let key = ctx.keymap.label(Action::Classify);
                        (format!("not classified — {key} classifies"), t.dim)
                    }
                };
                spans.push(Span::styled(msg, style));
            }
        }
        Self::header_lines(spans, Self::tag_spans(ctx, id), width)
    }

    /// The verdict and the tag on one line when they fit; else the verdict
    /// (wrapped) and the tag on a line of its own, so that neither is broken
    /// mid-phrase against the other.
    pub(super) fn header_lines<'a>(
        verdict: Vec<Span<'a>>,
        mut tag: Vec<Span<'a>>,
        width: usize,
    ) -> Vec<Line<'a>> {
        let cols = |spans: &[Span]| spans.iter().map(|s| s.content.width()).sum::<usize>();
        if cols(&verdict) + cols(&tag) <= width {
            let mut one = verdict;
            one.extend(tag);
            return vec![Line::from(one)];
        }
        if let Some(first) = tag.first_mut() {
            first.content = first.content.trim_start().to_string().into();
        }
        vec![Line::from(verdict), Line::from(tag)]
    }

    /// "  Tag <current genre>", with the marks of a write, a skip or a failure.
    /// A very long genre is cut (`shown_genre`): it took every row of the
    /// pane at 80×24 and hid the bars.
    pub(super) fn tag_spans<'a>(ctx: &Ctx, id: u32) -> Vec<Span<'a>> {
        let t = ctx.theme;
        let state = ctx.results.get(id);
        let tag = ctx
            .tree
            .node(id)
            .inspection()
            .and_then(|i| i.tags.as_ref().ok())
            .map(|t| t.genre_display());
        let mut spans = vec![Span::styled("  Tag ", t.label)];
        let written = state.and_then(|s| s.written.as_ref());
        match (written, tag) {
            (Some(w), _) if w.is_empty() => {
                // the genre tag was removed here
                spans.push(Span::styled("none", t.dim));
                spans.push(Span::styled("\u{a0}✎", t.done));
            }
            (Some(w), _) => {
                spans.push(Span::styled(shown_genre(&w.join("; ")), t.value));
                spans.push(Span::styled("\u{a0}✎", t.done));
            }
            (None, Some(g)) if !g.is_empty() => spans.push(Span::styled(shown_genre(&g), t.value)),
            (None, Some(_)) => spans.push(Span::styled("none", t.dim)),
            (None, None) => spans.push(Span::styled("—", t.dim)),
        }
        if state.is_some_and(|s| s.skipped) {
            spans.push(Span::styled("  skipped", t.dim));
        }
        if let Some(e) = state.and_then(|s| s.write_error.as_ref()) {
            spans.push(Span::styled(format!("  write failed: {e}"), t.bad));
        }
        spans
    }

    /// One bar line: rank, genre (as shown: GTZAN's labels through
    /// `genre_tag_name`, your genres in the library's own spelling), bar,
    /// percentage.
    pub(super) fn bar_line<'a>(
        ctx: &Ctx,
        rank: usize,
        label: &str,
        p: f32,
        width: usize,
    ) -> Line<'a> {
        Self::bar_line_named(ctx, rank, label, p, width, GTZAN_LABEL)
    }

    /// [`Self::bar_line`] with `label_w` columns for the genre's name (your
    /// genres' names run longer than GTZAN's).
    pub(super) fn bar_line_named<'a>(
        ctx: &Ctx,
        rank: usize,
        label: &str,
        p: f32,
        width: usize,
        label_w: usize,
    ) -> Line<'a> {
        let style = rank_style(ctx, rank);
        let label_style = if rank < 3 {
            ctx.theme.value.add_modifier(Modifier::BOLD)
        } else {
            ctx.theme.count
        };
        let label_w = label_w.min(width.saturating_sub(8));
        // By display width: a CJK genre takes two columns a character.
        let name = crate::text::pad_width(label, label_w);
        let bar_w = width.saturating_sub(2 + label_w + 1 + 5);
        Line::from(vec![
            Span::styled(format!("{} ", rank_symbol(rank)), style),
            Span::styled(format!("{name} "), label_style),
            Span::styled(bar(p, bar_w), style),
            Span::styled(format!(" {}", pct(p)), label_style),
        ])
    }

    /// The per-segment timeline: each column shows the rank of the genre the
    /// segment under it leaned to; the playback position is highlighted.
    fn timeline<'a>(ctx: &Ctx, id: u32, c: &Classified, width: usize) -> Line<'a> {
        let t = ctx.theme;
        let order = top_k(&c.prediction.probs, c.prediction.probs.len());
        let mut rank_of = vec![0; order.len()];
        for (r, &i) in order.iter().enumerate() {
            rank_of[i] = r;
        }
        let duration = c.duration_s.max(1e-6);
        let segs = &c.prediction.segments;
        let cursor = (ctx.player.node == Some(id)
            && !matches!(ctx.player.state, PlayState::Stopped))
        .then(|| ((ctx.player.position / duration) * width as f64) as usize);
        let mut spans = Vec::with_capacity(width);
        for col in 0..width {
            let t0 = (col as f64 + 0.5) / width as f64 * duration;
            // The latest segment that started by then and still lasts.
            let seg = segs.iter().rev().find(|s| {
                s.start_s <= t0 && t0 < s.start_s + SEGMENT_S.max(duration / width as f64)
            });
            let (ch, mut style) = match seg {
                Some(s) => {
                    let best = top_k(&s.probs, 1).first().copied().unwrap_or(0);
                    let r = rank_of.get(best).copied().unwrap_or(0);
                    (rank_symbol(r), rank_style(ctx, r))
                }
                None => ('·', t.dim),
            };
            if cursor == Some(col) {
                style = t.cursor;
            }
            spans.push(Span::styled(ch.to_string(), style));
        }
        Line::from(spans)
    }

    fn axis<'a>(ctx: &Ctx, c: &Classified, width: usize) -> Line<'a> {
        let left = "0:00".to_string();
        let right = clock(c.duration_s);
        let mid = "segments: rank of the genre each leaned to";
        let gap = width.saturating_sub(left.len() + right.len());
        let text = if mid.chars().count() + 2 <= gap {
            let pad = gap - mid.chars().count();
            format!(
                "{left}{}{mid}{}{right}",
                " ".repeat(pad / 2),
                " ".repeat(pad - pad / 2)
            )
        } else {
            format!("{left}{}{right}", " ".repeat(gap))
        };
        Line::styled(text, ctx.theme.count)
    }
}

/// Rows `lines` take in a pane `width` columns wide, each wrapped.
pub(super) fn wrapped_rows(lines: &[Line], width: usize) -> usize {
    lines.iter().map(|l| l.width().div_ceil(width).max(1)).sum()
}

/// The `Ctx::ranks_shown` mask of ranks 1 to `n`.
pub(super) fn first_ranks(n: usize) -> u16 {
    ((1u32 << n.min(16)) - 1) as u16
}

/// What `c` would do in the folder selected: classify every file, the rest,
/// or nothing (then `A` is the next step).
fn folder_hint(ctx: &Ctx, dir: NodeId) -> String {
    let files = ctx.tree.files_under(dir);
    // silent or too-short files (○) are not failures: counted apart
    let (mut done, mut failed, mut unjudged) = (0, 0, 0);
    // in a classify job now (queued or running), and written since classified
    let (mut in_job, mut written) = (0, 0);
    for &f in &files {
        let r = ctx.results.get(f);
        if r.is_some_and(|r| matches!(r.job, JobMark::Queued | JobMark::Running)) {
            in_job += 1;
        }
        match r {
            Some(r) if r.result.is_some() => {
                done += 1;
                written += usize::from(r.written.is_some());
            }
            Some(r) if r.nothing_to_judge() => unjudged += 1,
            Some(r) if r.error.is_some() => failed += 1,
            _ => {}
        }
    }
    let total = files.len();
    let classify = ctx.keymap.label(Action::Classify);
    let accept = ctx.keymap.label(Action::BatchAccept);
    let mut could_not = String::new();
    if failed > 0 {
        could_not += &format!(" · {failed} failed");
    }
    if unjudged > 0 {
        could_not += &format!(" · {} silent or too short", super::count(unjudged as u64));
    }
    let failed = failed + unjudged;
    if done + failed < total && ctx.jobs.peeking > 0 {
        format!("{done} of {total} classified so far · looking in the cache")
    } else if in_job > 0 {
        format!("{done} of {total} classified{could_not} · classifying {in_job} more")
    } else if done + failed == 0 {
        format!("{classify} classifies every file in this folder")
    } else if done + failed < total {
        format!("{done} of {total} classified{could_not} · {classify} does the rest")
    } else if done == 0 {
        format!("none of {total} could be classified (each file says why)")
    } else if written == done {
        // nothing left to accept: every classified file has its genre written
        format!("{done} of {total} classified{could_not} · all of them tagged")
    } else if failed == 0 {
        format!("all classified · {accept} accepts suggestions")
    } else {
        format!("{done} of {total} classified{could_not} · {accept} accepts suggestions")
    }
}

/// The pane's title: GTZAN's bars shown by choice (`y`) beside your genres
/// say the way back; else the model that answers, where the pane has room
/// (the main view never said it, only the evaluation view did), a shipped
/// one by the name `--model` takes.
fn pane_title(ctx: &Ctx, width: u16) -> String {
    if ctx.vocab.head.is_some() && ctx.vocab.show_gtzan {
        let toggle = ctx.keymap.label(Action::GenreView);
        return format!(" GTZAN's genres · {toggle} shows yours ");
    }
    match &ctx.results.model {
        ModelStatus::Ready(info) => {
            let name = crate::model::shipped_name_of(&info.name).unwrap_or(&info.name);
            if name.width() + 14 <= usize::from(width) {
                format!(" Genre · {name} model ")
            } else {
                " Genre ".to_string()
            }
        }
        _ => " Genre ".to_string(),
    }
}

impl Component for PredictionPane {
    fn draw(&self, frame: &mut Frame, area: Rect, ctx: &Ctx) {
        let t = ctx.theme;
        ctx.ranks_shown.set(None);
        // A learned head for this library: the pane speaks its genres.
        if let Some(id) = ctx.selected.filter(|&id| ctx.tree.node(id).is_file())
            && let Some(answer) = ctx.results.result(id).and_then(|c| ctx.vocab.answer(c))
        {
            super::yours::draw(frame, area, ctx, id, &answer);
            return;
        }
        let title = pane_title(ctx, area.width);
        let block = pane_block(t, false, Span::styled(title, t.title));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        if inner.height == 0 || inner.width < 4 {
            return;
        }
        let width = usize::from(inner.width);
        let Some(id) = ctx.selected.filter(|&id| ctx.tree.node(id).is_file()) else {
            let msg = match ctx.selected.map(|id| (id, &ctx.tree.node(id).kind)) {
                Some((_, NodeKind::Dir(d))) if d.audio == 0 => {
                    "no audio files in this folder".into()
                }
                Some((dir, NodeKind::Dir(_))) => folder_hint(ctx, dir),
                _ => "select a track to see what the model hears".to_string(),
            };
            frame.render_widget(
                Paragraph::new(Line::styled(msg, t.dim)).wrap(Wrap { trim: true }),
                inner,
            );
            return;
        };
        let result = ctx.results.result(id).cloned();
        let mut lines = Self::header(ctx, id, result.as_deref(), width);
        if let Some(c) = result.as_deref() {
            let probs = &c.prediction.probs;
            let order = top_k(probs, probs.len());
            // the header wraps (a long tag): the bars get the rows it leaves
            let rows = usize::from(inner.height).saturating_sub(wrapped_rows(&lines, width));
            let n = order.len();
            let mut shown = 0u16;
            // Full: one bar per line plus timeline and axis; else two columns.
            if rows >= n + 2 {
                shown = first_ranks(n);
                for (r, &i) in order.iter().enumerate() {
                    lines.push(Self::bar_line(
                        ctx,
                        r,
                        &genre_tag_name(&c.prediction.labels[i]),
                        probs[i],
                        width,
                    ));
                }
                lines.push(Self::timeline(ctx, id, c, width));
                lines.push(Self::axis(ctx, c, width));
            } else {
                let half = n.div_ceil(2);
                let col_w = (width.saturating_sub(1)) / 2;
                // the bars first (a digit tags only what is shown); the
                // timeline where a row is left
                let bar_rows = half.min(rows);
                for row in 0..bar_rows {
                    let mut spans = Vec::new();
                    for (k, r) in [row, row + half].into_iter().enumerate() {
                        if let Some(&i) = order.get(r) {
                            shown |= 1 << r.min(15);
                            if k == 1 {
                                spans.push(Span::raw(" "));
                            }
                            spans.extend(
                                Self::bar_line(
                                    ctx,
                                    r,
                                    &genre_tag_name(&c.prediction.labels[i]),
                                    probs[i],
                                    col_w,
                                )
                                .spans,
                            );
                        }
                    }
                    lines.push(Line::from(spans));
                }
                if rows > bar_rows {
                    lines.push(Self::timeline(ctx, id, c, width));
                }
            }
            if let Some(note) = c.partial_note() {
                lines.push(Line::styled(note, t.dim));
            }
            ctx.ranks_shown.set(Some(shown));
        }
        // A failure reason wraps rather than being cut at the pane's edge.
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
    }
}

/// Columns a genre tag may take in a pane (about two rows of one at 80×24):
/// a 340-character genre hid the bars below it.
pub const GENRE_SHOWN_COLS: usize = 64;

/// A genre tag as a pane shows it: cut at [`GENRE_SHOWN_COLS`] with `…`.
pub fn shown_genre(genre: &str) -> String {
    crate::text::fit_width(genre, GENRE_SHOWN_COLS)
}

#[cfg(test)]
mod genre_width_tests {
    /// A genre of 340 characters is cut to two rows' worth, with `…`.
    #[test]
    fn a_very_long_genre_is_cut() {
        let long = "Progressive ".repeat(28) + "Rock";
        let shown = super::shown_genre(&long);
        assert_eq!(unicode_width::UnicodeWidthStr::width(shown.as_str()), 64);
        assert!(shown.ends_with('…'));
        assert_eq!(super::shown_genre("Jazz"), "Jazz");
    }
}
