//! One action at a time: what each key (or mouse gesture) does.

use std::path::PathBuf;

use super::super::action::Action;
use super::super::components::evaluation::EvalFocus;
use super::super::components::status::Level;
use super::super::components::{AfterTrack, PlayState};
use super::super::effect::Effect;
use super::super::results::JobMark;
use super::super::state::State;
use super::{Effects, classify, selection_changed, tagging};
use crate::eval::ClipLocation;
use crate::jobs::Priority;
use crate::library::tree::{NodeId, NodeKind, ROOT};

/// Seconds a seek key moves.
pub const SEEK_STEP_S: f64 = 5.0;
/// Seek step of `>` / `<` (shift of `.` / `,`): a 20-minute file in 40 presses.
pub const SEEK_LONG_STEP_S: f64 = 30.0;
/// Volume change per key press.
pub const VOLUME_STEP: f32 = 0.05;

/// Do one action.
pub fn apply(s: &mut State, fx: &mut Effects, action: Action) {
    if s.eval.visible && apply_eval(s, fx, action) {
        return;
    }
    if !apply_browse(s, action) && !apply_player(s, fx, action) {
        apply_other(s, fx, action);
    }
    selection_changed(s, fx);
}

/// Moving through the library.
fn apply_browse(s: &mut State, action: Action) -> bool {
    let tree = &s.tree;
    let b = &mut s.browser;
    if !matches!(action, Action::Filter | Action::ClearFilter) {
        b.forget_held();
    }
    match action {
        Action::Up => b.move_by(tree, -1),
        Action::Down => b.move_by(tree, 1),
        Action::PageUp => b.move_by(tree, -(b.page() as isize)),
        Action::PageDown => b.move_by(tree, b.page() as isize),
        Action::Top => b.select_index(tree, 0),
        Action::Bottom => b.select_index(tree, usize::MAX),
        Action::Scroll(d) => b.move_by(tree, isize::from(d)),
        Action::SelectRow(i) => b.select_index(tree, i),
        Action::Expand => b.expand(tree),
        Action::Collapse => {
            if !b.collapse(tree) {
                let top = format!("at the top of {}/, the folder earmark opened", s.root_title);
                s.status.set(top, Level::Info);
            }
        }
        Action::Filter => b.filter_focused = true,
        Action::ClearFilter => b.clear_filter(tree),
        _ => return false,
    }
    true
}

