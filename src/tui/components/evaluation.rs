//! The evaluation view: a report from `earmark eval --json` (by default the
//! one in the model card) as accuracy, balanced accuracy, a per-class
//! precision/recall/F1 table and the confusion matrix as a chart — counts in
//! cells, cell colour by value, a row-normalised toggle. Selecting a cell
//! lists the files behind it; a file in that list can be played.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{Component, Ctx, count, pane_block};
use crate::eval::{ClipLocation, EvalReport, FileResult};
use crate::text::{fit_width, pad_width};
use crate::tui::action::Action;
use crate::tui::results::ModelStatus;
use unicode_width::UnicodeWidthStr;

/// Which part of the view has the keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EvalFocus {
    #[default]
    Matrix,
    Files,
}

#[derive(Debug, Default)]
pub struct EvalView {
    pub visible: bool,
    /// The report (None: still loading), and folders its relative paths may start from.
    report: Option<Result<Arc<EvalReport>, String>>,
    bases: Vec<PathBuf>,
    /// The report's model as the header names it, and the shipped model it
    /// is, found once (they read the shipped cards), not on every frame.
    model_label: String,
    shipped: Option<&'static str>,
    pub row: usize,
    pub col: usize,
    pub normalised: bool,
    pub focus: EvalFocus,
    pub file_cursor: usize,
    file_offset: Cell<usize>,
    /// Where matrix cells were drawn: (area of the cells, cell width).
    cells: Cell<(Rect, u16)>,
}

/// Short column heads: the first three letters, or numbers when those clash.
pub fn short_labels(labels: &[String], width: usize) -> Vec<String> {
    let short: Vec<String> = labels
        .iter()
        .map(|l| crate::text::cut_width(&crate::tags::genre_tag_name(l), width))
        .collect();
    let mut sorted = short.clone();
    sorted.sort();
    sorted.dedup();
    if sorted.len() == short.len() {
        short
    } else {
        (1..=labels.len()).map(|i| i.to_string()).collect()
    }
}

fn heat(ctx: &Ctx, v: f64) -> Style {
    let t = ctx.theme;
    if v <= 0.0 {
        t.dim
    } else if v < 0.34 {
        t.heat_low
    } else if v < 0.67 {
        t.heat_mid
    } else {
        t.heat_high
    }
}

/// Columns for the matrix's row labels: the longest label, at most 12.
fn row_label_width(r: &EvalReport) -> usize {
    r.labels
        .iter()
        .map(|l| crate::tags::genre_tag_name(l).width())
        .max()
        .unwrap_or(0)
        .min(12)
}

/// The widest a matrix cell grows to: room for the longest column head in
/// full (`Classical`) where the screen has it, and at least the 7 columns
/// counts need.
fn max_cell_width(r: &EvalReport) -> usize {
    (row_label_width(r) + 1).max(7)
}

fn pct(v: f64) -> String {
    format!("{:.1}%", v * 100.0)
}

impl EvalView {
    pub fn set_report(&mut self, report: Result<EvalReport, String>, bases: Vec<PathBuf>) {
        self.shipped = report.as_ref().ok().and_then(shipped_model);
        self.model_label = report
            .as_ref()
            .map(|r| model_label(r, self.shipped))
            .unwrap_or_default();
        self.report = Some(report.map(Arc::new));
        self.bases = bases;
    }

    pub fn is_loaded(&self) -> bool {
        self.report.is_some()
    }

    pub fn report(&self) -> Option<&EvalReport> {
        match &self.report {
            Some(Ok(r)) => Some(r),
            _ => None,
        }
    }

    fn k(&self) -> usize {
        self.report().map_or(0, |r| r.labels.len())
    }

    /// The files behind the selected cell.
    pub fn cell_files(&self) -> Vec<&FileResult> {
        self.report()
            .map(|r| r.cell_files(self.row, self.col))
            .unwrap_or_default()
    }

