//! The app's logic without threads: messages in, state and effects out.

use std::ffi::OsString;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::super::action::Action;
use super::super::analyst::{AnalysisError, JobUpdate, ModelInfo};
use super::super::components::tagging::Popup;
use super::super::components::{AfterTrack, PlayState};
use super::super::effect::{Effect, Work};
use super::super::event::Msg;
use super::super::keymap::KeyMap;
use super::super::results::JobMark;
use super::super::state::{Setup, State};
use super::super::tagger::TagEvent;
use super::super::theme::Theme;
use super::update;
use crate::library::tree::{ROOT, ScanBatch, ScanEntry, ScanProgress};
use crate::player::{OutputStatus, PlayerEvent};
use crate::tags::GenreMode;

/// A state on a made-up folder of `n` files (`track-00.mp3`…), scan done.
/// The app's set-up in tests: silent, default theme and keys, shown as "lib".
pub(super) fn setup(root: std::path::PathBuf, classify: bool) -> Setup {
    Setup {
        root,
        root_label: "lib".into(),
        theme: Theme::default_theme(),
        keymap: KeyMap::defaults(),
        config_path: None,
        config_found: false,
        classify,
        genre_mode: GenreMode::Replace,
        output: OutputStatus::Silent {
            reason: "--no-audio".into(),
        },
        volume: 1.0,
        warnings: Vec::new(),
        auto_advance: true,
        advance_after_tag: true,
    }
}

pub(super) fn state(n: usize, classify: bool) -> State {
    let mut s = State::new(setup("/nowhere/lib".into(), classify));
    let entries = (0..n)
        .map(|i| ScanEntry::Audio {
            parent: ROOT,
            name: OsString::from(format!("track-{i:02}.mp3")),
        })
        .collect();
    let batch = ScanBatch {
        entries,
        progress: ScanProgress {
            files: n as u64,
            done: true,
            ..ScanProgress::default()
        },
    };
    let fx = update(&mut s, Msg::Scan(batch));
    answer_inspections(&mut s, &fx);
    update(
        &mut s,
        Msg::EvalReport {
            report: Box::new(Err("no report in tests".into())),
            bases: Vec::new(),
        },
    );
    s
}

/// A scanned audio file `name` in folder `parent` (tests build trees so).
fn audio(parent: u32, name: &str) -> ScanEntry {
    ScanEntry::Audio {
        parent,
        name: OsString::from(name),
    }
}

/// A scanned folder `name` in folder `parent`.
fn dir(parent: u32, name: &str) -> ScanEntry {
    ScanEntry::Dir {
        parent,
        name: OsString::from(name),
    }
}

/// The scan of `entries` done in one batch (on a state without files), its
/// inspections answered.
pub(super) fn scanned(s: &mut State, entries: Vec<ScanEntry>) {
    let files = entries
        .iter()
        .filter(|e| matches!(e, ScanEntry::Audio { .. }))
        .count() as u64;
    let fx = update(
        s,
        Msg::Scan(ScanBatch {
            entries,
            progress: ScanProgress {
                files,
                done: true,
                ..ScanProgress::default()
            },
        }),
    );
    answer_inspections(s, &fx);
}

pub(super) fn key(s: &mut State, code: KeyCode) -> Vec<Effect> {
    update(
        s,
        Msg::Input(Event::Key(KeyEvent::new(code, KeyModifiers::NONE))),
    )
}

pub(super) fn draw(s: &mut State, width: u16, height: u16) -> Vec<Effect> {
    let mut t = Terminal::new(TestBackend::new(width, height)).unwrap();
    t.draw(|f| super::super::view::draw(s, f)).unwrap();
    update(s, Msg::Drawn)
}

/// Press ctrl-`c` (keys bound to control keys in tests of the key map).
pub(super) fn ctrl(s: &mut State, c: char) -> Vec<Effect> {
    let k =
        crossterm::event::KeyEvent::new(KeyCode::Char(c), crossterm::event::KeyModifiers::CONTROL);
    update(s, Msg::Input(crossterm::event::Event::Key(k)))
}

/// The app read `node` as holding `genres`, at version `key`.
fn read_as(s: &mut State, node: u32, genres: &[&str], key: Option<crate::cache::FileKey>) {
    let tags = crate::tags::TagSummary {
        genres: genres.iter().map(|g| g.to_string()).collect(),
        ..Default::default()
    };
    s.tree.set_inspection(
        node,
        crate::library::tree::Inspection {
            info: Err("not read in tests".into()),
            tags: Ok(tags),
            problem: None,
            key,
            ino: None,
        },
    );
}

/// `A`, its cache lookups answered "nothing known" (it looks up again the
/// files without a result): the effects of the batch once built.
pub(super) fn batch_key(s: &mut State) -> Vec<Effect> {
    let fx = key(s, KeyCode::Char('A'));
    let mut out = Vec::new();
    for e in &fx {
        if let Effect::Peek { req, node, .. } = e {
            out.extend(update(
                s,
                Msg::Peeked {
                    req: *req,
                    node: *node,
                    found: None,
                },
            ));
        }
    }
    out.extend(fx.into_iter().filter(|e| !matches!(e, Effect::Peek { .. })));
    out
}

/// Answer every inspection and cache lookup asked for with "nothing known",
/// so only the requests a test is about stay in flight.
pub(super) fn answer_inspections(s: &mut State, fx: &[Effect]) {
    for e in fx {
        if let Effect::Peek { req, node, .. } = e {
            update(
                s,
                Msg::Peeked {
                    req: *req,
                    node: *node,
                    found: None,
                },
            );
        }
        if let Effect::Inspect { req, node, .. } = e {
            update(
                s,
                Msg::Inspected {
                    reqs: vec![*req],
                    node: *node,
                    inspection: Box::new(crate::library::tree::Inspection {
                        info: Err("not read in tests".into()),
                        tags: Err("not read in tests".into()),
                        problem: None,
                        key: None,
                        ino: None,
                    }),
                },
            );
        }
    }
}

/// In a window 8 rows high the panes keep a row or two: a prompt covers the
/// player bar too, so what is typed shows (it was typed blind).
#[test]
fn a_prompt_shows_its_text_in_a_short_window() {
    let mut s = state(3, false);
    let fx = draw(&mut s, 100, 8);
    answer_inspections(&mut s, &fx);
    let fx = key(&mut s, KeyCode::Down);
    answer_inspections(&mut s, &fx);
    key(&mut s, KeyCode::Char('T'));
    for c in "Shoegaze".chars() {
        key(&mut s, KeyCode::Char(c));
    }
    for h in [8, 7, 6] {
        let screen = screen_of(&s, 100, h);
        assert!(screen.contains("Shoegaze"), "{h} rows:\n{screen}");
    }
}

/// Ctrl-Z suspends from a prompt too: the editor swallowed it, and the
/// `fg` typed next became its text (Enter wrote "Jafg" as the genre).
#[test]
fn ctrl_z_suspends_from_the_genre_editor() {
    let mut s = state(3, false);
    let fx = draw(&mut s, 100, 30);
    answer_inspections(&mut s, &fx);
    let fx = key(&mut s, KeyCode::Down);
    answer_inspections(&mut s, &fx);
    for opener in [KeyCode::Char('T'), KeyCode::Char('/')] {
        key(&mut s, opener);
        let ctrl_z = KeyEvent::new(KeyCode::Char('z'), KeyModifiers::CONTROL);
        let fx = update(&mut s, Msg::Input(Event::Key(ctrl_z)));
        assert!(s.suspend, "{opener:?}");
        assert!(fx.iter().all(|e| !matches!(e, Effect::WriteTags { .. })));
        s.suspend = false;
        key(&mut s, KeyCode::Esc);
    }
}

#[test]
fn a_write_that_cannot_open_the_journal_leaves_nothing_writing() {
    let mut s = state(3, false);
    let fx = draw(&mut s, 100, 30);
    answer_inspections(&mut s, &fx);
    let fx = key(&mut s, KeyCode::Down);
    answer_inspections(&mut s, &fx);
    assert!(s.is_idle());
    key(&mut s, KeyCode::Char('T'));
    assert!(s.popup.is_some());
    for c in "Rock".chars() {
        key(&mut s, KeyCode::Char(c));
    }
    let fx = key(&mut s, KeyCode::Enter);
    let Some(Effect::WriteTags { req, items }) =
        fx.iter().find(|e| matches!(e, Effect::WriteTags { .. }))
    else {
        panic!("no write asked for: {fx:?}");
    };
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].change.genres, ["Rock"]);
    assert_eq!(s.inflight.writing(), 1);
    assert!(!s.is_idle());
    // The tagger's answer when the journal cannot be opened at all.
    let req = *req;
    let warning = TagEvent::Warning("cannot write tags: disk full".into());
    update(
        &mut s,
        Msg::Tag {
            req,
            event: warning,
        },
    );
    update(
        &mut s,
        Msg::Tag {
            req,
            event: TagEvent::WriteDone { total: 0 },
        },
    );
    assert_eq!(s.inflight.writing(), 0, "the status line would say writing");
    assert!(s.is_idle());
    assert_eq!(s.status.message(), Some("cannot write tags: disk full"));
}

#[test]
fn rows_shrinking_before_the_model_is_ready_do_not_panic() {
    let mut s = state(40, true);
    draw(&mut s, 100, 20);
    key(&mut s, KeyCode::Char('G'));
    draw(&mut s, 100, 20);
    assert!(s.browser.visible_range().start > 5, "scrolled down");
    // Filter down to one row, then the model loads before any redraw.
    key(&mut s, KeyCode::Char('/'));
    for c in "track-03".chars() {
        key(&mut s, KeyCode::Char(c));
    }
    assert_eq!(s.browser.rows().len(), 1);
    let range = s.browser.visible_range();
    assert!(range.start <= range.end && range.end <= 1, "{range:?}");
    let info = ModelInfo {
        name: "test".into(),
        sha256: "test-sha".into(),
        labels: vec!["rock".into(), "jazz".into()],
        warnings: Vec::new(),
        cache_path: None,
    };
    let fx = update(&mut s, Msg::Model(Ok(info)));
    let peeks = fx
        .iter()
        .filter(|e| matches!(e, Effect::Peek { .. }))
        .count();
    assert!(peeks <= 1, "{fx:?}");
}

#[test]
fn a_preview_job_is_tracked_from_request_to_answer() {
    let mut s = state(2, true);
    let fx = key(&mut s, KeyCode::Down);
    let Some(&Effect::Classify {
        req,
        node,
        priority: None,
        ..
    }) = fx.iter().find(|e| matches!(e, Effect::Classify { .. }))
    else {
        panic!("the selected file is not previewed: {fx:?}");
    };
    assert_eq!(s.focus, Some(node));
    update(
        &mut s,
        Msg::Job {
            req,
            update: JobUpdate::Started,
        },
    );
    assert_eq!(s.inflight.running(), vec![node]);
    fail_job(&mut s, req);
    assert!(s.inflight.running().is_empty());
    assert!(!s.inflight.classifying(node));
    assert_eq!(
        s.results.get(node).and_then(|f| f.error.as_deref()),
        Some("not audio")
    );
    // The first file's preview (from the scan) is still out: 1 of 2 done.
    assert_eq!(s.inflight.jobs(), 1);
    assert_eq!((s.run_done, s.run_total), (1, 2));
    // A cancelled job leaves no error behind.
    let mut s = state(2, true);
    let fx = key(&mut s, KeyCode::Down);
    let Some(&Effect::Classify { req, node, .. }) =
        fx.iter().find(|e| matches!(e, Effect::Classify { .. }))
    else {
        panic!("no preview");
    };
    update(
        &mut s,
        Msg::Job {
            req,
            update: JobUpdate::Cancelled,
        },
    );
    assert_eq!(s.results.get(node).and_then(|f| f.error.clone()), None);
    assert!(!s.inflight.classifying(node));
}

#[test]
fn the_top_layer_takes_the_keys() {
    use super::Layer;
    let mut s = state(3, false);
    assert_eq!(super::layers(&s), [Layer::Browser]);
    key(&mut s, KeyCode::Char('/'));
    assert_eq!(super::layers(&s), [Layer::Filter, Layer::Browser]);
    // `q` is typed into the filter, not quitting.
    key(&mut s, KeyCode::Char('q'));
    assert!(!s.quit);
    assert_eq!(s.browser.filter(), "q");
    key(&mut s, KeyCode::Esc);
    key(&mut s, KeyCode::Char('?'));
    assert_eq!(super::layers(&s), [Layer::Help, Layer::Browser]);
    key(&mut s, KeyCode::Char('q'));
    assert!(!s.quit, "a key closes the help first");
    assert_eq!(super::layers(&s), [Layer::Browser]);
    key(&mut s, KeyCode::Char('e'));
    assert_eq!(super::layers(&s), [Layer::Evaluation, Layer::Browser]);
    key(&mut s, KeyCode::Char('q'));
    assert!(s.quit);
}

#[test]
fn space_after_the_end_plays_the_selected_file_and_shift_seeks_30_s() {
    use super::super::components::PlayState;
    let mut s = state(3, false);
    key(&mut s, KeyCode::Down);
    let first = s.browser.selected().unwrap();
    key(&mut s, KeyCode::Down);
    let second = s.browser.selected().unwrap();
    assert_ne!(first, second);
    s.player.node = Some(first);
    s.player.state = PlayState::Ended;
    let fx = key(&mut s, KeyCode::Char(' '));
    let want = s.tree.path(second);
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Play(p) if *p == want)),
        "{fx:?}"
    );
    assert_eq!(s.player.node, Some(second));

    // The same file after its end: Space replays it (no new load).
    s.player.state = PlayState::Ended;
    let fx = key(&mut s, KeyCode::Char(' '));
    assert!(!fx.iter().any(|e| matches!(e, Effect::Play(_))), "{fx:?}");

    s.player.state = PlayState::Playing;
    s.player.position = 100.0;
    let fx = key(&mut s, KeyCode::Char('>'));
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Seek(t) if (*t - 130.0).abs() < 1e-9)),
        "{fx:?}"
    );
    let fx = key(&mut s, KeyCode::Char('<'));
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Seek(t) if (*t - 100.0).abs() < 1e-9)),
        "{fx:?}"
    );
}

#[test]
fn c_with_marks_and_a_folder_selected_says_it_takes_the_marks_and_shift_m_clears_them() {
    let mut s = state(3, true);
    let fx = update(
        &mut s,
        Msg::Scan(ScanBatch {
            entries: vec![ScanEntry::Dir {
                parent: ROOT,
                name: OsString::from("Album"),
            }],
            progress: ScanProgress {
                files: 3,
                done: true,
                ..ScanProgress::default()
            },
        }),
    );
    answer_inspections(&mut s, &fx);
    let rows = s.browser.rows().to_vec();
    let files: Vec<_> = rows
        .iter()
        .copied()
        // Not the one the first selection previews.
        .filter(|&id| {
            s.tree.node(id).is_file() && s.results.get(id).is_none_or(|f| f.job == JobMark::Idle)
        })
        .collect();
    let folder_row = rows
        .iter()
        .position(|&id| s.tree.node(id).is_dir())
        .expect("the folder is listed");
    update(&mut s, Msg::Action(Action::SelectRow(folder_row)));

    s.browser.toggle_mark(files[0]);
    key(&mut s, KeyCode::Char('c'));
    assert_eq!(
        s.status.message(),
        Some("classifying 1 marked file (not the folder)")
    );
    s.browser.toggle_mark(files[1]);
    key(&mut s, KeyCode::Char('c'));
    assert_eq!(
        s.status.message(),
        Some("classifying 1 of 2 marked files (not the folder)")
    );

    key(&mut s, KeyCode::Char('M'));
    assert_eq!(s.status.message(), Some("cleared 2 marks"));
    assert!(s.browser.marked().is_empty());
    key(&mut s, KeyCode::Char('M'));
    assert_eq!(s.status.message(), Some("no marks to clear"));
}

#[test]
fn star_marks_a_flat_folder_then_c_classifies_it_all_and_star_again_unmarks() {
    let mut s = state(13, true);
    key(&mut s, KeyCode::Down);
    key(&mut s, KeyCode::Char('*'));
    assert_eq!(s.browser.marked().len(), 13);
    assert_eq!(
        s.status.message(),
        Some("marked 13 files in lib/ · c classifies, A accepts, M clears")
    );
    key(&mut s, KeyCode::Char('c'));
    let files: Vec<_> = s.tree.files().collect();
    assert_eq!(files.len(), 13);
    assert!(
        files
            .iter()
            .all(|&f| s.results.get(f).is_some_and(|r| r.job != JobMark::Idle)),
        "{:?}",
        s.status.message()
    );
    // ctrl-a is the same key; all marked, it unmarks.
    update(
        &mut s,
        Msg::Input(Event::Key(KeyEvent::new(
            KeyCode::Char('a'),
            KeyModifiers::CONTROL,
        ))),
    );
    assert!(s.browser.marked().is_empty());
    assert_eq!(s.status.message(), Some("unmarked 13 files in lib/"));
}

/// The worker's answer for a file that is not audio.
fn fail_job(s: &mut State, req: super::super::effect::ReqId) {
    let failed = JobUpdate::Finished(Err(AnalysisError::Failed("not audio".into())));
    update(
        s,
        Msg::Job {
            req,
            update: failed,
        },
    );
}

/// Mark every file, press `c`: the classification requests in flight.
fn mark_all_and_classify(s: &mut State) -> Vec<super::super::effect::ReqId> {
    for f in s.tree.files().collect::<Vec<_>>() {
        s.browser.toggle_mark(f);
    }
    key(s, KeyCode::Char('c'));
    s.inflight
        .iter()
        .filter(|(_, w)| matches!(w, Work::Classify { .. }))
        .map(|(r, _)| r)
        .collect()
}

#[test]
fn the_queued_message_gives_way_to_the_run_outcome() {
    let mut s = state(3, true);
    let reqs = mark_all_and_classify(&mut s);
    // The selected file's preview is already running: it joins the run.
    assert_eq!(s.status.message(), Some("classifying 2 of 3 marked files"));
    for (i, &req) in reqs.iter().enumerate() {
        fail_job(&mut s, req);
        if i + 1 < reqs.len() {
            assert_eq!(s.status.message(), Some("classifying 2 of 3 marked files"));
        }
    }
    assert_eq!(s.status.message(), Some("3 files could not be classified"));
}

