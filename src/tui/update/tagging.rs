//! Accepting suggestions, the genre pop-ups, writes and undo, and what the
//! tagger reports back.

use super::super::action::Action;
use super::super::components::status::Level;
use super::super::components::tagging::{
    Confirmed, HELD_SKIPPED, HELD_TAGGED, HELD_WRITTEN, NotOffered, PickerItem, Popup, Targets,
};
use super::super::effect::{Effect, ReqId, Work};
use super::super::results::ModelStatus;
use super::super::state::{State, UndoStep};
use super::super::tagger::{Planned, TagEvent, TagItem, UndoFailed, UndoneFile};
use super::actions::{cannot_classify, focused_file, selection_files};
use super::{Effects, reinspect};
use crate::library::tree::NodeId;
use crate::tags::GenreChange;
use std::sync::Arc;

pub fn on_tag(s: &mut State, fx: &mut Effects, req: ReqId, event: TagEvent) {
    match event {
        TagEvent::Written { node, result } => {
            if let Some(Work::Write {
                left,
                failed,
                gone,
                unchanged,
                ..
            }) = s.inflight.get_mut(req)
            {
                if let Some(i) = left.iter().position(|&n| n == node) {
                    left.swap_remove(i);
                }
                *failed += usize::from(result.is_err());
                *gone += usize::from(result.as_ref().is_err_and(|e| e.kind == "not-found"));
                *unchanged += usize::from(result.as_ref().is_ok_and(|a| !a.report.changed));
            }
            match result {
                Ok(applied) => {
                    if let Some(id) = applied.journal_id {
                        record_step(s, req, id, node);
                    }
                    // u takes a batch back whole: its files' lines say so
                    let in_batch = matches!(s.inflight.get(req), Some(Work::Write { left, .. }) if !left.is_empty())
                        || s.undo_steps
                            .last()
                            .is_some_and(|st| st.req == req && st.writes.len() > 1);
                    written(s, fx, node, &applied, in_batch);
                }
                Err(e) => {
                    s.results.entry(node).write_error = Some(e.reason.clone());
                    // The file's name, not its path: the reason is what must fit the line.
                    let name = s.tree.get(node).map(|n| n.label().into_owned());
                    // (a refusal may say "not written" itself: said once)
                    let reason = e.reason.strip_prefix("not written: ").unwrap_or(&e.reason);
                    let said = match name {
                        Some(name) => format!("not written: {name}: {reason}"),
                        None => format!("not written: {reason}"),
                    };
                    s.status.set(said, Level::Error);
                    // changed on disk: read it again, so a result of the old
                    // version goes and the file is looked at anew
                    if e.kind == "changed" {
                        reinspect(s, fx, node);
                    }
                }
            }
        }
        TagEvent::WriteDone { total } => {
            if let Some(Work::Write {
                failed,
                gone,
                unchanged,
                genres,
                ..
            }) = s.inflight.finish(req)
                && total > 1
            {
                // Failures keep the line (a rescan's news goes to the log).
                let level = if failed > 0 {
                    Level::Error
                } else {
                    Level::Info
                };
                let tally = Tally {
                    total,
                    failed,
                    gone,
                    unchanged,
                };
                let said = batch_summary(s, &tally, genres.as_deref());
                s.status.set(said, level);
            }
            quit_if_asked(s);
        }
        TagEvent::Previewed(mut rows) => {
            s.inflight.finish(req);
            hold_back(s, &mut rows);
            if let Some(Popup::Batch { rows: slot, .. }) = &mut s.popup {
                *slot = Some(rows);
            }
        }
        TagEvent::UndoProgress { done, total } => {
            if matches!(s.inflight.get(req), Some(Work::Undo)) {
                s.status.progress(format!(
                    "undoing the last tag write… {done} of {total} files"
                ));
            }
        }
        TagEvent::Undone(list) => {
            s.inflight.finish(req);
            undone(s, fx, list);
            quit_if_asked(s);
        }
        TagEvent::Marks { written, skipped } => {
            s.inflight.finish(req);
            s.journal_marks = written.into_iter().collect();
            s.journal_skips = skipped.into_iter().collect();
            // Files inspected before the journal answered.
            for f in s.tree.files().collect::<Vec<_>>() {
                super::mark_if_written(s, f);
            }
        }
        TagEvent::Warning(w) => s.status.set(w, Level::Error),
    }
}

/// Quit was asked for during the write or undo that just ended.
fn quit_if_asked(s: &mut State) {
    if s.quit_when_written && s.inflight.writing() == 0 && !s.inflight.undoing() {
        s.quit = true;
    }
}