/// The player's keys.
fn apply_player(s: &mut State, fx: &mut Effects, action: Action) -> bool {
    match action {
        Action::PlayPause => match s.player.state {
            PlayState::Playing => {
                fx.push(Effect::Pause(true));
                s.player.state = PlayState::Paused;
            }
            // After the end, Space plays what is selected now, when that is
            // another file (in the library: the evaluation view's clip plays
            // again, not a file hidden behind the view).
            PlayState::Ended
                if !s.eval.visible
                    && selected_file(s).is_some_and(|id| Some(id) != s.player.node) =>
            {
                if let Some(id) = selected_file(s) {
                    play(s, fx, Some(id), s.tree.path(id));
                }
            }
            PlayState::Paused | PlayState::Ended => {
                fx.push(Effect::Pause(false));
                if s.player.state == PlayState::Ended {
                    s.player.position = 0.0;
                }
                s.player.state = PlayState::Playing;
            }
            PlayState::Loading => {}
            PlayState::Stopped => match selected_file(s) {
                _ if s.eval.visible => {
                    let enter = s.keymap.label(Action::Activate);
                    s.status.set(
                        format!(
                            "{enter} on a matrix cell lists its clips; {enter} on a clip plays it"
                        ),
                        Level::Info,
                    );
                }
                Some(id) => play(s, fx, Some(id), s.tree.path(id)),
                None => s.status.set("select a file to play", Level::Info),
            },
        },
        Action::Stop if s.player.state == PlayState::Stopped => {
            s.status.set("nothing playing", Level::Info);
        }
        Action::Stop => {
            fx.push(Effect::Stop);
            s.player.state = PlayState::Stopped;
            s.player.position = 0.0;
        }
        Action::SeekForward => seek_to(s, fx, position(s) + SEEK_STEP_S),
        Action::SeekBack => seek_to(s, fx, position(s) - SEEK_STEP_S),
        Action::SeekForwardLong => seek_to(s, fx, position(s) + SEEK_LONG_STEP_S),
        Action::SeekBackLong => seek_to(s, fx, position(s) - SEEK_LONG_STEP_S),
        // Stopped, the prompt opens too: what is typed then plays the
        // selected file from there (a refusal let the typed digits fall
        // through to the browser, where a digit writes a genre).
        Action::SeekPrompt => match s.player.state {
            PlayState::Stopped if s.eval.visible => {
                s.status.set("nothing playing to seek in", Level::Info);
            }
            PlayState::Stopped if selected_file(s).is_none() => {
                s.status.set("select a file to play", Level::Info);
            }
            _ => s.popup = Some(super::super::components::tagging::Popup::seek()),
        },
        Action::SeekToPermille(p) => {
            if let Some(d) = s.player.duration() {
                seek_to(s, fx, d * f64::from(p.min(1000)) / 1000.0);
            }
        }
        Action::VolumeUp | Action::VolumeDown => {
            let step = if action == Action::VolumeUp {
                VOLUME_STEP
            } else {
                -VOLUME_STEP
            };
            s.player.volume = (s.player.volume + step).clamp(0.0, 1.0);
            fx.push(Effect::Volume(s.player.volume));
        }
        Action::Next => step_track(s, fx, 1),
        Action::Previous => step_track(s, fx, -1),
        Action::AutoAdvance => {
            s.auto_advance = !s.auto_advance;
            let msg = match (s.auto_advance, s.after_track()) {
                // Play similar picks the next track whatever auto-advance says.
                (on, AfterTrack::Similar) => {
                    let on = if on { "on" } else { "off" };
                    let key = s.keymap.label(Action::PlaySimilar);
                    format!("auto-advance {on}; play similar ({key}) still picks the next track")
                }
                (_, AfterTrack::Next) => {
                    "auto-advance on: the next file plays when a track ends".into()
                }
                (_, AfterTrack::Stop) => "auto-advance off: playing stops when a track ends".into(),
            };
            s.status.set(s.for_library_tracks(&msg), Level::Info);
        }
        _ => return false,
    }
    true
}

fn apply_other(s: &mut State, fx: &mut Effects, action: Action) {
    match action {
        Action::Quit => quit(s),
        Action::Suspend => s.suspend = true,
        Action::Redraw => s.redraw_all = true,
        Action::Help => s.help.visible = !s.help.visible,
        Action::Messages => s.status.log.open(),
        Action::Activate => activate(s, fx),
        Action::Mark => mark(s),
        Action::MarkAll => mark_all(s),
        Action::ClearMarks => {
            let n = s.browser.marked().len();
            s.browser.clear_marks();
            let msg = if n == 0 {
                "no marks to clear".to_string()
            } else {
                format!("cleared {}", plural(n, "mark"))
            };
            s.status.set(msg, Level::Info);
        }
        Action::Classify => classify_selection(s, fx),
        Action::CancelJobs => {
            if s.inflight.has_jobs() {
                fx.push(Effect::CancelJobs);
                s.cancelling = true;
                s.status.set("cancelling classification", Level::Info);
            } else {
                s.status.set("nothing to cancel", Level::Info);
            }
        }
        Action::SpectrogramStyle if s.theme.colourless => s.status.set(
            "NO_COLOR: braille only (half blocks are colour)",
            Level::Info,
        ),
        Action::SpectrogramStyle => {
            s.spectrogram.flip_style = !s.spectrogram.flip_style;
            // said, so the key answers on a folder too (no spectrogram there)
            let style = if s.theme.spectrogram_halfblock(s.spectrogram.flip_style) {
                "half blocks"
            } else {
                "braille"
            };
            s.status.set(format!("spectrogram in {style}"), Level::Info);
        }
        Action::Evaluation => {
            s.eval.visible = true;
            s.eval.focus = EvalFocus::Matrix;
        }
        Action::Normalise => s.eval.normalised = !s.eval.normalised,
        Action::Accept => tagging::accept_focused(s, fx),
        Action::AcceptRank(rank) => tagging::accept_rank(s, fx, rank),
        Action::PickGenre => tagging::open_picker(s, fx),
        Action::EditGenre => tagging::open_editor(s),
        Action::BatchAccept => tagging::open_batch(s, fx),
        Action::Skip => skip(s, fx),
        Action::Undo => tagging::undo(s, fx),
        Action::Rescan => super::rescan::rescan(s, fx),
        other => {
            super::vocab::apply(s, fx, other);
        }
    }
}