/// A preview started while a batch runs is not counted in its progress:
/// "classifying N/2" counts the two files queued, whatever the focus visits.
#[test]
fn previews_during_a_batch_leave_its_count_alone() {
    let mut s = state(3, true);
    let files: Vec<_> = s.tree.files().collect();
    for &f in &files[..2] {
        s.browser.toggle_mark(f);
    }
    key(&mut s, KeyCode::Char('c'));
    let total = s.run_total;
    // The focus moves onto the unmarked third file: its preview starts.
    while s.browser.selected() != Some(files[2]) {
        key(&mut s, KeyCode::Down);
    }
    assert!(s.inflight.classifying(files[2]), "the preview runs");
    assert_eq!(s.run_total, total);
    let preview = s
        .inflight
        .iter()
        .find_map(|(r, w)| {
            matches!(w, Work::Classify { node, .. } if *node == files[2]).then_some(r)
        })
        .unwrap();
    fail_job(&mut s, preview);
    assert_eq!(
        s.run_done, 0,
        "the preview's end is not the batch's progress"
    );
}

/// A file the model finds damaged is looked at at once, so its folder counts
/// it bad ("1 bad so far" stayed until the row was scrolled into view; a new
/// user's review); a silent one is not damaged and is not.
#[test]
fn a_file_found_damaged_by_the_model_is_inspected_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let demo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/HyperRogue/hell.wav");
    for name in ["a.wav", "b.wav", "c.wav"] {
        std::fs::copy(&demo, dir.path().join(name)).unwrap();
    }
    let mut s = State::new(setup(dir.path().into(), true));
    update(&mut s, rescanned(dir.path(), false));
    let files: Vec<_> = s.tree.files().collect();
    // a and b read and sound; c never read (far from view)
    for &f in &files[..2] {
        let read = crate::library::tree::inspect_file(&s.tree.path(f));
        s.tree.set_inspection(f, read);
    }
    let inspects = |fx: &[Effect]| -> Vec<u32> {
        fx.iter()
            .filter_map(|e| match e {
                Effect::Inspect { node, .. } => Some(*node),
                _ => None,
            })
            .collect()
    };
    let answer = |s: &mut State, node, kind| {
        let req = s.inflight.start(Work::Classify {
            node,
            preview: false,
            started: true,
            counted: false,
        });
        let update_ = JobUpdate::Finished(Err(AnalysisError::Undecodable {
            kind,
            reason: "it ends in the middle of a frame".into(),
        }));
        update(
            s,
            Msg::Job {
                req,
                update: update_,
            },
        )
    };
    let bad = |s: &State| match &s.tree.node(ROOT).kind {
        crate::library::tree::NodeKind::Dir(d) => d.bad,
        _ => unreachable!(),
    };
    assert_eq!(bad(&s), 0);
    // read already and found sound: the model's reason makes it bad
    answer(&mut s, files[0], "corrupt");
    assert_eq!(bad(&s), 1);
    assert_eq!(
        s.tree.node(files[0]).fault(),
        Some("it ends in the middle of a frame")
    );
    answer(&mut s, files[1], "silent");
    assert_eq!(bad(&s), 1, "silence is not damage");
    // never read: read now
    let fx = answer(&mut s, files[2], "corrupt");
    assert_eq!(inspects(&fx), vec![files[2]]);
}

/// A silent or too-short file is not a failure: the run's outcome counts it
/// apart, and its state says there is nothing to judge.
#[test]
fn silent_files_are_counted_apart_from_failures() {
    let mut s = state(3, true);
    let reqs = mark_all_and_classify(&mut s);
    let reasons = [
        (
            "silent",
            "silent (digital silence throughout what was analysed)",
        ),
        (
            "too-short",
            "too short to judge (0.2 s of audio; the model needs 1.0 s)",
        ),
    ];
    for (&req, (kind, reason)) in reqs.iter().zip(reasons) {
        let update_ = JobUpdate::Finished(Err(AnalysisError::Undecodable {
            kind,
            reason: reason.into(),
        }));
        update(
            &mut s,
            Msg::Job {
                req,
                update: update_,
            },
        );
    }
    fail_job(&mut s, reqs[2]);
    assert_eq!(
        s.status.message(),
        Some("1 file could not be classified · 2 more silent or too short to judge")
    );
    let unjudged = s
        .tree
        .files()
        .filter(|&f| s.results.get(f).is_some_and(|r| r.nothing_to_judge()))
        .count();
    assert_eq!(unjudged, 2);
    // The silent file selected: its panes say what it is, not a failure.
    let silent = s.tree.files().next().unwrap();
    s.browser.select_index(&s.tree, 0);
    while s.browser.selected() != Some(silent) {
        key(&mut s, KeyCode::Down);
    }
    let screen = screen_of(&s, 100, 30);
    assert!(
        screen.contains("no spectrogram: digital silence throughout"),
        "{screen}"
    );
    assert!(screen.contains("no genre: silent"), "{screen}");
    assert!(!screen.contains("failed"), "{screen}");
}

#[test]
fn star_marks_only_what_the_filter_shows() {
    let mut s = state(13, true);
    key(&mut s, KeyCode::Char('/'));
    for c in "track-1".chars() {
        key(&mut s, KeyCode::Char(c));
    }
    key(&mut s, KeyCode::Enter);
    key(&mut s, KeyCode::Char('*'));
    let marked: Vec<String> = s
        .browser
        .marked()
        .iter()
        .map(|&id| s.tree.node(id).label().into_owned())
        .collect();
    assert_eq!(
        marked,
        ["track-10.mp3", "track-11.mp3", "track-12.mp3"],
        "{:?}",
        s.status.message()
    );
}

/// A filter that matches nothing does not lose the selection: backspacing
/// to a filter that matches it again, or clearing it, gives it back.
#[test]
fn a_filter_that_matches_nothing_keeps_the_selection() {
    let label = |s: &State| {
        let id = s.browser.selected().unwrap();
        s.tree.node(id).label().into_owned()
    };
    for clear in [KeyCode::Esc, KeyCode::Backspace] {
        let mut s = state(13, true);
        key(&mut s, KeyCode::Char('G'));
        let chosen = label(&s);
        assert_ne!(chosen, "track-0.mp3");
        key(&mut s, KeyCode::Char('/'));
        for c in "xx".chars() {
            key(&mut s, KeyCode::Char(c));
        }
        assert!(s.browser.selected().is_none());
        key(&mut s, KeyCode::Backspace);
        key(&mut s, KeyCode::Backspace);
        if clear == KeyCode::Esc {
            key(&mut s, KeyCode::Esc);
        }
        assert_eq!(label(&s), chosen, "{clear:?}");
    }
}

/// `A` under a filter takes only the files it shows, as `*` marks them: a
/// batch must not write files that are not on screen.
#[test]
fn batch_accept_takes_only_what_the_filter_shows() {
    let mut s = state(13, true);
    let fx = model_ready(&mut s);
    answer_inspections(&mut s, &fx);
    for f in s.tree.files().collect::<Vec<_>>() {
        s.results.set_result(f, classified("pop", 0.9));
    }
    key(&mut s, KeyCode::Char('/'));
    for c in "track-1".chars() {
        key(&mut s, KeyCode::Char(c));
    }
    key(&mut s, KeyCode::Enter);
    let fx = key(&mut s, KeyCode::Char('A'));
    let (_, items) = preview_asked(fx).expect("a preview");
    let names: Vec<String> = items
        .iter()
        .map(|(i, _)| s.tree.node(i.node).label().into_owned())
        .collect();
    assert_eq!(names, ["track-10.mp3", "track-11.mp3", "track-12.mp3"]);
}

#[test]
fn c_on_a_classified_file_says_how_to_take_its_folder() {
    let mut s = state(2, true);
    key(&mut s, KeyCode::Down);
    let id = s.browser.selected().unwrap();
    s.results.entry(id).job = JobMark::Queued;
    key(&mut s, KeyCode::Char('c'));
    assert_eq!(
        s.status.message(),
        Some("track-01.mp3: already classified (* marks its whole folder)")
    );
}

#[test]
fn shift_c_ends_with_how_far_the_run_got_and_the_next_key_clears_it() {
    let mut s = state(4, true);
    let reqs = mark_all_and_classify(&mut s);
    assert_eq!((reqs.len(), s.run_total), (4, 4));
    let failed = JobUpdate::Finished(Err(AnalysisError::Failed("not audio".into())));
    update(
        &mut s,
        Msg::Job {
            req: reqs[0],
            update: failed,
        },
    );
    key(&mut s, KeyCode::Char('C'));
    assert_eq!(s.status.message(), Some("cancelling classification"));
    for &req in &reqs[1..] {
        update(
            &mut s,
            Msg::Job {
                req,
                update: JobUpdate::Cancelled,
            },
        );
    }
    assert_eq!(s.status.message(), Some("cancelled (1 of 4 done)"));
    key(&mut s, KeyCode::Char('j'));
    assert_eq!(s.status.message(), None);
}

/// A cursor on the track that ends goes with the next one auto-advance
/// plays, and that file is looked at as a file chosen by hand: classified
/// as the focused preview.
#[test]
fn the_file_auto_advance_plays_is_classified() {
    let mut s = state(3, true);
    model_ready(&mut s);
    let files: Vec<_> = s.tree.files().collect();
    s.browser.reveal(&s.tree, files[0]);
    s.player.node = Some(files[0]);
    s.player.state = PlayState::Playing;
    let path = s.tree.path(files[0]);
    let fx = update(&mut s, Msg::Player(PlayerEvent::Finished { path }));
    assert_eq!(s.browser.selected(), Some(files[1]));
    assert!(
        fx.iter().any(
            |e| matches!(e, Effect::Classify { node, priority: None, .. }
            if *node == files[1])
        ),
        "{fx:?}"
    );
}

/// A damaged track that stops well before its declared length says so as
/// the next one starts; a sound one that ends early (an estimated length)
/// says nothing.
#[test]
fn a_damaged_track_that_stops_early_says_why() {
    let mut s = state(3, true);
    let files: Vec<_> = s.tree.files().collect();
    let ends_at = |s: &mut State, node, at: f64| {
        s.player.node = Some(node);
        s.player.state = PlayState::Playing;
        s.player.info = Some(crate::audio::SourceInfo {
            container: "FLAC".into(),
            codec: "flac".into(),
            sample_rate: 48000,
            channels: 2,
            bits_per_sample: Some(24),
            duration_s: Some(30.0),
        });
        s.player.position = at;
        let path = s.tree.path(node);
        update(s, Msg::Player(PlayerEvent::Finished { path }))
    };
    ends_at(&mut s, files[0], 1.1);
    assert_eq!(s.status.message(), None, "not known damaged: nothing said");
    s.results.entry(files[1]).set_failure(
        "corrupt or truncated audio: decoded 1.1 s of a declared 30.0 s".into(),
        Some("corrupt"),
    );
    ends_at(&mut s, files[1], 1.1);
    let name = s.tree.node(files[1]).label().into_owned();
    assert_eq!(
        s.status.message(),
        Some(
            format!(
                "{name} stopped at 0:01: corrupt or truncated audio: decoded 1.1 s of a declared 30.0 s"
            )
            .as_str()
        )
    );
    assert_eq!(s.player.node, Some(files[2]), "and the next file plays");
    s.status.clear();
    ends_at(&mut s, files[1], 29.5);
    assert_eq!(s.status.message(), None, "to its end: nothing said");
}

/// A cursor left on another file stays there when auto-advance plays the
/// next track: `a` must tag the file in view, not the one the player chose.
#[test]
fn auto_advance_leaves_a_cursor_that_was_elsewhere_where_it_is() {
    let mut s = state(3, true);
    model_ready(&mut s);
    let files: Vec<_> = s.tree.files().collect();
    s.browser.reveal(&s.tree, files[2]);
    s.player.node = Some(files[0]);
    s.player.state = PlayState::Playing;
    let path = s.tree.path(files[0]);
    let fx = update(&mut s, Msg::Player(PlayerEvent::Finished { path }));
    let next = s.tree.path(files[1]);
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Play(p) if *p == next)),
        "{fx:?}"
    );
    assert_eq!(s.player.node, Some(files[1]));
    assert_eq!(s.browser.selected(), Some(files[2]));
}

#[test]
fn a_track_that_ends_plays_the_next_file_unless_o_turned_auto_advance_off() {
    let mut s = state(3, false);
    let files: Vec<_> = s.tree.files().collect();
    let ends = |s: &mut State, node| {
        s.player.node = Some(node);
        s.player.state = PlayState::Playing;
        let path = s.tree.path(node);
        update(s, Msg::Player(PlayerEvent::Finished { path }))
    };
    let fx = ends(&mut s, files[0]);
    let next = s.tree.path(files[1]);
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Play(p) if *p == next)),
        "{fx:?}"
    );
    assert_eq!(s.player.node, Some(files[1]));
    // The last file ends: nothing more to play, no complaint.
    let fx = ends(&mut s, files[2]);
    assert!(!fx.iter().any(|e| matches!(e, Effect::Play(_))), "{fx:?}");
    assert_eq!(s.player.state, PlayState::Ended);

    key(&mut s, KeyCode::Char('o'));
    assert!(!s.auto_advance);
    let fx = ends(&mut s, files[0]);
    assert!(!fx.iter().any(|e| matches!(e, Effect::Play(_))), "{fx:?}");
    assert_eq!(s.player.state, PlayState::Ended);
}

/// While an evaluation clip plays, o and F say the clip itself stops, as the
/// player bar's `then: stop` does, not that the next file plays.
#[test]
fn o_and_f_during_an_evaluation_clip_say_the_clip_just_stops() {
    let mut s = state(3, false);
    s.player.external = Some(std::path::PathBuf::from("/gtzan/valid/jazz/jazz.00001.ogg"));
    s.player.state = PlayState::Playing;
    assert_eq!(s.after_this_track(), AfterTrack::Stop);
    key(&mut s, KeyCode::Char('o'));
    key(&mut s, KeyCode::Char('o'));
    let said = s.status.message().unwrap_or_default().to_string();
    assert!(
        said.starts_with("auto-advance on: the next file plays"),
        "{said}"
    );
    assert!(said.ends_with("the evaluation clip just stops"), "{said}");
    s.player.external = None;
    key(&mut s, KeyCode::Char('o'));
    let said = s.status.message().unwrap_or_default();
    assert!(
        said.starts_with("auto-advance off") && !said.contains("evaluation"),
        "{said}"
    );
}

/// Space in the evaluation view with nothing playing says how its clips
/// play (the hint reads `space play`; the library's file is not its to play).
#[test]
fn space_in_the_evaluation_view_says_how_clips_play() {
    let mut s = state(2, false);
    s.eval.visible = true;
    let fx = key(&mut s, KeyCode::Char(' '));
    assert!(!fx.iter().any(|e| matches!(e, Effect::Play(_))), "{fx:?}");
    assert_eq!(
        s.status.message(),
        Some("enter on a matrix cell lists its clips; enter on a clip plays it")
    );
}

/// Leaving the evaluation view drops a clip that no longer plays from the
/// player bar; one still playing stays.
#[test]
fn leaving_the_evaluation_view_drops_a_stopped_clip() {
    let mut s = state(3, false);
    let clip = std::path::PathBuf::from("/gtzan/valid/jazz/jazz.00001.ogg");
    for (state, kept) in [(PlayState::Playing, true), (PlayState::Stopped, false)] {
        s.eval.visible = true;
        s.player.external = Some(clip.clone());
        s.player.state = state;
        key(&mut s, KeyCode::Char('e'));
        assert!(!s.eval.visible);
        assert_eq!(s.player.external.is_some(), kept, "{state:?}");
    }
    assert_eq!(s.after_this_track(), AfterTrack::Next);
}

/// Play-pause left without a key by a rebinding: the player bar's hint does
/// not name a blank key.
#[test]
fn the_player_hint_names_no_key_when_play_pause_has_none() {
    let mut s = state(1, false);
    s.keymap = crate::tui::keymap::KeyMap::with_overrides([("play-pause", vec![])])
        .unwrap()
        .0;
    let screen = screen_of(&s, 80, 24);
    assert!(screen.contains("■ nothing playing "), "{screen}");
    assert!(!screen.contains("plays the selected file"), "{screen}");
}

/// Auto-advance goes past a file that cannot play, saying which; a file the
/// user chose that cannot play stops there.
#[test]
fn auto_advance_skips_a_file_that_cannot_play() {
    let mut s = state(3, false);
    let files: Vec<_> = s.tree.files().collect();
    s.player.node = Some(files[0]);
    s.player.state = PlayState::Playing;
    let path = s.tree.path(files[0]);
    update(&mut s, Msg::Player(PlayerEvent::Finished { path }));
    assert_eq!(s.player.node, Some(files[1]));
    let damaged = s.tree.path(files[1]);
    let failed = |path| {
        Msg::Player(PlayerEvent::Failed {
            path,
            reason: "corrupt or truncated audio".into(),
        })
    };
    let fx = update(&mut s, failed(damaged.clone()));
    let third = s.tree.path(files[2]);
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Play(p) if *p == third)),
        "{fx:?}"
    );
    let name = s.tree.node(files[1]).label().into_owned();
    assert_eq!(
        s.status.message(),
        Some(format!("skipped {name}: corrupt or truncated audio").as_str())
    );
    // Chosen by hand (p): it stops there and says why.
    key(&mut s, KeyCode::Char('p'));
    assert_eq!(s.player.node, Some(files[1]));
    let fx = update(&mut s, failed(damaged));
    assert!(!fx.iter().any(|e| matches!(e, Effect::Play(_))), "{fx:?}");
    assert_eq!(s.player.node, None);
    assert!(
        s.status
            .message()
            .is_some_and(|m| m.starts_with("cannot play")),
        "{:?}",
        s.status.message()
    );
}

#[test]
fn a_folders_bad_count_says_so_far_until_every_file_below_is_inspected() {
    let mut s = state(0, false);
    let entries = vec![
        ScanEntry::Dir {
            parent: ROOT,
            name: OsString::from("Album"),
        },
        ScanEntry::Audio {
            parent: 1,
            name: OsString::from("a.mp3"),
        },
        ScanEntry::Audio {
            parent: 1,
            name: OsString::from("b.mp3"),
        },
    ];
    update(
        &mut s,
        Msg::Scan(ScanBatch {
            entries,
            progress: ScanProgress {
                files: 2,
                done: true,
                ..ScanProgress::default()
            },
        }),
    );
    let bad = || crate::library::tree::Inspection {
        info: Err("not an audio file".into()),
        tags: Err("not read".into()),
        problem: None,
        key: None,
        ino: None,
    };
    let screen = |s: &mut State| {
        let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
        t.draw(|f| super::super::view::draw(s, f)).unwrap();
        let buf = t.backend().buffer().clone();
        buf.content().iter().map(|c| c.symbol()).collect::<String>()
    };
    s.tree.set_inspection(2, bad());
    let first = screen(&mut s);
    assert!(first.contains("1 bad so far"), "{first}");
    s.tree.set_inspection(3, bad());
    let after = screen(&mut s);
    assert!(
        after.contains("2 bad") && !after.contains("so far"),
        "{after}"
    );
}