fn written(
    s: &mut State,
    fx: &mut Effects,
    node: NodeId,
    applied: &crate::tags::apply::Applied,
    in_batch: bool,
) {
    let path = s.tree.path(node);
    let f = s.results.entry(node);
    f.write_error = None;
    f.skipped = false;
    // ✎ says earmark wrote the genre: not for a file that held it already
    // (a digit on it, "1 had it already" in a batch)
    if applied.report.changed {
        f.written = Some(applied.report.new.clone());
    }
    if applied.report.changed {
        s.written_paths
            .insert(crate::tui::state::journal_path(path.clone()), node);
        // As the journal would say at the next start: a file whose folder
        // goes away and comes back (a rescan in between) is marked ✎ again.
        s.journal_marks
            .insert(s.tree.rel_path(node), applied.report.new.clone());
        // Same audio (the write verified it), new size and mtime: the result
        // follows the file in memory if it was found for the version written
        // (one of another version no longer applies), and every model's
        // analyses of that version follow it in the cache.
        match f.result.as_mut() {
            Some(r) if r.file_key.is_some() && r.file_key == applied.report.key_before => {
                Arc::make_mut(r).file_key = applied.key_after;
            }
            Some(r) if r.file_key.is_some() => {
                s.results.forget_result(node);
            }
            _ => {}
        }
        follow_rewrite(fx, path, applied.report.key_before, applied.key_after);
    }
    reinspect(s, fx, node);
    let old = crate::tags::write::show(&applied.report.old);
    let new = crate::tags::write::show(&applied.report.new);
    let name = s.tree.node(node).label().into_owned();
    let undo = s.keymap.label(Action::Undo);
    let undoes = if in_batch {
        "undoes the batch"
    } else {
        "undoes"
    };
    // What was written first: a long name is what the status line cuts.
    let msg = if applied.report.changed && applied.report.new.is_empty() {
        format!("removed the genre {old} from {name} · {undo} {undoes}")
    } else if applied.report.changed && applied.report.old.is_empty() {
        format!("wrote {new} to {name} · {undo} {undoes}")
    } else if applied.report.changed {
        // what it was before the name: a long name is what gets cut
        format!("wrote {new} (was {old}) to {name} · {undo} {undoes}")
    } else {
        format!("{name} already has genre {new}")
    };
    s.status.set(msg, Level::Info);
    if applied.report.changed {
        super::vocab::after_write(s);
    }
}

/// Keep a journal entry of this session's write `req` for `u`.
/// "wrote 3 of 4 files (1 failed: marked ✗) · u undoes the batch": the
/// failures counted are this batch's, and undo is offered only when
/// something was written. Files `gone` before their turn are said apart:
/// their rows leave with the rescan that follows, so no ✗ shows.
fn batch_summary(s: &State, t: &Tally, genres: Option<&str>) -> String {
    let Tally {
        total,
        failed,
        gone,
        unchanged,
    } = *t;
    let written = total.saturating_sub(failed + unchanged);
    let marked = failed - gone.min(failed);
    let mut why: Vec<String> = Vec::new();
    if unchanged > 0 {
        why.push(format!("{unchanged} had it already"));
    }
    if marked > 0 {
        why.push(format!("{marked} failed: marked ✗"));
    }
    if gone > 0 {
        why.push(format!("{gone} no longer there"));
    }
    let why = match why.is_empty() {
        true => String::new(),
        false => format!(" ({})", why.join("; ")),
    };
    if written == 0 {
        return format!("wrote nothing{why}");
    }
    let what = genres.map_or(String::new(), |g| format!("{g} to "));
    let files = match (written, failed + unchanged) {
        (1, 0) => "1 file".to_string(),
        (w, 0) => format!("{w} files"),
        (w, _) => format!("{w} of {total} files"),
    };
    let undo = s.keymap.label(Action::Undo);
    format!("wrote {what}{files}{why} · {undo} undoes the batch")
}

/// How a batch went, file by file.
struct Tally {
    total: usize,
    failed: usize,
    gone: usize,
    unchanged: usize,
}

fn record_step(s: &mut State, req: ReqId, id: i64, node: NodeId) {
    let path = s.tree.path(node);
    match s.undo_steps.last_mut() {
        Some(step) if step.req == req => step.writes.push((id, path)),
        _ => s.undo_steps.push(UndoStep {
            req,
            writes: vec![(id, path)],
        }),
    }
}

/// "a.mp3, b.flac and 3 more".
fn name_list(names: &[String], show: usize) -> String {
    if names.len() <= show {
        return names.join(", ");
    }
    format!(
        "{} and {} more",
        names[..show].join(", "),
        names.len() - show
    )
}