/// In the evaluation view, moving and Enter act on the matrix and its files.
fn apply_eval(s: &mut State, fx: &mut Effects, action: Action) -> bool {
    let e = &mut s.eval;
    match action {
        Action::Up => e.move_by(-1, 0),
        Action::Down => e.move_by(1, 0),
        Action::Scroll(d) => e.move_by(isize::from(d.signum()), 0),
        Action::Collapse => e.move_by(0, -1),
        Action::Expand => e.move_by(0, 1),
        Action::PageUp | Action::Top => e.move_by(-100, 0),
        Action::PageDown | Action::Bottom => e.move_by(100, 0),
        Action::Activate => match e.activate() {
            Some(ClipLocation::Here(path)) => play(s, fx, None, path),
            Some(ClipLocation::NotHere(path)) => s.status.set(
                // The name first: a narrow status line still shows which clip.
                format!(
                    "clip not available here: {} (looked for {})",
                    crate::library::shown_file_name(&path),
                    path.display()
                ),
                Level::Error,
            ),
            // An empty cell of the matrix: say so, rather than nothing.
            None if e.focus == EvalFocus::Matrix => {
                if let Some(r) = e.report() {
                    let name = |i: usize| {
                        r.labels
                            .get(i)
                            .map_or_else(String::new, |l| crate::tags::genre_tag_name(l))
                    };
                    s.status.set(
                        format!("no clips of {} were called {}", name(e.row), name(e.col)),
                        Level::Info,
                    );
                }
            }
            None => {}
        },
        Action::ClearFilter => {
            if !e.back() {
                e.visible = false;
            }
        }
        Action::Normalise => e.normalised = !e.normalised,
        Action::Evaluation => e.visible = false,
        Action::Filter
        | Action::Mark
        | Action::MarkAll
        | Action::ClearMarks
        | Action::Classify
        | Action::Accept
        | Action::AcceptRank(_)
        | Action::PickGenre
        | Action::EditGenre
        | Action::BatchAccept
        | Action::Skip
        | Action::SelectRow(_) => {
            let close = s.keymap.label(Action::Evaluation);
            let esc = s.keymap.label(Action::ClearFilter);
            s.status.set(
                format!("in the evaluation view: close it first ({close} or {esc})"),
                Level::Info,
            );
        }
        _ => return false,
    }
    if !s.eval.visible {
        left_eval(s);
    }
    true
}

/// Back in the library: an evaluation clip that no longer plays leaves the
/// player bar (it showed the stopped clip and "then: stop", which `o` and
/// `F` could not change); one still playing stays until it ends.
fn left_eval(s: &mut State) {
    if s.player.external.is_some()
        && !matches!(
            s.player.state,
            PlayState::Playing | PlayState::Loading | PlayState::Paused
        )
    {
        s.player.forget_track();
    }
}

fn activate(s: &mut State, fx: &mut Effects) {
    let Some(id) = s.browser.selected() else {
        return;
    };
    match &s.tree.node(id).kind {
        NodeKind::Dir(_) => s.browser.toggle(&s.tree),
        NodeKind::File(_) => play(s, fx, Some(id), s.tree.path(id)),
        NodeKind::Broken { reason } => {
            let msg = format!("{}: {reason}", s.tree.node(id).label());
            s.status.set(msg, Level::Error);
        }
    }
}

fn mark(s: &mut State) {
    let Some(id) = s.browser.selected() else {
        return;
    };
    if s.tree.node(id).is_file() {
        s.browser.toggle_mark(id);
        s.browser.move_by(&s.tree, 1);
    } else {
        let classify = s.keymap.label(Action::Classify);
        s.status.set(
            format!("marks are for files; {classify} classifies a whole folder"),
            Level::Info,
        );
    }
}

