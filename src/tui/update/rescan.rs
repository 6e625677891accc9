//! `R` / F5, or the library watch seeing a change another program made:
//! walk the library again. The new tree arrives whole; what the app knows
//! about each file (results, marks, writes, the playing track, what was read
//! of a file that did not change) moves to the new nodes by path, and files
//! that are gone drop out, so a deleted file is never offered for a write.

use std::path::PathBuf;

use super::super::components::browser::Browser;
use super::super::components::status::Level;
use super::super::effect::{Effect, Work};
use super::super::state::{State, journal_path};
use super::{Effects, selection_changed};
use crate::library::tree::{NodeId, Rescan, Tree};
use crate::library::watch::WatchNote;

pub fn rescan(s: &mut State, fx: &mut Effects) {
    // The first scan's batches name nodes of the tree being built.
    if !s.tree.progress().done {
        s.status
            .set("still scanning: rescan when the scan is done", Level::Info);
        return;
    }
    if s.inflight.writing() > 0 {
        s.status
            .set("writing tags: rescan when the write is done", Level::Info);
        return;
    }
    start(s, fx, false);
    s.status.set("rescanning the library…", Level::Info);
}

fn start(s: &mut State, fx: &mut Effects, auto: bool) {
    s.rescans.running += 1;
    fx.push(Effect::Rescan { auto });
}

/// What the library watch says.
pub fn on_watch(s: &mut State, fx: &mut Effects, note: WatchNote) {
    match note {
        WatchNote::Watching => {}
        WatchNote::Unavailable(why) => {
            let key = s.keymap.hint(crate::tui::action::Action::Rescan);
            let rescan = key.map_or(String::new(), |k| format!(": {k} rescans"));
            s.status.set(
                format!("not watching the folder for changes ({why}){rescan}"),
                Level::Info,
            );
        }
        WatchNote::Changed => {
            s.rescans.wanted = true;
            rescan_if_wanted(s, fx);
        }
    }
}

/// Start the rescan the watch asked for, once nothing in progress names
/// nodes of the tree it would replace in a way a rescan cannot carry over:
/// the first scan, a tag write, preview or undo, a picker or similar list
/// open, a similar search, another rescan. Called after every message.
pub fn rescan_if_wanted(s: &mut State, fx: &mut Effects) {
    let busy =
        !s.tree.progress().done || s.rescans.running > 0 || s.similar.is_some() || holds_nodes(s);
    if s.rescans.wanted && !busy {
        s.rescans.wanted = false;
        start(s, fx, true);
    }
}

/// A moved file's undo follows it (`moves`: absolute paths, from and to):
/// the journal's entries (and skips), this session's undo steps and the
/// paths of its writes (`u` said "No such file" for a file renamed after
/// earmark wrote it).
fn follow_moves(
    s: &mut State,
    fx: &mut Effects,
    moves: Vec<(PathBuf, PathBuf)>,
    stayed: &dyn Fn(NodeId) -> Option<NodeId>,
    to: &dyn Fn(NodeId) -> Option<NodeId>,
) {
    // (a renamed folder moves thousands: looked up, not searched)
    let by_old: std::collections::HashMap<&PathBuf, &PathBuf> =
        moves.iter().map(|(from, to)| (from, to)).collect();
    let new_path = |p: &PathBuf| by_old.get(p).copied();
    for step in &mut s.undo_steps {
        for (_, path) in &mut step.writes {
            if let Some(to) = new_path(&journal_path(path.clone())) {
                path.clone_from(to);
            }
        }
    }
    // keyed by the path written, which the journal's undo names
    s.written_paths = std::mem::take(&mut s.written_paths)
        .into_iter()
        .filter_map(|(path, n)| match (stayed(n), new_path(&path)) {
            (Some(m), _) => Some((path, m)),
            (None, Some(moved)) => to(n).map(|m| (moved.clone(), m)),
            (None, None) => None,
        })
        .collect();
    if !moves.is_empty() {
        fx.push(Effect::FollowMoves(moves));
    }
}

/// Something open or in flight names files by node and would name others
/// in a new tree: a tag write, preview or undo, a picker or confirmation,
/// a similar search.
fn holds_nodes(s: &State) -> bool {
    s.popup.is_some()
        || s.inflight.count(|w| {
            matches!(
                w,
                Work::PreviewTags | Work::Undo | Work::Similar { .. } | Work::Write { .. }
            )
        }) > 0
}