fn undone(s: &mut State, fx: &mut Effects, list: Vec<Result<UndoneFile, UndoFailed>>) {
    let step = s.undoing_step.take();
    if let [Err(UndoFailed::NotStarted(why))] = list.as_slice() {
        // nothing was tried: the step stays, for `u` again
        s.undo_steps.extend(step);
        let key = s.keymap.label(Action::Undo);
        s.status.set(
            format!("nothing undone: {why} · {key} tries again"),
            Level::Error,
        );
        return;
    }
    if list.is_empty() {
        s.status.set("nothing to undo", Level::Info);
        return;
    }
    let mut names = Vec::new();
    let mut errors = Vec::new();
    let mut undone_before = Vec::new();
    let mut unwritten = Vec::new();
    // One file: what it held and holds again ("Jazz → Rock"), as the CLI says.
    let mut change = None;
    // the step's journal ids, in the order the undo took them
    let ids: Vec<i64> = step
        .iter()
        .flat_map(|st| st.writes.iter().rev().map(|(id, _)| *id))
        .collect();
    for (i, r) in list.into_iter().enumerate() {
        match r {
            Ok(UndoneFile {
                path,
                genres: now,
                key_before,
                key,
                still_written,
            }) => {
                names.push(crate::library::shown_file_name(&path));
                if let Some(id) = s.node_for_path(&path) {
                    // What earmark wrote, else what the file was last read to
                    // hold, else what the journal says was written (a file
                    // not read again since its folder came back).
                    let read = s.read_genres(id).cloned();
                    let journal = s.journal_marks.get(&s.tree.rel_path(id)).cloned();
                    let f = s.results.entry(id);
                    if let Some(was) = f.written.as_ref().or(read.as_ref()).or(journal.as_ref()) {
                        change = Some(format!(
                            "{} → {}",
                            crate::tags::write::show(was),
                            crate::tags::write::show(&now)
                        ));
                    }
                    f.written = still_written.then(|| now.clone());
                    f.write_error = None;
                    // the undo put the bytes back: same audio, another version
                    if let Some(r) = f.result.as_mut().filter(|r| r.file_key.is_some()) {
                        Arc::make_mut(r).file_key = key;
                    }
                    follow_rewrite(fx, s.tree.path(id), key_before, key);
                    reinspect(s, fx, id);
                }
            }
            Err(UndoFailed::AlreadyUndone(path)) => {
                undone_before.push(crate::library::shown_file_name(&path));
            }
            Err(UndoFailed::NeverWritten(path)) => {
                unwritten.push(crate::library::shown_file_name(&path));
            }
            Err(UndoFailed::NotStarted(e)) => errors.push(e),
            Err(UndoFailed::Failed(e, path)) => {
                // refused (changed since it was written): show it as it is now
                if let Some(id) = path.and_then(|p| s.node_for_path(&p)) {
                    reinspect(s, fx, id);
                }
                // the step is spent here (`u` moves on to the one before);
                // its journal entry is still open: say how to take it back
                // later (a file moved away and back, say)
                match ids.get(i) {
                    Some(id) => {
                        errors.push(format!("{e} (earmark tag undo {id} takes it back later)"))
                    }
                    None => errors.push(e),
                }
            }
        }
    }
    // the undone writes no longer count towards re-learning
    s.vocab.tagged_since = s.vocab.tagged_since.saturating_sub(names.len());
    let mut undid = match (names.as_slice(), change) {
        ([], _) if !undone_before.is_empty() || !unwritten.is_empty() => {
            "nothing to undo".to_string()
        }
        ([], _) => "undid nothing".to_string(),
        ([one], Some(change)) => format!("undid {one}: {change}"),
        _ => format!("undid {}", name_list(&names, 3)),
    };
    // Not a failure: another undo (the command line's) took it back first.
    if !undone_before.is_empty() {
        undid.push_str(&format!(
            "; {} undone already (by earmark tag undo?)",
            name_list(&undone_before, 3)
        ));
    }
    if !unwritten.is_empty() {
        undid.push_str(&format!(
            "; {} never written (an interrupted run)",
            name_list(&unwritten, 3)
        ));
    }
    say_undone(s, &undid, &errors);
}

/// The undo's line: what it undid, and the first failure; the log (`!`)
/// keeps each (a batch's other failures were said nowhere).
fn say_undone(s: &mut State, undid: &str, errors: &[String]) {
    let Some(first) = errors.first() else {
        s.status.set(undid, Level::Info);
        return;
    };
    let more = match s.keymap.label(Action::Messages) {
        key if errors.len() > 1 => format!(" ({key} lists the others)"),
        _ => String::new(),
    };
    s.status.set(
        format!("{undid}; {} failed: {first}{more}", errors.len()),
        Level::Error,
    );
    for other in &errors[1..] {
        let line = format!("undo failed: {other}");
        s.status.log.push(&line, Level::Error);
    }
}

/// `u`: take back the newest write made since the app opened, asking first
/// when it covers more than one file. Earlier writes (the CLI's, or an
/// earlier session's) are left to `earmark tag undo`.
pub fn undo(s: &mut State, fx: &mut Effects) {
    let Some(step) = s.undo_steps.last() else {
        s.status.set(
            "nothing to undo here (earmark tag undo takes older runs)",
            Level::Info,
        );
        return;
    };
    if step.writes.len() > 1 {
        let names: Vec<String> = step
            .writes
            .iter()
            .map(|(_, path)| crate::library::shown_file_name(path))
            .collect();
        s.popup = Some(Popup::Confirm {
            question: format!(
                "Undo the last {} tag writes ({})?",
                names.len(),
                name_list(&names, 5)
            ),
            then: Confirmed::Undo,
        });
        return;
    }
    undo_now(s, fx);
}