/// Play a library file.
pub fn play_node(s: &mut State, fx: &mut Effects, node: NodeId) {
    let path = s.tree.path(node);
    play(s, fx, Some(node), path);
}

/// Quit, unless a confirmed tag write or undo is under way: then quit once
/// it ends (a batch cut at quitting would leave an album half tagged);
/// asked again, quit now, the batch stopping after the file being written.
fn quit(s: &mut State) {
    let left = s.inflight.writing();
    let busy = match left {
        0 if s.inflight.undoing() => Some("the undo ends".to_string()),
        0 => None,
        1 => Some("the tag write ends (1 file left)".to_string()),
        n => Some(format!("the tag write ends ({n} files left)")),
    };
    match busy {
        Some(what) if !s.quit_when_written => {
            s.quit_when_written = true;
            let again = s.keymap.label(Action::Quit);
            s.status.set(
                format!("quitting once {what} · {again} again stops it after the current file"),
                Level::Info,
            );
        }
        _ => s.quit = true,
    }
}

/// Play a file: a library node, or (node None) a file from outside the
/// library, such as the evaluation view's clips.
fn play(s: &mut State, fx: &mut Effects, node: Option<NodeId>, path: PathBuf) {
    if node.is_none() && !path.is_file() {
        s.status.set(
            format!("{}: no such file here", path.display()),
            Level::Error,
        );
        return;
    }
    fx.push(Effect::Play(path.clone()));
    s.player.advanced = false;
    s.player.start_at = None;
    s.player.node = node;
    s.player.external = if node.is_none() { Some(path) } else { None };
    s.player.info = None;
    s.player.position = 0.0;
    s.player.state = PlayState::Loading;
    s.status.clear();
}

fn position(s: &State) -> f64 {
    match s.player.state {
        PlayState::Stopped => 0.0,
        _ => s.player.position,
    }
}

fn seek_to(s: &mut State, fx: &mut Effects, target: f64) {
    if s.player.state == PlayState::Stopped {
        let play = s.keymap.label(Action::PlayPause);
        s.status.set(
            format!("nothing playing to seek in ({play} plays)"),
            Level::Info,
        );
        return;
    }
    if s.player.state == PlayState::Loading {
        return;
    }
    let end = s.player.duration().unwrap_or(f64::MAX);
    let target = target.clamp(0.0, (end - 0.25).max(0.0));
    fx.push(Effect::Seek(target));
    s.player.position = target;
    if s.player.state == PlayState::Ended {
        s.player.state = PlayState::Paused;
    }
}

/// Seek to what was typed at the seek prompt: `1:30`, `90`, `50%`. With
/// nothing playing, the selected file plays from there; while a track opens,
/// it starts there.
pub fn seek_typed(s: &mut State, fx: &mut Effects, text: &str) {
    let target = match crate::player::parse_seek(text) {
        Ok(target) => target,
        Err(e) => return s.status.set(e, Level::Error),
    };
    // After a track ended, as Space: the selected file when it is another.
    let ended_elsewhere = s.player.state == PlayState::Ended
        && !s.eval.visible
        && selected_file(s).is_some_and(|id| Some(id) != s.player.node);
    match s.player.state {
        PlayState::Stopped => match selected_file(s) {
            Some(id) => play_from(s, fx, id, target),
            None => s.status.set("select a file to play", Level::Info),
        },
        PlayState::Ended if ended_elsewhere => {
            if let Some(id) = selected_file(s) {
                play_from(s, fx, id, target);
            }
        }
        PlayState::Loading => s.player.start_at = Some(target),
        // the track that ended plays again from there, as Space plays it
        // (it was left paused at the typed time)
        PlayState::Ended => {
            seek_to_target(s, fx, target);
            if s.player.state == PlayState::Paused {
                fx.push(Effect::Pause(false));
                s.player.state = PlayState::Playing;
            }
        }
        _ => seek_to_target(s, fx, target),
    }
}

/// Play `id` from `target` (applied once its length is known).
fn play_from(s: &mut State, fx: &mut Effects, id: NodeId, target: crate::player::SeekTarget) {
    play(s, fx, Some(id), s.tree.path(id));
    s.player.start_at = Some(target);
}

