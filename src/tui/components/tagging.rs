//! Tagging pop-ups: the genre picker, the free-text editor (ratatui-textarea)
//! and the batch-accept preview. They hold what the user is choosing; the app
//! sends the writes to the tagger thread.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
use ratatui_textarea::TextArea;
use unicode_width::UnicodeWidthStr;

use super::{Component, Ctx, centered, pane_block};
use crate::library::tree::NodeId;
use crate::tags::write::show;
use crate::text::pad_width;
use crate::tui::action::Action;
use crate::tui::tagger::Planned;

/// Threshold step for ←/→ in the batch preview.
pub const THRESHOLD_STEP: f32 = 0.05;

/// A genre the picker offers, with the model's confidence when it has one.
pub type PickerItem = (String, Option<f32>);

/// The files a genre pop-up writes to: the selected file, or the marked
/// files (never empty; titles name the first when there is one).
pub type Targets = Vec<NodeId>;

pub enum Popup {
    /// Choose a genre: the model's genres ranked, then "other…".
    Picker {
        nodes: Targets,
        items: Vec<PickerItem>,
        /// How many of the first items are the library's own genres (0:
        /// GTZAN's only); headings set them apart from GTZAN's.
        yours: usize,
        cursor: usize,
    },
    /// Type genres (`;` separates several).
    Editor {
        nodes: Targets,
        input: Box<TextArea<'static>>,
    },
    /// What a batch-accept would write; `rows` is None while cached results
    /// load (`pending`: the files and what they are) and the dry run runs.
    Batch {
        rows: Option<Vec<Planned>>,
        pending: Option<(Vec<NodeId>, String)>,
        /// Files without a suggestion, not offered.
        not_offered: NotOffered,
        threshold: f32,
        /// The row Space ticks or unticks.
        cursor: usize,
    },
    /// A yes/no question before something that changes several files or
    /// removes a tag.
    Confirm { question: String, then: Confirmed },
    /// Type where to seek: `1:30`, `90`, `50%`.
    Seek { input: Box<TextArea<'static>> },
}

/// The files of a batch that have no suggestion, by why (not offered).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NotOffered {
    /// Not classified yet: `c` would classify them.
    pub unclassified: usize,
    /// Their classification failed: classifying again will not help.
    pub failed: usize,
    /// Classified, but your genres are unsure of them (`t` picks one).
    pub unsure: usize,
}

/// What a yes to [`Popup::Confirm`] does.
#[derive(Debug, Clone, PartialEq)]
pub enum Confirmed {
    /// Remove these files' genre tags.
    ClearGenre(Targets),
    /// Undo the newest batch written since the app opened.
    Undo,
}

/// What a key did to a pop-up.
#[derive(Debug)]
pub enum PopupOutcome {
    /// Still open.
    Open,
    Close,
    /// Write these genres to these files.
    Write(Targets, Vec<String>),
    /// Switch to the free-text editor for these files.
    Edit(Targets),
    /// Write the batch rows at or above the threshold.
    WriteBatch(Vec<Planned>),
    /// The user said yes.
    Confirmed(Confirmed),
    /// Ask before removing these files' genres (the editor's line was empty).
    AskClear(Targets),
    /// Seek to what was typed.
    Seek(String),
}

impl Popup {
    pub fn editor(nodes: Targets, current: &str) -> Popup {
        let mut input = TextArea::new(vec![current.to_string()]);
        input.set_placeholder_text("genre; another genre");
        input.set_cursor_line_style(Style::default());
        // The current genre starts selected, as in a rename box: typing
        // replaces it, an arrow key keeps it to edit.
        if current.is_empty() {
            input.move_cursor(ratatui_textarea::CursorMove::End);
        } else {
            input.select_all();
        }
        Popup::Editor {
            nodes,
            input: Box::new(input),
        }
    }

    /// Rows that would be written at the current threshold and ticks.
    pub fn batch_selected(rows: &[Planned], threshold: f32) -> impl Iterator<Item = &Planned> {
        rows.iter().filter(move |r| r.chosen(threshold))
    }