/// A result whose top genre is `label` at `p` (the other label gets the rest).
pub(super) fn classified(label: &str, p: f32) -> crate::classifier::Classified {
    let other = if label == "rock" { "jazz" } else { "rock" };
    crate::classifier::Classified {
        duration_s: 30.0,
        analysed_s: Some(30.0),
        partial: false,
        warnings: Vec::new(),
        prediction: crate::model::Prediction {
            labels: vec![label.into(), other.into()],
            probs: vec![p, 1.0 - p],
            segments: Vec::new(),
            embedding: None,
        },
        from_cache: true,
        file_key: None,
    }
}

pub(super) fn model_ready(s: &mut State) -> Vec<Effect> {
    let info = ModelInfo {
        name: "test".into(),
        sha256: "test-sha".into(),
        labels: vec!["rock".into(), "jazz".into()],
        warnings: Vec::new(),
        cache_path: None,
    };
    update(s, Msg::Model(Ok(info)))
}

/// A state on `lib/Album/` holding `n` files, the folder collapsed.
pub(super) fn album(n: usize) -> State {
    let mut s = state(0, true);
    let mut entries = vec![ScanEntry::Dir {
        parent: ROOT,
        name: OsString::from("Album"),
    }];
    entries.extend((0..n).map(|i| ScanEntry::Audio {
        parent: 1,
        name: OsString::from(format!("song-{i}.mp3")),
    }));
    scanned(&mut s, entries);
    s
}

/// The screen as text after one frame.
pub(super) fn screen_of(s: &State, width: u16, height: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(width, height)).unwrap();
    t.draw(|f| super::super::view::draw(s, f)).unwrap();
    t.backend()
        .buffer()
        .content()
        .iter()
        .map(|c| c.symbol())
        .collect()
}

/// The tagger answers a batch preview with these rows.
pub(super) fn previewed(
    s: &mut State,
    req: super::super::effect::ReqId,
    rows: Vec<super::super::tagger::Planned>,
) -> Vec<Effect> {
    update(
        s,
        Msg::Tag {
            req,
            event: TagEvent::Previewed(rows),
        },
    )
}

/// The batch preview (`A`'s dry run) that `fx` asks the tagger for, if any.
pub(super) fn preview_asked(
    fx: Vec<Effect>,
) -> Option<(
    super::super::effect::ReqId,
    Vec<(super::super::tagger::TagItem, f32)>,
)> {
    fx.into_iter().find_map(|e| match e {
        Effect::PreviewTags { req, items } => Some((req, items)),
        _ => None,
    })
}

/// The tagger's dry run of a batch, as if every write changed Country to Pop.
pub(super) fn dry_run(
    items: Vec<(super::super::tagger::TagItem, f32)>,
) -> Vec<super::super::tagger::Planned> {
    items
        .into_iter()
        .map(|(item, confidence)| {
            let report = crate::tags::WriteReport {
                path: item.path.clone(),
                old: Vec::new(),
                new: vec!["Pop".into()],
                changed: true,
                old_state: Default::default(),
                new_state: Default::default(),
                key_before: None,
            };
            super::super::tagger::Planned {
                node: item.node,
                path: item.path,
                change: item.change,
                confidence,
                plan: Ok(report),
                held: None,
                decided_on: None,
                tick: None,
            }
        })
        .collect()
}

#[test]
fn batch_accept_loads_cached_results_of_a_collapsed_folder_and_holds_back_decided_files() {
    let mut s = album(4);
    let fx = model_ready(&mut s);
    answer_inspections(&mut s, &fx);
    let files: Vec<_> = s.tree.files().collect();
    assert_eq!(s.browser.rows().len(), 1, "the folder is collapsed");
    assert!(files.iter().all(|&f| s.results.result(f).is_none()));
    // Decided by the user: a genre set by hand (✎), a skip (–).
    s.results.entry(files[0]).written = Some(vec!["Country".into()]);
    s.results.entry(files[1]).skipped = true;

    let fx = key(&mut s, KeyCode::Char('A'));
    let peeks: Vec<_> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::Peek { req, node, .. } => Some((*req, *node)),
            _ => None,
        })
        .collect();
    assert_eq!(peeks.len(), 4, "every file is looked up: {fx:?}");
    assert!(!fx.iter().any(|e| matches!(e, Effect::PreviewTags { .. })));
    let mut preview = None;
    for (req, node) in peeks {
        let fx = update(
            &mut s,
            Msg::Peeked {
                req,
                node,
                found: Some(Box::new(classified("pop", 0.9))),
            },
        );
        preview = preview_asked(fx);
    }
    let (req, items) = preview.expect("the list is built once the cache answered");
    assert_eq!(items.len(), 4, "no row had to be scrolled into view");
    let rows = dry_run(items);
    previewed(&mut s, req, rows);
    assert_eq!(chosen(&s), [files[2], files[3]], "✎ and – are left out");
    let screen = screen_of(&s, 100, 20);
    assert!(
        screen.contains("left out: 1 set already (✎), 1 skipped (–)"),
        "{screen}"
    );
    assert!(screen.contains("Write 2 of 4 files"), "{screen}");

    // Space ticks the hand-tagged row back in; Space again unticks it,
    // also with a movement bound to space (the list's own key wins: the
    // rebinding hid the tick)
    s.keymap = crate::tui::keymap::KeyMap::with_overrides([("page-down", vec!["space"])])
        .unwrap()
        .0;
    key(&mut s, KeyCode::Char(' '));
    assert_eq!(chosen(&s), [files[0], files[2], files[3]]);
    key(&mut s, KeyCode::Char(' '));
    assert_eq!(chosen(&s), [files[2], files[3]]);
    // And unticks a row offered by default.
    key(&mut s, KeyCode::Down);
    key(&mut s, KeyCode::Down);
    key(&mut s, KeyCode::Char(' '));
    assert_eq!(chosen(&s), [files[3]]);
    let fx = key(&mut s, KeyCode::Enter);
    let Some(Effect::WriteTags { items, .. }) =
        fx.iter().find(|e| matches!(e, Effect::WriteTags { .. }))
    else {
        panic!("no write: {fx:?}");
    };
    let written: Vec<_> = items.iter().map(|i| i.node).collect();
    assert_eq!(written, [files[3]]);
}

/// Marks are for one batch (as yazi's selection is for one operation): once
/// the batch is written they go, so the next `c` or `A` acts on what is on
/// screen; `c` on marked files all classified says how to leave the marks.
#[test]
fn a_batch_over_marks_clears_them() {
    let mut s = state(3, true);
    let fx = model_ready(&mut s);
    answer_inspections(&mut s, &fx);
    let files: Vec<_> = s.tree.files().collect();
    for &f in &files[..2] {
        s.results.set_result(f, classified("pop", 0.9));
    }
    key(&mut s, KeyCode::Char('m'));
    key(&mut s, KeyCode::Char('m'));
    assert_eq!(s.browser.marked(), files[..2]);
    key(&mut s, KeyCode::Char('c'));
    assert_eq!(
        s.status.message(),
        Some("2 marked files: already classified (M clears the marks)")
    );
    let fx = key(&mut s, KeyCode::Char('A'));
    let (req, items) = preview_asked(fx).expect("a preview of the marked files");
    assert_eq!(items.len(), 2);
    let rows = dry_run(items);
    previewed(&mut s, req, rows);
    let fx = key(&mut s, KeyCode::Enter);
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::WriteTags { items, .. } if items.len() == 2)),
        "{fx:?}"
    );
    assert!(
        s.browser.marked().is_empty(),
        "the marks went with the batch"
    );
}

#[test]
fn batch_accept_pressed_while_the_model_loads_waits_for_it() {
    let mut s = album(2);
    let fx = key(&mut s, KeyCode::Char('A'));
    assert!(
        !fx.iter()
            .any(|e| matches!(e, Effect::Peek { .. } | Effect::PreviewTags { .. }))
    );
    assert!(
        s.popup.is_some(),
        "the preview waits, it does not say 'nothing classified'"
    );
    let fx = model_ready(&mut s);
    let peeks = fx
        .iter()
        .filter(|e| matches!(e, Effect::Peek { .. }))
        .count();
    assert_eq!(peeks, 2, "{fx:?}");
}

#[test]
fn a_row_that_cannot_be_written_is_never_chosen_even_ticked() {
    let row = super::super::tagger::Planned {
        node: 1,
        path: "/gone/song.mp3".into(),
        change: crate::tags::GenreChange {
            genres: vec!["Pop".into()],
            mode: GenreMode::Replace,
        },
        confidence: 0.99,
        plan: Err("/gone/song.mp3: no such file".into()),
        held: None,
        decided_on: None,
        tick: Some(true),
    };
    assert!(!row.chosen(0.0));
}

/// The tagger's answer to one file of a write request.
fn written(s: &mut State, req: u64, node: u32, journal_id: i64, new: &[&str]) -> Vec<Effect> {
    written_over(s, req, node, journal_id, &["Rock"], new)
}

/// As [`written`], over the genres `old`.
fn written_over(
    s: &mut State,
    req: u64,
    node: u32,
    journal_id: i64,
    old: &[&str],
    new: &[&str],
) -> Vec<Effect> {
    let report = crate::tags::WriteReport {
        path: s.tree.path(node),
        old: old.iter().map(|g| g.to_string()).collect(),
        new: new.iter().map(|g| g.to_string()).collect(),
        changed: true,
        old_state: Default::default(),
        new_state: Default::default(),
        key_before: None,
    };
    update(
        s,
        Msg::Tag {
            req,
            event: TagEvent::Written {
                node,
                result: Ok(crate::tags::apply::Applied {
                    report,
                    journal_id: Some(journal_id),
                    key_after: None,
                }),
            },
        },
    )
}

fn write_req(fx: &[Effect]) -> (u64, Vec<u32>) {
    fx.iter()
        .find_map(|e| match e {
            Effect::WriteTags { req, items } => {
                Some((*req, items.iter().map(|i| i.node).collect()))
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("no write asked for: {fx:?}"))
}

#[test]
fn u_undoes_only_this_sessions_writes_names_them_and_asks_before_several() {
    let mut s = state(3, false);
    let files: Vec<_> = s.tree.files().collect();
    // Nothing written since the app opened: the CLI's batches are not touched.
    let fx = key(&mut s, KeyCode::Char('u'));
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::UndoTags { .. })),
        "{fx:?}"
    );
    assert!(
        s.status
            .message()
            .unwrap()
            .starts_with("nothing to undo here ("),
        "{:?}",
        s.status.message()
    );

    // One write of two files (a batch), then one of a single file.
    let fx = {
        let mut fx = Vec::new();
        super::tagging::write_tags(
            &mut s,
            &mut fx,
            vec![
                (files[0], vec!["Jazz".into()]),
                (files[1], vec!["Jazz".into()]),
            ],
        );
        fx
    };
    let (batch, _) = write_req(&fx);
    written(&mut s, batch, files[0], 11, &["Jazz"]);
    written(&mut s, batch, files[1], 12, &["Jazz"]);
    let mut fx = Vec::new();
    super::tagging::write_tags(&mut s, &mut fx, vec![(files[2], vec!["Pop".into()])]);
    let (single, _) = write_req(&fx);
    written(&mut s, single, files[2], 13, &["Pop"]);

    // The single write goes at once.
    let fx = key(&mut s, KeyCode::Char('u'));
    let Some(Effect::UndoTags { req, ids }) =
        fx.iter().find(|e| matches!(e, Effect::UndoTags { .. }))
    else {
        panic!("no undo: {fx:?}");
    };
    assert_eq!(ids, &[13]);
    let path = std::path::absolute(s.tree.path(files[2])).unwrap();
    update(
        &mut s,
        Msg::Tag {
            req: *req,
            event: TagEvent::Undone(vec![Ok(super::super::tagger::UndoneFile {
                path,
                genres: vec!["Rock".into()],
                key_before: None,
                key: None,
                still_written: false,
            })]),
        },
    );
    assert_eq!(s.status.message(), Some("undid track-02.mp3: Pop → Rock"));

    // The batch of two asks first; n keeps it.
    let fx = key(&mut s, KeyCode::Char('u'));
    assert!(!fx.iter().any(|e| matches!(e, Effect::UndoTags { .. })));
    let Some(Popup::Confirm { question, .. }) = &s.popup else {
        panic!("no question");
    };
    assert_eq!(
        question,
        "Undo the last 2 tag writes (track-00.mp3, track-01.mp3)?"
    );
    key(&mut s, KeyCode::Char('n'));
    assert!(s.popup.is_none());
    assert_eq!(s.status.message(), Some("nothing undone"));
    key(&mut s, KeyCode::Char('u'));
    let fx = key(&mut s, KeyCode::Char('y'));
    let Some(Effect::UndoTags { ids, .. }) =
        fx.iter().find(|e| matches!(e, Effect::UndoTags { .. }))
    else {
        panic!("no undo after yes: {fx:?}");
    };
    assert_eq!(ids, &[12, 11], "newest first");
    assert!(s.undo_steps.is_empty());
}

/// `u`, answered by the tagger: the file holds `now` again (`still_written`:
/// what an earlier earmark write, not undone, put there).
fn undo_to(s: &mut State, node: u32, now: &[&str], still_written: bool) {
    let fx = key(s, KeyCode::Char('u'));
    let Some(Effect::UndoTags { req, .. }) =
        fx.iter().find(|e| matches!(e, Effect::UndoTags { .. }))
    else {
        panic!("no undo: {fx:?}");
    };
    let path = std::path::absolute(s.tree.path(node)).unwrap();
    let now = now.iter().map(|g| g.to_string()).collect();
    let event = TagEvent::Undone(vec![Ok(super::super::tagger::UndoneFile {
        path,
        genres: now,
        key_before: None,
        key: None,
        still_written,
    })]);
    update(s, Msg::Tag { req: *req, event });
}

#[test]
fn each_undo_of_one_file_says_what_it_held_and_holds_again() {
    let mut s = state(1, false);
    let file = s.tree.files().next().unwrap();
    for (id, genre) in [(21, "Jazz"), (22, "Pop")] {
        let mut fx = Vec::new();
        super::tagging::write_tags(&mut s, &mut fx, vec![(file, vec![genre.into()])]);
        let (req, _) = write_req(&fx);
        written(&mut s, req, file, id, &[genre]);
    }
    undo_to(&mut s, file, &["Jazz"], true);
    assert_eq!(s.status.message(), Some("undid track-00.mp3: Pop → Jazz"));
    // Jazz is earmark's earlier write: the file keeps its ✎
    let written = s.results.get(file).and_then(|f| f.written.clone());
    assert_eq!(written, Some(vec!["Jazz".to_string()]));
    // The re-read after the undo: the earlier write's undo says what it held.
    let mut inspection = crate::library::tree::Inspection {
        info: Err("not read in tests".into()),
        tags: Ok(crate::tags::TagSummary::default()),
        problem: None,
        key: None,
        ino: None,
    };
    if let Ok(t) = &mut inspection.tags {
        t.genres = vec!["Jazz".into()];
    }
    s.tree.set_inspection(file, inspection);
    undo_to(&mut s, file, &["Rock"], false);
    assert!(s.results.get(file).is_some_and(|f| f.written.is_none()));
    assert_eq!(s.status.message(), Some("undid track-00.mp3: Jazz → Rock"));
}

#[test]
fn shift_t_with_an_empty_line_asks_then_removes_the_genre() {
    let mut s = state(2, false);
    key(&mut s, KeyCode::Down);
    let node = s.browser.selected().unwrap();
    key(&mut s, KeyCode::Char('T'));
    // Whatever the line held (nothing read in tests), Enter on an empty line asks.
    let fx = key(&mut s, KeyCode::Enter);
    assert!(!fx.iter().any(|e| matches!(e, Effect::WriteTags { .. })));
    let Some(Popup::Confirm { question, .. }) = &s.popup else {
        panic!("no question");
    };
    assert!(question.contains("Remove the genre tag"), "{question}");
    // The question is on screen, wrapped inside the pop-up.
    let screen = screen_of(&s, 80, 24);
    assert!(screen.contains("Remove the genre tag"), "{screen}");
    let fx = key(&mut s, KeyCode::Char('y'));
    let Some(Effect::WriteTags { items, .. }) =
        fx.iter().find(|e| matches!(e, Effect::WriteTags { .. }))
    else {
        panic!("no write: {fx:?}");
    };
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].node, node);
    assert!(items[0].change.genres.is_empty());
    assert_eq!(items[0].change.mode, GenreMode::Replace);
}

/// `:` then `text` then Enter: the seek prompt's effects.
fn colon(s: &mut State, text: &str) -> Vec<Effect> {
    key(s, KeyCode::Char(':'));
    for c in text.chars() {
        key(s, KeyCode::Char(c));
    }
    key(s, KeyCode::Enter)
}

/// The player says `node`'s track (an Ogg Vorbis of `duration_s`) started.
fn player_started(s: &mut State, node: u32, duration_s: Option<f64>) -> Vec<Effect> {
    let info = crate::audio::SourceInfo {
        container: "Ogg".into(),
        codec: "vorbis".into(),
        sample_rate: 44100,
        channels: 2,
        bits_per_sample: None,
        duration_s,
    };
    let path = s.tree.path(node);
    update(
        s,
        Msg::Player(PlayerEvent::Started {
            path,
            info,
            paused: false,
        }),
    )
}

/// A stream that does not declare its length plays with the length its
/// analysis found (the Track pane's): the bar shows it and `50%` seeks.
#[test]
fn a_track_without_a_declared_length_plays_with_its_analysis_length() {
    let mut s = state(1, false);
    let node = s.tree.files().next().unwrap();
    s.player.node = Some(node);
    s.player.state = PlayState::Loading;
    let mut c = classified("rock", 0.9);
    c.duration_s = 62.0;
    s.results.set_result(node, c);
    player_started(&mut s, node, None);
    assert_eq!(s.player.duration(), Some(62.0));
    let fx = colon(&mut s, "50%");
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Seek(t) if *t == 31.0)),
        "{fx:?}"
    );
}