/// Undo the newest step now (after `u`, or its confirmation).
pub fn undo_now(s: &mut State, fx: &mut Effects) {
    let Some(step) = s.undo_steps.pop() else {
        return;
    };
    let ids = step.writes.iter().rev().map(|(id, _)| *id).collect();
    s.undoing_step = Some(step);
    let req = s.inflight.start(Work::Undo);
    fx.push(Effect::UndoTags { req, ids });
    s.status.set("undoing the last tag write…", Level::Info);
}

/// Ask before removing files' genre tags (`T` with an empty line).
pub fn ask_clear(s: &mut State, nodes: Targets) {
    let question = match nodes.as_slice() {
        [node] => {
            let name = s.tree.node(*node).label().into_owned();
            let now = current_genre(s, *node);
            if now.is_empty() {
                format!("{name} shows no genre. Remove the genre tag anyway?")
            } else {
                format!("Remove the genre tag ({now}) from {name}?")
            }
        }
        many => format!(
            "Remove the genre tags from {} marked files?",
            super::super::components::count(many.len() as u64)
        ),
    };
    s.popup = Some(Popup::Confirm {
        question,
        then: Confirmed::ClearGenre(nodes),
    });
}

/// Remove files' genre tags: an empty genre list, replacing what is there.
pub fn clear_genre(s: &mut State, fx: &mut Effects, nodes: Targets) {
    forget_marks_of(s, &nodes);
    let items = nodes
        .into_iter()
        .map(|node| TagItem {
            node,
            path: s.tree.path(node),
            change: GenreChange {
                genres: Vec::new(),
                mode: crate::tags::GenreMode::Replace,
            },
            decided_on: shown_version(s, node),
        })
        .collect();
    send_writes(s, fx, items);
}

/// The version of a file the app read last: a genre chosen by hand is for
/// it (a rescan waits for an open picker or question), so a file another
/// tagger changed meanwhile is refused, as `a` refuses it.
fn shown_version(s: &State, node: NodeId) -> Option<crate::cache::FileKey> {
    s.tree.node(node).inspection().and_then(|i| i.key)
}

/// The genres a file has now, as text for the editor.
pub fn current_genre(s: &State, id: NodeId) -> String {
    if let Some(w) = s.results.get(id).and_then(|f| f.written.as_ref()) {
        return crate::tags::join_genres(w);
    }
    s.read_genres(id)
        .map(|g| crate::tags::join_genres(g))
        .unwrap_or_default()
}

/// The suggestion for a file: its top genre and confidence (in your genres
/// when a learned head is in use: nothing when it is unsure).
fn suggestion(s: &State, id: NodeId) -> Option<(String, f32)> {
    if let Some(mine) = super::vocab::mine_suggestion(s, id) {
        return mine;
    }
    let r = s.results.result(id)?;
    let (label, p) = *r.prediction.top(1).first()?;
    Some((gtzan_tag_name(s, label), p))
}

/// GTZAN's label as the genre written: the library's own spelling when its
/// learned genres hold the same genre ("Hip Hop" where GTZAN says "Hip-Hop":
/// a third spelling in the library otherwise), else the conventional one.
fn gtzan_tag_name(s: &State, label: &str) -> String {
    let name = crate::tags::genre_tag_name(label);
    s.vocab
        .head
        .as_ref()
        .and_then(|h| {
            h.vocabulary
                .iter()
                .find(|v| crate::vocab::library::same_genre(v, &name))
                .cloned()
        })
        .unwrap_or(name)
}

pub fn accept_focused(s: &mut State, fx: &mut Effects) {
    let Some(id) = focused_file(s) else {
        return;
    };
    match (suggestion(s, id), super::vocab::unsure_line(s, id)) {
        (Some((genre, _)), _) => write_genre_to(s, fx, id, genre),
        (None, Some(unsure)) => s.status.set(unsure, Level::Info),
        (None, None) => no_suggestion(s, id),
    }
}

/// A digit: the genre of that rank among the Genre pane's bars (1-9, 0 for
/// the tenth), written as `a` writes the first.
pub fn accept_rank(s: &mut State, fx: &mut Effects, rank: u8) {
    let Some(id) = focused_file(s) else {
        return;
    };
    let Some(c) = s.results.result(id).cloned() else {
        no_suggestion(s, id);
        return;
    };
    // the digit beside a bar of the pane shown: your genres' (the
    // library's own words, as they are) or GTZAN's
    let at = usize::from(rank) - 1;
    let genre = match s.vocab.answer(&c) {
        Some(mine) => mine.ranked.get(at).map(|(g, _)| g.clone()),
        None => c
            .prediction
            .top(usize::from(rank))
            .get(at)
            .map(|&(label, _)| gtzan_tag_name(s, label)),
    };
    let Some(genre) = genre else {
        s.status
            .set(format!("no genre is ranked {rank}"), Level::Info);
        return;
    };
    // a small terminal shows only some ranks: a digit never writes a genre
    // the user could not see
    if s.ranks_shown
        .get()
        .is_some_and(|m| m & (1 << (rank - 1)) == 0)
    {
        let pick = s.keymap.label(Action::PickGenre);
        s.status.set(
            format!(
                "rank {} is not on screen here: {pick} picks from every genre",
                rank % 10
            ),
            Level::Info,
        );
        return;
    }
    write_genre_to(s, fx, id, genre);
}

