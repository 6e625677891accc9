//! The library browser: a lazily expanded tree of folders and audio files with
//! per-folder counts, marks for bad entries, and filter-as-you-type.

use std::cell::Cell;
use std::ops::Range;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{List, ListItem, ListState, Paragraph};
use ratatui_textarea::TextArea;
use unicode_width::UnicodeWidthStr;

use super::{Component, Ctx, count, pane_block, plural};
use crate::library::tree::{DirNode, FileCheck, NodeId, NodeKind, ROOT, Tree};
use crate::text::{fit_middle, fit_width};
use crate::tui::results::JobMark;

/// The marks the listing draws, with what they mean (the help overlay's
/// legend; the README's marks table says the same).
pub const MARKS_LEGEND: &[(&str, &str)] = &[
    ("✓", "classified"),
    ("…", "being classified"),
    ("·", "queued"),
    ("✗", "failed (see reason)"),
    ("○", "silent / too short"),
    ("!", "damaged / unreadable"),
    ("✎", "genre tag written"),
    // no keys here: they may be rebound (the groups above name them)
    ("–", "skipped"),
    ("●", "marked"),
    ("▶", "playing"),
];

#[derive(Debug)]
pub struct Browser {
    expanded: Vec<bool>,
    keep: Option<Vec<bool>>,
    /// Under a filter, the files it keeps below each folder (its row's count).
    kept: Option<Vec<u32>>,
    rows: Vec<NodeId>,
    cursor: usize,
    /// The first row drawn (the frame keeps the cursor in view).
    offset: Cell<usize>,
    selected: Option<NodeId>,
    /// The selection a filter that matches nothing took away, given back when
    /// the filter matches it again or is cleared.
    held: Option<NodeId>,
    stale: bool,
    filter_input: TextArea<'static>,
    filter: String,
    /// Whether the filter input has the keyboard.
    pub filter_focused: bool,
    /// Rows that fit, as of the last frame.
    height: Cell<usize>,
    /// Where the rows were drawn, for mouse hits.
    rows_area: Cell<Rect>,
    /// Files marked for classifying or tagging together.
    marked: Vec<bool>,
    n_marked: usize,
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    /// Why the listing is empty: the folder unreadable (or gone), still
    /// scanning, nothing matching the filter, or no audio.
    fn draw_empty(&self, frame: &mut Frame, list_area: Rect, ctx: &Ctx) {
        let t = ctx.theme;
        let root = ctx.tree.node(ROOT);
        let progress = ctx.tree.progress();
        let msg = if let Some(err) = root.fault() {
            format!("cannot read this folder: {err}")
        } else if !progress.done {
            "scanning…".to_string()
        } else if self.is_filtering() {
            "nothing matches the filter".to_string()
        } else {
            "no audio files here".to_string()
        };
        let style = if root.fault().is_some() {
            t.unreadable
        } else {
            t.dim
        };
        // Wrapped: the reason is the news (a folder gone is watched for).
        frame.render_widget(
            Paragraph::new(Span::styled(msg, style)).wrap(ratatui::widgets::Wrap { trim: true }),
            list_area,
        );
    }

    pub fn new() -> Browser {
        let mut filter_input = TextArea::default();
        filter_input.set_placeholder_text("type to filter, enter keeps, esc clears");
        filter_input.set_cursor_line_style(Style::default());
        Browser {
            expanded: Vec::new(),
            keep: None,
            kept: None,
            rows: Vec::new(),
            cursor: 0,
            offset: Cell::new(0),
            selected: None,
            held: None,
            stale: true,
            filter_input,
            filter: String::new(),
            filter_focused: false,
            height: Cell::new(10),
            rows_area: Cell::new(Rect::default()),
            marked: Vec::new(),
            n_marked: 0,
        }
    }

    /// The tree grew or changed: recompute rows (and the filter) before use.
    pub fn tree_changed(&mut self) {
        self.stale = true;
        if !self.filter.is_empty() {
            self.keep = None;
        }
    }