/// `:` with nothing playing opens the prompt too: what is typed plays the
/// selected file from there. It said "nothing playing" and let the digits
/// typed next reach the browser, where `1` wrote rank 1's genre.
#[test]
fn colon_while_stopped_plays_the_selected_file_from_the_typed_time() {
    let mut s = state(2, false);
    let node = s.tree.files().next().unwrap();
    s.results.set_result(node, classified("rock", 0.9));
    while s.browser.selected() != Some(node) {
        key(&mut s, KeyCode::Down);
    }
    // the step keys say why nothing moved (they did nothing, silently)
    key(&mut s, KeyCode::Char('.'));
    assert_eq!(
        s.status.message(),
        Some("nothing playing to seek in (space plays)")
    );
    key(&mut s, KeyCode::Char(':'));
    assert!(s.popup.is_some(), "the prompt opens");
    let mut fx = Vec::new();
    for c in "1:30".chars() {
        fx.extend(key(&mut s, KeyCode::Char(c)));
    }
    fx.extend(key(&mut s, KeyCode::Enter));
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::WriteTags { .. })),
        "{fx:?}"
    );
    assert!(fx.iter().any(|e| matches!(e, Effect::Play(_))), "{fx:?}");
    assert_eq!(s.player.state, PlayState::Loading);
    let fx = player_started(&mut s, node, Some(200.0));
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Seek(t) if *t == 90.0)),
        "{fx:?}"
    );
    assert_eq!(s.player.start_at, None);

    // Ended, another file selected: as Space, that file plays from there
    // (the ended track was sought instead).
    s.player.state = PlayState::Ended;
    let other = s.tree.files().nth(1).unwrap();
    s.player.node = Some(other);
    let fx = colon(&mut s, "0:20");
    assert!(fx.iter().any(|e| matches!(e, Effect::Play(_))), "{fx:?}");
    assert_eq!(s.player.node, Some(node));
    assert_eq!(s.player.start_at, Some(crate::player::SeekTarget::At(20.0)));

    // Ended on the selected track itself: it plays again from there.
    player_started(&mut s, node, Some(200.0));
    s.player.state = PlayState::Ended;
    let fx = colon(&mut s, "0:30");
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Seek(t) if *t == 30.0)),
        "{fx:?}"
    );
    assert_eq!(s.player.state, PlayState::Playing);
}

#[test]
fn colon_seeks_to_a_typed_time_or_percent() {
    let mut s = state(1, false);
    s.player.node = s.tree.files().next();
    s.player.state = PlayState::Playing;
    s.player.info = Some(crate::audio::SourceInfo {
        container: "mp3".into(),
        codec: "mp3".into(),
        sample_rate: 44100,
        channels: 2,
        bits_per_sample: None,
        duration_s: Some(1200.0),
    });
    let typed = |s: &mut State, text: &str| {
        key(s, KeyCode::Char(':'));
        assert!(s.popup.is_some());
        for c in text.chars() {
            key(s, KeyCode::Char(c));
        }
        key(s, KeyCode::Enter)
    };
    let seek = |fx: &[Effect]| {
        fx.iter().find_map(|e| match e {
            Effect::Seek(t) => Some(*t),
            _ => None,
        })
    };
    assert_eq!(seek(&typed(&mut s, "16:00")), Some(960.0));
    assert_eq!(seek(&typed(&mut s, "50%")), Some(600.0));
    assert_eq!(seek(&typed(&mut s, "90")), Some(90.0));
    assert_eq!(seek(&typed(&mut s, "soon")), None);
    assert!(s.status.message().unwrap().contains("is not a time"));
    assert!(s.popup.is_none());
    // Past the end: to its last moment, and said.
    assert_eq!(seek(&typed(&mut s, "999:00")), Some(1199.75));
    assert_eq!(
        s.status.message(),
        Some("the track is 20:00 long: at its end")
    );
}

#[test]
fn rescan_shows_new_files_drops_deleted_ones_and_keeps_what_is_known() {
    use std::fs;
    let dir = tempfile::tempdir().unwrap();
    let album = dir.path().join("Album");
    fs::create_dir(&album).unwrap();
    for n in ["a.mp3", "b.mp3", "c.mp3"] {
        fs::write(album.join(n), b"not really audio").unwrap();
    }
    let mut s = State::new(setup(dir.path().into(), false));
    update(&mut s, rescanned(dir.path(), false));
    let id = |s: &State, name: &str| s.tree.files().find(|&f| s.tree.node(f).label() == name);
    let (a, b, c) = (
        id(&s, "a.mp3").unwrap(),
        id(&s, "b.mp3").unwrap(),
        id(&s, "c.mp3").unwrap(),
    );
    s.results.entry(b).written = Some(vec!["Jazz".into()]);
    s.results.entry(c).skipped = true;
    s.browser.toggle_mark(a);
    s.browser.toggle_mark(c);
    s.browser.reveal(&s.tree, c);

    fs::remove_file(album.join("a.mp3")).unwrap();
    fs::write(album.join("0-new.mp3"), b"new").unwrap();
    let fx = key(&mut s, KeyCode::Char('R'));
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Rescan { auto: false })),
        "{fx:?}"
    );
    update(&mut s, rescanned(dir.path(), false));

    assert_eq!(id(&s, "a.mp3"), None, "the deleted file is gone");
    assert!(id(&s, "0-new.mp3").is_some(), "the new file is listed");
    assert_eq!(s.status.message(), Some("rescanned: 1 new file, 1 gone"));
    let (b, c) = (id(&s, "b.mp3").unwrap(), id(&s, "c.mp3").unwrap());
    assert_eq!(
        s.results.get(b).and_then(|f| f.written.clone()),
        Some(vec!["Jazz".into()])
    );
    assert!(s.results.get(c).is_some_and(|f| f.skipped));
    assert_eq!(
        s.browser.marked(),
        [c],
        "marks follow their files; the deleted one's is gone"
    );
    assert_eq!(
        s.browser.selected(),
        Some(c),
        "the selection stays on its file"
    );
    // The deleted file can no longer be part of a batch.
    let (files, _) = super::actions::selection_files(&s);
    assert!(files.iter().all(|&f| s.tree.path(f).exists()));
}

/// A file another program renamed or moved (same size and mtime) is the
/// same file: the rescan says it moved, not "1 new, 1 gone", and what was
/// known of it, its marks and the selection follow it.
#[test]
fn a_rescan_follows_files_that_moved() {
    use std::fs;
    let dir = tempfile::tempdir().unwrap();
    let album = dir.path().join("Album");
    fs::create_dir(&album).unwrap();
    fs::write(album.join("a.mp3"), b"not really audio").unwrap();
    fs::write(album.join("b.mp3"), b"not really audio either").unwrap();
    let mut s = State::new(setup(dir.path().into(), false));
    update(&mut s, rescanned(dir.path(), false));
    for f in s.tree.files().collect::<Vec<_>>() {
        let inspection = crate::library::tree::inspect_file(&s.tree.path(f));
        s.tree.set_inspection(f, inspection);
    }
    let id = |s: &State, name: &str| s.tree.files().find(|&f| s.tree.node(f).label() == name);
    let a = id(&s, "a.mp3").unwrap();
    s.results.entry(a).written = Some(vec!["Jazz".into()]);
    s.browser.reveal(&s.tree, a);

    fs::create_dir(dir.path().join("Elsewhere")).unwrap();
    fs::rename(album.join("a.mp3"), dir.path().join("Elsewhere/a (1).mp3")).unwrap();
    fs::rename(album.join("b.mp3"), album.join("b renamed.mp3")).unwrap();
    update(&mut s, rescanned(dir.path(), true));

    assert_eq!(
        s.status.message(),
        Some("the folder changed: 2 files moved")
    );
    let a = id(&s, "a (1).mp3").unwrap();
    assert_eq!(
        s.tree.rel_path(a),
        std::path::Path::new("Elsewhere/a (1).mp3")
    );
    assert_eq!(
        s.browser.selected(),
        Some(a),
        "the selection follows the file"
    );
    assert_eq!(
        s.results.get(a).and_then(|f| f.written.clone()),
        Some(vec!["Jazz".into()])
    );
    assert!(s.tree.node(a).inspection().is_some(), "not read again");
    fs::remove_file(album.join("b renamed.mp3")).unwrap();
    // (the undo's follow-up is a_moved_file_keeps_its_undo)
    key(&mut s, KeyCode::Char('R'));
    update(&mut s, rescanned(dir.path(), false));
    assert_eq!(s.status.message(), Some("rescanned: 0 new files, 1 gone"));
}

/// A file never shown (never inspected) that another program renames is
/// moved too, known by the last scan's size, mtime and inode: its mark
/// follows it ("1 new file, 1 gone" lost it). The first scan notes none, so
/// a silent rescan follows it.
#[test]
fn a_file_renamed_before_it_was_shown_keeps_its_mark() {
    use std::fs;
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a.mp3"), b"not really audio").unwrap();
    fs::write(dir.path().join("b.mp3"), b"nor this").unwrap();
    let mut s = State::new(setup(dir.path().into(), false));
    update(&mut s, rescanned(dir.path(), false));
    let a = s.tree.files().next().unwrap();
    assert!(s.tree.node(a).inspection().is_none());
    s.browser.toggle_mark(a);
    fs::rename(dir.path().join("a.mp3"), dir.path().join("z renamed.mp3")).unwrap();
    update(&mut s, rescanned(dir.path(), true));
    assert_eq!(s.status.message(), Some("the folder changed: 1 file moved"));
    let z = s
        .tree
        .files()
        .find(|&f| s.tree.node(f).label() == "z renamed.mp3")
        .unwrap();
    assert_eq!(s.browser.marked(), [z]);
    // the first scan (streamed, no versions noted) asks for that rescan once
    let s = state(2, false);
    assert_eq!(
        s.rescans.running, 1,
        "one silent rescan after the first scan"
    );
    assert!(s.status.message().is_none_or(|m| !m.contains("rescan")));
}

/// A file earmark wrote and another program then renamed keeps its undo:
/// the step names its new path and the journal is told to follow it (`u`
/// said "No such file or directory" with the old path).
#[test]
fn a_moved_file_keeps_its_undo() {
    use std::fs;
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a.mp3"), b"not really audio").unwrap();
    let mut s = State::new(setup(dir.path().into(), false));
    update(&mut s, rescanned(dir.path(), false));
    for f in s.tree.files().collect::<Vec<_>>() {
        let inspection = crate::library::tree::inspect_file(&s.tree.path(f));
        s.tree.set_inspection(f, inspection);
    }
    let a = s.tree.files().next().unwrap();
    let old = s.tree.path(a);
    s.undo_steps.push(crate::tui::state::UndoStep {
        req: 7,
        writes: vec![(31, old.clone())],
    });
    s.written_paths.insert(old.clone(), a);
    let new = dir.path().join("a renamed.mp3");
    fs::rename(&old, &new).unwrap();
    let fx = update(&mut s, rescanned(dir.path(), true));
    assert_eq!(s.undo_steps[0].writes, [(31, new.clone())]);
    let a = s.tree.files().next().unwrap();
    assert_eq!(s.written_paths.get(&new), Some(&a));
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::FollowMoves(m) if m == &[(old.clone(), new.clone())])),
        "{fx:?}"
    );
}

/// The batch's summary counts this batch's failures only (an earlier
/// failure stays marked ✗ but is not counted again), and offers undo only
/// when something was written.
#[test]
fn a_batch_summary_counts_its_own_failures() {
    let mut s = state(5, false);
    let files: Vec<_> = s.tree.files().collect();
    let fail = |s: &mut State, req: u64, node: u32| {
        write_failed(s, req, node, "read-only", "the file is read-only");
    };
    let (batch, done) = (jazz_batch, batch_done);

    let req = batch(&mut s, &[files[0], files[1]]);
    fail(&mut s, req, files[0]);
    assert_eq!(
        s.status.message(),
        Some("not written: track-00.mp3: the file is read-only"),
        "the file by its name: the reason must fit the line"
    );
    fail(&mut s, req, files[1]);
    assert_eq!(done(&mut s, req, 2), "wrote nothing (2 failed: marked ✗)");

    let req = batch(&mut s, &[files[2], files[3], files[4]]);
    written(&mut s, req, files[2], 21, &["Jazz"]);
    // u takes the batch back whole, not this one file
    let said = s.status.message().unwrap_or_default();
    assert!(said.ends_with("· u undoes the batch"), "{said}");
    fail(&mut s, req, files[3]);
    written(&mut s, req, files[4], 22, &["Jazz"]);
    let said = s.status.message().unwrap_or_default();
    assert!(
        said.ends_with("· u undoes the batch"),
        "the last one too: {said}"
    );
    assert_eq!(
        done(&mut s, req, 3),
        "wrote Jazz to 2 of 3 files (1 failed: marked ✗) · u undoes the batch"
    );

    // A file deleted before its turn has no ✗ to point at.
    let req = batch(&mut s, &[files[0], files[2], files[4]]);
    write_failed(&mut s, req, files[0], "not-found", "no such file");
    fail(&mut s, req, files[2]);
    written(&mut s, req, files[4], 23, &["Jazz"]);
    assert_eq!(
        done(&mut s, req, 3),
        "wrote Jazz to 1 of 3 files (1 failed: marked ✗; 1 no longer there) · u undoes the batch"
    );
}

/// A refusal that says "not written" itself is said so once: the status
/// line read "not written: cut.flac: not written: its audio ends at 0:02…".
#[test]
fn a_refusal_says_not_written_once() {
    let mut s = state(1, false);
    let files: Vec<_> = s.tree.files().collect();
    let req = jazz_batch(&mut s, &files);
    let reason = "not written: its audio ends at 0:02 of the 0:30 it declares";
    write_failed(&mut s, req, files[0], "cut-short", reason);
    let name = s.tree.node(files[0]).label().into_owned();
    assert_eq!(
        s.status.message().unwrap_or_default(),
        format!("not written: {name}: its audio ends at 0:02 of the 0:30 it declares")
    );
}

/// The tagger's answer that `node`'s write in `req` failed.
fn write_failed(s: &mut State, req: u64, node: u32, kind: &'static str, reason: &str) {
    update(
        s,
        Msg::Tag {
            req,
            event: TagEvent::Written {
                node,
                result: Err(super::super::tagger::WriteFailed {
                    kind,
                    reason: reason.into(),
                }),
            },
        },
    );
}

/// "Jazz" to these files, as `T` writes it over marks; its request.
fn jazz_batch(s: &mut State, nodes: &[u32]) -> u64 {
    let mut fx = Vec::new();
    let items = nodes.iter().map(|&n| (n, vec!["Jazz".into()])).collect();
    super::tagging::write_tags(s, &mut fx, items);
    write_req(&fx).0
}

/// The batch `req` of `total` files ends: the status line then.
fn batch_done(s: &mut State, req: u64, total: usize) -> String {
    update(
        s,
        Msg::Tag {
            req,
            event: TagEvent::WriteDone { total },
        },
    );
    s.status.message().unwrap_or_default().to_string()
}

/// The summary names the one genre a batch wrote, and does not count a file
/// that held it already as written ("wrote 3 files" of which one was not).
#[test]
fn a_batch_summary_names_the_genre_and_what_held_it_already() {
    let mut s = state(5, false);
    let files: Vec<_> = s.tree.files().collect();
    let req = jazz_batch(&mut s, &[files[0], files[1], files[2]]);
    written(&mut s, req, files[0], 24, &["Jazz"]);
    written(&mut s, req, files[1], 25, &["Jazz"]);
    let report = crate::tags::WriteReport {
        path: s.tree.path(files[2]),
        old: vec!["Jazz".into()],
        new: vec!["Jazz".into()],
        changed: false,
        old_state: Default::default(),
        new_state: Default::default(),
        key_before: None,
    };
    let result = Ok(crate::tags::apply::Applied {
        report,
        journal_id: None,
        key_after: None,
    });
    let event = TagEvent::Written {
        node: files[2],
        result,
    };
    update(&mut s, Msg::Tag { req, event });
    assert_eq!(
        batch_done(&mut s, req, 3),
        "wrote Jazz to 2 of 3 files (1 had it already) · u undoes the batch"
    );
    // ✎ is for what earmark wrote: not the file that held it already
    let mark = |s: &State, n| s.results.get(n).and_then(|f| f.written.clone());
    assert!(mark(&s, files[0]).is_some());
    assert_eq!(mark(&s, files[2]), None);
    // Every file written, one genre: named.
    let req = jazz_batch(&mut s, &[files[3], files[4]]);
    written(&mut s, req, files[3], 26, &["Jazz"]);
    written(&mut s, req, files[4], 27, &["Jazz"]);
    assert_eq!(
        batch_done(&mut s, req, 2),
        "wrote Jazz to 2 files · u undoes the batch"
    );
}

/// q during a confirmed batch quits once the batch is written (a batch cut
/// at quitting leaves an album half tagged); q again quits at once.
#[test]
fn quit_during_a_batch_waits_for_it_unless_asked_twice() {
    for twice in [false, true] {
        let mut s = state(3, false);
        let files: Vec<_> = s.tree.files().collect();
        let mut fx = Vec::new();
        let items = files.iter().map(|&n| (n, vec!["Jazz".into()])).collect();
        super::tagging::write_tags(&mut s, &mut fx, items);
        let req = write_req(&fx).0;
        written(&mut s, req, files[0], 31, &["Jazz"]);
        key(&mut s, KeyCode::Char('q'));
        assert!(!s.quit, "quit before the batch ended");
        assert_eq!(
            s.status.message(),
            Some(
                "quitting once the tag write ends (2 files left) · q again stops it after the current file"
            )
        );
        if twice {
            key(&mut s, KeyCode::Char('q'));
            assert!(s.quit);
            continue;
        }
        written(&mut s, req, files[1], 32, &["Jazz"]);
        written(&mut s, req, files[2], 33, &["Jazz"]);
        assert!(!s.quit, "the batch has not said it ended");
        update(
            &mut s,
            Msg::Tag {
                req,
                event: TagEvent::WriteDone { total: 3 },
            },
        );
        assert!(s.quit);
    }
}

#[test]
fn a_write_says_the_genre_it_wrote_before_a_long_name_is_cut() {
    let mut s = state(1, false);
    let file = s.tree.files().next().unwrap();
    written(&mut s, 7, file, 31, &["Jazz"]);
    assert_eq!(
        s.status.message(),
        Some("wrote Jazz (was Rock) to track-00.mp3 · u undoes")
    );
    written(&mut s, 8, file, 32, &[]);
    assert_eq!(
        s.status.message(),
        Some("removed the genre Rock from track-00.mp3 · u undoes")
    );
    written_over(&mut s, 9, file, 33, &[], &["Pop"]);
    assert_eq!(
        s.status.message(),
        Some("wrote Pop to track-00.mp3 · u undoes")
    );
}