/// The rescan is done: swap the tree in and carry the state over by path.
/// A rescan the watch asked for speaks only when files came or went.
pub fn rescanned(s: &mut State, fx: &mut Effects, rescan: Rescan, auto: bool) {
    s.rescans.running = s.rescans.running.saturating_sub(1);
    if holds_nodes(s) {
        // A write, a picker… started meanwhile and names files by node: keep
        // this tree, and rescan once it is done (as the watch's rescans wait).
        s.rescans.wanted = true;
        if !auto {
            s.status
                .set("busy: the rescan runs again when this is done", Level::Info);
        }
        return;
    }
    let Rescan {
        mut tree,
        keys,
        inos,
    } = rescan;
    let in_place = tree.same_nodes_as(&s.tree);
    let mut map = in_place.clone();
    let moved = tree.match_moved_files(&s.tree, &s.scanned_ids, &mut map, &keys, &inos);
    let to = |id: NodeId| map.get(id as usize).copied().flatten();
    // A job reads the path it was given: a moved file's is gone with it.
    let stayed = |id: NodeId| in_place.get(id as usize).copied().flatten();
    let old_files: Vec<NodeId> = s.tree.files().collect();
    let gone = old_files.iter().filter(|&&f| to(f).is_none()).count();
    let kept = old_files.len() - gone;
    let added = tree.files().count().saturating_sub(kept);

    // A file of another size or mtime than the last scan found (or one new)
    // may be `earmark tag`'s write from a shell: the journal is asked again
    // for its marks then, not at every rescan (it reads every entry).
    let rewritten = added > 0
        || old_files.iter().any(|&old| {
            let before = s
                .scanned_ids
                .get(old as usize)
                .copied()
                .flatten()
                .map(|(k, _)| k);
            let now = to(old).and_then(|n| keys.get(n as usize).copied().flatten());
            before.is_some() && before != now
        });
    // What was read of a file still at the same size and mtime stands: no
    // reading it again, and its row does not blink.
    for &old in &old_files {
        if let (Some(new), Some(earlier)) = (to(old), s.tree.node(old).inspection()) {
            let now = keys.get(new as usize).copied().flatten();
            tree.keep_inspection(new, earlier, now);
        }
    }

    s.browser = carry_browser(&s.browser, &s.tree, &tree, &to);
    s.results.remap(to);
    // Jobs for files that are gone are dropped: the run no longer counts them.
    let jobs_before = s.inflight.jobs();
    let dropped = s.inflight.count(
        |w| matches!(w, Work::Classify { node, counted: true, .. } if stayed(*node).is_none()),
    ) as u64;
    s.inflight.remap(stayed);
    s.run_total = s.run_total.saturating_sub(dropped);
    s.run_gone += dropped;
    let moves: Vec<(PathBuf, PathBuf)> = old_files
        .iter()
        .filter(|&&f| stayed(f).is_none())
        .filter_map(|&f| to(f).map(|n| (journal_path(s.tree.path(f)), journal_path(tree.path(n)))))
        .collect();
    follow_moves(s, fx, moves, &stayed, &to);
    s.focus = s.focus.and_then(&to);
    s.vocab.played = s.vocab.played.iter().filter_map(|&n| to(n)).collect();
    if let Some(list) = &mut s.similar {
        match to(list.query) {
            Some(q) => {
                list.query = q;
                if let Some(Ok(rows)) = &mut list.rows {
                    rows.retain_mut(|(n, _)| to(*n).map(|m| *n = m).is_some());
                    list.cursor = list.cursor.min(rows.len().saturating_sub(1));
                }
            }
            None => s.similar = None,
        }
    }
    if let Some(n) = s.player.node {
        // A track that is gone keeps playing as a file from outside the library.
        s.player.node = to(n);
        if s.player.node.is_none() && (n as usize) < s.tree.len() {
            s.player.external = Some(s.tree.path(n));
        }
    }
    s.requested.clear();
    s.reread = None;
    s.tree = tree;
    s.scanned_ids = keys.iter().zip(&inos).map(|(k, i)| k.zip(*i)).collect();
    s.browser.refresh(&s.tree);
    let changed = forget_changed_results(s, &keys);
    let news = rescan_news(auto, added, gone, moved, changed);
    // A run whose last files went with the rescan ends here; its outcome
    // keeps the line, and the rescan's news goes to the log.
    let run_ends = jobs_before > 0 && !s.inflight.has_jobs();
    match news {
        Some(news) if run_ends => s.status.log.push(&news, Level::Info),
        Some(news) if auto => s.status.news(news),
        Some(news) => s.status.set(news, Level::Info),
        None => {}
    }
    if run_ends {
        super::background::end_of_run(s);
    }
    if auto && rewritten {
        super::load_marks(s, fx);
    }
    selection_changed(s, fx);
}