    /// Move the cell (or file) cursor.
    pub fn move_by(&mut self, rows: isize, cols: isize) {
        let k = self.k();
        if k == 0 {
            return;
        }
        match self.focus {
            EvalFocus::Matrix => {
                self.row = self.row.saturating_add_signed(rows).min(k - 1);
                self.col = self.col.saturating_add_signed(cols).min(k - 1);
                self.file_cursor = 0;
                self.file_offset.set(0);
            }
            EvalFocus::Files => {
                let n = self.cell_files().len();
                self.file_cursor = self
                    .file_cursor
                    .saturating_add_signed(rows)
                    .min(n.saturating_sub(1));
            }
        }
    }

    /// Enter: open the cell's file list, or give the clip to play (resolved
    /// against the report; `NotHere` when this machine does not have it).
    pub fn activate(&mut self) -> Option<ClipLocation> {
        match self.focus {
            EvalFocus::Matrix => {
                if !self.cell_files().is_empty() {
                    self.focus = EvalFocus::Files;
                    self.file_cursor = 0;
                }
                None
            }
            EvalFocus::Files => self.activate_clip(),
        }
    }

    /// The clip under the cursor in the file list, and whether it is on this
    /// machine (None: not in the file list).
    pub fn activate_clip(&self) -> Option<ClipLocation> {
        if self.focus != EvalFocus::Files {
            return None;
        }
        let report = self.report()?;
        let files = self.cell_files();
        let f = files.get(self.file_cursor)?;
        Some(report.locate_clip(&f.path, None, &self.bases))
    }

    /// Esc: back from the file list to the matrix; false when already there.
    pub fn back(&mut self) -> bool {
        if self.focus == EvalFocus::Files {
            self.focus = EvalFocus::Matrix;
            true
        } else {
            false
        }
    }

    /// A report path as a file to open (where it would be, when it is not here).
    pub fn resolve(&self, path: &str) -> PathBuf {
        let found = self
            .report()
            .map(|r| r.locate_clip(path, None, &self.bases));
        match found {
            Some(ClipLocation::Here(p) | ClipLocation::NotHere(p)) => p,
            None => PathBuf::from(path),
        }
    }

    /// The cell under a screen position.
    pub fn cell_at(&self, column: u16, row: u16) -> Option<(usize, usize)> {
        let (a, w) = self.cells.get();
        if w == 0 || column < a.x || row < a.y || column >= a.x + a.width || row >= a.y + a.height {
            return None;
        }
        let c = usize::from((column - a.x) / w);
        let r = usize::from(row - a.y);
        (r < self.k() && c < self.k()).then_some((r, c))
    }

    pub fn select_cell(&mut self, row: usize, col: usize) {
        self.row = row;
        self.col = col;
        self.focus = EvalFocus::Matrix;
        self.file_cursor = 0;
    }

