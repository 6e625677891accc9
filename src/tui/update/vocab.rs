//! Your genres and "sounds like this": the keys (`y`, `f`, `F`, `L`), the
//! similar list's keys, what the vocabulary service reports, and the hooks
//! the tag keys and the player use.

use crossterm::event::{KeyCode, KeyEvent};

use super::super::action::Action;
use super::super::components::AfterTrack;
use super::super::components::similar::{SIMILAR_TOP, SimilarList};
use super::super::components::status::Level;
use super::super::components::tagging::PickerItem;
use super::super::effect::{Effect, ReqId, Work};
use super::super::results::ModelStatus;
use super::super::state::State;
use super::super::vocab::MineAnswer;
use super::super::vocab_service::{VocabEvent, VocabRequest};
use super::Effects;
use super::actions::{focused_file, plural};
use crate::library::tree::NodeId;
use crate::vocab::Suggestion;
use crate::vocab::head::why_unsure;

/// The model is ready: look for the library's learned head.
pub fn find_head(s: &mut State, fx: &mut Effects) {
    if !s.classify {
        return;
    }
    let req = s.inflight.start(Work::FindHead);
    fx.push(Effect::Vocab {
        req,
        request: VocabRequest::FindHead,
    });
}

/// The vocabulary keys; false for any other action.
pub fn apply(s: &mut State, fx: &mut Effects, action: Action) -> bool {
    match action {
        Action::GenreView => toggle_view(s),
        Action::Similar => open_similar(s, fx),
        Action::PlaySimilar => {
            s.vocab.play_similar = !s.vocab.play_similar;
            s.vocab.played.clear();
            let msg = match s.after_track() {
                AfterTrack::Similar => {
                    "play similar on: when a track ends, the nearest unplayed one plays"
                }
                // Similarity comes from the model's embeddings.
                _ if s.vocab.play_similar => "play similar needs a model: classification is off",
                AfterTrack::Next => "play similar off: the next file plays when a track ends",
                AfterTrack::Stop => "play similar off: playing stops when a track ends",
            };
            s.status.set(s.for_library_tracks(msg), Level::Info);
        }
        Action::Relearn => relearn(s, fx),
        _ => return false,
    }
    true
}

fn toggle_view(s: &mut State) {
    if s.vocab.head.is_none() {
        let learn = s.keymap.label(Action::Relearn);
        let msg = match &s.vocab.problem {
            Some(p) => p.clone(),
            None => {
                format!("no genres learned here yet: {learn} learns them from the tags")
            }
        };
        s.status.set(msg, Level::Info);
        return;
    }
    s.vocab.show_gtzan = !s.vocab.show_gtzan;
    let msg = if s.vocab.show_gtzan {
        "Genre pane: GTZAN's ten genres"
    } else {
        "Genre pane: your genres"
    };
    s.status.set(msg, Level::Info);
}

/// Every library file but `except`, with its path.
fn library_files(s: &State, except: impl Fn(NodeId) -> bool) -> Vec<(NodeId, std::path::PathBuf)> {
    s.tree
        .files()
        .filter(|&f| !except(f))
        .map(|f| (f, s.tree.path(f)))
        .collect()
}

fn ready(s: &mut State) -> bool {
    if !s.classify || !matches!(s.results.model, ModelStatus::Ready(_)) {
        s.status.set(
            "needs the model (classification is off or loading)",
            Level::Info,
        );
        return false;
    }
    true
}

fn open_similar(s: &mut State, fx: &mut Effects) {
    if s.similar.is_some() {
        close_similar(s, fx);
        return;
    }
    let Some(id) = focused_file(s) else { return };
    if !ready(s) {
        return;
    }
    let req = s.inflight.start(Work::Similar { advance: false });
    fx.push(Effect::Vocab {
        req,
        request: VocabRequest::Similar {
            query: s.tree.path(id),
            files: library_files(s, |f| f == id),
            top: SIMILAR_TOP,
        },
    });
    s.similar = Some(SimilarList::new(id, req));
}

fn close_similar(s: &mut State, fx: &mut Effects) {
    if let Some(req) = s.similar.take().and_then(|l| l.req) {
        fx.push(Effect::CancelVocab { req });
    }
}

/// Keys while the similar list is open: move, Enter plays, Esc closes.
pub fn on_similar_key(s: &mut State, fx: &mut Effects, k: KeyEvent) {
    // the browser's keys as bound move, play and close it too (a rebound
    // `down` did nothing here), but not over the list's own keys
    let own = [
        KeyCode::Enter,
        KeyCode::Esc,
        KeyCode::Char('q'),
        KeyCode::Char('f'),
    ];
    let k = s.keymap.in_list(k, &own);
    let code = match s.keymap.action(crate::tui::keymap::Key::from(k)) {
        _ if own.contains(&k.code) => k.code,
        Some(Action::Activate) => KeyCode::Enter,
        Some(Action::Similar | Action::Quit) => KeyCode::Esc,
        _ => k.code,
    };
    let Some(list) = &mut s.similar else { return };
    match code {
        KeyCode::Up | KeyCode::Char('k') => list.move_by(-1),
        KeyCode::Down | KeyCode::Char('j') => list.move_by(1),
        KeyCode::PageUp => list.move_by(-10),
        KeyCode::PageDown => list.move_by(10),
        KeyCode::Home | KeyCode::Char('g') => list.move_by(isize::MIN / 2),
        KeyCode::End | KeyCode::Char('G') => list.move_by(isize::MAX / 2),
        KeyCode::Enter => {
            if let Some(node) = list.selected() {
                s.browser.reveal(&s.tree, node);
                super::selection_changed(s, fx);
                super::actions::play_node(s, fx, node);
            }
        }
        KeyCode::Esc | KeyCode::Char('q') | KeyCode::Char('f') => close_similar(s, fx),
        _ => {}
    }
}