    /// Bring rows up to date with the tree, keeping the selected node.
    pub fn refresh(&mut self, tree: &Tree) {
        if !self.stale {
            return;
        }
        self.stale = false;
        if self.expanded.len() < tree.len() {
            self.expanded.resize(tree.len(), false);
        }
        if !self.filter.is_empty() && self.keep.as_ref().is_none_or(|k| k.len() != tree.len()) {
            self.keep = tree.filter(&self.filter);
            self.kept = self.keep.as_deref().map(|k| tree.kept_files(k));
        }
        if self.keep.is_none() {
            self.kept = None;
        }
        self.rows = tree.visible_rows(&self.expanded, self.keep.as_deref());
        match self
            .selected
            .and_then(|s| self.rows.iter().position(|&r| r == s))
        {
            Some(i) => self.cursor = i,
            None => {
                self.cursor = self.cursor.min(self.rows.len().saturating_sub(1));
                self.selected = self.rows.get(self.cursor).copied();
            }
        }
    }

    pub fn is_marked(&self, id: NodeId) -> bool {
        self.marked.get(id as usize).copied().unwrap_or(false)
    }

    /// Mark or unmark a file.
    pub fn toggle_mark(&mut self, id: NodeId) {
        if self.marked.len() <= id as usize {
            self.marked.resize(id as usize + 1, false);
        }
        let m = &mut self.marked[id as usize];
        *m = !*m;
        if *m {
            self.n_marked += 1;
        } else {
            self.n_marked -= 1;
        }
    }

    /// Marked files, in listing order.
    pub fn marked(&self) -> Vec<NodeId> {
        self.marked
            .iter()
            .enumerate()
            .filter(|(_, m)| **m)
            .map(|(i, _)| i as NodeId)
            .collect()
    }

    pub fn clear_marks(&mut self) {
        self.marked.clear();
        self.n_marked = 0;
    }

    pub fn rows(&self) -> &[NodeId] {
        &self.rows
    }

    pub fn selected(&self) -> Option<NodeId> {
        self.selected
    }

    pub fn cursor(&self) -> usize {
        self.cursor
    }

    pub fn filter(&self) -> &str {
        &self.filter
    }

    pub fn is_filtering(&self) -> bool {
        !self.filter.is_empty()
    }

    /// The filter mask in force (None: no filter).
    pub fn keep(&self) -> Option<&[bool]> {
        self.keep.as_deref()
    }

    pub fn page(&self) -> usize {
        self.height.get().max(1)
    }

    /// Rows drawn last frame (indices into `rows`).
    pub fn visible_range(&self) -> Range<usize> {
        // Rows can shrink (a filter, a collapse) after the frame that set the
        // offset: both ends stay inside the rows.
        let end = (self.offset.get() + self.height.get()).min(self.rows.len());
        self.offset.get().min(end)..end
    }

    pub fn select_index(&mut self, tree: &Tree, i: usize) {
        self.refresh(tree);
        if self.rows.is_empty() {
            self.selected = None;
            self.cursor = 0;
            return;
        }
        self.cursor = i.min(self.rows.len() - 1);
        self.selected = Some(self.rows[self.cursor]);
    }

    pub fn move_by(&mut self, tree: &Tree, delta: isize) {
        self.refresh(tree);
        let i = self.cursor.saturating_add_signed(delta);
        self.select_index(tree, i);
    }

    /// Whether the user opened this folder (whatever a filter shows).
    pub fn is_opened(&self, id: NodeId) -> bool {
        self.expanded.get(id as usize).copied().unwrap_or(false)
    }

    pub fn is_expanded(&self, id: NodeId) -> bool {
        self.keep.is_some() || self.expanded.get(id as usize).copied().unwrap_or(false)
    }

    pub fn set_expanded(&mut self, tree: &Tree, id: NodeId, open: bool) {
        if self.expanded.len() < tree.len() {
            self.expanded.resize(tree.len(), false);
        }
        if let Some(e) = self.expanded.get_mut(id as usize)
            && *e != open
        {
            *e = open;
            self.stale = true;
        }
        self.refresh(tree);
    }

    /// Right / l: open a folder, or step into an open one.
    pub fn expand(&mut self, tree: &Tree) {
        self.refresh(tree);
        let Some(id) = self.selected else { return };
        if !tree.node(id).is_dir() {
            return;
        }
        if self.is_expanded(id) {
            if let Some(&first) = self.rows.get(self.cursor + 1)
                && tree.node(first).parent == Some(id)
            {
                self.move_by(tree, 1);
            }
        } else {
            self.set_expanded(tree, id, true);
        }
    }