#[test]
fn a_message_cut_at_80_columns_reads_in_full_in_the_log() {
    use super::super::components::status::Level;
    use super::Layer;
    let mut s = state(3, false);
    let long = "cannot write the genre of track-01.mp3: the file is read-only \
                (chmod u+w it, or run as its owner), and the rest of this sentence ends HERE";
    s.status.set(long, Level::Error);
    s.status.set("second", Level::Info);
    s.status.set("second", Level::Info);
    s.status.set(long, Level::Error);
    let line = screen_of(&s, 80, 24)
        .chars()
        .skip(80 * 23)
        .collect::<String>();
    assert!(line.contains("… (! full)"), "{line}");
    assert!(!line.contains("HERE"));

    key(&mut s, KeyCode::Char('!'));
    assert_eq!(super::layers(&s), [Layer::Messages, Layer::Browser]);
    assert_eq!(
        s.status.message(),
        Some(long),
        "opening the log keeps the message"
    );
    let screen = screen_of(&s, 80, 24);
    assert!(screen.contains("Messages, newest last"), "{screen}");
    assert!(
        screen.contains("ends HERE"),
        "the whole message, wrapped: {screen}"
    );
    assert!(screen.contains("second (×2)"), "{screen}");
    key(&mut s, KeyCode::Char('q'));
    assert!(!s.quit, "a key closes the log first");
    assert_eq!(super::layers(&s), [Layer::Browser]);
}

#[test]
fn a_long_log_opens_at_its_end_and_scrolls() {
    use super::super::components::status::Level;
    let mut s = state(3, false);
    for i in 0..60 {
        s.status.set(format!("message number {i}"), Level::Info);
    }
    key(&mut s, KeyCode::Char('!'));
    let screen = screen_of(&s, 80, 24);
    assert!(screen.contains("message number 59") && !screen.contains("message number 0 "));
    assert!(screen.contains("end · ↑/↓ scroll"), "{screen}");
    key(&mut s, KeyCode::Home);
    let screen = screen_of(&s, 80, 24);
    let above_status: String = screen.chars().take(80 * 23).collect();
    assert!(above_status.contains("message number 0") && !above_status.contains("number 59"));
    assert!(above_status.contains("top · ↑/↓ scroll"), "{screen}");
    assert!(
        s.status.log.visible,
        "arrows and Home scroll, they do not close"
    );
    key(&mut s, KeyCode::Char('x'));
    assert!(!s.status.log.visible);
}

#[test]
fn the_log_keeps_the_outcome_of_announced_runs_not_of_previews() {
    use super::super::components::status::Level;
    let mut s = state(3, true);
    key(&mut s, KeyCode::Down);
    let previews: Vec<_> = s
        .inflight
        .iter()
        .filter(|(_, w)| matches!(w, Work::Classify { .. }))
        .map(|(r, _)| r)
        .collect();
    assert!(
        !previews.is_empty(),
        "the selected file is classified on its own"
    );
    for req in previews {
        fail_job(&mut s, req);
    }
    let logged =
        |s: &State| -> Vec<String> { s.status.log.entries().map(|e| e.text.clone()).collect() };
    assert!(
        !logged(&s).iter().any(|m| m.contains("classif")),
        "{:?}",
        logged(&s)
    );
    // A run announced, then another message on the line: its outcome is logged.
    let reqs = mark_all_and_classify(&mut s);
    s.status.set("something else", Level::Info);
    for req in reqs {
        fail_job(&mut s, req);
    }
    assert_eq!(s.status.message(), Some("something else"));
    assert!(
        logged(&s)
            .last()
            .is_some_and(|m| m.ends_with("could not be classified")),
        "{:?}",
        logged(&s)
    );
}

#[test]
fn every_startup_warning_is_in_the_log() {
    use super::super::state::State;
    let mut setup = setup("/nowhere/lib".into(), false);
    setup.warnings = vec!["first warning".into(), "second".into(), "third".into()];
    let s = State::new(setup);
    assert_eq!(
        s.status.message(),
        Some("first warning (and 2 more: ! shows them)")
    );
    let logged: Vec<&str> = s.status.log.entries().map(|e| e.text.as_str()).collect();
    assert_eq!(
        logged[1..],
        ["first warning", "second", "third"],
        "after the silent-mode note; the log holds each as it is (the line's \
         '(and 2 more: ! shows them)' read oddly there)"
    );
}

/// The files the open batch preview would write now.
pub(super) fn chosen(s: &State) -> Vec<crate::library::tree::NodeId> {
    match &s.popup {
        Some(Popup::Batch {
            rows: Some(rows),
            threshold,
            ..
        }) => Popup::batch_selected(rows, *threshold)
            .map(|r| r.node)
            .collect(),
        _ => panic!("no batch preview"),
    }
}

/// Help names the config file it read, or says there is none and where one
/// would be read.
#[test]
fn help_says_whether_a_config_file_was_read() {
    let mut s = state(1, false);
    s.config_path = Some(std::path::PathBuf::from(
        "/home/u/.config/earmark/config.toml",
    ));
    key(&mut s, KeyCode::Char('?'));
    let screen = screen_of(&s, 200, 60);
    assert!(
        screen.contains("Config (keys, theme): none, defaults in use; write"),
        "{screen}"
    );
    s.config_found = true;
    let screen = screen_of(&s, 200, 60);
    assert!(
        screen.contains("Config (keys, theme): /home/u/.config/earmark/config.toml")
            && !screen.contains("defaults in use"),
        "{screen}"
    );
}

/// Answer `fx`'s inspection of `node` with a file of version `key`.
fn inspected_as(s: &mut State, fx: &[Effect], node: u32, key: crate::cache::FileKey) {
    let req = fx
        .iter()
        .find_map(|e| match e {
            Effect::Inspect { req, node: n, .. } if *n == node => Some(*req),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{node} not read again: {fx:?}"));
    update(
        s,
        Msg::Inspected {
            reqs: vec![req],
            node,
            inspection: Box::new(crate::library::tree::Inspection {
                info: Err("not read in tests".into()),
                tags: Err("not read in tests".into()),
                problem: None,
                key: Some(key),
                ino: None,
            }),
        },
    );
}

/// A file written unseen (`A` on a collapsed folder) whose write failed
/// keeps its ✗ when it is first read on screen: a first reading is no other
/// version.
#[test]
fn a_write_failure_stays_when_its_file_is_first_read() {
    let mut s = state(60, false);
    let files: Vec<_> = s.tree.files().collect();
    let last = *files.last().unwrap();
    assert!(s.tree.node(last).inspection().is_none(), "read already");
    s.results.entry(last).write_error = Some("the file is read-only".into());
    let fx = key(&mut s, KeyCode::Char('G'));
    let first = crate::cache::FileKey {
        size: 10,
        mtime_ns: 1,
    };
    inspected_as(&mut s, &fx, last, first);
    assert!(s.results.get(last).unwrap().write_error.is_some());
}

/// The Genre pane numbers its bars 1-9, 0: a digit writes the genre of
/// that rank, as `a` writes the first; a rank with no genre, or a file not
/// yet classified, says so and writes nothing; a digit bound in the config
/// does what it is bound to.
#[test]
fn a_digit_tags_the_genre_of_its_rank() {
    let written = |fx: &[Effect]| {
        fx.iter().find_map(|e| match e {
            Effect::WriteTags { items, .. } => Some(items[0].change.genres.clone()),
            _ => None,
        })
    };
    let mut s = state(2, true);
    // the same file written again and again: the cursor stays on it
    s.advance_after_tag = false;
    model_ready(&mut s);
    let f = s.tree.files().next().unwrap();
    let fx = key(&mut s, KeyCode::Char('2'));
    assert_eq!(written(&fx), None);
    assert!(
        s.status.message().unwrap().contains("no suggestion yet"),
        "{:?}",
        s.status.message()
    );

    s.results.set_result(f, classified("rock", 0.7));
    let fx = key(&mut s, KeyCode::Char('2'));
    assert_eq!(written(&fx), Some(vec!["Jazz".to_string()]));
    let fx = key(&mut s, KeyCode::Char('3'));
    assert_eq!(written(&fx), None);
    assert_eq!(s.status.message(), Some("no genre is ranked 3"));

    s.keymap = crate::tui::keymap::KeyMap::with_overrides([("help", vec!["2"])])
        .unwrap()
        .0;
    let fx = key(&mut s, KeyCode::Char('2'));
    assert_eq!(written(&fx), None);
    let help = s.keymap.help();
    let tag = &help.iter().find(|(g, _)| *g == "Tag").unwrap().1;
    assert!(tag.iter().any(|(k, _)| k == "1 3 4 5 6 7 8 9 0"), "{tag:?}");
}

/// A digit writes only a genre the Genre pane shows: on a small terminal,
/// or under a long tag that wraps, some ranks are not drawn, and tagging
/// one of them would write a genre the user never saw.
#[test]
fn a_digit_tags_only_a_rank_on_screen() {
    let mut s = state(2, true);
    model_ready(&mut s);
    let f = s.tree.files().next().unwrap();
    s.results.set_result(f, classified("rock", 0.7));
    draw(&mut s, 100, 30);
    assert_eq!(s.ranks_shown.get(), Some(0b11), "both ranks drawn");
    // a frame that had room for the first rank only
    s.ranks_shown.set(Some(0b1));
    let fx = key(&mut s, KeyCode::Char('2'));
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::WriteTags { .. })),
        "{fx:?}"
    );
    assert_eq!(
        s.status.message(),
        Some("rank 2 is not on screen here: t picks from every genre")
    );
    let fx = key(&mut s, KeyCode::Char('1'));
    assert!(fx.iter().any(|e| matches!(e, Effect::WriteTags { .. })));
}

/// A suggestion is only ever written to the version of the file it came
/// from: `a` sends that version (the writer refuses the file once another
/// program replaced or re-tagged it), a write of it moves the result on to
/// the written file, and a file found changed when chosen again (it is read
/// again each time) loses its old result and is looked at again.
#[test]
fn a_result_follows_its_files_version_and_is_dropped_when_the_file_changed() {
    use crate::cache::FileKey;
    let mut s = state(2, true);
    // the same file written again and again: the cursor stays on it
    s.advance_after_tag = false;
    model_ready(&mut s);
    let files: Vec<_> = s.tree.files().collect();
    let f = files[0];
    assert_eq!(s.browser.selected(), Some(f));
    let version = |size, mtime_ns| FileKey { size, mtime_ns };
    let (v1, v2) = (version(100, 1), version(120, 2));
    let mut c = classified("rock", 0.9);
    c.file_key = Some(v1);
    s.results.set_result(f, c);

    let fx = key(&mut s, KeyCode::Char('a'));
    let items = fx
        .iter()
        .find_map(|e| match e {
            Effect::WriteTags { items, .. } => Some(items.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no write: {fx:?}"));
    assert_eq!(items[0].decided_on, Some(v1));
    let req = write_req(&fx).0;
    let report = crate::tags::WriteReport {
        path: s.tree.path(f),
        old: Vec::new(),
        new: vec!["Rock".into()],
        changed: true,
        old_state: Default::default(),
        new_state: Default::default(),
        key_before: Some(v1),
    };
    let fx = update(
        &mut s,
        Msg::Tag {
            req,
            event: TagEvent::Written {
                node: f,
                result: Ok(crate::tags::apply::Applied {
                    report,
                    journal_id: Some(1),
                    key_after: Some(v2),
                }),
            },
        },
    );
    assert_eq!(s.results.result(f).unwrap().file_key, Some(v2));
    // Every model's analyses of v1 follow the file in the cache, not only
    // the result on screen.
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::FollowRewrite { before, after, .. }
            if *before == v1 && *after == v2)),
        "{fx:?}"
    );
    // The write's own re-read finds the version written: nothing to forget.
    inspected_as(&mut s, &fx, f, v2);
    assert!(s.results.result(f).is_some());

    // A write the writer refused as changed on disk reads the file again.
    let fx = key(&mut s, KeyCode::Char('a'));
    let req = write_req(&fx).0;
    let fx = update(
        &mut s,
        Msg::Tag {
            req,
            event: TagEvent::Written {
                node: f,
                result: Err(super::super::tagger::WriteFailed {
                    kind: "changed",
                    reason: "changed on disk since earmark read it".into(),
                }),
            },
        },
    );
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Inspect { node, .. } if *node == f)),
        "{fx:?}"
    );
    answer_inspections(&mut s, &fx);

    // Another program replaces the file; the user moves away and back.
    let fx = key(&mut s, KeyCode::Down);
    answer_inspections(&mut s, &fx);
    let fx = key(&mut s, KeyCode::Up);
    let v3 = version(999, 3);
    assert!(s.results.get(f).unwrap().write_error.is_some(), "marked ✗");
    inspected_as(&mut s, &fx, f, v3);
    assert!(s.results.result(f).is_none(), "the old result is gone");
    assert!(
        s.results.get(f).unwrap().write_error.is_none(),
        "the ✗ of the refused write went with the version that refused it"
    );
    assert_eq!(
        s.status.message(),
        Some("track-00.mp3 changed on disk: looking at it again")
    );
    assert!(
        s.inflight
            .iter()
            .any(|(_, w)| matches!(w, Work::Classify { node, .. } if *node == f)),
        "classified again"
    );
}

/// One file written with `genre` this session, then `u`: the state, the
/// file, the undo's request and the file's absolute path.
fn written_then_u(genre: &str) -> (State, u32, u64, std::path::PathBuf) {
    let mut s = state(1, false);
    let file = s.tree.files().next().unwrap();
    let mut fx = Vec::new();
    super::tagging::write_tags(&mut s, &mut fx, vec![(file, vec![genre.into()])]);
    let (req, _) = write_req(&fx);
    written(&mut s, req, file, 31, &[genre]);
    let fx = key(&mut s, KeyCode::Char('u'));
    let Some(Effect::UndoTags { req, .. }) =
        fx.iter().find(|e| matches!(e, Effect::UndoTags { .. }))
    else {
        panic!("no undo: {fx:?}");
    };
    let path = std::path::absolute(s.tree.path(file)).unwrap();
    (s, file, *req, path)
}

/// `u` on a write that `earmark tag undo` took back first: nothing to undo,
/// said as such (not as a failure).
#[test]
fn undoing_a_write_undone_already_from_a_shell_is_not_a_failure() {
    let (mut s, _, req, path) = written_then_u("Jazz");
    let event = TagEvent::Undone(vec![Err(super::super::tagger::UndoFailed::AlreadyUndone(
        path,
    ))]);
    update(&mut s, Msg::Tag { req, event });
    assert_eq!(
        s.status.message(),
        Some("nothing to undo; track-00.mp3 undone already (by earmark tag undo?)")
    );
}

/// `u` on a write the undo finds never happened (a run killed before the
/// file's rename): nothing to undo, said as such (not as a failure).
#[test]
fn undoing_a_write_that_never_happened_is_not_a_failure() {
    let (mut s, _, req, path) = written_then_u("Jazz");
    let event = TagEvent::Undone(vec![Err(super::super::tagger::UndoFailed::NeverWritten(
        path,
    ))]);
    update(&mut s, Msg::Tag { req, event });
    assert_eq!(
        s.status.message(),
        Some("nothing to undo; track-00.mp3 never written (an interrupted run)")
    );
}

/// The Genre pane on a folder with no audio says so, instead of offering to
/// classify its files.
#[test]
fn the_genre_pane_on_an_empty_folder_says_it_holds_no_audio() {
    let screen = |s: &mut State| {
        let mut t = Terminal::new(TestBackend::new(100, 30)).unwrap();
        t.draw(|f| super::super::view::draw(s, f)).unwrap();
        let buf = t.backend().buffer().clone();
        buf.content().iter().map(|c| c.symbol()).collect::<String>()
    };
    let mut s = album(0);
    assert!(s.tree.node(s.browser.selected().unwrap()).is_dir());
    let text = screen(&mut s);
    assert!(text.contains("no audio files in this folder"), "{text}");
    assert!(!text.contains("classifies every file"), "{text}");
    key(&mut s, KeyCode::Char('A'));
    assert_eq!(
        s.status.message(),
        Some("no audio files in Album/ to accept")
    );
    let mut s = album(2);
    let text = screen(&mut s);
    assert!(
        text.contains("c classifies every file in this folder"),
        "{text}"
    );
    // what `c` would do next: the rest, then nothing (A is the next step)
    let files: Vec<_> = s.tree.files().collect();
    s.results.set_result(files[0], classified("pop", 0.9));
    let text = screen(&mut s);
    assert!(
        text.contains("1 of 2 classified · c does the rest"),
        "{text}"
    );
    // while the rest is in a classify job, `c` is not offered again
    s.results.entry(files[1]).job = JobMark::Queued;
    let text = screen(&mut s);
    assert!(
        text.contains("1 of 2 classified · classifying 1 more"),
        "{text}"
    );
    s.results.entry(files[1]).job = JobMark::Idle;
    s.results.set_result(files[1], classified("pop", 0.9));
    let text = screen(&mut s);
    assert!(
        text.contains("all classified · A accepts suggestions"),
        "{text}"
    );
    // once every classified file is written, nothing is left to accept
    for &f in &files {
        s.results.entry(f).written = Some(vec!["Pop".into()]);
    }
    let text = screen(&mut s);
    assert!(
        text.contains("2 of 2 classified · all of them tagged"),
        "{text}"
    );
    for &f in &files {
        s.results.entry(f).written = None;
    }
    // a file that could not be classified is not called classified
    let fail = |s: &mut State, f| {
        let e = s.results.entry(f);
        e.result = None;
        e.error = Some("cannot open: no such file or directory".into());
    };
    fail(&mut s, files[1]);
    let text = screen(&mut s);
    assert!(
        text.contains("1 of 2 classified · 1 failed · A accepts suggestions"),
        "{text}"
    );
    // a silent file (○) is not a failure: counted apart, as the status line does
    s.results.entry(files[1]).failure_kind = Some("silent");
    let text = screen(&mut s);
    assert!(
        text.contains("1 of 2 classified · 1 silent or too short · A accepts"),
        "{text}"
    );
    s.results.entry(files[1]).failure_kind = None;
    fail(&mut s, files[0]);
    let text = screen(&mut s);
    assert!(text.contains("none of 2 could be classified"), "{text}");
}