/// The file under the cursor, when the cursor is on a file.
fn selected_file(s: &State) -> Option<NodeId> {
    s.browser.selected().filter(|&id| s.tree.node(id).is_file())
}

/// Seek the track playing (or paused) to a typed target.
pub fn seek_to_target(s: &mut State, fx: &mut Effects, target: crate::player::SeekTarget) {
    match target.seconds(s.player.duration()) {
        // Past the end: said, and the seek goes to the last moment.
        Some(t) if past_the_end(target, s.player.duration()) => {
            let d = s.player.duration().unwrap_or_default();
            seek_to(s, fx, t);
            s.status.set(
                format!("the track is {} long: at its end", crate::clock::clock(d)),
                Level::Info,
            );
        }
        Some(t) => seek_to(s, fx, t),
        None => s.status.set(
            "the track's length is not known yet: seek by time",
            Level::Info,
        ),
    }
}

/// Whether a typed time lies beyond the track's known length.
fn past_the_end(target: crate::player::SeekTarget, duration: Option<f64>) -> bool {
    matches!((target, duration), (crate::player::SeekTarget::At(t), Some(d)) if t > d)
}

/// Play the file `delta` files away from the one playing (or selected), in
/// listing order, within the filter.
pub fn step_track(s: &mut State, fx: &mut Effects, delta: isize) {
    step_track_moving_cursor(s, fx, delta, true);
}

/// The track after (or before) the current one; the cursor goes with it
/// when `cursor` (n/p, or an auto-advance the cursor was following).
pub fn step_track_moving_cursor(s: &mut State, fx: &mut Effects, delta: isize, cursor: bool) {
    // The loaded track leads while it plays, pauses or has just ended (auto-
    // advance); once stopped there is no current track: the cursor leads.
    let from = s
        .player
        .node
        .filter(|_| s.player.state != PlayState::Stopped)
        .or(s.browser.selected());
    let files = listed_files(s);
    if files.is_empty() {
        return;
    }
    // `files` is in id order, which is listing order: a folder or an entry that
    // cannot play finds its place among them, and the file after (or before) it.
    let next = match from.map(|f| files.binary_search(&f)) {
        Some(Ok(i)) => i.checked_add_signed(delta).filter(|&j| j < files.len()),
        Some(Err(i)) if delta > 0 => Some(i).filter(|&j| j < files.len()),
        Some(Err(i)) => i.checked_sub(1),
        None => Some(if delta > 0 { 0 } else { files.len() - 1 }),
    };
    match next {
        Some(j) => {
            let id = files[j];
            if cursor {
                s.browser.reveal(&s.tree, id);
            }
            play(s, fx, Some(id), s.tree.path(id));
        }
        None => {
            let which = if delta > 0 { "last" } else { "first" };
            s.status
                .set(format!("this is the {which} file"), Level::Info);
        }
    }
}

/// The selected node if it is a file (else a hint in the status line).
pub fn focused_file(s: &mut State) -> Option<NodeId> {
    let id = selected_file(s);
    if id.is_none() {
        s.status.set("select a file first", Level::Info);
    }
    id
}

/// `x`: skip the file (kept across sessions, `–`) and go to the next; on a
/// skipped file, take the skip back.
fn skip(s: &mut State, fx: &mut Effects) {
    let Some(id) = focused_file(s) else {
        return;
    };
    let f = s.results.entry(id);
    f.skipped = !f.skipped;
    let skipped = f.skipped;
    fx.push(Effect::KeepSkip {
        path: s.tree.path(id),
        skipped,
    });
    let name = s.tree.node(id).label().into_owned();
    if skipped {
        // said, so that a second x on a file skipped earlier is no surprise
        let again = s.keymap.label(Action::Skip);
        let last = if next_file_in_listing(s, id) {
            ""
        } else {
            " (the last file)"
        };
        s.status.set(
            format!("skipped {name}{last} · {again} on it again unskips"),
            Level::Info,
        );
    } else {
        s.status
            .set(format!("{name}: no longer skipped"), Level::Info);
    }
}