    /// Left / h: close an open folder, or go to the parent.
    /// Close the selected folder, else go to the parent folder. False at the
    /// top of the opened folder, where there is no parent to go to.
    pub fn collapse(&mut self, tree: &Tree) -> bool {
        self.refresh(tree);
        let Some(id) = self.selected else { return true };
        if tree.node(id).is_dir() && self.keep.is_none() && self.is_expanded(id) {
            self.set_expanded(tree, id, false);
            return true;
        }
        match tree.node(id).parent.filter(|&p| p != ROOT) {
            Some(parent) => {
                self.reveal(tree, parent);
                true
            }
            None => false,
        }
    }

    /// Open or close the selected folder.
    pub fn toggle(&mut self, tree: &Tree) {
        let Some(id) = self.selected else { return };
        if self.keep.is_some() {
            return;
        }
        let open = !self.is_expanded(id);
        self.set_expanded(tree, id, open);
    }

    /// Select `id`, opening the folders above it.
    pub fn reveal(&mut self, tree: &Tree, id: NodeId) {
        if self.expanded.len() < tree.len() {
            self.expanded.resize(tree.len(), false);
        }
        let mut cur = tree.node(id).parent;
        while let Some(p) = cur {
            if !self.expanded[p as usize] {
                self.expanded[p as usize] = true;
                self.stale = true;
            }
            cur = tree.node(p).parent;
        }
        self.selected = Some(id);
        self.refresh(tree);
        if let Some(i) = self.rows.iter().position(|&r| r == id) {
            self.cursor = i;
        }
    }

    pub fn set_filter(&mut self, tree: &Tree, text: &str) {
        let text = text.trim().to_string();
        if text == self.filter {
            return;
        }
        self.filter = text;
        self.keep = None;
        self.stale = true;
        let before = self.selected.or(self.held);
        self.refresh(tree);
        if self.rows.is_empty() {
            self.held = self.held.or(before);
            return;
        }
        if let Some(h) = self.held
            && let Some(i) = self.rows.iter().position(|&r| r == h)
        {
            self.held = None;
            self.select_index(tree, i);
            return;
        }
        // The selection fell out of the listing: move to the first file that matches.
        if (before.is_some_and(|b| !self.rows.contains(&b))
            || self.selected.is_some_and(|s| tree.node(s).is_dir()))
            && let Some(i) = self.rows.iter().position(|&r| tree.node(r).is_file())
        {
            self.select_index(tree, i);
        }
    }

    /// After a rescan (this browser being the new tree's): the filter being
    /// typed stays being typed, where it was, and a selection held while
    /// the filter matched nothing stays held (`held`: its node in the new tree).
    pub fn carry_input(&mut self, old: &Browser, held: Option<NodeId>) {
        self.filter_input = old.filter_input.clone();
        self.filter_focused = old.filter_focused;
        if self.held.is_none() {
            self.held = held;
        }
    }

    /// The node held for the filter (see [`Browser::carry_input`]).
    pub fn held(&self) -> Option<NodeId> {
        self.held
    }

    /// The user moved the selection: a selection held for the filter is
    /// theirs to give up.
    pub fn forget_held(&mut self) {
        self.held = None;
    }

    /// Esc: forget the filter and give the keys back to the listing.
    pub fn clear_filter(&mut self, tree: &Tree) {
        self.filter_input = {
            let mut t = TextArea::default();
            t.set_placeholder_text("type to filter, enter keeps, esc clears");
            t.set_cursor_line_style(Style::default());
            t
        };
        self.filter_focused = false;
        let selected = self.held.take().or(self.selected);
        self.set_filter(tree, "");
        // Keep the entry found through the filter selected, opening its folders.
        if let Some(id) = selected {
            self.reveal(tree, id);
        }
    }

    /// Feed a key to the filter input; returns true when the text changed.
    pub fn filter_input(&mut self, tree: &Tree, key: crossterm::event::KeyEvent) -> bool {
        if !self.filter_input.input(key) {
            return false;
        }
        let text = self.filter_input.lines().join(" ");
        self.set_filter(tree, &text);
        true
    }

    pub fn paste(&mut self, tree: &Tree, text: &str) {
        self.filter_input
            .insert_str(text.replace(['\n', '\r'], " "));
        let text = self.filter_input.lines().join(" ");
        self.set_filter(tree, &text);
    }

    /// The row index under a screen position, if it is on a row.
    pub fn row_at(&self, column: u16, row: u16) -> Option<usize> {
        let a = self.rows_area.get();
        if column < a.x || column >= a.x + a.width || row < a.y || row >= a.y + a.height {
            return None;
        }
        let i = self.offset.get() + usize::from(row - a.y);
        (i < self.rows.len()).then_some(i)
    }

