//! `R` / F5: walk the library again. The new tree arrives whole; what the app
//! knows about each file (results, marks, writes, the playing track) moves
//! to the new nodes by path, and files that are gone drop out, so a deleted
//! file is never offered for a write.

use std::collections::HashMap;
use std::path::PathBuf;

use super::super::components::browser::Browser;
use super::super::components::status::Level;
use super::super::effect::Effect;
use super::super::state::State;
use super::{Effects, selection_changed};
use crate::library::tree::{NodeId, Tree};

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
    fx.push(Effect::Rescan);
    s.status.set("rescanning the library…", Level::Info);
}

/// The rescan is done: swap the tree in and carry the state over by path.
pub fn rescanned(s: &mut State, fx: &mut Effects, tree: Tree) {
    if s.inflight.writing() > 0 {
        // A write started meanwhile and answers by node: keep this tree.
        s.status
            .set("writing tags: rescan when the write is done", Level::Info);
        return;
    }
    let by_path: HashMap<PathBuf, NodeId> = (0..tree.len() as NodeId)
        .map(|id| (tree.path(id), id))
        .collect();
    let old_paths: Vec<PathBuf> = (0..s.tree.len() as NodeId)
        .map(|id| s.tree.path(id))
        .collect();
    let to = |id: NodeId| {
        old_paths
            .get(id as usize)
            .and_then(|p| by_path.get(p))
            .copied()
    };
    let old_files: Vec<NodeId> = s.tree.files().collect();
    let gone = old_files.iter().filter(|&&f| to(f).is_none()).count();
    let kept = old_files.len() - gone;
    let added = tree.files().count().saturating_sub(kept);

    s.browser = carry_browser(&s.browser, &s.tree, &tree, &to);
    s.results.remap(to);
    s.inflight.remap(to);
    s.written_paths
        .retain(|_, n| to(*n).map(|m| *n = m).is_some());
    for step in &mut s.undo_steps {
        step.writes
            .retain_mut(|(_, n)| to(*n).map(|m| *n = m).is_some());
    }
    s.undo_steps.retain(|step| !step.writes.is_empty());
    s.focus = s.focus.and_then(&to);
    if let Some(n) = s.player.node {
        // A track that is gone keeps playing as a file from outside the library.
        s.player.node = to(n);
        if s.player.node.is_none() {
            s.player.external = old_paths.get(n as usize).cloned();
        }
    }
    s.requested.clear();
    s.reread = None;
    s.tree = tree;
    s.browser.refresh(&s.tree);
    s.status.set(
        format!(
            "rescanned: {added} new {}, {gone} gone",
            if added == 1 { "file" } else { "files" }
        ),
        Level::Info,
    );
    selection_changed(s, fx);
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