/// Move the selection to the next file in the listing (after a skip);
/// false when there is none.
pub(super) fn next_file_in_listing(s: &mut State, from: NodeId) -> bool {
    let rows = s.browser.rows();
    let Some(i) = rows.iter().position(|&r| r == from) else {
        return false;
    };
    match rows[i + 1..].iter().position(|&r| s.tree.node(r).is_file()) {
        Some(j) => {
            s.browser.select_index(&s.tree, i + 1 + j);
            true
        }
        None => false,
    }
}

/// The files an action on "the selection" covers: the marked files, else the
/// selected folder's files, else the selected file's folder.
pub fn selection_files(s: &State) -> (Vec<NodeId>, String) {
    let marked = s.browser.marked();
    if !marked.is_empty() {
        let n = marked.len();
        let files = if n == 1 { "file" } else { "files" };
        let n = super::super::components::count(n as u64);
        return (marked, format!("{n} marked {files}"));
    }
    match selected_folder(s) {
        // a filter narrows the folder to what it shows, as `*` marks
        Some((dir, name)) => match s.browser.keep() {
            Some(keep) => (
                s.tree
                    .files_under(dir)
                    .into_iter()
                    .filter(|&f| keep.get(f as usize).copied().unwrap_or(false))
                    .collect(),
                format!("{name} (filtered)"),
            ),
            None => (s.tree.files_under(dir), name),
        },
        None => (Vec::new(), String::new()),
    }
}

/// The selected folder, else the selected file's, with its name as shown
/// in messages ("Album/").
fn selected_folder(s: &State) -> Option<(NodeId, String)> {
    let id = s.browser.selected()?;
    let dir = if s.tree.node(id).is_dir() {
        id
    } else {
        s.tree.node(id).parent.unwrap_or(ROOT)
    };
    let name = if dir == ROOT {
        format!("{}/", s.root_title)
    } else {
        format!("{}/", s.tree.node(dir).label())
    };
    Some((dir, name))
}

/// Mark every file of the selected folder (or the selected file's) that the
/// filter shows; when they are all marked already, unmark them.
fn mark_all(s: &mut State) {
    let Some((dir, name)) = selected_folder(s) else {
        return;
    };
    let keep = s.browser.keep();
    let files: Vec<NodeId> = s
        .tree
        .files_under(dir)
        .into_iter()
        .filter(|&f| keep.is_none_or(|k| k.get(f as usize).copied().unwrap_or(false)))
        .collect();
    if files.is_empty() {
        s.status
            .set(format!("no audio files in {name}"), Level::Info);
        return;
    }
    let all = files.iter().all(|&f| s.browser.is_marked(f));
    for &f in &files {
        if s.browser.is_marked(f) == all {
            s.browser.toggle_mark(f);
        }
    }
    let n = plural(files.len(), "file");
    let msg = if all {
        format!("unmarked {n} in {name}")
    } else {
        let hint = |a: Action| s.keymap.hint(a).unwrap_or_default();
        format!(
            "marked {n} in {name} · {} classifies, {} accepts, {} clears",
            hint(Action::Classify),
            hint(Action::BatchAccept),
            hint(Action::ClearMarks)
        )
    };
    s.status.set(msg, Level::Info);
}