    /// A list's own keys, as [`Popup::on_key`] reads them (the browser's
    /// movement keys as bound take the rest); None for a text prompt or a
    /// question, which take keys as typed.
    pub fn list_keys(&self) -> Option<&'static [KeyCode]> {
        match self {
            Popup::Picker { .. } => Some(&[KeyCode::Esc, KeyCode::Char('q'), KeyCode::Enter]),
            Popup::Batch { .. } => Some(&[
                KeyCode::Esc,
                KeyCode::Char('q'),
                KeyCode::Char(' '),
                KeyCode::Char('a'),
                KeyCode::Left,
                KeyCode::Char('h'),
                KeyCode::Char('-'),
                KeyCode::Right,
                KeyCode::Char('l'),
                KeyCode::Char('+'),
                KeyCode::Enter,
            ]),
            _ => None,
        }
    }

    pub fn on_key(&mut self, k: KeyEvent) -> PopupOutcome {
        match self {
            Popup::Picker {
                nodes,
                items,
                cursor,
                ..
            } => match k.code {
                KeyCode::Esc | KeyCode::Char('q') => PopupOutcome::Close,
                // the row after the genres types a new one
                _ if move_in_list(cursor, items.len() + 1, k) => PopupOutcome::Open,
                KeyCode::Enter => match items.get(*cursor) {
                    Some((g, _)) => PopupOutcome::Write(nodes.clone(), vec![g.clone()]),
                    None => PopupOutcome::Edit(nodes.clone()),
                },
                _ => PopupOutcome::Open,
            },
            Popup::Editor { nodes, input } => editor_key(nodes, input, k),
            Popup::Batch {
                rows,
                threshold,
                cursor,
                ..
            } => match k.code {
                KeyCode::Esc | KeyCode::Char('q') => PopupOutcome::Close,
                _ if move_in_list(cursor, rows.as_ref().map_or(0, Vec::len), k) => {
                    PopupOutcome::Open
                }
                KeyCode::Char(' ') => {
                    if let Some(r) = rows.as_mut().and_then(|r| r.get_mut(*cursor))
                        && r.writable()
                    {
                        r.tick = Some(!r.chosen(*threshold));
                    }
                    PopupOutcome::Open
                }
                // every writable row, held back or not; again: none
                KeyCode::Char('a') => {
                    if let Some(rows) = rows.as_mut() {
                        let all = rows
                            .iter()
                            .filter(|r| r.writable())
                            .all(|r| r.chosen(*threshold));
                        for r in rows.iter_mut().filter(|r| r.writable()) {
                            r.tick = Some(!all);
                        }
                    }
                    PopupOutcome::Open
                }
                KeyCode::Left | KeyCode::Char('h') | KeyCode::Char('-') => {
                    *threshold = (*threshold - THRESHOLD_STEP).max(0.0);
                    PopupOutcome::Open
                }
                KeyCode::Right | KeyCode::Char('l') | KeyCode::Char('+') => {
                    *threshold = (*threshold + THRESHOLD_STEP).min(1.0);
                    PopupOutcome::Open
                }
                KeyCode::Enter => match rows {
                    Some(rows) => {
                        let chosen: Vec<Planned> =
                            Popup::batch_selected(rows, *threshold).cloned().collect();
                        if chosen.is_empty() {
                            PopupOutcome::Open
                        } else {
                            PopupOutcome::WriteBatch(chosen)
                        }
                    }
                    None => PopupOutcome::Open,
                },
                _ => PopupOutcome::Open,
            },
            Popup::Confirm { then, .. } => match k.code {
                KeyCode::Char('y' | 'Y') | KeyCode::Enter => PopupOutcome::Confirmed(then.clone()),
                KeyCode::Char('n' | 'N' | 'q') | KeyCode::Esc => PopupOutcome::Close,
                _ => PopupOutcome::Open,
            },
            Popup::Seek { input } => match k.code {
                KeyCode::Esc => PopupOutcome::Close,
                KeyCode::Enter => PopupOutcome::Seek(input.lines().join("")),
                _ => {
                    line_key(input, k);
                    PopupOutcome::Open
                }
            },
        }
    }

    pub fn seek() -> Popup {
        let mut input = TextArea::default();
        input.set_placeholder_text("1:30, 90 or 50%");
        input.set_cursor_line_style(Style::default());
        Popup::Seek {
            input: Box::new(input),
        }
    }

    pub fn paste(&mut self, text: &str) {
        if let Popup::Editor { input, .. } | Popup::Seek { input } = self {
            input.insert_str(text.replace(['\n', '\r'], " "));
        }
    }
}