/// What the status line says of a rescan: `rescanned: …` when asked for,
/// `the folder changed: …` on the watch's (None: nothing came, went, moved
/// or changed).
fn rescan_news(
    auto: bool,
    added: usize,
    gone: usize,
    moved: usize,
    changed: usize,
) -> Option<String> {
    let files = |n: usize| if n == 1 { "file" } else { "files" };
    let moves = [
        (moved > 0).then(|| format!("{moved} {} moved", files(moved))),
        (changed > 0).then(|| format!("{changed} {} changed", files(changed))),
    ];
    let moves: Vec<String> = moves.into_iter().flatten().collect();
    let moves = (!moves.is_empty()).then(|| moves.join(", "));
    if !auto {
        let what = format!("{added} new {}, {gone} gone", files(added));
        Some(match moves {
            Some(m) => format!("rescanned: {what}, {m}"),
            None => format!("rescanned: {what}"),
        })
    } else if added + gone + moved + changed > 0 {
        let what = [
            (added > 0).then(|| format!("{added} new {}", files(added))),
            (gone > 0).then(|| format!("{gone} {} gone", files(gone))),
            moves,
        ];
        let what: Vec<String> = what.into_iter().flatten().collect();
        Some(format!("the folder changed: {}", what.join(", ")))
    } else {
        None
    }
}

/// Results found for another version of a file than the rescan read
/// (replaced, or re-tagged by another program) are forgotten, so that `c`
/// classifies the file again instead of skipping it as classified until the
/// cursor happens to reach it. How many.
fn forget_changed_results(s: &mut State, keys: &[Option<crate::cache::FileKey>]) -> usize {
    let changed: Vec<NodeId> = s
        .tree
        .files()
        .filter(|&f| {
            keys.get(f as usize)
                .copied()
                .flatten()
                .is_some_and(|now| s.results.outdated(f, now))
        })
        .collect();
    for &f in &changed {
        s.results.forget_result(f);
        if s.focus == Some(f) {
            s.focus = None;
        }
    }
    changed.len()
}

/// A browser for the new tree with the same filter, open folders, marks and
/// selection (the nearest row when the selected file is gone).
fn carry_browser(
    old: &Browser,
    old_tree: &Tree,
    tree: &Tree,
    to: &impl Fn(NodeId) -> Option<NodeId>,
) -> Browser {
    let mut b = Browser::new();
    b.refresh(tree);
    for id in 0..old_tree.len() as NodeId {
        if old_tree.node(id).is_dir()
            && old.is_opened(id)
            && let Some(n) = to(id)
        {
            b.set_expanded(tree, n, true);
        }
    }
    for id in old.marked() {
        if let Some(n) = to(id) {
            b.toggle_mark(n);
        }
    }
    b.set_filter(tree, old.filter());
    b.carry_input(old, old.held().and_then(to));
    match old.selected().and_then(to) {
        Some(n) => b.reveal(tree, n),
        None => {
            // Gone (deleted, or its folder renamed): the row after the nearest
            // row above it that is still here, which is where a renamed folder
            // sorts and what followed a deleted file.
            let rows = old.rows();
            let above = rows[..old.cursor().min(rows.len())]
                .iter()
                .rev()
                .find_map(|&r| to(r));
            let at = above
                .and_then(|n| b.rows().iter().position(|&r| r == n))
                .map_or(0, |i| i + 1);
            b.select_index(tree, at);
        }
    }
    b
}