/// One genre to one file, as `a` and the digits write it: a file that cannot
/// carry tags is said at once, as `t` says it (no write to fail and mark ✗).
fn write_genre_to(s: &mut State, fx: &mut Effects, id: NodeId, genre: String) {
    if let Some(reason) = untaggable(s, id) {
        let msg = format!("{} cannot be tagged: {reason}", s.tree.node(id).label());
        s.status.set(msg, Level::Error);
        return;
    }
    let item = TagItem {
        node: id,
        path: s.tree.path(id),
        change: suggested_change(s, id, genre),
        decided_on: decided_on(s, id),
    };
    send_writes(s, fx, vec![item]);
    advance_after_tag(s, &[id]);
}

/// A genre written to the selected file (`a`, a digit, `t`, `T`): on to the
/// next file in the listing, as `x` moves on, so a folder is tagged file
/// by file without a `j` between (`advance-after-tag = false` stays put).
/// Marked files are a batch: the cursor stays.
fn advance_after_tag(s: &mut State, written: &[NodeId]) {
    if let [one] = written
        && s.advance_after_tag
        && s.browser.marked().is_empty()
        && s.browser.selected() == Some(*one)
    {
        super::actions::next_file_in_listing(s, *one);
    }
}

/// Why `a` has nothing to accept: the classification failed, or has not run.
fn no_suggestion(s: &mut State, id: NodeId) {
    let key = s.keymap.label(Action::Classify);
    if let Some(msg) = cannot_classify(s, id) {
        s.status.set(msg, Level::Error);
    } else if let Some(e) = s.results.get(id).and_then(|f| f.error.clone()) {
        s.status.set(
            format!("classifying failed: {e} ({key} tries again)"),
            Level::Error,
        );
    } else {
        s.status.set(
            format!("no suggestion yet for this file ({key} classifies)"),
            Level::Info,
        );
    }
}

/// Why a file cannot be tagged (not audio, empty, a format without tags,
/// a container earmark does not write), known already from its
/// classification, its name or what its inspection read.
fn untaggable(s: &State, id: NodeId) -> Option<String> {
    s.results
        .get(id)
        .filter(|f| f.cannot_hold_tags())
        .and_then(|f| f.error.clone())
        .or_else(|| crate::tags::write::format_without_tags(&s.tree.path(id)).map(str::to_string))
        .or_else(|| {
            let info = s.tree.node(id).inspection()?.info.as_ref().ok()?;
            crate::tags::write::container_not_written(&info.container)
        })
}

/// What `t` and `T` write to: the marked files (as `A` and `c` take them),
/// else the selected file. Files that cannot be tagged are left out and
/// said; None (with the reason on the status line) when none is left.
fn genre_targets(s: &mut State) -> Option<Targets> {
    let marked = s.browser.marked();
    if marked.is_empty() {
        let id = focused_file(s)?;
        if let Some(reason) = untaggable(s, id) {
            let msg = format!("{} cannot be tagged: {reason}", s.tree.node(id).label());
            s.status.set(msg, Level::Error);
            return None;
        }
        return Some(vec![id]);
    }
    let (ok, refused): (Vec<NodeId>, Vec<NodeId>) =
        marked.iter().partition(|&&id| untaggable(s, id).is_none());
    if let Some(&first) = refused.first() {
        let reason = untaggable(s, first).unwrap_or_default();
        let name = s.tree.node(first).label().into_owned();
        let msg = match (refused.len(), ok.len()) {
            (1, 0) => format!("{name} cannot be tagged: {reason}"),
            (n, 0) => format!("none of the {n} marked files can be tagged ({name}: {reason})"),
            (1, _) => format!("{name} cannot be tagged ({reason}): left out"),
            (n, _) => format!("{n} marked files cannot be tagged ({name}: {reason}): left out"),
        };
        s.status.set(msg, Level::Error);
    }
    (!ok.is_empty()).then_some(ok)
}

