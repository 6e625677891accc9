//! What the background services report: the scan, inspections, the player,
//! the model, classification jobs, cache lookups, the evaluation report.

use super::super::analyst::{AnalysisError, JobUpdate};
use super::super::components::status::Level;
use super::super::components::{AfterTrack, PlayState};
use super::super::effect::{ReqId, Work};
use super::super::event::Msg;
use super::super::results::{JobMark, ModelStatus};
use super::super::state::{State, silent_message};
use super::{Effects, peek_visible, selection_changed};
use crate::library::tree::{NodeId, ROOT};
use crate::player::{OutputStatus, PlayerEvent};

pub fn on_event(s: &mut State, fx: &mut Effects, msg: Msg) {
    match msg {
        Msg::Scan(batch) => {
            let was_done = s.tree.progress().done;
            s.tree.apply(batch);
            // The first scan notes no file's version or inode: a silent
            // rescan once it is done does, so that a file another program
            // renames before it is ever shown is known as moved.
            if !was_done && s.tree.progress().done && s.scanned_ids.is_empty() {
                s.rescans.wanted = true;
            }
            s.browser.tree_changed();
            s.browser.refresh(&s.tree);
            select_when_listed(s);
            selection_changed(s, fx);
        }
        Msg::Inspected {
            reqs, inspection, ..
        } => {
            // The node as it is now (a rescan may have renumbered it; an
            // answer nobody waits for any more is dropped).
            let mut node = None;
            for r in reqs {
                if let Some(Work::Inspect(n)) = s.inflight.finish(r) {
                    node = Some(n);
                }
            }
            // A bad file changes folder counts; filtered rows do not change.
            if let Some(node) = node {
                let now = inspection.key;
                let before = s.tree.node(node).inspection().and_then(|i| i.key);
                // (a first inspection is no other version: a file of a folder
                // `A` wrote unseen keeps its ✗ when it comes on screen)
                let read_before = s.tree.node(node).inspection().is_some();
                s.tree.set_inspection(node, *inspection);
                super::forget_if_retagged(s, node);
                super::mark_if_written(s, node);
                // A failure ("too short") carries no version of its own: the
                // file read as another version than before is judged again.
                let failed_before = s.results.get(node).is_some_and(|f| f.error.is_some())
                    && before.is_some_and(|b| now.is_some_and(|n| n != b));
                // So does a write's failure (✗): it was the version it was
                // tried on that refused it (changed, missing for a while).
                if read_before
                    && now.is_some()
                    && now != before
                    && s.results.get(node).is_some_and(|f| f.write_error.is_some())
                {
                    s.results.entry(node).write_error = None;
                }
                if let Some(now) = now
                    && (s.results.outdated(node, now) || failed_before)
                {
                    super::changed_on_disk(s, fx, node);
                }
            }
        }
        Msg::Rescanned { rescan, auto } => super::rescan::rescanned(s, fx, *rescan, auto),
        Msg::Watch(note) => super::rescan::on_watch(s, fx, note),
        Msg::Player(e) => on_player(s, fx, e),
        Msg::Model(Ok(info)) => {
            for w in &info.warnings {
                s.status.set(format!("cache: {w}"), Level::Error);
            }
            s.results.model = ModelStatus::Ready(info);
            // Rows on screen may have cached results now.
            peek_visible(s, fx);
            super::vocab::find_head(s, fx);
            super::tagging::model_settled(s, fx);
        }
        Msg::Model(Err(e)) => {
            s.status.set(e.clone(), Level::Error);
            s.results.model = ModelStatus::Failed(e);
            super::tagging::model_settled(s, fx);
        }
        Msg::Job { req, update } => {
            // a file the model could not decode is looked at now, so its
            // folder counts it bad before the row is scrolled into view
            if let Some((node, why)) = on_job(s, req, update) {
                note_damage(s, fx, node, why);
            }
        }
        Msg::Peeked { req, found, .. } => {
            if let Some(Work::Peek(node)) = s.inflight.finish(req)
                && let Some(c) = found
                && s.results.result(node).is_none()
            {
                s.results.set_result(node, *c);
                length_from_result(s);
            }
            super::tagging::peeked(s, fx);
        }
        Msg::EvalReport { report, bases } => s.eval.set_report(*report, bases),
        _ => {}
    }
}

/// A file the model could not decode for damage counts as bad in its
/// folder at once: one never inspected is inspected now (its row may be far
/// from view), one whose inspection found nothing wrong is given the
/// model's reason ("1 bad so far" stayed until the row was scrolled to).
fn note_damage(s: &mut State, fx: &mut Effects, node: NodeId, why: String) {
    match s.tree.node(node).inspection() {
        None => super::inspect(s, fx, node, false),
        Some(i) if i.fault().is_none() => {
            let mut damaged = i.clone();
            damaged.problem = Some(why);
            s.tree.set_inspection(node, damaged);
        }
        Some(_) => {}
    }
}

