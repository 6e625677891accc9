//! `update(state, msg) -> effects`: the app's logic as one pure function. No
//! threads, no channels, no I/O: what needs the outside world comes back as
//! [`Effect`]s for the executor ([`super::services::Services`]).

mod actions;
mod background;
#[cfg(test)]
mod feedback_tests;
mod input;
mod rescan;
mod tagging;
#[cfg(test)]
mod tests;
mod vocab;
#[cfg(test)]
mod vocab_tests;

pub use input::{Layer, layers};

use super::effect::{Effect, Work};
use super::event::Msg;
use super::results::{JobMark, ModelStatus};
use super::state::State;
use crate::library::tree::{FileCheck, NodeId, NodeKind};

/// The effects one message asks for.
pub type Effects = Vec<Effect>;

/// Apply one message to the state; return what the services should do.
pub fn update(s: &mut State, msg: Msg) -> Effects {
    let mut fx = Effects::new();
    let redraw = !matches!(msg, Msg::Drawn | Msg::Position(_));
    match msg {
        Msg::Input(ev) => input::on_input(s, &mut fx, ev),
        Msg::Action(a) => actions::apply(s, &mut fx, a),
        Msg::InputClosed(reason) => {
            s.status.set(
                format!("terminal input closed: {reason}"),
                super::components::status::Level::Error,
            );
            s.quit = true;
        }
        Msg::Position(p) => {
            if !matches!(
                s.player.state,
                super::components::PlayState::Stopped | super::components::PlayState::Loading
            ) {
                s.player.position = s.player.duration().map_or(p, |d| p.min(d));
            }
        }
        Msg::Drawn => on_drawn(s, &mut fx),
        Msg::Tag { req, event } => tagging::on_tag(s, &mut fx, req, event),
        Msg::Vocab { req, event } => vocab::on_event(s, &mut fx, req, event),
        other => background::on_event(s, &mut fx, other),
    }
    rescan::rescan_if_wanted(s, &mut fx);
    s.browser.refresh(&s.tree);
    if redraw {
        s.dirty = true;
    }
    fx
}

/// What the app asks for as it opens: the journal's ✎ marks.
pub fn start(s: &mut State) -> Effects {
    let mut fx = Vec::new();
    load_marks(s, &mut fx);
    fx
}

/// Ask the journal for its ✎ marks and skips (as the app opens, and after a
/// rescan the watch made: `earmark tag` from a shell writes while the app
/// is open), unless a load is on its way.
fn load_marks(s: &mut State, fx: &mut Effects) {
    if s.inflight.count(|w| matches!(w, Work::LoadMarks)) > 0 {
        return;
    }
    let req = s.inflight.start(Work::LoadMarks);
    fx.push(Effect::LoadMarks {
        req,
        root: s.tree.root_path().to_path_buf(),
    });
}

/// Mark a file ✎ when the journal says earmark wrote it and its tags still
/// show what was written (a later change by another tagger drops the mark);
/// – when it was skipped in an earlier session.
fn mark_if_written(s: &mut State, node: NodeId) {
    if !s.journal_skips.is_empty() && s.journal_skips.remove(&s.tree.rel_path(node)) {
        s.results.entry(node).skipped = true;
    }
    if s.journal_marks.is_empty() || s.results.get(node).is_some_and(|f| f.written.is_some()) {
        return;
    }
    let Some(genres) = s.journal_marks.get(&s.tree.rel_path(node)) else {
        return;
    };
    if s.read_genres(node) == Some(genres) {
        s.results.entry(node).written = Some(genres.clone());
    }
}

/// Drop a file's ✎ when its tags, read again (a rescan, after a write), no
/// longer hold what earmark wrote: another tagger changed it since, and the
/// panes show the file as it is.
fn forget_if_retagged(s: &mut State, node: NodeId) {
    let written = s.results.get(node).and_then(|f| f.written.as_ref());
    if let (Some(now), Some(w)) = (s.read_genres(node), written)
        && w != now
    {
        s.results.entry(node).written = None;
    }
}

/// A file's result belongs to another version of it (replaced, or re-tagged
/// by another program): forget it, so that a suggestion never comes from
/// audio the file no longer holds, and look again (the cache answers at once
/// when only the tags changed and earmark wrote them).
fn changed_on_disk(s: &mut State, fx: &mut Effects, node: NodeId) {
    s.results.forget_result(node);
    if s.browser.selected() == Some(node) {
        let name = s.tree.node(node).label().into_owned();
        s.status
            .note(format!("{name} changed on disk: looking at it again"));
        if s.focus == Some(node) {
            s.focus = None;
        }
        selection_changed(s, fx);
    }
}