/// Learn the library's genres again, in the background.
fn relearn(s: &mut State, fx: &mut Effects) {
    if s.vocab.learning.is_some() {
        s.status.set("already learning your genres", Level::Info);
        return;
    }
    if !ready(s) {
        return;
    }
    // Keep the genres the last head learned: its thinnest genre sets the bar.
    let min_tracks = s
        .vocab
        .head
        .as_ref()
        .and_then(|h| h.counts.iter().min().copied())
        .map_or(crate::vocab::LearnOptions::default().min_tracks, |m| {
            m.clamp(1, 5)
        });
    // and the precision its confidences were chosen for (`learn --precision`)
    let precision = s
        .vocab
        .head
        .as_ref()
        .map_or(crate::vocab::LearnOptions::default().precision, |h| {
            h.target_precision
        });
    let req = s.inflight.start(Work::Learn);
    fx.push(Effect::Vocab {
        req,
        request: VocabRequest::Learn {
            min_tracks,
            precision,
        },
    });
    s.vocab.learning = Some((0, 0));
    s.status.set(
        "learning your genres from this library's tags…",
        Level::Info,
    );
}

pub fn on_event(s: &mut State, fx: &mut Effects, req: ReqId, event: VocabEvent) {
    let Some(work) = s.inflight.get(req).cloned() else {
        return;
    };
    match event {
        VocabEvent::Progress { done, total } => match work {
            Work::Learn => {
                s.vocab.learning = Some((done, total));
                s.status
                    .progress(format!("learning your genres: embeddings {done}/{total}"));
            }
            _ => {
                if let Some(l) = s.similar.as_mut().filter(|l| l.req == Some(req)) {
                    l.progress = Some((done, total));
                }
            }
        },
        VocabEvent::Head(found) => {
            s.inflight.finish(req);
            match found {
                Ok(head) => s.vocab.head = head,
                Err(e) => {
                    // learning again replaces a head that cannot be used
                    let key = s.keymap.label(Action::Relearn);
                    let e = format!("{e}; {key} learns them again");
                    s.status.set(e.clone(), Level::Error);
                    s.vocab.problem = Some(e);
                }
            }
        }
        VocabEvent::Similar(found) => {
            s.inflight.finish(req);
            look_again_for_results(s);
            if matches!(work, Work::Similar { advance: true }) {
                advance_to(s, fx, found);
            } else if let Some(l) = s.similar.as_mut().filter(|l| l.req == Some(req)) {
                l.req = None;
                l.rows = Some(found);
            }
        }
        VocabEvent::Learned(result) => {
            s.inflight.finish(req);
            look_again_for_results(s);
            s.vocab.learning = None;
            match result {
                Ok(sum) => {
                    let key = s.keymap.label(Action::GenreView);
                    let library = sum.above.as_ref().map_or_else(String::new, |root| {
                        format!(" in {}", crate::library::shown(root.as_os_str()))
                    });
                    let learned = format!(
                        "learned {} from {} of {}{library} (cross-validated accuracy {:.0}%)",
                        plural(sum.head.vocabulary.len(), "genre"),
                        plural(sum.tagged, "tagged track"),
                        plural(sum.files, "file"),
                        100.0 * sum.head.report.accuracy
                    );
                    // A head that is never sure would make every row
                    // "unsure": it is kept one key away, not switched to.
                    let never_sure = sum.head.thresholds.iter().all(Option::is_none);
                    let (said, level) = if never_sure {
                        (
                            format!(
                                "{learned}, but sure of no genre: GTZAN's genres stay · {key} shows yours"
                            ),
                            Level::Error,
                        )
                    } else {
                        (format!("{learned} · {key} switches to GTZAN"), Level::Info)
                    };
                    s.status.set(said, level);
                    s.vocab.head = Some(sum.head);
                    s.vocab.problem = None;
                    s.vocab.show_gtzan = never_sure;
                    s.vocab.tagged_since = 0;
                }
                Err(e) => s.status.set(e, Level::Error),
            }
        }
    }
}

/// Finding similar tracks or learning classified the library's files on the
/// way (into the cache): files looked up before without a result are looked
/// up again as they come on screen, so they get their ✓.
fn look_again_for_results(s: &mut State) {
    for f in s.tree.files().collect::<Vec<_>>() {
        if s.results
            .get(f)
            .is_some_and(|r| r.peeked && r.result.is_none() && r.error.is_none())
        {
            s.results.entry(f).peeked = false;
        }
    }
}