/// A selected folder's files are looked up in the cache, shown or not, so
/// that its Genre pane counts what an earlier session classified.
#[test]
fn a_selected_folder_counts_what_the_cache_knows_of_its_files() {
    let screen = |s: &mut State| {
        let mut t = Terminal::new(TestBackend::new(100, 30)).unwrap();
        t.draw(|f| super::super::view::draw(s, f)).unwrap();
        let buf = t.backend().buffer().clone();
        buf.content().iter().map(|c| c.symbol()).collect::<String>()
    };
    let mut s = album(3);
    let fx = model_ready(&mut s);
    answer_inspections(&mut s, &fx);
    assert_eq!(s.browser.rows().len(), 1, "the folder is collapsed");
    let fx = draw(&mut s, 100, 30);
    let peeks: Vec<_> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::Peek { req, node, .. } => Some((*req, *node)),
            _ => None,
        })
        .collect();
    assert_eq!(peeks.len(), 3, "{fx:?}");
    let text = screen(&mut s);
    assert!(
        text.contains("0 of 3 classified so far · looking in the cache"),
        "{text}"
    );
    for (i, (req, node)) in peeks.into_iter().enumerate() {
        let found = (i < 2).then(|| Box::new(classified("pop", 0.9)));
        update(&mut s, Msg::Peeked { req, node, found });
    }
    let text = screen(&mut s);
    assert!(
        text.contains("2 of 3 classified · c does the rest"),
        "{text}"
    );
}

/// A row earmark wrote (✎) shows the genre written, not the suggestion.
#[test]
fn a_written_row_shows_the_genre_it_holds() {
    let mut s = state(2, true);
    let file = s.tree.files().next().unwrap();
    s.results.set_result(file, classified("rock", 0.9));
    // the listing's row of the file: its line, up to the pane's edge
    let row = |s: &State| {
        let screen: Vec<char> = screen_of(s, 100, 20).chars().collect();
        let line = screen
            .chunks(100)
            .map(|l| l.iter().collect::<String>())
            .find(|l| l.contains("track-00"))
            .unwrap_or_default();
        line.split("││").next().unwrap_or_default().to_string()
    };
    assert!(row(&s).contains("Rock 90%"), "{}", row(&s));
    s.results.entry(file).written = Some(vec!["Pop".into(), "Game".into()]);
    let line = row(&s);
    assert!(
        line.contains("track-00.mp3") && line.contains("Pop; Game"),
        "{line}"
    );
    assert!(!line.contains("Rock"), "{line}");
}

/// At 80×24 a message takes the status line before the hints: beside it
/// only `? help` keeps its place (quit is in the help, the player's title
/// says silent), so what a write did is read whole.
#[test]
fn a_message_takes_the_status_line_before_the_hints() {
    let mut s = album(2);
    assert!(matches!(s.player.output, OutputStatus::Silent { .. }));
    let last = |s: &State| {
        let screen: Vec<char> = screen_of(s, 80, 24).chars().collect();
        screen[screen.len() - 80..].iter().collect::<String>()
    };
    let idle = last(&s);
    assert!(idle.contains("silent") && idle.contains("q quit"), "{idle}");
    let said = "wrote Chiptune (was Game) to hyperrogue-desert.ogg · u undoes";
    s.status
        .set(said, super::super::components::status::Level::Info);
    let line = last(&s);
    assert!(line.contains(said), "{line}");
    assert!(line.contains("? help") && !line.contains("full)"), "{line}");
}

/// The status line's play hint says what the key does now.
#[test]
fn the_play_hint_says_pause_while_a_track_plays() {
    let mut s = album(2);
    assert!(screen_of(&s, 100, 20).contains("space play"));
    s.player.node = s.tree.files().next();
    s.player.state = PlayState::Playing;
    let screen = screen_of(&s, 100, 20);
    assert!(screen.contains("space pause"), "{screen}");
    s.player.state = PlayState::Paused;
    assert!(screen_of(&s, 100, 20).contains("space play"));
}

/// Keys that have nothing to act on still answer: `s` with nothing playing,
/// `v` where no spectrogram shows (it still switches the style).
#[test]
fn stop_and_the_spectrogram_style_answer_when_nothing_shows() {
    let mut s = album(2);
    let fx = key(&mut s, KeyCode::Char('s'));
    assert_eq!(s.status.message(), Some("nothing playing"));
    assert!(!fx.iter().any(|e| matches!(e, Effect::Stop)), "{fx:?}");
    key(&mut s, KeyCode::Char('v'));
    let first = s.status.message().unwrap().to_string();
    key(&mut s, KeyCode::Char('v'));
    let second = s.status.message().unwrap().to_string();
    let both = [first.as_str(), second.as_str()];
    assert!(both.contains(&"spectrogram in braille"), "{both:?}");
    assert!(both.contains(&"spectrogram in half blocks"), "{both:?}");
}

/// In the evaluation view, Space after a clip ended plays the clip again,
/// not the library file selected behind the view.
#[test]
fn space_after_a_clip_ended_stays_in_the_evaluation_view() {
    let mut s = state(2, false);
    key(&mut s, KeyCode::Down);
    s.eval.visible = true;
    s.player.external = Some(std::path::PathBuf::from("/gtzan/blues.00029.ogg"));
    s.player.node = None;
    s.player.state = PlayState::Ended;
    let fx = key(&mut s, KeyCode::Char(' '));
    assert!(!fx.iter().any(|e| matches!(e, Effect::Play(_))), "{fx:?}");
    assert!(
        fx.iter().any(|e| matches!(e, Effect::Pause(false))),
        "{fx:?}"
    );
}

/// An undo that could not start (another earmark held the journal's undo
/// turn) keeps its step: `u` tries again (the step was lost).
#[test]
fn an_undo_that_could_not_start_keeps_its_step() {
    let (mut s, _, req, _) = written_then_u("Reggae");
    let why = "undo journal j: another earmark has been undoing for 10 s";
    let event = TagEvent::Undone(vec![Err(super::super::tagger::UndoFailed::NotStarted(
        why.into(),
    ))]);
    update(&mut s, Msg::Tag { req, event });
    assert_eq!(
        s.status.message(),
        Some(format!("nothing undone: {why} · u tries again").as_str())
    );
    let fx = key(&mut s, KeyCode::Char('u'));
    assert!(
        fx.iter().any(|e| matches!(e, Effect::UndoTags { .. })),
        "{fx:?}"
    );
}

/// An undo refused because another program changed the genre since reads
/// the file again, so its pane shows the genre it holds now.
#[test]
fn a_refused_undo_reads_the_file_again() {
    let (mut s, file, req, path) = written_then_u("Reggae");
    let event = TagEvent::Undone(vec![Err(super::super::tagger::UndoFailed::Failed(
        "genre changed since it was written (now Ambient, expected Reggae)".into(),
        Some(path),
    ))]);
    let fx = update(&mut s, Msg::Tag { req, event });
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Inspect { node, .. } if *node == file)),
        "{fx:?}"
    );
    assert!(
        s.status
            .message()
            .unwrap()
            .contains("1 failed: genre changed"),
        "{:?}",
        s.status.message()
    );
    // the step is spent: the line says how to take the entry back later
    assert!(
        s.status
            .message()
            .unwrap()
            .contains("(earmark tag undo 31 takes it back later)"),
        "{:?}",
        s.status.message()
    );
}

/// A batch undo with several failures names the first and logs each (the
/// others were said nowhere; soak review), each with the journal entry
/// `earmark tag undo` takes back later: the step is spent (its failures
/// named no entry, so a batch's were lost to `u`).
#[test]
fn an_undo_logs_each_failure() {
    let mut s = state(3, false);
    let files: Vec<_> = s.tree.files().collect();
    let mut fx = Vec::new();
    let batch = files.iter().map(|f| (*f, vec!["Reggae".into()])).collect();
    super::tagging::write_tags(&mut s, &mut fx, batch);
    let (batch, _) = write_req(&fx);
    for (f, id) in files.iter().zip(41..) {
        written(&mut s, batch, *f, id, &["Reggae"]);
    }
    key(&mut s, KeyCode::Char('u'));
    let fx = key(&mut s, KeyCode::Char('y'));
    let Some(Effect::UndoTags { req, ids }) =
        fx.iter().find(|e| matches!(e, Effect::UndoTags { .. }))
    else {
        panic!("no undo after yes: {fx:?}");
    };
    assert_eq!(ids, &[43, 42, 41]);
    let req = *req;
    let failed = |why: &str| Err(super::super::tagger::UndoFailed::Failed(why.into(), None));
    let event = TagEvent::Undone(vec![
        failed("a.ogg: No such file or directory"),
        failed("b.ogg: genre changed since it was written"),
        failed("c.ogg: permission denied"),
    ]);
    update(&mut s, Msg::Tag { req, event });
    let line = s.status.message().unwrap_or_default().to_string();
    assert!(
        line.contains("3 failed: a.ogg: No such file or directory (earmark tag undo 43 takes")
            && line.contains("! lists the others"),
        "{line}"
    );
    let log: Vec<String> = s.status.log.entries().map(|e| e.text.clone()).collect();
    for f in [
        "b.ogg: genre changed since it was written (earmark tag undo 42 takes it back later)",
        "c.ogg: permission denied (earmark tag undo 41 takes it back later)",
    ] {
        assert!(log.iter().any(|l| l.contains(f)), "{f}: {log:?}");
    }
}

/// `n` and `p` from a folder or an entry that cannot play take the file after
/// (or before) it in the listing, not the library's first; once the player is
/// stopped the cursor leads, while a track plays the track does.
#[test]
fn next_and_previous_step_from_the_cursor_unless_a_track_plays() {
    let mut s = state(0, false);
    // 1 A/ (2 a, 3 b), 4 B/ (5 c, 6 broken, 7 d)
    let entries = vec![
        dir(ROOT, "A"),
        audio(1, "a.mp3"),
        audio(1, "b.mp3"),
        dir(ROOT, "B"),
        audio(4, "c.mp3"),
        ScanEntry::Broken {
            parent: 4,
            name: OsString::from("dangling.mp3"),
            reason: "dangling symlink".into(),
        },
        audio(4, "d.mp3"),
    ];
    scanned(&mut s, entries);
    let plays = |s: &mut State, cursor: u32, code: KeyCode| {
        s.browser.reveal(&s.tree, cursor);
        assert_eq!(s.browser.selected(), Some(cursor));
        let fx = key(s, code);
        fx.iter()
            .find_map(|e| match e {
                Effect::Play(p) => Some(p.file_name().unwrap().to_string_lossy().into_owned()),
                _ => None,
            })
            .unwrap_or_default()
    };
    assert_eq!(
        plays(&mut s, 4, KeyCode::Char('n')),
        "c.mp3",
        "from folder B"
    );
    s.player.state = PlayState::Stopped;
    assert_eq!(
        plays(&mut s, 6, KeyCode::Char('n')),
        "d.mp3",
        "from the broken entry"
    );
    s.player.state = PlayState::Stopped;
    assert_eq!(
        plays(&mut s, 6, KeyCode::Char('p')),
        "c.mp3",
        "back from it"
    );
    s.player.state = PlayState::Stopped;
    assert_eq!(
        plays(&mut s, 4, KeyCode::Char('p')),
        "b.mp3",
        "back from folder B"
    );
    // stopped on a.mp3, the cursor on folder B: the cursor leads
    s.player.node = Some(2);
    s.player.state = PlayState::Stopped;
    assert_eq!(plays(&mut s, 4, KeyCode::Char('n')), "c.mp3");
    // a.mp3 playing, the cursor elsewhere: the track leads
    s.player.node = Some(2);
    s.player.state = PlayState::Playing;
    assert_eq!(plays(&mut s, 4, KeyCode::Char('n')), "b.mp3");
}

/// A selected file or folder that is gone after `R` leaves the cursor on
/// what followed it (a deleted file's next survivor, a renamed folder's new
/// name), not on whatever now sits at its old row number.
#[test]
fn rescan_puts_the_cursor_where_a_gone_selection_was() {
    use std::fs;
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("live");
    fs::create_dir(&live).unwrap();
    for n in ["s1.mp3", "s2.mp3", "s3.mp3", "s4.mp3", "s5.mp3"] {
        fs::write(live.join(n), b"not really audio").unwrap();
    }
    fs::create_dir(dir.path().join("wide")).unwrap();
    fs::write(dir.path().join("wide/w.mp3"), b"x").unwrap();
    let mut s = State::new(setup(dir.path().into(), false));
    let rescan = |s: &mut State| {
        update(s, rescanned(dir.path(), false));
    };
    rescan(&mut s);
    let selected = |s: &State| s.tree.rel_path(s.browser.selected().unwrap());
    let find = |s: &State, name: &str| s.tree.files().find(|&f| s.tree.node(f).label() == name);
    s.browser.reveal(&s.tree, find(&s, "s3.mp3").unwrap());
    // s3 and the file above it deleted: s4, not s5
    fs::remove_file(live.join("s2.mp3")).unwrap();
    fs::remove_file(live.join("s3.mp3")).unwrap();
    rescan(&mut s);
    assert_eq!(selected(&s), std::path::Path::new("live/s4.mp3"));
    // the browsed folder renamed: the file follows it there (the last
    // rescan knew its inode), not a row of another folder; before, the
    // cursor fell back to the folder
    fs::rename(&live, dir.path().join("live_renamed")).unwrap();
    rescan(&mut s);
    assert_eq!(selected(&s), std::path::Path::new("live_renamed/s4.mp3"));
}

/// The Track pane's path escapes what the listing escapes (a newline, ESC, a
/// right-to-left override): dropping them would show a path that does not exist.
#[test]
fn the_track_panes_path_escapes_control_characters_as_the_listing_does() {
    let mut s = state(0, false);
    scanned(
        &mut s,
        vec![ScanEntry::Audio {
            parent: ROOT,
            name: OsString::from("new\nline\u{202e}3pm.mp3"),
        }],
    );
    s.browser.select_index(&s.tree, 0);
    let mut t = Terminal::new(TestBackend::new(120, 30)).unwrap();
    t.draw(|f| super::super::view::draw(&s, f)).unwrap();
    let buf = t.backend().buffer().clone();
    let text: String = buf.content().iter().map(|c| c.symbol()).collect();
    let escaped = "new\\nline\\u{202e}3pm.mp3";
    assert!(text.contains(&format!("lib/{escaped}")), "{text}");
    assert!(!text.contains('\u{202e}'), "{text}");
}

/// A long undo says how far it got (a 3,000-file batch takes a minute), and
/// a progress report of no undo in flight changes nothing.
#[test]
fn a_long_undo_shows_its_progress() {
    let mut s = state(1, false);
    let req = s.inflight.start(super::super::effect::Work::Undo);
    let progress = TagEvent::UndoProgress {
        done: 1200,
        total: 3000,
    };
    update(
        &mut s,
        Msg::Tag {
            req,
            event: progress,
        },
    );
    assert_eq!(
        s.status.message(),
        Some("undoing the last tag write… 1200 of 3000 files")
    );
    s.inflight.finish(req);
    s.status.set(
        "something else",
        super::super::components::status::Level::Info,
    );
    let progress = TagEvent::UndoProgress {
        done: 1300,
        total: 3000,
    };
    update(
        &mut s,
        Msg::Tag {
            req,
            event: progress,
        },
    );
    assert_eq!(s.status.message(), Some("something else"));
}

/// News of a file read again does not push an error off the line (an undo
/// refused for that very change stays in view); it goes to the log.
#[test]
fn a_note_leaves_an_error_on_the_line() {
    use super::super::components::status::Level;
    let mut s = state(1, false);
    s.status.note("first");
    assert_eq!(s.status.message(), Some("first"));
    s.status.set("undid nothing; 1 failed", Level::Error);
    s.status
        .note("track-00.mp3 changed on disk: looking at it again");
    assert_eq!(s.status.message(), Some("undid nothing; 1 failed"));
}

/// A file that could not be classified ("too short") and is then replaced
/// is judged again: its failure had no version of its own and stuck until R.
#[test]
fn a_failure_is_dropped_when_the_file_is_replaced() {
    use crate::cache::FileKey;
    let mut s = state(2, true);
    let fx = model_ready(&mut s);
    answer_inspections(&mut s, &fx);
    let f = s.tree.files().next().unwrap();
    let v = |size| FileKey {
        size,
        mtime_ns: size,
    };
    // chosen: read as version 1, then found too short
    let fx = key(&mut s, KeyCode::Down);
    answer_inspections(&mut s, &fx);
    let fx = key(&mut s, KeyCode::Up);
    inspected_as(&mut s, &fx, f, v(1));
    s.results
        .entry(f)
        .set_failure("too short to judge (0.3 s)".into(), Some("too-short"));
    // the same version read again: the failure stays
    let fx = key(&mut s, KeyCode::Down);
    answer_inspections(&mut s, &fx);
    let fx = key(&mut s, KeyCode::Up);
    inspected_as(&mut s, &fx, f, v(1));
    assert!(s.results.get(f).is_some_and(|r| r.error.is_some()));
    // replaced by a longer file: the failure goes and it is classified again
    let fx = key(&mut s, KeyCode::Down);
    answer_inspections(&mut s, &fx);
    let fx = key(&mut s, KeyCode::Up);
    inspected_as(&mut s, &fx, f, v(2));
    assert!(s.results.get(f).is_none_or(|r| r.error.is_none()));
    assert!(
        s.inflight
            .iter()
            .any(|(_, w)| matches!(w, Work::Classify { node, .. } if *node == f)),
        "classified again"
    );
}

/// `t` and `T` on a `.au` say it cannot carry tags, instead of offering
/// genres whose write would fail.
#[test]
fn picking_a_genre_for_an_au_file_says_it_cannot_carry_tags() {
    let mut s = state(0, true);
    scanned(
        &mut s,
        vec![ScanEntry::Audio {
            parent: ROOT,
            name: OsString::from("hell.au"),
        }],
    );
    s.browser.select_index(&s.tree, 0);
    for k in ['t', 'T'] {
        key(&mut s, KeyCode::Char(k));
        assert!(s.popup.is_none(), "{k}");
        assert_eq!(
            s.status.message(),
            Some("hell.au cannot be tagged: Sun/NeXT .au files cannot carry tags")
        );
    }
    // `a` on its suggestion says so too, sending no write to fail and mark ✗
    let file = s.tree.files().next().unwrap();
    s.results.set_result(file, classified("rock", 0.9));
    let fx = key(&mut s, KeyCode::Char('a'));
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::WriteTags { .. })),
        "{fx:?}"
    );
    assert_eq!(
        s.status.message(),
        Some("hell.au cannot be tagged: Sun/NeXT .au files cannot carry tags")
    );
    assert!(s.results.get(file).unwrap().write_error.is_none());
}