/// After a frame: inspect what is on screen (tags, damage) in the background,
/// and ask the cache which of those files are classified already.
fn on_drawn(s: &mut State, fx: &mut Effects) {
    if s.eval.visible {
        return;
    }
    let range = s.browser.visible_range();
    let visible: Vec<NodeId> = s.browser.rows()[range].to_vec();
    for id in visible {
        inspect(s, fx, id, false);
    }
    peek_visible(s, fx);
    peek_selected_folder(s, fx);
}

/// Ask for a file's inspection once.
fn inspect(s: &mut State, fx: &mut Effects, id: NodeId, urgent: bool) {
    if s.requested.len() < s.tree.len() {
        s.requested.resize(s.tree.len(), false);
    }
    let node = s.tree.node(id);
    if !matches!(node.kind, NodeKind::File(FileCheck::Unchecked)) || s.requested[id as usize] {
        return;
    }
    s.requested[id as usize] = true;
    reinspect_as(s, fx, id, urgent);
}

/// Read a file's tags again (after a write or an undo).
fn reinspect(s: &mut State, fx: &mut Effects, id: NodeId) {
    reinspect_as(s, fx, id, true);
}

fn reinspect_as(s: &mut State, fx: &mut Effects, node: NodeId, urgent: bool) {
    let req = s.inflight.start(Work::Inspect(node));
    fx.push(Effect::Inspect {
        req,
        node,
        path: s.tree.path(node),
        urgent,
    });
}

/// Ask the cache about the files on screen (once each).
fn peek_visible(s: &mut State, fx: &mut Effects) {
    if !s.classify || !matches!(s.results.model, ModelStatus::Ready(_)) {
        return;
    }
    let range = s.browser.visible_range();
    let rows: Vec<NodeId> = s.browser.rows()[range].to_vec();
    for node in rows {
        if s.tree.node(node).is_file() {
            peek(s, fx, node);
        }
    }
}

/// Ask the cache about a selected folder's files, shown or not: its Genre
/// pane counts what is classified (once each, on the lookups' own thread).
fn peek_selected_folder(s: &mut State, fx: &mut Effects) {
    if !s.classify || !matches!(s.results.model, ModelStatus::Ready(_)) {
        return;
    }
    if let Some(dir) = s.browser.selected().filter(|&d| s.tree.node(d).is_dir()) {
        for node in s.tree.files_under(dir) {
            peek(s, fx, node);
        }
    }
}

/// Ask the cache for `node`'s result unless it was asked already or the
/// result is known; true when a lookup started.
fn peek(s: &mut State, fx: &mut Effects, node: NodeId) -> bool {
    let f = s.results.entry(node);
    if f.peeked || f.result.is_some() {
        return false;
    }
    f.peeked = true;
    let req = s.inflight.start(Work::Peek(node));
    fx.push(Effect::Peek {
        req,
        node,
        path: s.tree.path(node),
    });
    true
}

/// Classify a file (`priority` None: the focused track's preview).
fn classify(
    s: &mut State,
    fx: &mut Effects,
    node: NodeId,
    priority: Option<crate::jobs::Priority>,
) {
    if !s.inflight.has_jobs() {
        // A new run of jobs: progress counts from here.
        s.run_done = 0;
        s.run_total = 0;
        s.run_completed = 0;
        s.run_failed = 0;
        s.run_unjudged = 0;
        s.run_gone = 0;
    }
    // New work after a cancel: this run is no longer a cancelled one.
    s.cancelling = false;
    // A preview joins the run's count unless a batch is under way: then
    // "classifying 6 of 68" counts what was queued, not what the focus passed.
    let counted = priority.is_some() || !s.inflight.batch_running();
    s.run_total += u64::from(counted);
    let req = s.inflight.start(Work::Classify {
        node,
        preview: priority.is_none(),
        started: false,
        counted,
    });
    fx.push(Effect::Classify {
        req,
        node,
        path: s.tree.path(node),
        priority,
    });
}

/// Make sure the selected file is inspected first, and classified (with its
/// spectrogram) as a latest-wins preview.
fn selection_changed(s: &mut State, fx: &mut Effects) {
    let Some(id) = s.browser.selected() else {
        return;
    };
    // Read again each time it is chosen: another program may have changed it.
    if s.reread != Some(id) && s.tree.node(id).inspection().is_some() {
        reinspect(s, fx, id);
    }
    s.reread = Some(id);
    inspect(s, fx, id, true);
    if !s.classify {
        return;
    }
    if !s.tree.node(id).is_file() {
        if s.focus.take().is_some() {
            fx.push(Effect::ClearFocus);
        }
        return;
    }
    let focused = s.focus == Some(id) && s.inflight.classifying(id);
    if matches!(s.results.model, ModelStatus::Failed(_))
        || s.results.spectrogram(id).is_some()
        || focused
    {
        return;
    }
    let f = s.results.entry(id);
    if f.error.is_some() {
        return;
    }
    if f.job == JobMark::Idle {
        f.job = JobMark::Queued;
    }
    s.focus = Some(id);
    classify(s, fx, id, None);
}