/// A track ended in "play similar" mode: ask for the nearest unplayed one.
pub fn play_next_similar(s: &mut State, fx: &mut Effects, ended: NodeId) -> bool {
    if !s.vocab.play_similar || !s.classify {
        return false;
    }
    s.vocab.played.insert(ended);
    let played = s.vocab.played.clone();
    let files = library_files(s, |f| played.contains(&f));
    if files.is_empty() {
        s.status
            .set("play similar: every track has played", Level::Info);
        return true;
    }
    let req = s.inflight.start(Work::Similar { advance: true });
    fx.push(Effect::Vocab {
        req,
        request: VocabRequest::Similar {
            query: s.tree.path(ended),
            files,
            top: 1,
        },
    });
    true
}

fn advance_to(s: &mut State, fx: &mut Effects, found: Result<Vec<(NodeId, f32)>, String>) {
    match found {
        Ok(list) => match list.first() {
            Some(&(node, sim)) => {
                s.vocab.played.insert(node);
                s.browser.reveal(&s.tree, node);
                super::selection_changed(s, fx);
                super::actions::play_node(s, fx, node);
                let name = s.tree.node(node).label().into_owned();
                // floored: 0.997 must not read as 1.00, a copy of the track
                let sim = (f64::from(sim) * 1000.0).floor() / 1000.0;
                s.status.set(
                    format!("play similar: {name} (similarity {sim:.3})"),
                    Level::Info,
                );
            }
            None => s.status.set("play similar: no track left", Level::Info),
        },
        Err(e) => s.status.set(format!("play similar: {e}"), Level::Error),
    }
}

/// A file's genre was written: count it towards offering to re-learn.
pub fn after_write(s: &mut State) {
    s.vocab.tagged_since += 1;
    if s.vocab.tagged_since == super::super::vocab::RELEARN_AFTER && s.vocab.learning.is_none() {
        let key = s.keymap.label(Action::Relearn);
        let what = if s.vocab.head.is_some() {
            "learn your genres again"
        } else {
            "learn your genres from them"
        };
        let msg = format!(
            "{} tagged this session · {key} to {what}",
            plural(s.vocab.tagged_since, "file")
        );
        s.status.set(msg, Level::Info);
    }
}

/// The file in your genres, when a head is active and the file classified.
pub fn mine(s: &State, id: NodeId) -> Option<MineAnswer> {
    s.vocab.answer(s.results.result(id)?)
}

/// The confident suggestion in your genres: Some(None) when the head is
/// unsure (the caller says so), None when your genres are not in use.
pub fn mine_suggestion(s: &State, id: NodeId) -> Option<Option<(String, f32)>> {
    let answer = mine(s, id)?;
    Some(match answer.suggestion {
        Suggestion::Genre { genre, confidence } => Some((genre, confidence)),
        Suggestion::Unsure { .. } => None,
    })
}

/// "unsure (Soundtrack 41%, Rock 22%)": why `a` wrote nothing.
pub fn unsure_line(s: &State, id: NodeId) -> Option<String> {
    let suggestion = mine(s, id)?.suggestion;
    let Suggestion::Unsure { candidates } = &suggestion else {
        return None;
    };
    let pick = s.keymap.label(Action::PickGenre);
    let first = candidates.first();
    let threshold = first.and_then(|(g, _)| s.vocab.active()?.threshold_of(g));
    // The reason first: "Chiptune needs 92%, has 88%" says more than the list.
    Some(match (first, threshold) {
        (Some((genre, p)), Some(t)) => {
            let has = t.map(|_| format!(", has {}", crate::vocab::head::percent_floor(*p)));
            format!(
                "nothing written: unsure, {}{} · {pick} picks one",
                why_unsure(genre, t),
                has.unwrap_or_default()
            )
        }
        _ => format!(
            "nothing written: your genres are unsure ({}) · {pick} picks one",
            suggestion.candidates_line()
        ),
    })
}

/// The picker's rows in your genres (ranked, with the head's confidence),
/// then GTZAN's genres not already listed, and how many of them are yours;
/// None when your genres are not in use.
pub fn picker_items(s: &State, id: NodeId) -> Option<(Vec<PickerItem>, usize)> {
    let head = s.vocab.active()?;
    let mut items: Vec<PickerItem> = match mine(s, id) {
        Some(a) => a.ranked.into_iter().map(|(g, p)| (g, Some(p))).collect(),
        None => head.vocabulary.iter().map(|g| (g.clone(), None)).collect(),
    };
    let yours = items.len();
    // GTZAN's genres with the model's own confidence, when it has one.
    for (name, p) in super::tagging::gtzan_picker_items(s, id) {
        if !items
            .iter()
            .any(|(g, _)| crate::vocab::library::same_genre(g, &name))
        {
            items.push((name, p));
        }
    }
    Some((items, yours))
}