/// Rows a page key moves in a popup's list (its height is the draw's).
const POPUP_PAGE: usize = 10;

/// Move a popup list's `cursor` over `n` rows by the browser's keys (arrows,
/// j/k, page keys, ctrl-b/f, home/end, g/G); false for any other key.
fn move_in_list(cursor: &mut usize, n: usize, k: KeyEvent) -> bool {
    use crossterm::event::KeyModifiers;
    let last = n.saturating_sub(1);
    let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
    *cursor = match k.code {
        KeyCode::Up | KeyCode::Char('k') if !ctrl => cursor.saturating_sub(1),
        KeyCode::Down | KeyCode::Char('j') if !ctrl => (*cursor + 1).min(last),
        KeyCode::PageUp => cursor.saturating_sub(POPUP_PAGE),
        KeyCode::Char('b') if ctrl => cursor.saturating_sub(POPUP_PAGE),
        KeyCode::PageDown => (*cursor + POPUP_PAGE).min(last),
        KeyCode::Char('f') if ctrl => (*cursor + POPUP_PAGE).min(last),
        KeyCode::Home | KeyCode::Char('g') if !ctrl => 0,
        KeyCode::End | KeyCode::Char('G') if !ctrl => last,
        _ => return false,
    };
    true
}

fn frame_block<'a>(ctx: &Ctx, title: &str) -> Block<'a> {
    pane_block(
        ctx.theme,
        true,
        Span::styled(format!(" {title} "), ctx.theme.title),
    )
    .style(ctx.theme.help)
}

impl Component for Popup {
    fn draw(&self, frame: &mut Frame, area: Rect, ctx: &Ctx) {
        match self {
            Popup::Picker {
                nodes,
                items,
                yours,
                cursor,
            } => draw_picker(frame, area, ctx, nodes, items, *yours, *cursor),
            Popup::Editor { nodes, input } => draw_editor(frame, area, ctx, nodes, input),
            Popup::Batch {
                rows,
                pending,
                not_offered,
                threshold,
                cursor,
            } => draw_batch(
                frame,
                area,
                ctx,
                rows.as_deref(),
                pending.is_some(),
                *not_offered,
                *threshold,
                *cursor,
            ),
            Popup::Confirm { question, .. } => draw_confirm(frame, area, ctx, question),
            Popup::Seek { input } => draw_seek(frame, area, ctx, input),
        }
    }
}

fn draw_confirm(frame: &mut Frame, area: Rect, ctx: &Ctx, question: &str) {
    let t = ctx.theme;
    let w = area.width.saturating_sub(4).min(70);
    let text_w = usize::from(w.saturating_sub(2)).max(1);
    let lines = textwrap_lines(question, text_w);
    let h = (lines.len() as u16 + 4).min(area.height);
    let popup = centered(area, w, h);
    frame.render_widget(Clear, popup);
    let block = frame_block(ctx, "Are you sure?");
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let mut out: Vec<Line> = lines.into_iter().map(|l| Line::styled(l, t.help)).collect();
    out.push(Line::raw(""));
    out.push(Line::styled("y or enter: yes · n or esc: no", t.count));
    frame.render_widget(Paragraph::new(out), inner);
}

/// `text` broken into lines of at most `width` columns, at spaces.
fn textwrap_lines(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && line.width() + 1 + word.width() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    lines
}

fn draw_seek(frame: &mut Frame, area: Rect, ctx: &Ctx, input: &TextArea<'static>) {
    let popup = centered(area, 44, 5);
    draw_prompt(
        frame,
        popup,
        ctx,
        "Seek to",
        input,
        "enter seeks · esc cancels",
    );
}