    /// A folder's name (cut with `…` before its count, as file names are:
    /// the pane's edge cut it unseen), its file count and its bad files.
    fn folder_spans<'a>(
        &self,
        spans: &mut Vec<Span<'a>>,
        id: NodeId,
        d: &DirNode,
        marker: &str,
        ctx: &'a Ctx,
        width: usize,
    ) {
        let t = ctx.theme;
        let node = ctx.tree.node(id);
        let style = if d.audio == 0 { t.dim } else { t.folder };
        // Under a filter: how many of its files match ("1 of 3").
        let files = match self.kept.as_ref().and_then(|k| k.get(id as usize)) {
            Some(&kept) => {
                format!(
                    " {} of {}",
                    count(u64::from(kept)),
                    count(u64::from(d.audio))
                )
            }
            None => format!(" {}", count(u64::from(d.audio))),
        };
        // Files are inspected as they come on screen: the bad count grows
        // until every file below has been looked at.
        let bad = (d.bad > 0).then(|| {
            let complete = ctx.tree.progress().done && d.checked >= d.audio;
            let so_far = if complete { "" } else { " so far" };
            format!(" · {} bad{so_far}", count(u64::from(d.bad)))
        });
        let counts = files.width() + bad.as_ref().map_or(0, |b| b.width());
        let used: usize = spans.iter().map(|s| s.content.width()).sum();
        let room = width.saturating_sub(used + marker.width() + 1 + counts);
        let name = fit_width(&node.label(), room.max(4));
        spans.push(Span::styled(format!("{marker}{name}/"), style));
        spans.push(Span::styled(files, t.count));
        if let Some(bad) = bad {
            spans.push(Span::styled(bad, t.bad));
        }
    }

    /// `shared`: each shown folder's shared name start ([`shared_name_start`]).
    fn row_line<'a>(
        &self,
        id: NodeId,
        ctx: &'a Ctx,
        playing: bool,
        width: usize,
        shared: &std::collections::HashMap<NodeId, usize>,
    ) -> Line<'a> {
        let t = ctx.theme;
        let node = ctx.tree.node(id);
        // Two columns a level, but never more than a third of the pane: a
        // folder sixty levels down still shows its name ("…" says deeper).
        let full = 2 * usize::from(node.depth.saturating_sub(1));
        let most = (width / 3).max(2);
        let indent = if full <= most {
            " ".repeat(full)
        } else {
            format!("{}… ", " ".repeat(most - 2))
        };
        let mut spans = vec![Span::raw(indent)];
        match &node.kind {
            NodeKind::Dir(d) => {
                let open = self.is_expanded(id) && !d.children.is_empty();
                if let Some(err) = &d.error {
                    spans.push(Span::styled(format!("✗ {}/", node.label()), t.unreadable));
                    spans.push(Span::styled(format!("  {err}"), t.unreadable));
                } else {
                    let marker = if d.children.is_empty() {
                        "  "
                    } else if open {
                        "▾ "
                    } else {
                        "▸ "
                    };
                    self.folder_spans(&mut spans, id, d, marker, ctx, width);
                }
            }
            NodeKind::File(check) => {
                let fault = match check {
                    FileCheck::Done(i) => i.fault().is_some(),
                    FileCheck::Unchecked => false,
                };
                let state = ctx.results.get(id);
                // A write's outcome is the latest news of a file, also of a
                // damaged one (a batch's summary points at its ✗ marks).
                let written = match state {
                    Some(s) if s.written.is_some() => Some(('✎', t.done)),
                    Some(s) if s.write_error.is_some() => Some(('✗', t.bad)),
                    _ => None,
                };
                let (sym, sym_style) = if let Some(mark) = written.filter(|_| !playing) {
                    mark
                } else if fault {
                    ('!', t.bad)
                } else if playing {
                    ('▶', t.playing)
                } else {
                    match state {
                        Some(s) if s.written.is_some() => ('✎', t.done),
                        Some(s) if s.write_error.is_none() && s.nothing_to_judge() => ('○', t.dim),
                        Some(s) if s.write_error.is_some() || s.error.is_some() => ('✗', t.bad),
                        Some(s) if s.job == JobMark::Running => ('…', t.count),
                        Some(s) if s.job == JobMark::Queued => ('·', t.count),
                        Some(s) if s.skipped => ('–', t.dim),
                        Some(s) if s.result.is_some() => ('✓', t.done),
                        _ => (' ', t.file),
                    }
                };
                let name_style = if fault {
                    t.bad
                } else if playing {
                    t.playing
                } else {
                    t.file
                };
                let marked = self.is_marked(id);
                spans.push(Span::styled(if marked { "●" } else { " " }, t.mark));
                spans.push(Span::styled(sym.to_string(), sym_style));
                // A file earmark wrote (✎) shows the genre it holds, not the
                // suggestion it came from (which may differ: chosen by hand).
                let note = match state.and_then(|s| s.written.as_ref()) {
                    Some(w) => Some(crate::tags::write::show(w)),
                    None => state
                        .and_then(|s| s.result.as_ref())
                        .and_then(|r| ctx.vocab.short_note(r)),
                };
                // Screen columns, not chars: a CJK name takes two per character.
                let used: usize = spans.iter().map(|s| s.content.width()).sum();
                let shared = node
                    .parent
                    .and_then(|p| shared.get(&p).copied())
                    .unwrap_or(0);
                spans.extend(name_and_note(
                    &node.label(),
                    shared,
                    note,
                    width.saturating_sub(used),
                    name_style,
                    t.count,
                ));
            }
            NodeKind::Broken { reason } => {
                // the mark column, then ✗ where a file has its state
                spans.push(Span::styled(format!(" ✗ {}", node.label()), t.bad));
                spans.push(Span::styled(format!("  {reason}"), t.unreadable));
            }
        }
        Line::from(spans)
    }
}