fn classify_selection(s: &mut State, fx: &mut Effects) {
    if !s.classify {
        s.status.set("classification is off", Level::Info);
        return;
    }
    let single = s
        .browser
        .selected()
        .filter(|&id| s.browser.marked().is_empty() && s.tree.node(id).is_file());
    // Another try would fail the same way: say why instead of queueing it.
    if let Some(msg) = single.and_then(|id| cannot_classify(s, id)) {
        s.status.set(msg, Level::Error);
        return;
    }
    let (files, what) = match single {
        Some(id) => (vec![id], s.tree.node(id).label().into_owned()),
        None => selection_files(s),
    };
    if files.is_empty() {
        s.status.set(no_files_message(&what), Level::Info);
        return;
    }
    let marks = s.browser.marked().len();
    let folder_selected = s
        .browser
        .selected()
        .is_some_and(|id| s.tree.node(id).is_dir());
    let priority = if marks == 0 && files.len() > 1 {
        Priority::Background
    } else {
        Priority::Selection
    };
    let (n, failed) = queue_unclassified(s, fx, files, priority);
    let rescan = s.keymap.label(Action::Rescan);
    let left_out = |n: usize| {
        format!(
            "{} cannot be classified ({rescan} rescans to retry)",
            plural(n, "file")
        )
    };
    let msg = if n == 0 && failed > 0 {
        format!("{what}: {}", left_out(failed))
    } else if n == 0 && single.is_some() {
        let all = s.keymap.label(Action::MarkAll);
        format!("{what}: already classified ({all} marks its whole folder)")
    } else if n == 0 && marks > 0 {
        // the marks, not the folder on screen, were the target: say how to leave them
        let clear = s.keymap.label(Action::ClearMarks);
        format!("{what}: already classified ({clear} clears the marks)")
    } else if n == 0 {
        format!("{what}: already classified")
    } else {
        let queued = queued_message(n, marks, &what, single.is_some(), folder_selected);
        if failed > 0 {
            format!("{queued} · {}", left_out(failed))
        } else {
            queued
        }
    };
    if n > 0 {
        s.status.set_run(msg);
    } else {
        s.status.set(msg, Level::Info);
    }
}

/// Queue the files with neither a result nor a job; files that failed in
/// a way another try would repeat are left out. Returns (queued, left out).
fn queue_unclassified(
    s: &mut State,
    fx: &mut Effects,
    files: Vec<NodeId>,
    priority: Priority,
) -> (usize, usize) {
    let (mut queued, mut failed) = (0, 0);
    for id in files {
        let f = s.results.entry(id);
        // silent or too short: judged already, nothing to retry (the line
        // said "cannot be classified (R rescans to retry)" of it)
        if f.nothing_to_judge() {
            continue;
        }
        if f.lasting_failure().is_some() {
            failed += 1;
            continue;
        }
        if f.result.is_some() || f.job != JobMark::Idle {
            continue;
        }
        f.job = JobMark::Queued;
        f.clear_failure();
        classify(s, fx, id, Some(priority));
        queued += 1;
    }
    (queued, failed)
}

/// What `c` found nothing to classify in: the root (no name) or a folder.
fn no_files_message(what: &str) -> String {
    if what.is_empty() {
        "no audio files here to classify".to_string()
    } else {
        format!("no audio files in {what} to classify")
    }
}

/// "queued 3 files in Album/ for classifying", "queued a.mp3 for classifying",
/// "classifying 2 marked files (not the folder)".
fn queued_message(
    n: usize,
    marks: usize,
    what: &str,
    single: bool,
    folder_selected: bool,
) -> String {
    if marks > 0 {
        // Marks win over the selected folder: say so, the user may expect the folder.
        let of = if n < marks {
            format!("{} of {what}", super::super::components::count(n as u64))
        } else {
            what.to_string()
        };
        if folder_selected {
            format!("classifying {of} (not the folder)")
        } else {
            format!("classifying {of}")
        }
    } else if single {
        format!("queued {what} for classifying")
    } else {
        format!("queued {} in {what} for classifying", plural(n, "file"))
    }
}

/// "fake.mp3 cannot be classified: not an audio file (…)" for a file whose
/// classification failed for a reason another try would meet again.
pub fn cannot_classify(s: &State, id: NodeId) -> Option<String> {
    let reason = s.results.get(id)?.lasting_failure()?;
    Some(format!(
        "{} cannot be classified: {reason}",
        s.tree.node(id).label()
    ))
}

/// "1 file", "2 492 files": the count grouped as the rest of the app
/// groups it ("2492 marked" beside "2 492 files" read as two styles).
pub fn plural(n: usize, noun: &str) -> String {
    let n = u64::try_from(n).unwrap_or(u64::MAX);
    super::super::components::plural(n, noun, &format!("{noun}s"))
}

/// The files of the listing in order (those the filter keeps).
pub fn listed_files(s: &State) -> Vec<NodeId> {
    let keep = s.browser.keep();
    s.tree
        .files()
        .filter(|&f| keep.is_none_or(|k| k.get(f as usize).copied().unwrap_or(false)))
        .collect()
}