/// A one-line text prompt: the field, a blank line and a hint, in a framed popup.
fn draw_prompt(
    frame: &mut Frame,
    popup: Rect,
    ctx: &Ctx,
    title: &str,
    input: &TextArea<'static>,
    hint: &str,
) {
    let t = ctx.theme;
    frame.render_widget(Clear, popup);
    let block = frame_block(ctx, title);
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let [field, _, hint_area] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(inner);
    let mut input = input.clone();
    input.set_style(t.filter);
    input.set_placeholder_style(t.dim);
    input.set_cursor_style(t.filter.add_modifier(ratatui::style::Modifier::REVERSED));
    input.set_selection_style(t.filter.add_modifier(ratatui::style::Modifier::REVERSED));
    frame.render_widget(&input, field);
    frame.render_widget(Paragraph::new(Line::styled(hint, t.count)), hint_area);
}

/// One row of the picker: a heading, or the item at an index (`items.len()`
/// is the "other…" row).
enum PickerRow<'a> {
    Heading(&'a str),
    Item(usize),
}

fn draw_picker(
    frame: &mut Frame,
    area: Rect,
    ctx: &Ctx,
    nodes: &[NodeId],
    items: &[PickerItem],
    yours: usize,
    cursor: usize,
) {
    let t = ctx.theme;
    // Your genres and GTZAN's under their own headings when both are listed.
    let mut shown: Vec<PickerRow> = Vec::with_capacity(items.len() + 3);
    for i in 0..=items.len() {
        if yours > 0 && i == 0 {
            shown.push(PickerRow::Heading("your genres"));
        }
        if yours > 0 && i == yours && yours < items.len() {
            shown.push(PickerRow::Heading("GTZAN's genres"));
        }
        shown.push(PickerRow::Item(i));
    }
    let h = (shown.len() as u16 + 4).min(area.height);
    let popup = centered(area, 44, h);
    frame.render_widget(Clear, popup);
    let mut block = frame_block(ctx, &format!("Genre for {}", targets_name(ctx, nodes)));
    // what the write does to genres the files hold now, on the bottom edge
    if let Some(note) = held_genres_note(ctx, nodes) {
        let room = usize::from(popup.width.saturating_sub(4));
        block = block.title_bottom(Span::styled(
            format!(" {} ", crate::text::fit_width(&note, room)),
            t.value,
        ));
    }
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let rows = usize::from(inner.height.saturating_sub(1));
    let at = shown
        .iter()
        .position(|r| matches!(r, PickerRow::Item(i) if *i == cursor))
        .unwrap_or(0);
    // The heading above the first row stays in view at the top.
    let first = at.saturating_sub(rows.saturating_sub(1));
    let w = usize::from(inner.width).saturating_sub(6);
    let mut lines: Vec<Line> = shown
        .iter()
        .skip(first)
        .take(rows)
        .map(|row| match *row {
            PickerRow::Heading(h) => Line::styled(format!(" {h}"), t.dim),
            PickerRow::Item(i) => {
                let (g, p) = items.get(i).map_or_else(
                    || ("other… (type a genre)".to_string(), String::new()),
                    |(g, p)| {
                        let p = p.map_or_else(String::new, |p| format!("{:>4.0}%", p * 100.0));
                        (format!("  {g}"), p)
                    },
                );
                let g = if yours > 0 {
                    g
                } else {
                    g.trim_start().to_string()
                };
                let selected = i == cursor;
                Line::from(vec![
                    Span::styled(
                        format!(" {}", pad_width(&g, w)),
                        if selected { t.selected } else { t.help },
                    ),
                    Span::styled(p, if selected { t.selected } else { t.count }),
                ])
            }
        })
        .collect();
    lines.push(Line::styled("enter writes · esc cancels", t.count));
    frame.render_widget(Paragraph::new(lines), inner);
}