/// A file row's name and, right-aligned, its top genre (in your genres when
/// a head is in use) in `room` columns. A long name gives way to the genre
/// (cut with `…`) down to MIN_NAME columns, as the genre is what the row is
/// for; then the genre is cut too (a blank would look unclassified), and
/// only where not even MIN_NOTE columns are left is it left out.
fn name_and_note<'a>(
    name: &str,
    shared: usize,
    note: Option<String>,
    room: usize,
    name_style: Style,
    note_style: Style,
) -> Vec<Span<'a>> {
    const MIN_NAME: usize = 8;
    const MIN_NOTE: usize = 5;
    let full_room = room.saturating_sub(1); // the space before the name
    let note = note.and_then(|n| {
        let name_min = name.width().min(MIN_NAME);
        let note_room = full_room.saturating_sub(name_min + 1);
        (note_room >= MIN_NOTE.min(n.width())).then(|| fit_width(&n, note_room))
    });
    let beside_note = note
        .as_ref()
        .map(|n| full_room.saturating_sub(n.width() + 1));
    let name = fit_sibling_name(name, shared, beside_note.unwrap_or(full_room));
    let used = 1 + name.width();
    let mut spans = vec![Span::styled(format!(" {name}"), name_style)];
    if let Some(note) = note.filter(|_| beside_note.is_some()) {
        let pad = room.saturating_sub(used + note.width());
        spans.push(Span::raw(" ".repeat(pad)));
        spans.push(Span::styled(note, note_style));
    }
    spans
}

/// How many leading chars every file name in `folder` shares, up to a word
/// boundary ("ardentryst_Music_" of "ardentryst_Music_battle.ogg" and
/// "ardentryst_Music_castle.ogg"); 0 for fewer than two files.
fn shared_name_start(ctx: &Ctx, folder: NodeId) -> usize {
    let mut names = ctx
        .tree
        .children(folder)
        .iter()
        .map(|&c| ctx.tree.node(c))
        .filter(|n| n.is_file())
        .map(|n| n.label());
    let Some(first) = names.next() else {
        return 0;
    };
    let first: Vec<char> = first.chars().collect();
    let mut common = first.len();
    let mut others = 0;
    for name in names {
        others += 1;
        common = first[..common]
            .iter()
            .zip(name.chars())
            .take_while(|(a, b)| **a == *b)
            .count();
    }
    if others == 0 {
        return 0;
    }
    // back to just after the last separator: never half a word
    first[..common]
        .iter()
        .rposition(|c| !c.is_alphanumeric())
        .map_or(0, |i| i + 1)
}