pub fn open_picker(s: &mut State, fx: &mut Effects) {
    let Some(nodes) = genre_targets(s) else {
        return;
    };
    // Every target's tags read (again: another program may have changed
    // them) and its cached result asked for, not only the files that came on
    // screen: the bottom edge's count of genres the write replaces, and the
    // ranking, cover them all (the ranking is redone as the answers come).
    // (urgent only for one file: thousands of marks must not hold back the
    // reads of the rows on screen)
    let urgent = nodes.len() == 1;
    for &id in &nodes {
        if s.tree.node(id).inspection().is_some() {
            super::reinspect_as(s, fx, id, urgent);
        } else {
            super::inspect(s, fx, id, urgent);
        }
        if matches!(s.results.model, ModelStatus::Ready(_)) {
            super::peek(s, fx, id);
        }
    }
    let (items, yours) = ranked_picker_items(s, &nodes);
    s.popup = Some(Popup::Picker {
        nodes,
        items,
        yours,
        cursor: 0,
    });
}

fn ranked_picker_items(s: &State, nodes: &[NodeId]) -> (Vec<PickerItem>, usize) {
    let lists: Vec<(Vec<PickerItem>, usize)> =
        nodes.iter().map(|&id| picker_items(s, id)).collect();
    merge_picker_items(lists)
}

/// An open picker ranked again once the cache has answered for its files;
/// the cursor stays on the genre it was on.
fn rerank_picker(s: &mut State) {
    let Some(Popup::Picker { nodes, .. }) = &s.popup else {
        return;
    };
    let (new_items, new_yours) = ranked_picker_items(s, &nodes.clone());
    if let Some(Popup::Picker {
        items,
        yours,
        cursor,
        ..
    }) = &mut s.popup
    {
        // the row after the genres types a new one: it stays that row (falling
        // to the top genre there, Enter would write it to every target)
        *cursor = if *cursor >= items.len() {
            new_items.len()
        } else {
            let on = &items[*cursor].0;
            new_items.iter().position(|(n, _)| n == on).unwrap_or(0)
        };
        *items = new_items;
        *yours = new_yours;
    }
}

/// One file's picker rows (your genres first, then GTZAN's) and how many
/// of them are yours.
fn picker_items(s: &State, id: NodeId) -> (Vec<PickerItem>, usize) {
    if let Some(mine) = super::vocab::picker_items(s, id) {
        return mine;
    }
    (gtzan_picker_items(s, id), 0)
}

/// GTZAN's genres as tag names, ranked by the model's confidence for `id`
/// when it has a result, else the model's labels in order.
pub(super) fn gtzan_picker_items(s: &State, id: NodeId) -> Vec<PickerItem> {
    match s.results.result(id) {
        Some(r) => r
            .prediction
            .top(r.prediction.labels.len())
            .into_iter()
            .map(|(label, p)| (gtzan_tag_name(s, label), Some(p)))
            .collect(),
        None => s
            .results
            .labels()
            .map(|l| l.iter().map(|l| (gtzan_tag_name(s, l), None)).collect())
            .unwrap_or_default(),
    }
}

/// Several files' picker rows as one list: each genre once, with its mean
/// confidence over the files that have one, most likely first, your genres
/// still before GTZAN's. One file's list comes back as it was.
fn merge_picker_items(lists: Vec<(Vec<PickerItem>, usize)>) -> (Vec<PickerItem>, usize) {
    if lists.len() == 1 {
        return lists.into_iter().next().unwrap_or_default();
    }
    let mut items = mean_ranked(lists.iter().map(|(l, yours)| &l[..*yours]));
    let yours = items.len();
    let others: Vec<PickerItem> = mean_ranked(lists.iter().map(|(l, yours)| &l[*yours..]))
        .into_iter()
        .filter(|(g, _)| {
            !items
                .iter()
                .any(|(y, _)| crate::vocab::library::same_genre(y, g))
        })
        .collect();
    items.extend(others);
    (items, yours)
}

/// Each genre of `parts` once, with its mean confidence over the parts that
/// give one, most likely first (those without a confidence last).
fn mean_ranked<'a>(parts: impl Iterator<Item = &'a [PickerItem]>) -> Vec<PickerItem> {
    let mut sums: Vec<(String, f32, usize)> = Vec::new();
    for (genre, p) in parts.flatten() {
        let at = match sums.iter().position(|(g, ..)| g == genre) {
            Some(at) => at,
            None => {
                sums.push((genre.clone(), 0.0, 0));
                sums.len() - 1
            }
        };
        if let Some(p) = p {
            sums[at].1 += p;
            sums[at].2 += 1;
        }
    }
    let mut out: Vec<PickerItem> = sums
        .into_iter()
        .map(|(g, sum, n)| (g, (n > 0).then(|| sum / n as f32)))
        .collect();
    out.sort_by(|a, b| b.1.unwrap_or(-1.0).total_cmp(&a.1.unwrap_or(-1.0)));
    out
}

pub fn open_editor(s: &mut State) {
    if let Some(nodes) = genre_targets(s) {
        edit(s, nodes);
    }
}

/// The free-text editor for `nodes`, holding their genre when they share
/// one (else empty).
pub fn edit(s: &mut State, nodes: Targets) {
    let mut current = nodes.iter().map(|&id| current_genre(s, id));
    let first = current.next().unwrap_or_default();
    let shared = if current.all(|g| g == first) {
        first
    } else {
        String::new()
    };
    s.popup = Some(Popup::editor(nodes, &shared));
}