/// A job's answer; the file and why, when it could not be decoded for
/// damage (not a silent file, a moved one or a passing I/O error).
fn on_job(s: &mut State, req: ReqId, update: JobUpdate) -> Option<(NodeId, String)> {
    let (node, counted) = match s.inflight.get_mut(req) {
        Some(Work::Classify {
            node,
            started,
            counted,
            ..
        }) => {
            if matches!(update, JobUpdate::Started) {
                *started = true;
            }
            (*node, *counted)
        }
        _ => return None,
    };
    if matches!(update, JobUpdate::Started) {
        s.results.entry(node).job = JobMark::Running;
        return None;
    }
    let mut damaged = None;
    s.inflight.finish(req);
    let count = u64::from(counted);
    s.run_done += count;
    let still = s.inflight.classifying(node);
    let f = s.results.entry(node);
    if !still {
        f.job = JobMark::Idle;
    }
    match update {
        JobUpdate::Finished(Ok(a)) => {
            s.run_completed += count;
            let a = *a;
            if let Some(note) = a.cache_note {
                s.status.set(note, Level::Error);
            }
            if let Some(sp) = a.spectrogram {
                s.results.set_spectrogram(node, sp);
            }
            s.results.set_result(node, a.classified);
            length_from_result(s);
        }
        JobUpdate::Finished(Err(AnalysisError::Failed(e))) => {
            f.set_failure(e, None);
            s.run_completed += count;
            s.run_failed += count;
        }
        // Deleted or moved since it was queued: not a failure of the run
        // (the watch's rescan drops it; until then its row says why).
        JobUpdate::Finished(Err(AnalysisError::Undecodable {
            kind: "gone",
            reason,
        })) => {
            f.set_failure(reason, Some("gone"));
            s.run_gone += count;
        }
        JobUpdate::Finished(Err(AnalysisError::Undecodable { kind, reason })) => {
            if matches!(
                kind,
                "corrupt" | "not-audio" | "empty" | "no-track" | "unsupported"
            ) {
                damaged = Some((node, reason.clone()));
            }
            f.set_failure(reason, Some(kind));
            s.run_completed += count;
            s.run_failed += count;
            if crate::audio::kind_has_nothing_to_judge(kind) {
                s.run_unjudged += count;
            }
        }
        JobUpdate::Finished(Err(AnalysisError::Cancelled)) | JobUpdate::Cancelled => {}
        JobUpdate::Started => {}
    }
    end_of_run(s);
    damaged
}

/// The last job of a run is in (answered, or dropped with its file): say how
/// the run went.
pub fn end_of_run(s: &mut State) {
    if !s.cancelling && !s.inflight.has_jobs() {
        s.status.run_ended(run_outcome(
            s.run_completed,
            s.run_failed,
            s.run_unjudged,
            s.run_gone,
        ));
    }
    if s.cancelling && !s.inflight.has_jobs() {
        s.cancelling = false;
        // Replaces "cancelling…"; the next key clears it like any message.
        s.status.run_cancelled(format!(
            "cancelled ({} of {} done)",
            s.run_completed, s.run_total
        ));
    }
}

/// `earmark song.ogg` opened its folder, or the last session left the
/// cursor somewhere in this library: select that entry once the scan has
/// listed it, its folders opened (or give up when the scan ends without it).
fn select_when_listed(s: &mut State) {
    let Some(rel) = s.select_on_scan.as_deref() else {
        return;
    };
    // down the path from the root, as far as the scan has listed it
    let mut found = Some(ROOT);
    for part in rel.components() {
        found = found.and_then(|at| {
            s.tree
                .children(at)
                .iter()
                .copied()
                .find(|&c| s.tree.node(c).name == part.as_os_str())
        });
    }
    if let Some(id) = found.filter(|&id| id != ROOT) {
        s.browser.reveal(&s.tree, id);
        s.select_on_scan = None;
    } else if s.tree.progress().done {
        s.select_on_scan = None;
    }
}

/// "classified 13 files", "classified 12 files · 1 could not be", and
/// apart from failures, files with nothing to judge ("· 2 silent or too short")
/// and files deleted or moved away before their turn ("· 13 gone meanwhile").
fn run_outcome(completed: u64, failed: u64, unjudged: u64, gone: u64) -> String {
    let failed = failed.saturating_sub(unjudged);
    let ok = completed.saturating_sub(failed + unjudged);
    let files = |n: u64| if n == 1 { "file" } else { "files" };
    let mut out = match (ok, failed) {
        (0, 0) => String::new(),
        (_, 0) => format!("classified {ok} {}", files(ok)),
        (0, _) => format!("{failed} {} could not be classified", files(failed)),
        _ => format!("classified {ok} {} · {failed} could not be", files(ok)),
    };
    if unjudged > 0 {
        if !out.is_empty() {
            out.push_str(" · ");
        }
        // "2 could not be · 2 more silent…": other files, not the same two.
        let more = if failed > 0 { "more " } else { "" };
        let unjudged = super::super::components::count(unjudged);
        out.push_str(&format!("{unjudged} {more}silent or too short to judge"));
    }
    if out.is_empty() {
        out = "classified 0 files".into();
    }
    if gone > 0 {
        out.push_str(&format!(" · {gone} gone from the folder meanwhile"));
    }
    out
}