/// A file name fitted as [`fit_file_name`], but, where it must be cut and
/// its folder's names all begin alike (`shared` chars), that beginning goes
/// first (`…battle.ogg`): a middle cut of "ardentryst_Music_battle.ogg" and
/// "…_castle.ogg" left both "ardentry…tle.ogg" (a fresh user's 80×24).
fn fit_sibling_name(name: &str, shared: usize, room: usize) -> String {
    // under four chars a shared start says nothing worth dropping
    const MIN_SHARED: usize = 4;
    let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
    // and some of the stem must be left ("song.m4a" beside "song.ogg")
    if name.width() <= room || shared < MIN_SHARED || shared >= stem.chars().count() {
        return fit_file_name(name, room);
    }
    let rest: String = name.chars().skip(shared).collect();
    if rest.width() < room {
        return format!("…{rest}");
    }
    // still too long: what is left after a shared start differs at its end
    // ("…30.ogg", not "…0…0.ogg", whose second cut hid the 3)
    crate::text::fit_tail(&rest, room)
}

/// A file name cut to `room` screen columns, with `…` where it was cut: in
/// the middle of the stem, so that names sharing a beginning still differ
/// ("hyperr…ell.ogg", "hyperr…ert.ogg"). The extension stays when there is
/// room for it and a little of the stem, so that "song.m4a" and "song.ogg"
/// differ too.
pub(crate) fn fit_file_name(name: &str, room: usize) -> String {
    // Two columns of the stem and the `…`; audio extensions are short.
    const MIN_STEM: usize = 3;
    const MAX_EXTENSION: usize = 5;
    if name.width() <= room {
        return name.to_string();
    }
    if let Some((stem, ext)) = name.rsplit_once('.')
        && !stem.is_empty()
        && (1..=MAX_EXTENSION).contains(&ext.width())
        && room >= MIN_STEM + 1 + ext.width()
    {
        // a short room keeps the start only ("awak….mp3", not "awa…g.mp3"),
        // and a number that ends the stem ("tr…050.ogg": "track-….ogg" hid it)
        let stem_room = room - 1 - ext.width();
        let digits = stem.chars().rev().take_while(char::is_ascii_digit).count();
        let keep = digits.min(4).min(stem_room.saturating_sub(2));
        let stem = if stem_room >= 9 {
            fit_middle(stem, stem_room)
        } else if keep > 0 {
            let number: String = stem.chars().skip(stem.chars().count() - keep).collect();
            fit_width(stem, stem_room - keep) + &number
        } else {
            fit_width(stem, stem_room)
        };
        return format!("{stem}.{ext}");
    }
    fit_width(name, room)
}

impl Component for Browser {
    fn draw(&self, frame: &mut Frame, area: Rect, ctx: &Ctx) {
        let t = ctx.theme;
        let root = ctx.tree.node(ROOT);
        let total = root.dir().map_or(0, |d| d.audio);
        let mut title = vec![Span::styled(format!(" {}/ ", ctx.root_title), t.title)];
        if self.is_filtering() {
            let shown = self
                .rows
                .iter()
                .filter(|&&r| ctx.tree.node(r).is_file())
                .count();
            title.push(Span::styled(
                format!("{} of {} ", count(shown as u64), count(u64::from(total))),
                t.count,
            ));
        } else {
            let files = plural(u64::from(total), "file", "files");
            title.push(Span::styled(format!("{files} "), t.count));
        }
        if self.n_marked > 0 {
            title.push(Span::styled(
                format!(
                    "· {} marked ",
                    super::count(u64::try_from(self.n_marked).unwrap_or(u64::MAX))
                ),
                t.mark,
            ));
        }
        let focused = !self.filter_focused;
        let block = pane_block(t, focused, Line::from(title));
        let inner = block.inner(area);
        frame.render_widget(block, area);

        let show_filter = self.filter_focused || self.is_filtering();
        let [list_area, filter_area] = if show_filter && inner.height >= 2 {
            Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(inner)
        } else {
            [inner, Rect::default()]
        };
        self.rows_area.set(list_area);
        self.height.set(usize::from(list_area.height));
        let h = self.height.get().max(1);
        let mut offset = self.offset.get();
        if self.cursor < offset {
            offset = self.cursor;
        } else if self.cursor >= offset + h {
            offset = self.cursor + 1 - h;
        }
        offset = offset.min(self.rows.len().saturating_sub(h));
        self.offset.set(offset);

        if self.rows.is_empty() {
            self.draw_empty(frame, list_area, ctx);
        } else {
            let end = (offset + h).min(self.rows.len());
            // each shown folder's shared name start once a frame, not once a
            // row (a flat folder of 20 000 files is read per call)
            let mut shared = std::collections::HashMap::new();
            for &id in &self.rows[offset..end] {
                let node = ctx.tree.node(id);
                if let (true, Some(p)) = (node.is_file(), node.parent) {
                    shared.entry(p).or_insert_with(|| shared_name_start(ctx, p));
                }
            }
            let items: Vec<ListItem> = self.rows[offset..end]
                .iter()
                .map(|&id| {
                    ListItem::new(self.row_line(
                        id,
                        ctx,
                        ctx.player.is_playing(id),
                        usize::from(list_area.width),
                        &shared,
                    ))
                })
                .collect();
            let list = List::new(items).highlight_style(t.selected);
            let mut state = ListState::default().with_selected(Some(self.cursor - offset));
            frame.render_stateful_widget(list, list_area, &mut state);
        }

        if filter_area.height > 0 {
            let [prompt, input] =
                Layout::horizontal([Constraint::Length(2), Constraint::Min(1)]).areas(filter_area);
            frame.render_widget(Span::styled("/ ", t.key), prompt);
            // Styled per frame (the theme lives in the context): a one-line copy.
            let mut field = self.filter_input.clone();
            field.set_style(t.filter);
            field.set_placeholder_style(t.dim);
            field.set_cursor_style(if self.filter_focused {
                t.filter.add_modifier(ratatui::style::Modifier::REVERSED)
            } else {
                t.filter
            });
            frame.render_widget(&field, input);
        }
    }
}