/// With marks, `t` and `T` write to every marked file as one batch (an
/// album typed in once): the picker ranks genres by their mean confidence
/// over the marked files; the marks are spent, as `A` spends them.
#[test]
fn t_and_capital_t_write_to_every_marked_file() {
    let mut s = state(3, true);
    let fx = model_ready(&mut s);
    answer_inspections(&mut s, &fx);
    let files: Vec<_> = s.tree.files().collect();
    s.results.set_result(files[0], classified("rock", 0.8));
    s.results.set_result(files[1], classified("jazz", 0.6));
    key(&mut s, KeyCode::Char('m'));
    key(&mut s, KeyCode::Char('m'));
    key(&mut s, KeyCode::Char('t'));
    let Some(Popup::Picker { nodes, items, .. }) = &s.popup else {
        panic!("no picker");
    };
    assert_eq!(nodes, &files[..2]);
    let ranked: Vec<(String, i32)> = items
        .iter()
        .map(|(g, p)| (g.clone(), (p.unwrap() * 100.0).round() as i32))
        .collect();
    assert_eq!(ranked, [("Rock".into(), 60), ("Jazz".into(), 40)]);
    let screen = screen_of(&s, 100, 30);
    assert!(screen.contains("Genre for 2 marked files"), "{screen}");
    let fx = key(&mut s, KeyCode::Enter);
    let Some(Effect::WriteTags { items, .. }) =
        fx.iter().find(|e| matches!(e, Effect::WriteTags { .. }))
    else {
        panic!("no write: {fx:?}");
    };
    let written: Vec<_> = items
        .iter()
        .map(|i| (i.node, i.change.genres.clone()))
        .collect();
    assert_eq!(
        written,
        [
            (files[0], vec!["Rock".to_string()]),
            (files[1], vec!["Rock".to_string()])
        ]
    );
    assert!(
        s.browser.marked().is_empty(),
        "the marks went with the write"
    );

    // `T` over three marks: typed once, written to all three.
    s.inflight = Default::default();
    key(&mut s, KeyCode::Home);
    for _ in 0..3 {
        key(&mut s, KeyCode::Char('m'));
    }
    key(&mut s, KeyCode::Char('T'));
    assert!(matches!(&s.popup, Some(Popup::Editor { nodes, .. }) if nodes.len() == 3));
    for c in "Jazz".chars() {
        key(&mut s, KeyCode::Char(c));
    }
    let fx = key(&mut s, KeyCode::Enter);
    let Some(Effect::WriteTags { items, .. }) =
        fx.iter().find(|e| matches!(e, Effect::WriteTags { .. }))
    else {
        panic!("no write: {fx:?}");
    };
    assert_eq!(items.len(), 3);
    assert!(items.iter().all(|i| i.change.genres == ["Jazz"]));
}

/// A marked file that cannot carry tags is left out of `t`'s write, and said.
#[test]
fn marked_files_that_cannot_be_tagged_are_left_out_and_said() {
    let mut s = state(0, true);
    scanned(
        &mut s,
        ["hell.au", "song.ogg"]
            .map(|n| ScanEntry::Audio {
                parent: ROOT,
                name: OsString::from(n),
            })
            .to_vec(),
    );
    s.browser.select_index(&s.tree, 0);
    key(&mut s, KeyCode::Char('m'));
    key(&mut s, KeyCode::Char('T'));
    assert!(s.popup.is_none());
    assert_eq!(
        s.status.message(),
        Some("hell.au cannot be tagged: Sun/NeXT .au files cannot carry tags")
    );
    key(&mut s, KeyCode::Char('m'));
    key(&mut s, KeyCode::Char('T'));
    assert!(matches!(&s.popup, Some(Popup::Editor { nodes, .. }) if nodes.len() == 1));
    assert_eq!(
        s.status.message(),
        Some("hell.au cannot be tagged (Sun/NeXT .au files cannot carry tags): left out")
    );
}

/// The last session's place in a library (a file two folders down) is
/// selected once the scan lists it, its folders opened; a place that is gone
/// leaves the cursor at the top.
#[test]
fn the_last_sessions_place_is_selected_with_its_folders_open() {
    // 1 A/ (2 B/ (3 one.mp3, 4 two.mp3)), 5 top.mp3
    let entries = || {
        vec![
            dir(ROOT, "A"),
            dir(1, "B"),
            audio(2, "one.mp3"),
            audio(2, "two.mp3"),
            audio(ROOT, "top.mp3"),
        ]
    };
    let mut s = State::new(setup("/nowhere/lib".into(), false));
    s.select_on_scan = Some("A/B/two.mp3".into());
    scanned(&mut s, entries());
    assert_eq!(s.browser.selected(), Some(4));
    assert!(s.browser.rows().contains(&3), "its folders are open");
    assert_eq!(s.select_on_scan, None);
    let mut s = State::new(setup("/nowhere/lib".into(), false));
    s.select_on_scan = Some("A/B/gone.mp3".into());
    scanned(&mut s, entries());
    assert_eq!(s.select_on_scan, None, "given up once the scan is done");
    assert_ne!(s.browser.selected(), Some(4));
}

/// A genre written to the selected file moves the cursor to the next file,
/// as `x` does (`a`, a digit, `T`), so a folder is tagged file by file
/// without a `j` between (a new user's review); marked files are a batch
/// and the cursor stays; the last file stays; `advance-after-tag = false`
/// stays put.
#[test]
fn a_genre_written_to_the_selected_file_moves_on_to_the_next() {
    let mut s = state(3, true);
    model_ready(&mut s);
    let files: Vec<_> = s.tree.files().collect();
    for &f in &files {
        s.results.set_result(f, classified("rock", 0.9));
    }
    let writes = |fx: &[Effect]| {
        fx.iter()
            .filter(|e| matches!(e, Effect::WriteTags { .. }))
            .count()
    };
    assert_eq!(s.browser.selected(), Some(files[0]));
    assert_eq!(writes(&key(&mut s, KeyCode::Char('a'))), 1);
    assert_eq!(s.browser.selected(), Some(files[1]), "a moves on");
    assert_eq!(writes(&key(&mut s, KeyCode::Char('2'))), 1);
    assert_eq!(s.browser.selected(), Some(files[2]), "a digit too");
    key(&mut s, KeyCode::Char('T'));
    for c in "Dub".chars() {
        key(&mut s, KeyCode::Char(c));
    }
    assert_eq!(writes(&key(&mut s, KeyCode::Enter)), 1);
    assert_eq!(s.browser.selected(), Some(files[2]), "the last file stays");
    // marks: a batch, the cursor stays
    key(&mut s, KeyCode::Up);
    key(&mut s, KeyCode::Char('m'));
    assert!(!s.browser.marked().is_empty());
    let at = s.browser.selected();
    key(&mut s, KeyCode::Char('T'));
    for c in "Dub".chars() {
        key(&mut s, KeyCode::Char(c));
    }
    assert_eq!(writes(&key(&mut s, KeyCode::Enter)), 1);
    assert_eq!(s.browser.selected(), at, "marks: the cursor stays");
    // turned off: stays put
    s.advance_after_tag = false;
    key(&mut s, KeyCode::Home);
    assert_eq!(s.browser.selected(), Some(files[0]));
    key(&mut s, KeyCode::Char('a'));
    assert_eq!(s.browser.selected(), Some(files[0]));
}

/// `x` skips (–) and the skip is kept for the next session; `x` on a
/// skipped file takes it back. Skips an earlier session kept come with the
/// journal's marks.
#[test]
fn skips_are_kept_across_sessions_and_x_again_takes_one_back() {
    let mut s = state(3, true);
    let files: Vec<_> = s.tree.files().collect();
    let fx = key(&mut s, KeyCode::Char('x'));
    let kept = |fx: &[Effect]| {
        fx.iter().find_map(|e| match e {
            Effect::KeepSkip { path, skipped } => Some((path.clone(), *skipped)),
            _ => None,
        })
    };
    let first = std::path::PathBuf::from("/nowhere/lib/track-00.mp3");
    assert_eq!(kept(&fx), Some((first.clone(), true)));
    assert!(s.results.get(files[0]).is_some_and(|f| f.skipped));
    assert_eq!(s.browser.selected(), Some(files[1]), "on to the next file");
    key(&mut s, KeyCode::Up);
    let fx = key(&mut s, KeyCode::Char('x'));
    assert_eq!(kept(&fx), Some((first, false)));
    assert!(s.results.get(files[0]).is_some_and(|f| !f.skipped));
    assert_eq!(s.browser.selected(), Some(files[0]), "stays");
    assert_eq!(s.status.message(), Some("track-00.mp3: no longer skipped"));

    // The next session: the journal says track-02 was skipped.
    let mut s = state(3, true);
    let files: Vec<_> = s.tree.files().collect();
    let event = TagEvent::Marks {
        written: Vec::new(),
        skipped: vec!["track-02.mp3".into()],
    };
    update(&mut s, Msg::Tag { req: 0, event });
    let skipped: Vec<bool> = files
        .iter()
        .map(|&f| s.results.get(f).is_some_and(|f| f.skipped))
        .collect();
    assert_eq!(skipped, [false, false, true]);
}

/// At 40×10 the help shows keys, not only its footer (the footer goes when
/// it would leave the keys fewer than four rows); at 80×24 it stays.
#[test]
fn a_short_window_shows_keys_in_the_help() {
    let mut s = state(1, false);
    key(&mut s, KeyCode::Char('?'));
    let small = screen_of(&s, 40, 10);
    assert!(small.contains("move down"), "{small}");
    assert!(!small.contains("Mouse:"), "{small}");
    let big = screen_of(&s, 80, 24);
    assert!(big.contains("Mouse:") && big.contains("move down"), "{big}");
}

/// The shipped model's own report on GTZAN's clips says it is not a held-out
/// score, as `earmark eval` does (a fresh user's own report read "96.1%" bare).
#[test]
fn the_evaluation_view_says_when_the_shipped_model_saw_the_clips() {
    let mut s = state(1, false);
    let sha = crate::model::shipped_card("fast").unwrap().sha256.unwrap();
    let info = ModelInfo {
        name: "fast".into(),
        sha256: sha.clone(),
        labels: vec!["rock".into(), "jazz".into()],
        warnings: Vec::new(),
        cache_path: None,
    };
    update(&mut s, Msg::Model(Ok(info)));
    let mut report: crate::eval::EvalReport =
        serde_json::from_str(include_str!("../../../tests/fixtures/eval_report.json")).unwrap();
    report.model_sha256 = sha;
    update(
        &mut s,
        Msg::EvalReport {
            report: Box::new(Ok(report.clone())),
            bases: Vec::new(),
        },
    );
    s.eval.visible = true;
    let screen = screen_of(&s, 160, 40);
    assert!(screen.contains("not held out there"), "{screen}");
    // a library's own clips: the model in use, nothing more to say
    for (i, f) in report.files.iter_mut().enumerate() {
        f.path = format!("lib/song {i}.ogg");
    }
    update(
        &mut s,
        Msg::EvalReport {
            report: Box::new(Ok(report)),
            bases: Vec::new(),
        },
    );
    let screen = screen_of(&s, 160, 40);
    assert!(screen.contains("(the model in use)"), "{screen}");
}

/// What the rescan thread answers for the library at `root`.
fn rescanned(root: &std::path::Path, auto: bool) -> Msg {
    Msg::Rescanned {
        rescan: Box::new(crate::library::tree::Tree::rescan_blocking(root)),
        auto,
    }
}

/// A classified file another program replaces or re-tags loses its result
/// at the rescan that sees it, so that `c` classifies it again: it was
/// skipped as classified until the cursor happened to reach it (soak review).
#[test]
fn a_rescan_forgets_the_result_of_a_file_changed_since() {
    use std::fs;
    let dir = tempfile::tempdir().unwrap();
    let demo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/HyperRogue/hell.wav");
    for name in ["a.wav", "b.wav"] {
        fs::copy(&demo, dir.path().join(name)).unwrap();
    }
    let mut s = State::new(setup(dir.path().into(), true));
    update(&mut s, rescanned(dir.path(), false));
    model_ready(&mut s);
    let id = |s: &State, name: &str| s.tree.files().find(|&f| s.tree.node(f).label() == name);
    for name in ["a.wav", "b.wav"] {
        let mut c = classified("rock", 0.9);
        c.file_key = Some(crate::cache::file_key(&dir.path().join(name)).unwrap());
        s.results.set_result(id(&s, name).unwrap(), c);
    }
    // b re-tagged by another program (a byte more, a newer mtime)
    let mut bytes = fs::read(dir.path().join("b.wav")).unwrap();
    bytes.push(0);
    fs::write(dir.path().join("b.wav"), bytes).unwrap();
    update(&mut s, rescanned(dir.path(), true));
    assert_eq!(
        s.status.message(),
        Some("the folder changed: 1 file changed")
    );
    let (a, b) = (id(&s, "a.wav").unwrap(), id(&s, "b.wav").unwrap());
    assert!(s.results.result(a).is_some(), "unchanged: kept");
    assert!(s.results.result(b).is_none(), "changed: forgotten");
    // `c` on both files queues the changed one only
    key(&mut s, KeyCode::Char('*'));
    let fx = key(&mut s, KeyCode::Char('c'));
    let queued: Vec<u32> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::Classify { node, .. } => Some(*node),
            _ => None,
        })
        .collect();
    assert_eq!(queued, vec![b], "{fx:?} {:?}", s.status.message());
}

/// `earmark tag` from a shell while the app is open: the watch's rescan asks
/// the journal for its marks again, so the file shows ✎ once read (it kept
/// its ✓ until the app was opened again; a new user's review).
#[test]
fn a_write_from_a_shell_shows_its_mark_without_reopening() {
    use crate::library::tree::inspect_file;
    use std::fs;
    let dir = tempfile::tempdir().unwrap();
    let demo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/HyperRogue/hell.wav");
    let file = dir.path().join("a.wav");
    fs::copy(&demo, &file).unwrap();
    let mut s = State::new(setup(dir.path().into(), true));
    let marks = |fx: &[Effect]| {
        fx.iter().find_map(|e| match e {
            Effect::LoadMarks { req, .. } => Some(*req),
            _ => None,
        })
    };
    let first = marks(&super::start(&mut s)).expect("marks as the app opens");
    update(&mut s, rescanned(dir.path(), false));
    update(
        &mut s,
        Msg::Tag {
            req: first,
            event: TagEvent::Marks {
                written: Vec::new(),
                skipped: Vec::new(),
            },
        },
    );
    // the shell's write; the watch rescans
    let change = crate::tags::GenreChange {
        genres: vec!["Jazz".into()],
        mode: crate::tags::GenreMode::Replace,
    };
    crate::tags::write::write_genre(&file, &change).unwrap();
    let fx = update(&mut s, rescanned(dir.path(), true));
    let req = marks(&fx).expect("marks again after the watch's rescan");
    // written again before the journal answered: one load at a time
    let change = crate::tags::GenreChange {
        genres: vec!["Jazz".into(), "Blues".into()],
        mode: crate::tags::GenreMode::Replace,
    };
    crate::tags::write::write_genre(&file, &change).unwrap();
    let again = update(&mut s, rescanned(dir.path(), true));
    assert_eq!(marks(&again), None, "one load at a time");
    let event = TagEvent::Marks {
        written: vec![("a.wav".into(), vec!["Jazz".into(), "Blues".into()])],
        skipped: Vec::new(),
    };
    update(&mut s, Msg::Tag { req, event });
    let a = s.tree.files().next().unwrap();
    let inspect = s.inflight.start(Work::Inspect(a));
    update(
        &mut s,
        Msg::Inspected {
            reqs: vec![inspect],
            node: a,
            inspection: Box::new(inspect_file(&file)),
        },
    );
    assert_eq!(
        s.results.get(a).and_then(|f| f.written.clone()),
        Some(vec!["Jazz".to_string(), "Blues".to_string()])
    );
    // nothing rewritten since: the journal is not read again (it reads
    // every entry)
    let quiet = update(&mut s, rescanned(dir.path(), true));
    assert_eq!(marks(&quiet), None, "no file changed");
}

/// The library watch: a change another program made rescans on its own,
/// one rescan at a time and none under a tag write; a file that did not
/// change keeps what was read of it, one that did is read again; the status
/// line speaks only when files came or went.
#[test]
fn a_change_the_watch_sees_rescans_quietly_when_it_can() {
    use crate::library::watch::WatchNote;
    use std::fs;
    let dir = tempfile::tempdir().unwrap();
    let album = dir.path().join("Album");
    fs::create_dir(&album).unwrap();
    let demo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/HyperRogue/hell.wav");
    fs::copy(&demo, album.join("a.wav")).unwrap();
    fs::copy(&demo, album.join("b.wav")).unwrap();
    let mut s = State::new(setup(dir.path().into(), false));
    update(&mut s, rescanned(dir.path(), false));
    let id = |s: &State, name: &str| s.tree.files().find(|&f| s.tree.node(f).label() == name);
    for name in ["a.wav", "b.wav"] {
        let n = id(&s, name).unwrap();
        let read = crate::library::tree::inspect_file(&album.join(name));
        s.tree.set_inspection(n, read);
    }
    s.status
        .set("before", super::super::components::status::Level::Info);
    let auto_rescans = |fx: &super::Effects| {
        fx.iter()
            .filter(|e| matches!(e, Effect::Rescan { auto: true }))
            .count()
    };

    // A change, and another while the first rescan runs: one rescan now,
    // the second once the first is in.
    let fx = update(&mut s, Msg::Watch(WatchNote::Changed));
    assert_eq!(auto_rescans(&fx), 1, "{fx:?}");
    let fx = update(&mut s, Msg::Watch(WatchNote::Changed));
    assert_eq!(auto_rescans(&fx), 0, "one rescan at a time: {fx:?}");
    let fx = update(&mut s, rescanned(dir.path(), true));
    assert_eq!(auto_rescans(&fx), 1, "the change seen meanwhile: {fx:?}");
    assert_eq!(s.status.message(), Some("before"), "nothing came or went");
    let a = id(&s, "a.wav").unwrap();
    assert!(
        s.tree.node(a).inspection().is_some(),
        "an unchanged file keeps what was read of it"
    );

    // b rewritten by another program, c copied in: b is read again, and the
    // line says what came.
    fs::write(album.join("b.wav"), b"RIFF").unwrap();
    fs::copy(&demo, album.join("c.wav")).unwrap();
    update(&mut s, rescanned(dir.path(), true));
    assert_eq!(s.status.message(), Some("the folder changed: 1 new file"));
    assert!(s.tree.node(id(&s, "a.wav").unwrap()).inspection().is_some());
    assert!(
        s.tree.node(id(&s, "b.wav").unwrap()).inspection().is_none(),
        "a changed file is read again"
    );

    // Under a tag write the change waits; it rescans once the write is in.
    let a = id(&s, "a.wav").unwrap();
    let req = s.inflight.start(Work::Write {
        left: vec![a],
        failed: 0,
        gone: 0,
        unchanged: 0,
        genres: None,
    });
    let fx = update(&mut s, Msg::Watch(WatchNote::Changed));
    assert_eq!(auto_rescans(&fx), 0, "not under a write: {fx:?}");
    s.inflight.finish(req);
    let fx = update(&mut s, Msg::Drawn);
    assert_eq!(auto_rescans(&fx), 1, "once the write is in: {fx:?}");
    fs::remove_file(album.join("c.wav")).unwrap();
    update(&mut s, rescanned(dir.path(), true));
    assert_eq!(s.status.message(), Some("the folder changed: 1 file gone"));

    // A system that cannot watch says so once, and how to rescan.
    update(
        &mut s,
        Msg::Watch(WatchNote::Unavailable("the folder is gone".into())),
    );
    assert_eq!(
        s.status.message(),
        Some("not watching the folder for changes (the folder is gone): R rescans")
    );
}