    /// The figures, then the model and the data: on one line when they fit
    /// `width`, else each on its own, wrapped onto up to `lines_each` lines
    /// (a tall window has the rows: they were cut with no way to read the
    /// rest), the last cut with "…".
    fn summary<'a>(
        &self,
        ctx: &Ctx,
        r: &EvalReport,
        width: usize,
        lines_each: usize,
    ) -> Vec<Line<'a>> {
        let t = ctx.theme;
        let model = self.model_label.clone();
        let figures = Line::from(vec![
            Span::styled("Accuracy ", t.label),
            Span::styled(pct(r.accuracy), t.suggest),
            Span::styled("  Balanced ", t.label),
            Span::styled(pct(r.balanced_accuracy), t.suggest),
            Span::styled("  Macro F1 ", t.label),
            Span::styled(pct(r.macro_f1), t.value),
            Span::styled(format!("  {} files", count(r.n as u64)), t.count),
        ]);
        let note = self.model_note(ctx, r);
        let one_line = format!("Model {model}{note}  on {}", r.dataset);
        if one_line.width() <= width {
            return vec![
                figures,
                Line::from(vec![
                    Span::styled("Model ", t.label),
                    Span::styled(model, t.value),
                    Span::styled(note, t.count),
                    Span::styled("  on ", t.label),
                    Span::styled(r.dataset.clone(), t.value),
                ]),
            ];
        }
        let room = width.saturating_sub(6); // "Model " / "Data  "
        let model_lines = wrapped(&format!("{model}{note}"), room, lines_each);
        let mut lines = vec![figures];
        for (i, text) in model_lines.iter().enumerate() {
            let label = if i == 0 { "Model " } else { "      " };
            // The model's name in its colour, the note dimmer.
            let (name, rest) = match text.strip_prefix(model.as_str()) {
                Some(rest) if i == 0 => (model.as_str(), rest),
                _ if i == 0 => (text.as_str(), ""),
                _ => ("", text.as_str()),
            };
            lines.push(Line::from(vec![
                Span::styled(label, t.label),
                Span::styled(name.to_string(), t.value),
                Span::styled(rest.to_string(), t.count),
            ]));
        }
        for (i, text) in wrapped(&r.dataset, room, lines_each)
            .into_iter()
            .enumerate()
        {
            let label = if i == 0 { "Data  " } else { "      " };
            lines.push(Line::from(vec![
                Span::styled(label, t.label),
                Span::styled(text, t.value),
            ]));
        }
        lines
    }

    /// Whether the report is about the model in use. The shipped cards carry
    /// the report of a train-only twin: the shipped model also learnt from
    /// the evaluation clips, so its own score there would flatter it.
    fn model_note(&self, ctx: &Ctx, r: &EvalReport) -> String {
        let ModelStatus::Ready(info) = &ctx.results.model else {
            return String::new();
        };
        if info.sha256 == r.model_sha256 {
            // as `earmark eval` says it: the shipped models learnt from GTZAN's clips
            if self.shipped.is_some() && r.scores_gtzan_clips() {
                return " (the model in use, fit on GTZAN's train and valid: not held out there)"
                    .into();
            }
            return " (the model in use)".into();
        }
        // A card's cross-validated report: no one file made it, each clip was
        // scored by a model of the same recipe that never saw it.
        if r.dataset.starts_with("out-of-fold") {
            // the card's own words may say "out of fold" already
            return match r.model.contains("out of fold") {
                true => format!(" · the {} model's recipe", info.name),
                false => format!(" (the {} model's recipe, out of fold)", info.name),
            };
        }
        if r.model.contains("trainonly") || r.model.contains("train-only") {
            format!(" (train-only twin of the {} model in use)", info.name)
        } else {
            format!(" (not the {} model in use)", info.name)
        }
    }

    fn draw_matrix(&self, frame: &mut Frame, area: Rect, ctx: &Ctx, r: &EvalReport) {
        let t = ctx.theme;
        // Borders, the heads and one row at least; else say so, not an empty box.
        if area.height < 4 {
            let note = "confusion matrix hidden: window too short";
            let note = Paragraph::new(Line::styled(note, t.dim))
                .wrap(ratatui::widgets::Wrap { trim: true });
            frame.render_widget(note, area);
            return;
        }
        let k = r.labels.len();
        let mode = if self.normalised { "row %" } else { "counts" };
        let key = ctx.keymap.label(Action::Normalise);
        let focused = self.focus == EvalFocus::Matrix;
        let block = pane_block(
            t,
            focused,
            Line::from(vec![
                Span::styled(" Confusion ", t.title),
                Span::styled(format!("true ↓ predicted → · {mode} ({key}) "), t.count),
            ]),
        );
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let label_w = row_label_width(r);
        let room = usize::from(inner.width).saturating_sub(label_w + 1);
        let cell_w = (room / k.max(1)).clamp(3, max_cell_width(r));
        let heads = short_labels(&r.labels, cell_w - 1);
        let max = r
            .confusion
            .iter()
            .flatten()
            .copied()
            .max()
            .unwrap_or(0)
            .max(1) as f64;
        let mut lines = Vec::with_capacity(k + 1);
        let mut head = vec![Span::raw(" ".repeat(label_w + 1))];
        for (j, h) in heads.iter().enumerate() {
            let style = if j == self.col { t.key } else { t.count };
            head.push(Span::styled(format!("{h:>w$} ", w = cell_w - 1), style));
        }
        lines.push(Line::from(head));
        for (i, row) in r.confusion.iter().enumerate() {
            let total: usize = row.iter().sum();
            let name = fit_width(&crate::tags::genre_tag_name(&r.labels[i]), label_w);
            let pad = " ".repeat(label_w.saturating_sub(name.width()));
            let style = if i == self.row { t.key } else { t.label };
            let mut spans = vec![Span::styled(format!("{pad}{name} "), style)];
            for (j, &n) in row.iter().enumerate() {
                let (text, v) = if self.normalised {
                    let f = if total > 0 {
                        n as f64 / total as f64
                    } else {
                        0.0
                    };
                    (format!("{:.0}", f * 100.0), f)
                } else {
                    (n.to_string(), n as f64 / max)
                };
                let text = if n == 0 { "·".to_string() } else { text };
                let mut style = heat(ctx, v);
                if i == j && n > 0 {
                    style = style.add_modifier(Modifier::BOLD);
                }
                if i == self.row && j == self.col {
                    style = t.cursor;
                }
                spans.push(Span::styled(format!("{text:>w$} ", w = cell_w - 1), style));
            }
            lines.push(Line::from(spans));
        }
        self.cells.set((
            Rect {
                x: inner.x + label_w as u16 + 1,
                y: inner.y + 1,
                width: (cell_w * k) as u16,
                height: k as u16,
            },
            cell_w as u16,
        ));
        frame.render_widget(Paragraph::new(lines), inner);
    }

    fn draw_table(&self, frame: &mut Frame, area: Rect, ctx: &Ctx, r: &EvalReport) {
        let t = ctx.theme;
        let block = pane_block(t, false, Span::styled(" Per class ", t.title));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        // the figures in 16 columns (100 and 999 at most), so that at 80
        // columns "Classical" is whole (it read "Classic…")
        let label_w = usize::from(inner.width).saturating_sub(16).clamp(4, 12);
        let mut lines = vec![Line::styled(
            format!("{:<label_w$}  P%  R% F1%   n", "genre"),
            t.label,
        )];
        for (i, c) in r.per_class.iter().enumerate() {
            let name = pad_width(&crate::tags::genre_tag_name(&c.label), label_w);
            let style = if i == self.row { t.key } else { t.value };
            // No clips of a genre: its figures are unknown, not zero, but for
            // its precision when other clips were called by its name.
            let figures = if c.support == 0 {
                let precision = if r.predicted_as(i) > 0 { "0" } else { "–" };
                format!(" {precision:>3}{:>4}{:>4}{:>4}", "–", "–", 0)
            } else {
                format!(
                    " {:>3.0}{:>4.0}{:>4.0}{:>4}",
                    c.precision * 100.0,
                    c.recall * 100.0,
                    c.f1 * 100.0,
                    c.support
                )
            };
            lines.push(Line::from(vec![
                Span::styled(name, style),
                Span::styled(figures, t.value),
            ]));
        }
        // A tall pane (a wide screen, files under the matrix) has room for
        // what the matrix says first: the pairs most often confused.
        let room = usize::from(inner.height).saturating_sub(lines.len() + 2);
        // As the matrix shows them: counts, or shares of the true class.
        let pairs: Vec<(usize, usize, String)> = if self.normalised {
            r.most_confused_share()
                .into_iter()
                .map(|(i, j, f)| (i, j, format!("{:.0}%", f * 100.0)))
                .collect()
        } else {
            r.most_confused()
                .into_iter()
                .map(|(i, j, n)| (i, j, n.to_string()))
                .collect()
        };
        if room > 0 && !pairs.is_empty() {
            let w = usize::from(inner.width).saturating_sub(5);
            lines.push(Line::raw(""));
            let head = "most confused, true → predicted";
            let head = if head.chars().count() <= w + 5 {
                head
            } else {
                "most confused"
            };
            lines.push(Line::styled(pad_width(head, w + 5), t.label));
            for (truth, said, n) in pairs.into_iter().take(room) {
                let name = |i: usize| crate::tags::genre_tag_name(&r.labels[i]);
                lines.push(Line::from(vec![
                    Span::styled(
                        pad_width(&format!("{} → {}", name(truth), name(said)), w),
                        t.value,
                    ),
                    Span::styled(format!("{n:>5}"), t.count),
                ]));
            }
        }
        frame.render_widget(Paragraph::new(lines), inner);
    }

    fn draw_files(&self, frame: &mut Frame, area: Rect, ctx: &Ctx, r: &EvalReport) {
        let t = ctx.theme;
        let files = r.cell_files(self.row, self.col);
        let (truth, pred) = (&r.labels[self.row], &r.labels[self.col]);
        let focused = self.focus == EvalFocus::Files;
        let block = pane_block(
            t,
            focused,
            Line::from(vec![
                Span::styled(
                    format!(
                        " {} → {} ",
                        crate::tags::genre_tag_name(truth),
                        crate::tags::genre_tag_name(pred)
                    ),
                    t.title,
                ),
                Span::styled(
                    format!(
                        "{} file{} ",
                        files.len(),
                        if files.len() == 1 { "" } else { "s" }
                    ),
                    t.count,
                ),
            ]),
        );
        let inner = block.inner(area);
        frame.render_widget(block, area);
        if inner.height == 0 {
            return;
        }
        if files.is_empty() {
            frame.render_widget(
                Paragraph::new(Line::styled("no files in this cell", t.dim)),
                inner,
            );
            return;
        }
        let h = usize::from(inner.height);
        let mut offset = self.file_offset.get();
        if self.file_cursor < offset {
            offset = self.file_cursor;
        } else if self.file_cursor >= offset + h {
            offset = self.file_cursor + 1 - h;
        }
        self.file_offset.set(offset);
        let w = usize::from(inner.width);
        let lines: Vec<Line> = files
            .iter()
            .enumerate()
            .skip(offset)
            .take(h)
            .map(|(i, f)| {
                let name = Path::new(&f.path)
                    .file_name()
                    .map_or_else(|| f.path.clone(), |n| n.to_string_lossy().into_owned());
                let conf = format!(" {:>3.0}%", f.confidence * 100.0);
                let is_playing = ctx.player.is_playing_clip(&self.resolve(&f.path));
                let mark = if is_playing { "▶ " } else { "  " };
                let room = w.saturating_sub(conf.len() + 2);
                let style = if focused && i == self.file_cursor {
                    t.selected
                } else if is_playing {
                    t.playing
                } else {
                    t.file
                };
                Line::from(vec![
                    Span::styled(format!("{mark}{}", pad_width(&name, room)), style),
                    Span::styled(conf, t.count),
                ])
            })
            .collect();
        frame.render_widget(Paragraph::new(lines), inner);
    }
}

