//! The app's logic without threads: messages in, state and effects out.

use std::ffi::OsString;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::super::action::Action;
use super::super::analyst::{AnalysisError, JobUpdate, ModelInfo};
use super::super::components::PlayState;
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
pub(super) fn state(n: usize, classify: bool) -> State {
    let mut s = State::new(Setup {
        root: "/nowhere/lib".into(),
        root_label: "lib".into(),
        theme: Theme::default_theme(),
        keymap: KeyMap::defaults(),
        config_path: None,
        classify,
        genre_mode: GenreMode::Replace,
        output: OutputStatus::Silent {
            reason: "--no-audio".into(),
        },
        volume: 1.0,
        warnings: Vec::new(),
        auto_advance: true,
    });
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

pub(super) fn key(s: &mut State, code: KeyCode) -> Vec<Effect> {
    update(
        s,
        Msg::Input(Event::Key(KeyEvent::new(code, KeyModifiers::NONE))),
    )
}

fn draw(s: &mut State, width: u16, height: u16) -> Vec<Effect> {
    let mut t = Terminal::new(TestBackend::new(width, height)).unwrap();
    t.draw(|f| super::super::view::draw(s, f)).unwrap();
    update(s, Msg::Drawn)
}

/// Answer every inspection asked for with "nothing known", so only the
/// requests a test is about stay in flight.
fn answer_inspections(s: &mut State, fx: &[Effect]) {
    for e in fx {
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
                    }),
                },
            );
        }
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
    let failed = JobUpdate::Finished(Err(AnalysisError::Failed("not audio".into())));
    update(
        &mut s,
        Msg::Job {
            req,
            update: failed,
        },
    );
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
fn shift_c_ends_with_how_far_the_run_got_and_the_next_key_clears_it() {
    let mut s = state(4, true);
    for f in s.tree.files().collect::<Vec<_>>() {
        s.browser.toggle_mark(f);
    }
    key(&mut s, KeyCode::Char('c'));
    let reqs: Vec<_> = s
        .inflight
        .iter()
        .filter(|(_, w)| matches!(w, Work::Classify { .. }))
        .map(|(r, _)| r)
        .collect();
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
