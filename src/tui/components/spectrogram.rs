//! The spectrogram pane: the focused track's log-mel spectrogram, drawn in
//! braille (intensity → dot density, by ordered dithering; one colour per
//! cell from the theme's quiet/middle/loud styles) or, where the theme wants
//! colour, in half blocks (two colours per cell along a gradient). Long
//! tracks show their analysed excerpts side by side with a gap between; a
//! cursor follows playback and the view scrolls to keep it in sight.

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{Component, Ctx, PlayState, clock, pane_block};
use crate::tui::analyst::Spectrogram;
use crate::tui::results::JobMark;

/// At most this much time per cell before the view scrolls instead.
pub const MAX_SECONDS_PER_CELL: f64 = 0.5;
/// Dot columns between two excerpts that are not contiguous.
const GAP_DOTS: usize = 2;

#[derive(Debug, Default)]
pub struct SpectrogramPane {
    /// Flip the theme's choice between braille and half blocks (a key).
    pub flip_style: bool,
}

/// What a column of dots shows.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Col {
    /// Frames `from..to` of excerpt `ex`.
    Frames {
        ex: usize,
        from: usize,
        to: usize,
    },
    Gap,
}

/// The dot columns of a whole track at `fpd` frames per dot. `fpd` may be
/// fractional (≥ 1): columns then take 1 or 2 more frames in turn, so a
/// track fills the pane instead of stopping short at a whole-frame step.
fn columns(s: &Spectrogram, fpd: f64) -> Vec<Col> {
    let mut cols = Vec::new();
    for (i, e) in s.excerpts.iter().enumerate() {
        if gap_before(s, i) {
            cols.extend(std::iter::repeat_n(Col::Gap, GAP_DOTS));
        }
        let mut k = 0usize;
        let mut f = 0;
        while f < e.n_frames {
            k += 1;
            let to = ((k as f64 * fpd).round() as usize).clamp(f + 1, e.n_frames);
            cols.push(Col::Frames { ex: i, from: f, to });
            f = to;
        }
    }
    cols
}

/// Whether excerpt `i` starts apart from the one before (a gap is drawn).
fn gap_before(s: &Spectrogram, i: usize) -> bool {
    let ex = &s.excerpts;
    i > 0 && {
        let prev_end = ex[i - 1].start_s + ex[i - 1].n_frames as f64 * s.hop_s;
        ex[i].start_s - prev_end > 2.0 * s.hop_s
    }
}