/// What the write does to genres the targets hold now: "replaces
/// Soundtrack", "2 of 3 hold a genre: replaced" (or "added to"); None when
/// none holds one.
fn held_genres_note(ctx: &Ctx, nodes: &[NodeId]) -> Option<String> {
    let genre_now = |id: NodeId| -> Option<String> {
        if let Some(w) = ctx.results.get(id).and_then(|s| s.written.as_ref()) {
            return (!w.is_empty()).then(|| w.join("; "));
        }
        ctx.tree
            .node(id)
            .inspection()
            .and_then(|i| i.tags.as_ref().ok())
            .map(|t| t.genre_display())
            .filter(|g| !g.is_empty())
    };
    // a file whose tags are not read yet may hold one: said, not counted as none
    let unread = |id: NodeId| {
        ctx.tree.node(id).inspection().is_none()
            && ctx.results.get(id).is_none_or(|f| f.written.is_none())
    };
    let append = ctx.genre_mode == crate::tags::GenreMode::Append;
    match nodes {
        [one] if unread(*one) => Some("its tags are being read".to_string()),
        [one] => genre_now(*one).map(|g| {
            let verb = if append { "adds to" } else { "replaces" };
            format!("{verb} {g}")
        }),
        many => {
            let n = many.iter().filter(|&&id| genre_now(id).is_some()).count();
            let done = if append { "added to" } else { "replaced" };
            let held = (n > 0).then(|| format!("{n} of {} hold a genre: {done}", many.len()));
            match many.iter().filter(|&&id| unread(id)).count() {
                0 => held,
                k => Some(format!("{n} of {} hold a genre; {k} unread", many.len())),
            }
        }
    }
}

/// "song.flac", or "3 marked files".
fn targets_name(ctx: &Ctx, nodes: &[NodeId]) -> String {
    match nodes {
        [one] => ctx.tree.node(*one).label().into_owned(),
        many => format!("{} marked files", super::count(many.len() as u64)),
    }
}

fn draw_editor(
    frame: &mut Frame,
    area: Rect,
    ctx: &Ctx,
    nodes: &[NodeId],
    input: &TextArea<'static>,
) {
    let popup = centered(area, 66, 5);
    let name = targets_name(ctx, nodes);
    let hint = if input.is_selecting() {
        "typing replaces · → edits · ; separates genres · esc cancels"
    } else {
        "; separates genres · enter writes · empty removes · esc cancels"
    };
    draw_prompt(frame, popup, ctx, &format!("Genre for {name}"), input, hint);
}