/// A library of three copies of a demo track in `lib/Album`, scanned, with
/// a model: what the watch review's cases start from.
fn watched_library() -> (tempfile::TempDir, std::path::PathBuf, State) {
    use std::fs;
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    let album = lib.join("Album");
    fs::create_dir_all(&album).unwrap();
    let demo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/HyperRogue/hell.wav");
    for n in ["a.wav", "b.wav", "c.wav"] {
        fs::copy(&demo, album.join(n)).unwrap();
    }
    let mut s = State::new(setup(lib.clone(), true));
    update(&mut s, rescanned(&lib, false));
    (dir, lib, s)
}

fn file_named(s: &State, name: &str) -> Option<u32> {
    s.tree.files().find(|&f| s.tree.node(f).label() == name)
}

/// From the watch review: a filter being typed stays being typed across an
/// automatic rescan (a digit typed next is filter text, not a tag write).
#[test]
fn a_rescan_keeps_the_filter_being_typed() {
    let (_dir, lib, mut s) = watched_library();
    // A filter being typed.
    key(&mut s, KeyCode::Char('/'));
    key(&mut s, KeyCode::Char('b'));
    assert!(s.browser.filter_focused);
    update(&mut s, rescanned(&lib, true));
    assert!(s.browser.filter_focused, "still typing the filter");
    let fx = key(&mut s, KeyCode::Char('1'));
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::WriteTags { .. })),
        "a digit is filter text: {fx:?}"
    );
    assert_eq!(s.browser.filter(), "b1");
    key(&mut s, KeyCode::Esc);
}

/// From the watch review: a run whose queued files were deleted ends, and
/// says how it went, when the rescan drops their jobs.
#[test]
fn a_run_whose_files_went_ends() {
    use std::fs;
    let (_dir, lib, mut s) = watched_library();
    let album = lib.join("Album");
    let id = file_named;
    // A run of three, two of them deleted before they are done.
    let (a, b, c) = (
        id(&s, "a.wav").unwrap(),
        id(&s, "b.wav").unwrap(),
        id(&s, "c.wav").unwrap(),
    );
    for n in [a, b, c] {
        s.browser.toggle_mark(n);
    }
    let fx = key(&mut s, KeyCode::Char('c'));
    let reqs: Vec<(u64, u32)> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::Classify { req, node, .. } => Some((*req, *node)),
            _ => None,
        })
        .collect();
    assert!(reqs.len() >= 3, "{fx:?}");
    // (a, selected, has a preview job beside its batch job)
    let a_jobs: Vec<u64> = s
        .inflight
        .iter()
        .filter(|(_, w)| matches!(w, Work::Classify { node, .. } if *node == a))
        .map(|(r, _)| r)
        .collect();
    for req in a_jobs {
        update(
            &mut s,
            Msg::Job {
                req,
                update: JobUpdate::Finished(Err(AnalysisError::Failed("too short".into()))),
            },
        );
    }
    fs::remove_file(album.join("b.wav")).unwrap();
    fs::remove_file(album.join("c.wav")).unwrap();
    update(&mut s, rescanned(&lib, true));
    assert!(
        !s.inflight
            .iter()
            .any(|(_, w)| matches!(w, Work::Classify { preview: false, .. })),
        "the gone files' jobs are dropped: {:?}",
        s.inflight.iter().collect::<Vec<_>>()
    );
    assert!(
        s.status.message().is_some_and(
            |m| m.ends_with("could not be classified · 2 gone from the folder meanwhile")
        ),
        "the run ended, saying what went: {:?}",
        s.status.message()
    );
}

/// From the watch review: a write made before its folder went away and came
/// back keeps its ✎ (once read again) and stays undoable.
#[test]
fn a_write_survives_its_folder_going_away_and_back() {
    use crate::library::tree::inspect_file;
    use std::fs;
    let (_dir, lib, mut s) = watched_library();
    let album = lib.join("Album");
    let id = file_named;
    // A write, then the folder away and back (a rescan while it was away).
    let a = id(&s, "a.wav").unwrap();
    s.tree.set_inspection(a, inspect_file(&album.join("a.wav")));
    let req = s.inflight.start(Work::Write {
        left: vec![a],
        failed: 0,
        gone: 0,
        unchanged: 0,
        genres: None,
    });
    let genres_now = s.read_genres(a).cloned().unwrap_or_default();
    let now: Vec<&str> = genres_now.iter().map(String::as_str).collect();
    written_over(&mut s, req, a, 7, &["Rock"], &now);
    assert!(s.results.get(a).and_then(|f| f.written.clone()).is_some());
    fs::rename(&album, lib.join("away")).unwrap();
    update(&mut s, rescanned(&lib, true));
    fs::rename(lib.join("away"), &album).unwrap();
    update(&mut s, rescanned(&lib, true));
    let a = id(&s, "a.wav").unwrap();
    let inspect = s.inflight.start(Work::Inspect(a));
    update(
        &mut s,
        Msg::Inspected {
            reqs: vec![inspect],
            node: a,
            inspection: Box::new(inspect_file(&album.join("a.wav"))),
        },
    );
    assert_eq!(
        s.results.get(a).and_then(|f| f.written.clone()),
        Some(genres_now.clone()),
        "✎ again once read"
    );
    let fx = key(&mut s, KeyCode::Char('u'));
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::UndoTags { ids, .. } if ids == &vec![7])),
        "still undoable: {fx:?} {:?}",
        s.status.message()
    );
}

/// A rescan that lands while a picker is open (opened after the rescan
/// started) does not swap the tree under it: the picker names files by
/// node. It runs again once the picker is closed.
#[test]
fn a_rescan_waits_for_an_open_picker() {
    let (_dir, lib, mut s) = watched_library();
    let a = file_named(&s, "a.wav").unwrap();
    s.browser.reveal(&s.tree, a);
    let fx = update(
        &mut s,
        Msg::Watch(crate::library::watch::WatchNote::Changed),
    );
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Rescan { auto: true })),
        "{fx:?}"
    );
    key(&mut s, KeyCode::Char('T'));
    assert!(s.popup.is_some(), "the genre editor is open");
    std::fs::remove_file(lib.join("Album/a.wav")).unwrap();
    let fx = update(&mut s, rescanned(&lib, true));
    assert_eq!(
        file_named(&s, "a.wav"),
        Some(a),
        "the tree stays while the editor is open: {fx:?}"
    );
    let fx = key(&mut s, KeyCode::Esc);
    assert!(s.popup.is_none());
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Rescan { auto: true })),
        "rescanned once the editor is closed: {fx:?}"
    );
    update(&mut s, rescanned(&lib, true));
    assert_eq!(file_named(&s, "a.wav"), None);
}

/// A queued file deleted before its turn ("gone": not found) is not one of
/// the run's failures: the run says only what went wrong with files there.
#[test]
fn a_file_gone_before_its_turn_is_not_a_failure_of_the_run() {
    let mut s = state(2, true);
    model_ready(&mut s);
    let files: Vec<_> = s.tree.files().collect();
    for &f in &files {
        s.browser.toggle_mark(f);
    }
    key(&mut s, KeyCode::Char('c'));
    let jobs: Vec<(u64, u32)> = s
        .inflight
        .iter()
        .filter_map(|(r, w)| match w {
            Work::Classify { node, .. } => Some((r, *node)),
            _ => None,
        })
        .collect();
    for (req, node) in jobs {
        let update_for = if node == files[0] {
            AnalysisError::Undecodable {
                kind: "gone",
                reason: "track-00.mp3: no such file or directory".into(),
            }
        } else {
            AnalysisError::Failed("decoding failed".into())
        };
        update(
            &mut s,
            Msg::Job {
                req,
                update: JobUpdate::Finished(Err(update_for)),
            },
        );
    }
    assert_eq!(s.inflight.jobs(), 0);
    assert_eq!(
        s.status.message(),
        Some("1 file could not be classified · 1 gone from the folder meanwhile")
    );
}

/// `T` on a Matroska/WebM file says at once that earmark does not write
/// genres there, instead of opening the editor and refusing what was typed.
#[test]
fn a_container_earmark_does_not_write_is_said_before_the_editor() {
    let mut s = state(1, false);
    let f = s.tree.files().next().unwrap();
    s.browser.reveal(&s.tree, f);
    let info = crate::audio::SourceInfo {
        container: "Matroska/WebM".into(),
        codec: "opus".into(),
        sample_rate: 48_000,
        channels: 2,
        bits_per_sample: None,
        duration_s: Some(10.0),
    };
    s.tree.set_inspection(
        f,
        crate::library::tree::Inspection {
            info: Ok(info),
            tags: Ok(Default::default()),
            problem: None,
            key: None,
            ino: None,
        },
    );
    key(&mut s, KeyCode::Char('T'));
    assert!(s.popup.is_none(), "no editor");
    let said = s.status.message().unwrap_or_default();
    assert!(
        said.contains("cannot be tagged") && said.contains("Matroska/WebM"),
        "{said}"
    );
}

/// The "window too small" notice names the quit key as bound (it said `q`
/// whatever the config), and ctrl-c when quit has no key of its own.
#[test]
fn the_too_small_notice_names_the_bound_quit_key() {
    let mut s = state(1, true);
    assert!(screen_of(&s, 19, 5).contains("q quits"));
    s.keymap = crate::tui::keymap::KeyMap::with_overrides([("quit", vec!["Q"])])
        .unwrap()
        .0;
    assert!(screen_of(&s, 19, 5).contains("Q quits"));
    s.keymap = crate::tui::keymap::KeyMap::with_overrides([("quit", vec![])])
        .unwrap()
        .0;
    let words = screen_of(&s, 19, 5);
    assert!(
        words.contains("ctrl-c") && words.contains("quits"),
        "{words}"
    );
}

/// Under the "window too small" notice keys only quit, suspend or redraw:
/// a digit, `a` or `u` there acted on a file nobody could see.
#[test]
fn a_window_too_small_takes_no_key_but_quit() {
    let mut s = state(2, true);
    model_ready(&mut s);
    let f = s.tree.files().next().unwrap();
    s.results.set_result(f, classified("rock", 0.7));
    draw(&mut s, 100, 30);
    screen_of(&s, 15, 5);
    for code in [KeyCode::Char('1'), KeyCode::Char('a'), KeyCode::Char('A')] {
        let fx = key(&mut s, code);
        assert!(fx.is_empty(), "{code:?}: {fx:?}");
        assert!(s.popup.is_none(), "{code:?}");
    }
    key(&mut s, KeyCode::Char('q'));
    assert!(s.quit);
    // back to a usable size, keys act again
    s.quit = false;
    draw(&mut s, 100, 30);
    let fx = key(&mut s, KeyCode::Char('1'));
    assert!(
        fx.iter().any(|e| matches!(e, Effect::WriteTags { .. })),
        "{fx:?}"
    );
}

/// A suggestion for a file holding the same genre in another spelling
/// keeps the file's (`hiphop` stays, unchanged), as `tag --auto` does; the
/// app rewrote it to `Hip-Hop` (vocabulary review).
#[test]
fn a_suggestion_keeps_the_files_spelling_of_the_same_genre() {
    let mut s = state(1, true);
    model_ready(&mut s);
    let f = s.tree.files().next().unwrap();
    s.results.set_result(f, classified("hiphop", 0.9));
    read_as(&mut s, f, &["hip hop"], None);
    let fx = key(&mut s, KeyCode::Char('a'));
    let genres = fx.iter().find_map(|e| match e {
        Effect::WriteTags { items, .. } => Some(items[0].change.genres.clone()),
        _ => None,
    });
    assert_eq!(genres, Some(vec!["hip hop".to_string()]), "{fx:?}");
}

/// The genre picker's list moves with the browser's keys as bound (a
/// rebound `down` did nothing there; config review).
#[test]
fn the_picker_moves_with_the_keys_as_bound() {
    let mut s = state(1, true);
    model_ready(&mut s);
    let f = s.tree.files().next().unwrap();
    s.results.set_result(f, classified("rock", 0.8));
    s.keymap = crate::tui::keymap::KeyMap::with_overrides([("down", vec!["ctrl-n"])])
        .unwrap()
        .0;
    key(&mut s, KeyCode::Char('t'));
    let cursor = |s: &State| match &s.popup {
        Some(Popup::Picker { cursor, .. }) => *cursor,
        _ => panic!("no picker"),
    };
    let before = cursor(&s);
    ctrl(&mut s, 'n');
    assert_eq!(cursor(&s), before + 1);
}

/// A genre chosen by hand (`t`, `T`) is written to the version of the file
/// the app showed: one another tagger changed while the picker was open is
/// refused as `a` refuses it (it was written over; soak review).
#[test]
fn a_hand_chosen_genre_is_for_the_version_shown() {
    let mut s = state(1, false);
    let f = s.tree.files().next().unwrap();
    let shown = crate::cache::FileKey {
        size: 1234,
        mtime_ns: 42,
    };
    read_as(&mut s, f, &[], Some(shown));
    let mut fx = Vec::new();
    super::tagging::write_tags(&mut s, &mut fx, vec![(f, vec!["Disco".into()])]);
    let decided = fx.iter().find_map(|e| match e {
        Effect::WriteTags { items, .. } => Some(items[0].decided_on),
        _ => None,
    });
    assert_eq!(decided, Some(Some(shown)));
}

/// Keys wider than the help's key column (several bound to one action)
/// get a line of their own: "2 3 4 5 6 7 8 9 0" ran into its text.
#[test]
fn the_help_gives_a_long_key_list_its_own_line() {
    let mut s = state(1, true);
    s.keymap = crate::tui::keymap::KeyMap::with_overrides([("stop", vec!["1"])])
        .unwrap()
        .0;
    key(&mut s, KeyCode::Char('?'));
    let screen = screen_of(&s, 100, 60);
    let rows: Vec<String> = screen
        .chars()
        .collect::<Vec<_>>()
        .chunks(100)
        .map(|c| c.iter().collect())
        .collect();
    let keys = rows.iter().position(|r| r.contains("2 3 4 5 6 7 8 9 0"));
    let keys = keys.unwrap_or_else(|| panic!("{}", rows.join("\n")));
    assert!(!rows[keys].contains("tag"), "{}", rows[keys]);
    assert!(rows[keys + 1].contains("tag"), "{}", rows[keys + 1]);
}

/// A typed genre the writer would refuse keeps the editor open to mend
/// it, and writes nothing (it closed and marked the file ✗).
#[test]
fn a_typed_genre_the_writer_refuses_keeps_the_editor_open() {
    let mut s = state(1, true);
    model_ready(&mut s);
    key(&mut s, KeyCode::Char('T'));
    assert!(matches!(s.popup, Some(Popup::Editor { .. })));
    // the editor starts with the file's genre: clear it, then type
    ctrl(&mut s, 'u');
    for c in "17".chars() {
        key(&mut s, KeyCode::Char(c));
    }
    let fx = key(&mut s, KeyCode::Enter);
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::WriteTags { .. })),
        "{fx:?}"
    );
    assert!(matches!(s.popup, Some(Popup::Editor { .. })));
    let said = s.status.message().unwrap_or_default();
    assert!(
        said.starts_with("not written: ") && said.contains("esc"),
        "{said}"
    );
}

/// `A` looks up again a file the cache knew nothing of before: `earmark
/// classify` may have cached it since (the batch said "not classified yet"
/// until a restart; vocabulary review).
#[test]
fn batch_accept_looks_up_again_files_without_a_result() {
    let mut s = state(1, true);
    let fx = model_ready(&mut s);
    answer_inspections(&mut s, &fx);
    let f = s.tree.files().next().unwrap();
    s.results.entry(f).peeked = true;
    let fx = key(&mut s, KeyCode::Char('A'));
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Peek { node, .. } if *node == f)),
        "{fx:?}"
    );
    let req = fx
        .iter()
        .find_map(|e| match e {
            Effect::Peek { req, .. } => Some(*req),
            _ => None,
        })
        .unwrap();
    let fx = update(
        &mut s,
        Msg::Peeked {
            req,
            node: f,
            found: Some(Box::new(classified("rock", 0.9))),
        },
    );
    assert!(
        super::tests::preview_asked(fx).is_some(),
        "the batch is built with the result found"
    );
}

/// `c` on a folder holding a file judged too short does not call it a file
/// that "cannot be classified (R rescans to retry)": it was judged, and a
/// rescan changes nothing (re-review).
#[test]
fn c_does_not_offer_to_retry_a_file_too_short_to_judge() {
    let mut s = state(2, true);
    let fx = model_ready(&mut s);
    answer_inspections(&mut s, &fx);
    let files: Vec<_> = s.tree.files().collect();
    s.results
        .entry(files[0])
        .set_failure("too short to judge (0.3 s)".into(), Some("too-short"));
    s.results.set_result(files[1], classified("rock", 0.9));
    key(&mut s, KeyCode::Char('*'));
    key(&mut s, KeyCode::Char('c'));
    let said = s.status.message().unwrap_or_default();
    assert!(said.contains("already classified"), "{said}");
    assert!(!said.contains("rescans to retry"), "{said}");
}

/// `c` over thousands of marks names them grouped, as the count beside
/// ("classifying 16 615 of 20000 marked files" mixed the two).
#[test]
fn many_marks_are_counted_grouped() {
    let mut s = state(1_200, true);
    key(&mut s, KeyCode::Char('*'));
    key(&mut s, KeyCode::Char('c'));
    let said = s.status.message().unwrap_or_default();
    assert!(said.contains("of 1 200 marked files"), "{said}");
}