/// Frames per dot column: fit the track into `dots` if that keeps at most
/// [`MAX_SECONDS_PER_CELL`] per cell, else that resolution (and scroll).
/// Each excerpt may round up by a column, so the smallest step that fits is
/// searched for: the last column is used whenever it can be (a half-block
/// column is a whole cell).
fn frames_per_dot(s: &Spectrogram, dots: usize, dots_per_cell: usize) -> f64 {
    let max_fpd = ((MAX_SECONDS_PER_CELL / s.hop_s) / dots_per_cell as f64)
        .floor()
        .max(1.0);
    let gaps = s.excerpts.len().saturating_sub(1) * GAP_DOTS;
    let room = dots.saturating_sub(gaps).max(1);
    let fits = |fpd: f64| columns(s, fpd).len() <= dots;
    let mut lo = (s.total_frames() as f64 / room as f64).clamp(1.0, max_fpd);
    if lo >= max_fpd || fits(lo) {
        return lo;
    }
    let mut hi = max_fpd;
    if !fits(hi) {
        return hi;
    }
    // The column count falls as the step grows: bisect to the smallest step that fits.
    for _ in 0..30 {
        let mid = (lo + hi) / 2.0;
        if fits(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}

/// The dot columns of a track that fits, spread over exactly `dots`: each
/// excerpt gets columns in proportion to its frames (largest remainders
/// first, never more columns than frames), so the pane is filled to its
/// edge. At one step for all, each of 8 excerpts rounded on its own and
/// left up to 6 cells blank at the right.
fn columns_filling(s: &Spectrogram, dots: usize) -> Vec<Col> {
    let ex = &s.excerpts;
    let gaps = (0..ex.len()).filter(|&i| gap_before(s, i)).count() * GAP_DOTS;
    let room = dots.saturating_sub(gaps);
    let total: usize = ex.iter().map(|e| e.n_frames).sum();
    if total == 0 || room < ex.len() {
        return columns(s, 1.0);
    }
    let mut n: Vec<usize> = ex
        .iter()
        .map(|e| (room * e.n_frames / total).clamp(1, e.n_frames.max(1)))
        .collect();
    // the rest, to the largest remainders that can take another column
    let mut by_remainder: Vec<usize> = (0..ex.len()).collect();
    by_remainder.sort_by_key(|&i| std::cmp::Reverse((room * ex[i].n_frames) % total));
    let mut left = room.saturating_sub(n.iter().sum());
    while left > 0 {
        let before = left;
        for &i in &by_remainder {
            if left > 0 && n[i] < ex[i].n_frames {
                n[i] += 1;
                left -= 1;
            }
        }
        if left == before {
            break; // every excerpt has a column per frame
        }
    }
    let mut cols = Vec::with_capacity(dots);
    for (i, e) in ex.iter().enumerate() {
        if gap_before(s, i) {
            cols.extend(std::iter::repeat_n(Col::Gap, GAP_DOTS));
        }
        let edge = |k: usize| (k * e.n_frames + n[i] / 2) / n[i];
        for k in 0..n[i] {
            cols.push(Col::Frames {
                ex: i,
                from: edge(k),
                to: edge(k + 1),
            });
        }
    }
    cols
}

/// The time at the start of a column (None for gaps).
fn col_time(s: &Spectrogram, c: Col) -> Option<f64> {
    match c {
        Col::Frames { ex, from, .. } => Some(s.excerpts[ex].start_s + from as f64 * s.hop_s),
        Col::Gap => None,
    }
}

/// The column holding time `t` (a gap's first column when `t` is between excerpts).
fn col_at(s: &Spectrogram, cols: &[Col], t: f64) -> Option<usize> {
    let mut last_before = None;
    for (i, &c) in cols.iter().enumerate() {
        if let Col::Frames { ex, from, to } = c {
            let e = &s.excerpts[ex];
            let a = e.start_s + from as f64 * s.hop_s;
            let b = e.start_s + to as f64 * s.hop_s;
            if t >= a && t < b {
                return Some(i);
            }
            if t >= b {
                last_before = Some(i);
            }
        }
    }
    // Between excerpts: the gap after the last column before `t`.
    last_before.map(|i| (i + 1).min(cols.len().saturating_sub(1)))
}

/// Mean intensity (0‥1) of `rows` bands groups (top row = highest band) over a column.
fn column_levels(s: &Spectrogram, c: Col, rows: usize, out: &mut [f32]) {
    out.iter_mut().for_each(|v| *v = 0.0);
    let Col::Frames { ex, from, to } = c else {
        return;
    };
    let e = &s.excerpts[ex];
    let nb = s.n_bands;
    if nb == 0 || rows == 0 || to <= from {
        return;
    }
    let span = (s.hi - s.lo).max(1e-6);
    for (r, slot) in out.iter_mut().enumerate().take(rows) {
        // Row 0 is the top: the highest bands.
        let b_hi = nb * (rows - r) / rows;
        let b_lo = nb * (rows - r - 1) / rows;
        let (b_lo, b_hi) = if b_hi > b_lo {
            (b_lo, b_hi)
        } else {
            (b_lo, (b_lo + 1).min(nb))
        };
        let mut global = 0.0f32;
        let mut local = 0.0f32;
        for f in from..to {
            let frame = &e.data[f * nb..(f + 1) * nb];
            for (b, &x) in frame.iter().enumerate().take(b_hi).skip(b_lo) {
                global += x;
                let (lo, hi) = (
                    s.band_lo.get(b).copied().unwrap_or(s.lo),
                    s.band_hi.get(b).copied().unwrap_or(s.hi),
                );
                local += ((x - lo) / (hi - lo).max(1e-6)).clamp(0.0, 1.0);
            }
        }
        let n = ((to - from) * (b_hi - b_lo)) as f32;
        let g = ((global / n - s.lo) / span).clamp(0.0, 1.0);
        *slot = 0.5 * g + 0.5 * (local / n);
    }
}

/// Ordered-dither thresholds for the 2×4 dots of a braille cell, `[y][x]`.
const DITHER: [[f32; 2]; 4] = [
    [0.5 / 8.0, 4.5 / 8.0],
    [6.5 / 8.0, 2.5 / 8.0],
    [1.5 / 8.0, 5.5 / 8.0],
    [7.5 / 8.0, 3.5 / 8.0],
];
/// Braille dot bits, `[y][x]`.
const DOTS: [[u8; 2]; 4] = [[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]];

fn level_style(ctx: &Ctx, v: f32) -> Style {
    let t = ctx.theme;
    if v < 0.4 {
        t.spec_low
    } else if v < 0.7 {
        t.spec_mid
    } else {
        t.spec_high
    }
}

/// An (r, g, b) for a palette colour, where it has a known one.
fn rgb(c: Color) -> Option<(u8, u8, u8)> {
    const CUBE: [u8; 6] = [0, 95, 135, 175, 215, 255];
    match c {
        Color::Rgb(r, g, b) => Some((r, g, b)),
        Color::Indexed(i @ 16..=231) => {
            let i = i - 16;
            Some((
                CUBE[usize::from(i / 36)],
                CUBE[usize::from((i / 6) % 6)],
                CUBE[usize::from(i % 6)],
            ))
        }
        Color::Indexed(i @ 232..=255) => {
            let v = 8 + 10 * (i - 232);
            Some((v, v, v))
        }
        _ => None,
    }
}

/// The nearest xterm-256 cube colour.
fn to_indexed(r: u8, g: u8, b: u8) -> Color {
    let q = |v: u8| -> u8 {
        const CUBE: [u8; 6] = [0, 95, 135, 175, 215, 255];
        (0..6)
            .min_by_key(|&i| (i16::from(CUBE[i as usize]) - i16::from(v)).unsigned_abs())
            .unwrap_or(0)
    };
    Color::Indexed(16 + 36 * q(r) + 6 * q(g) + q(b))
}

/// The colour for intensity `v`: a gradient through the theme's quiet, middle
/// and loud colours when they are palette or RGB colours, else three steps.
fn gradient(ctx: &Ctx, v: f32) -> Color {
    let t = ctx.theme;
    let stops = [t.spec_low.fg, t.spec_mid.fg, t.spec_high.fg];
    let rgbs: Option<Vec<(u8, u8, u8)>> = stops.iter().map(|c| c.and_then(rgb)).collect();
    match rgbs {
        Some(c) => {
            let x = v.clamp(0.0, 1.0) * 2.0;
            let (a, b, f) = if x < 1.0 {
                (c[0], c[1], x)
            } else {
                (c[1], c[2], x - 1.0)
            };
            let mix =
                |p: u8, q: u8| (f32::from(p) + (f32::from(q) - f32::from(p)) * f).round() as u8;
            let (r, g, b) = (mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2));
            if matches!(stops[0], Some(Color::Rgb(..))) {
                Color::Rgb(r, g, b)
            } else {
                to_indexed(r, g, b)
            }
        }
        None => level_style(ctx, v).fg.unwrap_or(Color::Reset),
    }
}

impl SpectrogramPane {
    #[allow(clippy::too_many_lines)] // long before the lint; listed in issue 14 to split
    fn draw_spectrum(&self, buf: &mut Buffer, area: Rect, ctx: &Ctx, s: &Spectrogram, id: u32) {
        let halfblock = ctx.theme.spectrogram_halfblock(self.flip_style);
        let (dpc, dpr) = if halfblock { (1, 2) } else { (2, 4) };
        let spec_rows = if area.height >= 3 {
            area.height - 1
        } else {
            area.height
        };
        let width = usize::from(area.width);
        let view_dots = width * dpc;
        let fpd = frames_per_dot(s, view_dots, dpc);
        let mut cols = columns(s, fpd);
        if cols.len() <= view_dots {
            cols = columns_filling(s, view_dots);
        }
        let playing = ctx.player.node == Some(id)
            && !matches!(ctx.player.state, PlayState::Stopped | PlayState::Loading);
        let cursor = if playing {
            col_at(s, &cols, ctx.player.position)
        } else {
            None
        };
        let offset = match cursor {
            Some(c) if cols.len() > view_dots => {
                c.saturating_sub(view_dots / 3).min(cols.len() - view_dots)
            }
            _ => 0,
        };
        let dot_rows = usize::from(spec_rows) * dpr;
        let mut levels: Vec<Vec<f32>> = Vec::with_capacity(view_dots);
        for d in 0..view_dots {
            let mut col = vec![0.0f32; dot_rows];
            if let Some(&c) = cols.get(offset + d) {
                column_levels(s, c, dot_rows, &mut col);
            }
            levels.push(col);
        }
        let cursor_cell = cursor
            .filter(|&c| c >= offset && c < offset + view_dots)
            .map(|c| (c - offset) / dpc);
        for cy in 0..usize::from(spec_rows) {
            for cx in 0..width {
                let cell_cols: Vec<Option<Col>> = (0..dpc)
                    .map(|k| cols.get(offset + cx * dpc + k).copied())
                    .collect();
                let pos = (area.x + cx as u16, area.y + cy as u16);
                let cell = &mut buf[pos];
                if cell_cols.iter().all(|c| c.is_none()) {
                    continue;
                }
                if cell_cols.iter().all(|c| matches!(c, Some(Col::Gap))) {
                    cell.set_char('┆').set_style(ctx.theme.dim);
                    continue;
                }
                if halfblock {
                    let up = levels[cx][cy * 2];
                    let down = levels[cx][cy * 2 + 1];
                    cell.set_char('▀').set_style(
                        Style::default()
                            .fg(gradient(ctx, up))
                            .bg(gradient(ctx, down)),
                    );
                } else {
                    let mut bits = 0u8;
                    let mut sum = 0.0;
                    for (y, dots) in DOTS.iter().enumerate() {
                        for (x, bit) in dots.iter().enumerate() {
                            let v = levels[cx * 2 + x][cy * 4 + y];
                            sum += v;
                            if v > DITHER[y][x] {
                                bits |= bit;
                            }
                        }
                    }
                    let ch = char::from_u32(0x2800 + u32::from(bits)).unwrap_or(' ');
                    cell.set_char(ch).set_style(level_style(ctx, sum / 8.0));
                }
                if cursor_cell == Some(cx) {
                    let style = cell.style().bg(ctx.theme.cursor.bg.unwrap_or(Color::Reset));
                    cell.set_style(style);
                }
            }
        }
        if spec_rows < area.height {
            // The axis: times at both ends of the view, the cursor as ▲.
            let y = area.y + spec_rows;
            let first = (offset..offset + view_dots)
                .filter_map(|d| cols.get(d).and_then(|&c| col_time(s, c)))
                .next()
                .unwrap_or(0.0);
            let last = (offset..(offset + view_dots).min(cols.len()))
                .rev()
                .find_map(|d| match cols[d] {
                    Col::Frames { ex, to, .. } => {
                        Some(s.excerpts[ex].start_s + to as f64 * s.hop_s)
                    }
                    Col::Gap => None,
                })
                .unwrap_or(s.duration_s);
            let left = clock(first);
            let right = clock(last);
            let mut text = vec![' '; width];
            for (i, ch) in left.chars().enumerate().take(width) {
                text[i] = ch;
            }
            let used = (cols.len().saturating_sub(offset)).div_ceil(dpc).min(width);
            let r_start = used.saturating_sub(right.chars().count());
            if r_start > left.chars().count() + 1 {
                for (i, ch) in right.chars().enumerate() {
                    text[r_start + i] = ch;
                }
            }
            for (x, ch) in text.iter().enumerate() {
                buf[(area.x + x as u16, y)]
                    .set_char(*ch)
                    .set_style(ctx.theme.count);
            }
            // The cursor's ▲ never hides a time label: the column still shows it.
            let on_label = |cx: usize| {
                cx < left.chars().count()
                    || (r_start > left.chars().count() + 1
                        && cx >= r_start
                        && cx < r_start + right.chars().count())
            };
            if let Some(cx) = cursor_cell.filter(|&cx| !on_label(cx)) {
                buf[(area.x + cx as u16, y)]
                    .set_char('▲')
                    .set_style(ctx.theme.cursor);
            }
        }
    }
}

impl Component for SpectrogramPane {
    fn draw(&self, frame: &mut Frame, area: Rect, ctx: &Ctx) {
        let t = ctx.theme;
        let id = ctx.selected.filter(|&id| ctx.tree.node(id).is_file());
        let spec = id.and_then(|id| ctx.results.spectrogram(id).map(|s| (id, s)));
        let mut title = vec![Span::styled(" Spectrogram ", t.title)];
        if let Some((_, s)) = spec {
            let mut note = "log-mel".to_string();
            if s.excerpts.len() > 1 {
                note.push_str(&format!(
                    " · {} excerpts of {}",
                    s.excerpts.len(),
                    clock(s.duration_s)
                ));
            }
            title.push(Span::styled(format!("{note} "), t.count));
        }
        let block = pane_block(t, false, Line::from(title));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        if inner.height == 0 || inner.width == 0 {
            return;
        }
        match spec {
            Some((id, s)) => self.draw_spectrum(frame.buffer_mut(), inner, ctx, s, id),
            None => {
                let msg = match id.and_then(|id| ctx.results.get(id)) {
                    _ if id.is_none() => "select a track to see its spectrogram",
                    Some(f) if f.failure_kind == Some("silent") => {
                        "no spectrogram: digital silence throughout"
                    }
                    Some(f) if f.nothing_to_judge() => "no spectrogram: too short to show",
                    Some(f) if f.error.is_some() => {
                        "no spectrogram: the file could not be analysed"
                    }
                    Some(f) if f.job != JobMark::Idle => "computing…",
                    _ => "computed when a track is focused and the model is ready",
                };
                frame.render_widget(Paragraph::new(Line::styled(msg, t.dim)), inner);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::analyst::SpecExcerpt;

    fn spec(excerpts: &[(f64, usize)]) -> Spectrogram {
        Spectrogram {
            hop_s: 0.016,
            n_bands: 1,
            duration_s: 600.0,
            excerpts: excerpts
                .iter()
                .map(|&(start_s, n_frames)| SpecExcerpt {
                    start_s,
                    n_frames,
                    data: vec![0.0; n_frames],
                })
                .collect(),
            lo: 0.0,
            hi: 1.0,
            band_lo: vec![0.0],
            band_hi: vec![1.0],
        }
    }

    /// A track that fits fills every dot column, however many excerpts
    /// (8 excerpts left up to 6 cells blank at 120 columns), each column
    /// at least one frame, in order, every frame shown once.
    #[test]
    fn a_track_that_fits_fills_the_pane_to_its_edge() {
        for (excerpts, dots) in [
            (vec![(0.0, 1875)], 76),
            (vec![(0.0, 1000)], 77),
            (
                (0..8).map(|i| (i as f64 * 5.6, 187)).collect::<Vec<_>>(),
                234,
            ),
            (
                (0..8).map(|i| (i as f64 * 5.6, 187)).collect::<Vec<_>>(),
                135,
            ),
            (vec![(0.0, 625), (100.0, 625), (200.0, 625)], 153),
            (vec![(0.0, 3), (100.0, 400)], 200),
        ] {
            let s = spec(&excerpts);
            let cols = columns_filling(&s, dots);
            let frames: usize = excerpts.iter().map(|e| e.1).sum();
            let gaps = cols.iter().filter(|c| **c == Col::Gap).count();
            assert_eq!(
                cols.len(),
                dots.min(frames + gaps),
                "{excerpts:?} in {dots}"
            );
            let mut next = vec![0; excerpts.len()];
            for c in cols {
                if let Col::Frames { ex, from, to } = c {
                    assert!(from == next[ex] && to > from, "{c:?}");
                    next[ex] = to;
                }
            }
            let lengths: Vec<usize> = excerpts.iter().map(|e| e.1).collect();
            assert_eq!(next, lengths, "every frame once");
        }
    }

    #[test]
    fn the_track_fills_every_column_it_can() {
        for (excerpts, dots) in [
            (vec![(0.0, 1875)], 76),
            (vec![(0.0, 1875)], 152),
            (vec![(0.0, 1000)], 77),
            (vec![(0.0, 400), (100.0, 400)], 77),
            (vec![(0.0, 625), (100.0, 625), (200.0, 625)], 76),
            (vec![(0.0, 625), (100.0, 625), (200.0, 625)], 153),
        ] {
            let s = spec(&excerpts);
            for dpc in [1, 2] {
                let fpd = frames_per_dot(&s, dots, dpc);
                if fpd >= ((MAX_SECONDS_PER_CELL / s.hop_s) / dpc as f64).floor() {
                    continue; // too long to fit: the view scrolls instead
                }
                let cols = columns(&s, fpd);
                assert!(cols.len() <= dots, "{dots} dots: {} cols", cols.len());
                // Excerpts round separately: each may leave one dot unused.
                let unused = if excerpts.len() == 1 {
                    dpc
                } else {
                    excerpts.len()
                };
                assert!(
                    cols.len() + unused > dots,
                    "{dots} dots at {dpc}/cell: only {} used",
                    cols.len()
                );
            }
        }
    }
}