#[cfg(test)]
mod name_tests {
    use super::{fit_file_name, fit_sibling_name, name_and_note};
    use ratatui::style::Style;

    fn row(name: &str, note: &str, room: usize) -> String {
        let spans = name_and_note(name, 0, Some(note.into()), room, Style::new(), Style::new());
        spans.iter().map(|s| s.content.as_ref()).collect()
    }

    /// Names that begin alike lose that beginning first, never their stem.
    #[test]
    fn a_shared_beginning_goes_before_the_rest() {
        assert_eq!(
            fit_sibling_name("ardentryst_Music_battle.ogg", 17, 14),
            "…battle.ogg"
        );
        assert_eq!(
            fit_sibling_name("ardentryst_Music_battle2.ogg", 17, 14),
            "…battle2.ogg"
        );
        // it fits: as it is
        assert_eq!(
            fit_sibling_name("ardentryst_Music_battle.ogg", 17, 40),
            "ardentryst_Music_battle.ogg"
        );
        // the rest too long as well: one cut, its end kept
        assert_eq!(fit_sibling_name("classical.00030.ogg", 10, 8), "…030.ogg");
        // a short shared start, or one that is the whole stem: cut as before
        assert_eq!(
            fit_sibling_name("01 a long title.ogg", 3, 12),
            fit_file_name("01 a long title.ogg", 12)
        );
        assert_eq!(
            fit_sibling_name("a-song-title.m4a", 13, 8),
            fit_file_name("a-song-title.m4a", 8)
        );
    }

    /// A genre too long for the row is cut, never left blank (a blank row
    /// reads as a file not classified).
    #[test]
    fn a_long_genre_is_cut_rather_than_left_out() {
        assert_eq!(
            row("hell.wav", "Dark Ambient; Soundtrack", 40),
            " hell.wav       Dark Ambient; Soundtrack"
        );
        assert_eq!(
            row("hell.wav", "Dark Ambient; Soundtrack", 28),
            " hell.wav Dark Ambient; Sou…"
        );
        assert_eq!(
            row("nebula-long-name.flac", "Rock 40%", 24),
            " nebula…me.flac Rock 40%"
        );
        // no room for even five columns of it: the name alone
        assert_eq!(row("hell.wav", "Dark Ambient", 12), " hell.wav");
    }

    #[test]
    fn a_short_cut_keeps_the_number_that_tells_files_apart() {
        assert_eq!(fit_file_name("track-050.ogg", 10), "tr…050.ogg");
        assert_eq!(fit_file_name("track-051.ogg", 10), "tr…051.ogg");
        assert_eq!(fit_file_name("metal.00002.ogg", 10), "m…0002.ogg");
        // no number: the start, as before
        assert_eq!(fit_file_name("awakening.mp3", 9), "awak….mp3");
        assert_eq!(fit_file_name("track-050.ogg", 13), "track-050.ogg");
    }
}