/// `text` in lines of at most `room` columns, broken at spaces where it
/// can be, at most `max` lines, the last cut with "…" when text is left.
fn wrapped(text: &str, room: usize, max: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut rest = text.trim();
    while lines.len() + 1 < max.max(1) && rest.width() > room {
        // the widest prefix that fits, back to its last space when it has one
        let fits = crate::text::cut_width(rest, room);
        let at = match fits.rfind(' ') {
            Some(i) if i > 0 => i,
            _ => fits.len(),
        };
        if at == 0 {
            break;
        }
        lines.push(rest[..at].trim_end().to_string());
        rest = rest[at..].trim_start();
    }
    if !rest.is_empty() {
        lines.push(fit_width(rest, room));
    }
    lines
}

impl Component for EvalView {
    fn draw(&self, frame: &mut Frame, area: Rect, ctx: &Ctx) {
        let t = ctx.theme;
        let report = match &self.report {
            Some(Ok(r)) => Arc::clone(r),
            other => {
                let block = pane_block(t, true, Span::styled(" Evaluation ", t.title));
                let msg = match other {
                    Some(Err(e)) => Line::styled(format!("no evaluation report: {e}"), t.bad),
                    _ => Line::styled("reading the evaluation report…", t.dim),
                };
                frame.render_widget(Paragraph::new(msg).block(block), area);
                return;
            }
        };
        let r = &*report;
        let k = r.labels.len();
        // rows the matrix (k + 3) and a file list (6) leave spare wrap the
        // model and data lines instead of cutting them
        let spare = usize::from(area.height).saturating_sub(3 + k + 3 + 6);
        let summary = self.summary(ctx, r, usize::from(area.width), 1 + spare / 2);
        let [head, body] =
            Layout::vertical([Constraint::Length(summary.len() as u16), Constraint::Min(0)])
                .areas(area);
        frame.render_widget(Paragraph::new(summary), head);
        let label_w = row_label_width(r) as u16;
        // The matrix takes what it needs, cells wide enough for whole heads
        // where the screen has room beside the per-class table.
        let want = |cell: u16| label_w + 1 + cell * k as u16 + 2;
        let side_min = 28u16;
        let cell = (3..=max_cell_width(r) as u16)
            .rev()
            .find(|&c| want(c) + side_min <= body.width)
            .unwrap_or(3);
        let matrix_w = want(cell).min(body.width);
        let matrix_h = (k as u16 + 3).min(body.height);
        let [left, right] =
            Layout::horizontal([Constraint::Length(matrix_w), Constraint::Min(0)]).areas(body);
        let [matrix, below] =
            Layout::vertical([Constraint::Length(matrix_h), Constraint::Min(0)]).areas(left);
        self.draw_matrix(frame, matrix, ctx, r);
        let table_h = k as u16 + 3;
        if right.width >= 20 {
            if below.height >= 6 {
                // Files under the matrix, the table beside it.
                self.draw_table(frame, right, ctx, r);
                self.draw_files(frame, below, ctx, r);
            } else if right.height >= table_h + 5 {
                let [tbl, files] =
                    Layout::vertical([Constraint::Length(table_h), Constraint::Min(0)])
                        .areas(right);
                self.draw_table(frame, tbl, ctx, r);
                self.draw_files(frame, files, ctx, r);
            } else if self.focus == EvalFocus::Files {
                self.draw_files(frame, right, ctx, r);
            } else {
                self.draw_table(frame, right, ctx, r);
                if below.height > 0 {
                    let key = ctx.keymap.label(Action::Activate);
                    frame.render_widget(
                        Paragraph::new(Line::styled(
                            format!(" {key} lists the files of the selected cell"),
                            t.dim,
                        )),
                        below,
                    );
                }
            }
        } else if below.height >= 3 {
            self.draw_files(frame, below, ctx, r);
        }
    }
}