#[allow(clippy::too_many_arguments)] // one pop-up's fields, drawn together
fn draw_batch(
    frame: &mut Frame,
    area: Rect,
    ctx: &Ctx,
    rows: Option<&[Planned]>,
    loading: bool,
    not_offered: NotOffered,
    threshold: f32,
    cursor: usize,
) {
    let t = ctx.theme;
    let popup = centered(area, area.width.saturating_sub(4).min(100), area.height);
    frame.render_widget(Clear, popup);
    // where the cursor is in a list longer than the box
    let title = match rows {
        Some(r) if r.len() > 1 => format!("Accept suggestions · {}/{}", cursor + 1, r.len()),
        _ => "Accept suggestions".to_string(),
    };
    let block = frame_block(ctx, &title);
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let Some(rows) = rows else {
        let what = if loading {
            "loading cached results…"
        } else {
            "reading the current tags…"
        };
        frame.render_widget(Paragraph::new(Line::styled(what, t.dim)), inner);
        return;
    };
    let chosen = Popup::batch_selected(rows, threshold).count();
    let mut head = vec![Line::from(vec![
        Span::styled(format!("Write {chosen} of {} files", rows.len()), t.suggest),
        Span::styled(
            // your genres' suggestions passed each genre's own bar already
            match ctx.vocab.active() {
                Some(_) => format!(
                    " · past each genre's own bar, and ≥ {:.0}% (←/→ changes)",
                    threshold * 100.0
                ),
                None => format!(" · confidence ≥ {:.0}% (←/→ changes)", threshold * 100.0),
            },
            t.help,
        ),
    ])];
    let left_out = left_out_line(rows, threshold, not_offered);
    if !left_out.is_empty() {
        head.push(Line::styled(left_out, t.count));
    }
    let foot = Line::styled(
        format!(
            "space ticks · a all · enter writes (one undo step: {}) · esc cancels",
            ctx.keymap.label(Action::Undo)
        ),
        t.count,
    );
    // A short window keeps a row of the list before its notes: the left-out
    // line goes first, then the keys' hint (the rows were not shown at all).
    let room = usize::from(inner.height);
    if head.len() + 2 > room {
        head.truncate(1);
    }
    let show_foot = head.len() + 2 <= room;
    let list_h = room.saturating_sub(head.len() + usize::from(show_foot));
    let first = cursor.saturating_sub(list_h.saturating_sub(1));
    let w = usize::from(inner.width);
    let base = shared_folder(rows);
    // names take what the longest needs, up to half the width: the change
    // and its reason get the rest (they were cut beside blank columns)
    let widest = rows
        .iter()
        .map(|r| row_label(&r.path, &base).width())
        .max()
        .unwrap_or(0);
    let widths = (widest.min((w / 2).saturating_sub(5).min(40)), w);
    let mut lines = head;
    for (i, r) in rows.iter().enumerate().skip(first).take(list_h) {
        lines.push(batch_row(ctx, r, &base, threshold, widths, i == cursor));
    }
    while lines.len() < room.saturating_sub(usize::from(show_foot)) {
        lines.push(Line::raw(""));
    }
    if show_foot {
        lines.push(foot);
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// "left out: 1 set already (✎), 1 skipped (–), 3 not classified yet, 2 unsure, 2 failed".
fn left_out_line(rows: &[Planned], threshold: f32, not_offered: NotOffered) -> String {
    let held = |why: &str| {
        rows.iter()
            .filter(|r| r.held == Some(why) && r.writable() && !r.chosen(threshold))
            .count()
    };
    let mut parts = Vec::new();
    for why in [HELD_WRITTEN, HELD_TAGGED, HELD_SKIPPED] {
        let n = held(why);
        if n > 0 {
            // the row's words, in the plural for a count ("3 have a genre")
            let said = if n > 1 && why == HELD_TAGGED {
                "have a genre"
            } else {
                why
            };
            parts.push(format!("{n} {said}"));
        }
    }
    if not_offered.unclassified > 0 {
        parts.push(format!("{} not classified yet", not_offered.unclassified));
    }
    if not_offered.unsure > 0 {
        parts.push(format!("{} unsure", not_offered.unsure));
    }
    if not_offered.failed > 0 {
        parts.push(format!("{} failed", not_offered.failed));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("left out: {}", parts.join(", "))
    }
}

/// Why a row is left out unless ticked: its genre was set already (by hand
/// or an earlier accept), the file holds a genre from elsewhere (a replace
/// would drop it), or the user skipped it.
pub const HELD_WRITTEN: &str = "set already (✎)";
pub const HELD_TAGGED: &str = "has a genre";
pub const HELD_SKIPPED: &str = "skipped (–)";

/// The folder every row's file lies under: rows are named from it.
fn shared_folder(rows: &[Planned]) -> std::path::PathBuf {
    let mut dirs = rows.iter().filter_map(|r| r.path.parent());
    let Some(first) = dirs.next() else {
        return std::path::PathBuf::new();
    };
    dirs.fold(first.to_path_buf(), |base, d| {
        base.components()
            .zip(d.components())
            .take_while(|(a, b)| a == b)
            .map(|(a, _)| a)
            .collect()
    })
}

/// A row's file from the folder all rows share (`Album A/01 Intro.mp3`):
/// the name alone cannot tell two albums' first tracks apart.
fn row_label(path: &std::path::Path, base: &std::path::Path) -> String {
    match path.strip_prefix(base) {
        Ok(rel) if rel.components().count() > 1 => rel
            .iter()
            .map(|part| crate::library::without_controls(crate::library::shown(part)).into_owned())
            .collect::<Vec<_>>()
            .join("/"),
        _ => crate::library::shown_file_name(path),
    }
}

fn batch_row<'a>(
    ctx: &Ctx,
    r: &Planned,
    base: &std::path::Path,
    threshold: f32,
    (name_w, w): (usize, usize),
    cursor: bool,
) -> Line<'a> {
    let t = ctx.theme;
    let name = row_label(&r.path, base);
    let conf = format!("{:>4.0}%", r.confidence * 100.0);
    let chosen = r.chosen(threshold);
    let (tick, change, style) = match &r.plan {
        Err(e) => ("   ", format!("cannot write: {e}"), t.bad),
        Ok(p) if !p.changed => ("   ", format!("{} (already)", show(&p.new)), t.dim),
        Ok(p) => {
            let change = format!("{} → {}", show(&p.old), show(&p.new));
            match (chosen, r.held) {
                (true, _) => ("[x]", change, t.help),
                (false, Some(why)) if r.tick.is_none() => {
                    ("[ ]", format!("{change} · {why}"), t.dim)
                }
                (false, _) => ("[ ]", change, t.dim),
            }
        }
    };
    let style = if cursor { t.selected } else { style };
    // a long folder is cut before the file's name, which tells rows apart
    let name = if name.contains('/') {
        pad_width(&crate::text::fit_tail(&name, name_w), name_w)
    } else {
        pad_width(&name, name_w)
    };
    let change_w = w.saturating_sub(name_w + 11);
    let change = pad_width(&change, change_w);
    Line::from(vec![
        Span::styled(format!("{tick} {name} "), style),
        Span::styled(change, style),
        Span::styled(conf, t.count),
    ])
}