fn on_player(s: &mut State, fx: &mut Effects, e: PlayerEvent) {
    match e {
        PlayerEvent::Output(status) => {
            if let OutputStatus::Silent { reason } = &status {
                s.status.set(silent_message(reason), Level::Info);
            }
            s.player.output = status;
        }
        PlayerEvent::Started { path, info, paused } => {
            if s.playing_path().is_some_and(|p| p == path) {
                s.player.info = Some(info);
                length_from_result(s);
                if s.player.state == PlayState::Loading {
                    s.player.state = if paused {
                        PlayState::Paused
                    } else {
                        PlayState::Playing
                    };
                }
                if let Some(target) = s.player.start_at.take() {
                    super::actions::seek_to_target(s, fx, target);
                }
            }
        }
        PlayerEvent::Failed { path, reason } => {
            let name = crate::library::shown_file_name(&path);
            let current = s.playing_path().is_some_and(|p| p == path);
            // Auto-advance met a file that cannot play: on to the next one,
            // as a player does, saying which was skipped and why.
            if current
                && s.player.advanced
                && s.after_track() == AfterTrack::Next
                && !is_last_listed(s)
            {
                let following = s.browser.selected() == s.player.node;
                super::actions::step_track_moving_cursor(s, fx, 1, following);
                s.player.advanced = true;
                if following {
                    selection_changed(s, fx);
                }
                s.status
                    .set(format!("skipped {name}: {reason}"), Level::Error);
                return;
            }
            s.status
                .set(format!("cannot play {name}: {reason}"), Level::Error);
            if current {
                // Nothing of that file plays: the bar goes back to "nothing
                // playing" rather than showing it stopped at 0:00 / ?.
                s.player.forget_track();
            }
        }
        PlayerEvent::Finished { path } => {
            if s.playing_path().is_some_and(|p| p == path) {
                s.player.state = PlayState::Ended;
                let stopped_early = stopped_early(s, &path);
                if let Some(d) = s.player.duration() {
                    s.player.position = d;
                }
                // The next file of the listing (library tracks only: the
                // evaluation view's clips have no listing to follow).
                let last = is_last_listed(s);
                let similar = s
                    .player
                    .node
                    .is_some_and(|n| super::vocab::play_next_similar(s, fx, n));
                if !similar && s.auto_advance && s.player.node.is_some() && !last {
                    // The cursor goes with the track only when it was on the
                    // one that ended: one left elsewhere stays, so that a
                    // key meant for the file in view never lands on another.
                    let following = s.browser.selected() == s.player.node;
                    super::actions::step_track_moving_cursor(s, fx, 1, following);
                    s.player.advanced = true;
                    if following {
                        // look at it as at any file chosen by hand
                        // (classified, its spectrogram drawn)
                        selection_changed(s, fx);
                    }
                }
                if let Some(said) = stopped_early {
                    s.status.set(said, Level::Error);
                }
            }
        }
    }
}

/// Seconds short of its declared length past which a damaged track is said
/// to have stopped early (not a rounding of its last packet).
const EARLY_END_S: f64 = 2.0;

/// "cut.flac stopped at 0:01: <its damage>", when the track that ended is
/// known damaged and stopped well before its declared length: playback
/// ends where the audio does, and the next file starts, so the line says
/// why it was short. (A sound file's declared length can be an estimate:
/// only a file found damaged is said to stop early.)
fn stopped_early(s: &State, path: &std::path::Path) -> Option<String> {
    let node = s.player.node?;
    let at = s.player.position;
    if s.player.duration()? - at <= EARLY_END_S {
        return None;
    }
    let why = s
        .tree
        .node(node)
        .inspection()
        .and_then(|i| i.problem.as_deref())
        .or_else(|| s.results.get(node).and_then(|f| f.lasting_failure()))?;
    let name = crate::library::shown_file_name(path);
    Some(format!(
        "{name} stopped at {}: {why}",
        crate::clock::clock(at)
    ))
}

/// A track whose stream does not declare its length (an Ogg without one)
/// plays with the length its analysis found by walking its packets, as the
/// Track pane shows it: the bar shows it, and `50%` or `>` can seek in it.
fn length_from_result(s: &mut State) {
    let Some(node) = s.player.node else {
        return;
    };
    let found = s
        .results
        .result(node)
        .map(|c| c.duration_s)
        .filter(|&d| d > 0.0);
    if let (Some(info), Some(d)) = (s.player.info.as_mut(), found)
        && info.duration_s.is_none()
    {
        info.duration_s = Some(d);
    }
}

/// Whether the library track playing is the listing's last file.
fn is_last_listed(s: &State) -> bool {
    s.player
        .node
        .is_some_and(|n| super::actions::listed_files(s).last() == Some(&n))
}