/// Write genres chosen in the picker or editor, as one undoable batch; the
/// marks, when they were the target, are spent (as `A` spends them).
pub fn write_genres(s: &mut State, fx: &mut Effects, nodes: Targets, genres: Vec<String>) {
    let marked = !s.browser.marked().is_empty();
    forget_marks_of(s, &nodes);
    write_tags(s, fx, nodes.iter().map(|&n| (n, genres.clone())).collect());
    if !marked {
        advance_after_tag(s, &nodes);
    }
}

fn forget_marks_of(s: &mut State, nodes: &[NodeId]) {
    let marked = s.browser.marked();
    if !marked.is_empty()
        && marked
            .iter()
            .all(|m| nodes.contains(m) || untaggable(s, *m).is_some())
    {
        s.browser.clear_marks();
    }
}

/// `A`: the files of the selection with a suggestion, as a dry-run preview.
/// Files whose cached result is not loaded yet (collapsed folders, rows never
/// on screen) are looked up first; the list is built when the cache answers.
pub fn open_batch(s: &mut State, fx: &mut Effects) {
    let (files, what) = selection_files(s);
    if files.is_empty() {
        let msg = if what.is_empty() {
            "nothing selected to accept".to_string()
        } else {
            format!("no audio files in {what} to accept")
        };
        s.status.set(msg, Level::Info);
        return;
    }
    request_batch(s, fx, files, what);
}

/// Look up what the cache has for `files`, then build the batch; while the
/// model loads, the lookups wait for it ([`model_settled`]).
fn request_batch(s: &mut State, fx: &mut Effects, files: Vec<NodeId>, what: String) {
    let mut waiting = matches!(s.results.model, ModelStatus::Loading);
    if matches!(s.results.model, ModelStatus::Ready(_)) {
        // files looked up before without a result are looked up again:
        // `earmark classify` may have cached them since (the batch said
        // "2 not classified yet" until a restart)
        if s.inflight.count(|w| matches!(w, Work::Peek(_))) == 0 {
            for &node in &files {
                let f = s.results.entry(node);
                if f.result.is_none() && f.error.is_none() {
                    f.peeked = false;
                }
            }
        }
        for &node in &files {
            waiting |= super::peek(s, fx, node);
        }
        // lookups asked before (a selected folder's) may still be answering
        waiting |= s.inflight.count(|w| matches!(w, Work::Peek(_))) > 0;
    }
    if waiting {
        s.popup = Some(Popup::Batch {
            rows: None,
            pending: Some((files, what)),
            not_offered: NotOffered::default(),
            threshold: s.threshold,
            cursor: 0,
        });
    } else {
        build_batch(s, fx, files, &what);
    }
}

/// The model loaded (or failed): a batch waiting for it goes on.
pub fn model_settled(s: &mut State, fx: &mut Effects) {
    if let Some(Popup::Batch { pending, .. }) = &mut s.popup
        && let Some((files, what)) = pending.take()
    {
        request_batch(s, fx, files, what);
    }
}

/// A cache lookup came back: once none is left, build the batch waiting for them.
pub fn peeked(s: &mut State, fx: &mut Effects) {
    if s.inflight.count(|w| matches!(w, Work::Peek(_))) > 0
        || matches!(s.results.model, ModelStatus::Loading)
    {
        return;
    }
    rerank_picker(s);
    if let Some(Popup::Batch { pending, .. }) = &mut s.popup
        && let Some((files, what)) = pending.take()
    {
        build_batch(s, fx, files, &what);
    }
}

fn build_batch(s: &mut State, fx: &mut Effects, files: Vec<NodeId>, what: &str) {
    let mut items = Vec::new();
    let mut not_offered = NotOffered::default();
    for id in files {
        match suggestion(s, id) {
            Some((genre, p)) => items.push((
                TagItem {
                    node: id,
                    path: s.tree.path(id),
                    change: suggested_change(s, id, genre),
                    decided_on: decided_on(s, id),
                },
                p,
            )),
            // a file that does not open as audio (its row says why) is
            // never classified: failed, not "not classified yet"
            None if s.results.get(id).is_some_and(|f| f.error.is_some())
                || s.tree
                    .node(id)
                    .inspection()
                    .is_some_and(|i| i.info.is_err()) =>
            {
                not_offered.failed += 1;
            }
            None if matches!(super::vocab::mine_suggestion(s, id), Some(None)) => {
                not_offered.unsure += 1;
            }
            None => not_offered.unclassified += 1,
        }
    }
    if items.is_empty() {
        s.popup = None;
        s.status
            .set(nothing_to_accept(s, what, not_offered), Level::Info);
        return;
    }
    let req = s.inflight.start(Work::PreviewTags);
    fx.push(Effect::PreviewTags { req, items });
    s.popup = Some(Popup::Batch {
        rows: None,
        pending: None,
        not_offered,
        threshold: s.threshold,
        cursor: 0,
    });
}