/// The shipped model (`fast`, `accurate`) the report scored, by its hash.
fn shipped_model(r: &EvalReport) -> Option<&'static str> {
    crate::model::MODEL_NAMES.iter().copied().find(|n| {
        crate::model::shipped_card(n).is_ok_and(|c| c.sha256.as_deref() == Some(&r.model_sha256))
    })
}

/// The report's model as a user knows it: a shipped model by its name (both
/// files are `genre.onnx`), else the file's name, with its folder when that
/// is all that tells it apart.
fn model_label(r: &EvalReport, shipped: Option<&str>) -> String {
    let short = short_model_path(&r.model);
    match shipped {
        Some(name) if short == format!("{name}/genre.onnx") => name.to_string(),
        Some(name) => format!("{name} ({short})"),
        None => short,
    }
}

/// "accurate/genre.onnx" for a file named as every model's, else its name.
fn short_model_path(model: &str) -> String {
    let p = Path::new(model);
    let file = p
        .file_name()
        .map_or_else(|| model.to_string(), |n| n.to_string_lossy().into_owned());
    match p.parent().and_then(Path::file_name) {
        Some(dir) if file == "genre.onnx" => format!("{}/{file}", dir.to_string_lossy()),
        _ => file,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_line_wraps_at_spaces_and_the_last_is_cut() {
        let text = "out-of-fold, 5-fold artist-grouped CV over train + valid, seed 0";
        assert_eq!(wrapped(text, 80, 1), vec![text.to_string()]);
        assert_eq!(
            wrapped(text, 30, 2),
            vec![
                "out-of-fold, 5-fold".to_string(),
                "artist-grouped CV over train …".to_string()
            ]
        );
        assert_eq!(wrapped(text, 30, 1), vec!["out-of-fold, 5-fold artist-gr…"]);
        let all = wrapped(text, 30, 5);
        assert_eq!(all.join(" "), text);
        assert!(all.iter().all(|l| l.width() <= 30), "{all:?}");
    }

    fn report(model: &str, sha: &str) -> EvalReport {
        EvalReport {
            model: model.into(),
            model_sha256: sha.into(),
            dataset: "ev".into(),
            labels: Vec::new(),
            n: 0,
            accuracy: 0.0,
            balanced_accuracy: 0.0,
            macro_f1: 0.0,
            per_class: Vec::new(),
            confusion: Vec::new(),
            files: Vec::new(),
            errors: Vec::new(),
            paths_relative_to: None,
        }
    }

    #[test]
    fn the_most_confused_pairs_come_largest_first_without_the_diagonal() {
        let mut r = report("accurate", "abc");
        r.labels = vec!["blues".into(), "rock".into(), "jazz".into()];
        r.confusion = vec![vec![9, 2, 0], vec![5, 7, 2], vec![0, 0, 3]];
        assert_eq!(r.most_confused(), vec![(1, 0, 5), (0, 1, 2), (1, 2, 2)]);
        // as shares of the true class: rock's 5 of 14, blues' 2 of 11
        let share: Vec<_> = r
            .most_confused_share()
            .into_iter()
            .map(|(i, j, f)| (i, j, (f * 1000.0).round() as u32))
            .collect();
        assert_eq!(share, vec![(1, 0, 357), (0, 1, 182), (1, 2, 143)]);
        r.confusion = vec![vec![90, 10, 0], vec![0, 14, 0], vec![2, 0, 1]];
        assert_eq!(r.most_confused()[0], (0, 1, 10));
        assert_eq!(
            r.most_confused_share()[0].0,
            2,
            "a thin class's 2 of 3 come before a large one's 10 of 100"
        );
    }

    #[test]
    fn a_report_names_a_shipped_model_by_its_name() {
        let sha = |name: &str| crate::model::shipped_card(name).unwrap().sha256.unwrap();
        let model_label = |r: &EvalReport| model_label(r, shipped_model(r));
        let accurate = report(
            "/home/u/earmark/models/accurate/genre.onnx",
            &sha("accurate"),
        );
        assert_eq!(model_label(&accurate), "accurate");
        let copied = report("/tmp/x/genre.onnx", &sha("fast"));
        assert_eq!(model_label(&copied), "fast (x/genre.onnx)");
        let other = report("/tmp/mine/genre.onnx", "0000");
        assert_eq!(model_label(&other), "mine/genre.onnx");
        let twin = report("target/train/student-trainonly.onnx", "0000");
        assert_eq!(model_label(&twin), "student-trainonly.onnx");
    }
}