/// A key in the free-text genre editor.
fn editor_key(nodes: &Targets, input: &mut TextArea<'static>, k: KeyEvent) -> PopupOutcome {
    match k.code {
        KeyCode::Esc => PopupOutcome::Close,
        // → at the end of a selected line moves nowhere, so the
        // textarea keeps the selection: keep the text, as the hint says.
        KeyCode::Right if input.is_selecting() && k.modifiers.is_empty() => {
            input.cancel_selection();
            input.move_cursor(ratatui_textarea::CursorMove::End);
            PopupOutcome::Open
        }
        KeyCode::Enter => {
            let text = input.lines().join(" ");
            let genres = crate::tags::split_genres(&text);
            if genres.is_empty() {
                PopupOutcome::AskClear(nodes.clone())
            } else {
                PopupOutcome::Write(nodes.clone(), genres)
            }
        }
        _ => {
            line_key(input, k);
            PopupOutcome::Open
        }
    }
}

/// A key in a one-line input: the textarea's own keys, except Ctrl-U, which
/// deletes to the start of the line as in a shell (the textarea makes it undo).
fn line_key(input: &mut TextArea<'static>, k: KeyEvent) {
    if k.code == KeyCode::Char('u') && k.modifiers == crossterm::event::KeyModifiers::CONTROL {
        input.cancel_selection();
        input.delete_line_by_head();
    } else {
        input.input(k);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(popup: &mut Popup, keys: &[KeyCode]) -> PopupOutcome {
        for &code in keys {
            popup.on_key(KeyEvent::from(code));
        }
        popup.on_key(KeyEvent::from(KeyCode::Enter))
    }

    fn chars(s: &str) -> Vec<KeyCode> {
        s.chars().map(KeyCode::Char).collect()
    }

    #[test]
    fn batch_rows_are_named_from_the_folder_they_share() {
        use std::path::{Path, PathBuf};
        let rows = |paths: &[&str]| -> Vec<PathBuf> { paths.iter().map(PathBuf::from).collect() };
        let base = |paths: &[PathBuf]| {
            shared_folder(
                &paths
                    .iter()
                    .map(|p| Planned {
                        node: 0,
                        path: p.clone(),
                        change: crate::tags::GenreChange::replace("Jazz"),
                        confidence: 0.9,
                        plan: Err(String::new()),
                        held: None,
                        decided_on: None,
                        tick: None,
                    })
                    .collect::<Vec<_>>(),
            )
        };
        let two = rows(&["/m/Album A/01 Intro.mp3", "/m/Album B/01 Intro.mp3"]);
        let b = base(&two);
        assert_eq!(b, Path::new("/m"));
        assert_eq!(row_label(&two[0], &b), "Album A/01 Intro.mp3");
        assert_eq!(row_label(&two[1], &b), "Album B/01 Intro.mp3");
        // one folder: names alone, as before
        let one = rows(&["/m/Album A/01.mp3", "/m/Album A/02.mp3"]);
        assert_eq!(row_label(&one[1], &base(&one)), "02.mp3");
        let deep = rows(&["/m/a/x/1.mp3", "/m/b/1.mp3"]);
        assert_eq!(row_label(&deep[0], &base(&deep)), "a/x/1.mp3");
        assert_eq!(base(&[]), PathBuf::new());
    }

    #[test]
    fn popup_lists_page_and_jump_as_the_browser_does() {
        use crossterm::event::KeyModifiers;
        let mut c = 0;
        let mut go = |code, modifiers| {
            let moved = move_in_list(&mut c, 110, KeyEvent::new(code, modifiers));
            (moved, c)
        };
        let none = KeyModifiers::NONE;
        assert_eq!(go(KeyCode::PageDown, none), (true, 10));
        assert_eq!(go(KeyCode::Char('f'), KeyModifiers::CONTROL), (true, 20));
        assert_eq!(go(KeyCode::Char('G'), KeyModifiers::SHIFT), (true, 109));
        assert_eq!(go(KeyCode::PageDown, none), (true, 109));
        assert_eq!(go(KeyCode::Char('b'), KeyModifiers::CONTROL), (true, 99));
        assert_eq!(go(KeyCode::Home, none), (true, 0));
        assert_eq!(go(KeyCode::End, none), (true, 109));
        assert_eq!(go(KeyCode::Char('g'), none), (true, 0));
        assert_eq!(go(KeyCode::Char(' '), none), (false, 0));
        // The picker's last row types a new genre.
        let mut picker = Popup::Picker {
            nodes: vec![3],
            items: vec![("Rock".into(), Some(0.5)), ("Jazz".into(), None)],
            yours: 0,
            cursor: 0,
        };
        picker.on_key(KeyEvent::from(KeyCode::End));
        let out = picker.on_key(KeyEvent::from(KeyCode::Enter));
        assert!(
            matches!(&out, PopupOutcome::Edit(n) if n == &[3]),
            "{out:?}"
        );
    }

    #[test]
    fn typing_in_the_editor_replaces_the_current_genre() {
        let mut popup = Popup::editor(vec![7], "Pop");
        let out = typed(&mut popup, &chars("Drum & Bass;Électro"));
        assert!(
            matches!(&out, PopupOutcome::Write(n, g) if n == &[7] && g == &["Drum & Bass", "Électro"]),
            "{out:?}"
        );
    }

    #[test]
    fn ctrl_u_deletes_to_the_start_of_the_line() {
        use crossterm::event::KeyModifiers;
        let mut popup = Popup::editor(vec![7], "Pop");
        let mut keys = vec![KeyCode::End];
        keys.extend(chars("; Rock"));
        for &code in &keys {
            popup.on_key(KeyEvent::from(code));
        }
        popup.on_key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
        let out = typed(&mut popup, &chars("Jazz"));
        assert!(
            matches!(&out, PopupOutcome::Write(n, g) if n == &[7] && g == &["Jazz"]),
            "{out:?}"
        );
    }

    #[test]
    fn an_arrow_keeps_the_current_genre_to_edit() {
        let mut popup = Popup::editor(vec![7], "Pop");
        let mut keys = vec![KeyCode::End];
        keys.extend(chars("; Rock"));
        let out = typed(&mut popup, &keys);
        assert!(
            matches!(&out, PopupOutcome::Write(n, g) if n == &[7] && g == &["Pop", "Rock"]),
            "{out:?}"
        );
        let mut popup = Popup::editor(vec![7], "Pop");
        let mut keys = vec![KeyCode::Right];
        keys.extend(chars("; Rock"));
        let out = typed(&mut popup, &keys);
        assert!(
            matches!(&out, PopupOutcome::Write(n, g) if n == &[7] && g == &["Pop", "Rock"]),
            "→ keeps it too: {out:?}"
        );
        let mut popup = Popup::editor(vec![7], "Pop");
        let out = typed(&mut popup, &[KeyCode::Home, KeyCode::Char('K')]);
        assert!(
            matches!(&out, PopupOutcome::Write(n, g) if n == &[7] && g == &["KPop"]),
            "{out:?}"
        );
    }
}