/// "Album/: nothing classified yet (c classifies)", or why nothing is
/// offered: how many failed, and how many your genres are unsure of.
fn nothing_to_accept(s: &State, what: &str, not_offered: NotOffered) -> String {
    let key = s.keymap.label(Action::Classify);
    let NotOffered {
        unclassified,
        failed,
        unsure,
    } = not_offered;
    if failed == 0 && unsure == 0 {
        return format!("{what}: nothing classified yet ({key} classifies)");
    }
    let mut why = Vec::new();
    if unclassified > 0 {
        why.push(format!(
            "{unclassified} not classified yet: {key} classifies"
        ));
    }
    if unsure > 0 {
        let pick = s.keymap.label(Action::PickGenre);
        why.push(format!(
            "your genres are unsure of {}: {pick} picks one",
            super::actions::plural(unsure, "file")
        ));
    }
    if failed > 0 {
        why.push(format!(
            "{} failed to classify",
            super::actions::plural(failed, "file")
        ));
    }
    format!("{what}: nothing to accept, {}", why.join("; "))
}

/// Rows the user decided about are left out unless ticked: a genre set
/// already (✎: by hand or an earlier accept), a skipped file (–), or, when
/// the accept replaces, a file that holds a genre already (another tagger's
/// or the user's own: a batch should not overwrite it unasked).
fn hold_back(s: &State, rows: &mut [Planned]) {
    let replaces = s.genre_mode == crate::tags::GenreMode::Replace;
    for r in rows {
        let state = s.results.get(r.node);
        // (a row that changes nothing holds nothing back: it is said as
        // "had it already")
        let tagged = replaces
            && r.plan
                .as_ref()
                .is_ok_and(|p| p.changed && !p.old.is_empty());
        r.held = if state.is_some_and(|f| f.written.is_some()) {
            Some(HELD_WRITTEN)
        } else if state.is_some_and(|f| f.skipped) {
            Some(HELD_SKIPPED)
        } else if tagged {
            Some(HELD_TAGGED)
        } else {
            None
        };
    }
}

/// The version of the file a suggestion for it was made from (its result's).
fn decided_on(s: &State, id: NodeId) -> Option<crate::cache::FileKey> {
    s.results.result(id).and_then(|r| r.file_key)
}

/// A suggestion (`a`, a digit, `A`) for a file that holds the same genre
/// in another spelling keeps the file's (`hiphop` stays, unchanged), as
/// `tag --auto` does; a genre chosen or typed is written as given.
fn suggested_change(s: &State, id: NodeId, genre: String) -> GenreChange {
    let same =
        |now: &&Vec<String>| now.len() == 1 && crate::vocab::library::same_genre(&now[0], &genre);
    match s.read_genres(id).filter(same) {
        Some(now) if s.genre_mode == crate::tags::GenreMode::Replace => change(s, now.clone()),
        _ => change(s, vec![genre]),
    }
}

fn change(s: &State, genres: Vec<String>) -> GenreChange {
    GenreChange {
        genres,
        mode: s.genre_mode,
    }
}

/// Write genres to files, off the UI thread, as one undoable batch.
pub fn write_tags(s: &mut State, fx: &mut Effects, items: Vec<(NodeId, Vec<String>)>) {
    let items = items
        .into_iter()
        .map(|(node, genres)| TagItem {
            node,
            path: s.tree.path(node),
            change: change(s, genres),
            decided_on: shown_version(s, node),
        })
        .collect();
    send_writes(s, fx, items);
}

pub fn send_writes(s: &mut State, fx: &mut Effects, items: Vec<TagItem>) {
    if items.is_empty() {
        return;
    }
    for i in &items {
        s.results.entry(i.node).write_error = None;
    }
    if let Some(Popup::Batch { threshold, .. }) = &s.popup {
        s.threshold = *threshold;
    }
    // One change for every file (`T` over marks): the summary names it.
    let genres = match items.split_first() {
        Some((first, rest)) if rest.iter().all(|i| i.change.genres == first.change.genres) => {
            Some(crate::tags::write::show(&first.change.genres))
        }
        _ => None,
    };
    let req = s.inflight.start(Work::Write {
        failed: 0,
        gone: 0,
        unchanged: 0,
        genres,
        left: items.iter().map(|i| i.node).collect(),
    });
    fx.push(Effect::WriteTags { req, items });
}

/// Ask the cache to move a rewritten file's analyses (every model's) on to
/// its new version; nothing when either version is unknown.
fn follow_rewrite(
    fx: &mut Effects,
    path: std::path::PathBuf,
    before: Option<crate::cache::FileKey>,
    after: Option<crate::cache::FileKey>,
) {
    if let (Some(before), Some(after)) = (before, after) {
        fx.push(Effect::FollowRewrite {
            path,
            before,
            after,
        });
    }
}
