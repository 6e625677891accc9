//! What the app tells the user about damaged files, empty folders, the
//! player and cut names: the messages and marks must match what is so.

use std::ffi::OsString;

use crossterm::event::KeyCode;
use unicode_width::UnicodeWidthStr;

use super::super::analyst::{AnalysisError, JobUpdate};
use super::super::components::PlayState;
use super::super::components::tagging::{NotOffered, Popup};
use super::super::effect::{Effect, Work};
use super::super::event::Msg;
use super::super::state::State;
use super::tests::{
    album, answer_inspections, chosen, classified, dry_run, key, model_ready, screen_of, setup,
    state,
};
use super::update;
use crate::audio::SourceInfo;
use crate::library::tree::{Inspection, NodeId, ROOT, ScanBatch, ScanEntry, ScanProgress};
use crate::player::{OutputStatus, PlayerEvent};
use crate::tags::TagSummary;

const NOT_AUDIO: &str = "not an audio file (unrecognised format)";

/// A state on `lib/` holding files with these names (scan done, model ready).
fn library(names: &[&str]) -> State {
    let mut s = state(0, true);
    let entries = names
        .iter()
        .map(|n| ScanEntry::Audio {
            parent: ROOT,
            name: OsString::from(n),
        })
        .collect();
    super::tests::scanned(&mut s, entries);
    let fx = model_ready(&mut s);
    answer_inspections(&mut s, &fx);
    s
}

/// Let the preview job of `node` (asked for when it was selected) fail.
fn preview_fails(s: &mut State, node: NodeId, error: AnalysisError) {
    let req = s
        .inflight
        .iter()
        .find_map(|(req, w)| match w {
            Work::Classify { node: n, .. } if *n == node => Some(req),
            _ => None,
        })
        .expect("the selected file is previewed");
    let failed = JobUpdate::Finished(Err(error));
    update(
        s,
        Msg::Job {
            req,
            update: failed,
        },
    );
}

fn not_audio() -> AnalysisError {
    AnalysisError::Undecodable {
        kind: "not-audio",
        reason: NOT_AUDIO.into(),
    }
}

fn classifies(fx: &[Effect]) -> usize {
    fx.iter()
        .filter(|e| matches!(e, Effect::Classify { .. }))
        .count()
}

/// The screen's lines (one string per row).
fn lines_of(s: &State, width: u16, height: u16) -> Vec<String> {
    let screen: Vec<char> = screen_of(s, width, height).chars().collect();
    screen
        .chunks(usize::from(width))
        .map(|l| l.iter().collect())
        .collect()
}

#[test]
fn keys_on_a_file_that_is_not_audio_say_why_and_do_not_queue_it_again() {
    let mut s = library(&["fake.mp3", "song.mp3"]);
    let fake = s.tree.files().next().unwrap();
    preview_fails(&mut s, fake, not_audio());
    let why = format!("fake.mp3 cannot be classified: {NOT_AUDIO}");

    let fx = key(&mut s, KeyCode::Char('c'));
    assert_eq!(classifies(&fx), 0, "queued again: {fx:?}");
    assert_eq!(s.status.message(), Some(why.as_str()));

    key(&mut s, KeyCode::Char('a'));
    assert_eq!(s.status.message(), Some(why.as_str()));

    // No tag format can hold a genre in it: the pickers do not open.
    for k in ['t', 'T'] {
        key(&mut s, KeyCode::Char(k));
        assert!(s.popup.is_none(), "{k} opened a pop-up");
        assert_eq!(
            s.status.message(),
            Some(format!("fake.mp3 cannot be tagged: {NOT_AUDIO}").as_str())
        );
    }
}

#[test]
fn a_failure_that_may_pass_is_retried_by_c() {
    let mut s = library(&["busy.mp3"]);
    let busy = s.tree.files().next().unwrap();
    preview_fails(
        &mut s,
        busy,
        AnalysisError::Failed("permission denied".into()),
    );
    key(&mut s, KeyCode::Char('a'));
    assert_eq!(
        s.status.message(),
        Some("classifying failed: permission denied (c tries again)")
    );
    let fx = key(&mut s, KeyCode::Char('c'));
    assert_eq!(classifies(&fx), 1, "{fx:?}");
    assert_eq!(s.status.message(), Some("queued busy.mp3 for classifying"));
}

#[test]
fn c_on_a_folder_leaves_out_undecodable_files_until_a_rescan() {
    let mut s = album(3);
    let files: Vec<_> = s.tree.files().collect();
    for &f in &files[..2] {
        s.results
            .entry(f)
            .set_failure(NOT_AUDIO.into(), Some("not-audio"));
    }
    s.results.set_result(files[2], classified("rock", 0.9));
    assert!(s.tree.node(s.browser.selected().unwrap()).is_dir());
    let fx = key(&mut s, KeyCode::Char('c'));
    assert_eq!(classifies(&fx), 0, "{fx:?}");
    assert_eq!(
        s.status.message(),
        Some("Album/: 2 files cannot be classified (R rescans to retry)")
    );

    // A rescan looks at the files again: their failures are forgotten.
    s.results.remap(Some);
    assert!(
        files
            .iter()
            .all(|&f| s.results.get(f).unwrap().error.is_none())
    );
    let fx = key(&mut s, KeyCode::Char('c'));
    assert_eq!(classifies(&fx), 2, "{fx:?}");
    assert_eq!(
        s.status.message(),
        Some("queued 2 files in Album/ for classifying")
    );
}

#[test]
fn batch_accept_counts_failed_files_apart_from_unclassified_ones() {
    let mut s = library(&["fake.mp3", "zero.flac", "new.mp3", "song.mp3"]);
    let files: Vec<_> = s.tree.files().collect();
    for &f in &files[..2] {
        let e = s.results.entry(f);
        e.set_failure(NOT_AUDIO.into(), Some("not-audio"));
        e.peeked = true;
    }
    s.results.entry(files[2]).peeked = true;
    s.results.set_result(files[3], classified("rock", 0.9));
    s.browser.select_index(&s.tree, 0);

    let fx = super::tests::batch_key(&mut s);
    let Some(Some(Popup::Batch { not_offered, .. })) = Some(s.popup.as_ref()) else {
        panic!("no batch preview: {fx:?}");
    };
    assert_eq!(
        *not_offered,
        NotOffered {
            unclassified: 1,
            failed: 2,
            unsure: 0,
        }
    );
    let (req, items) = super::tests::preview_asked(fx).expect("a dry run of the one suggestion");
    update(
        &mut s,
        Msg::Tag {
            req,
            event: super::super::tagger::TagEvent::Previewed(dry_run(items)),
        },
    );
    let screen = screen_of(&s, 100, 20);
    assert!(
        screen.contains("left out: 1 not classified yet, 2 failed"),
        "{screen}"
    );

    // Nothing to offer at all: the status line says they failed.
    let mut s = library(&["fake.mp3", "zero.flac"]);
    for f in s.tree.files().collect::<Vec<_>>() {
        let e = s.results.entry(f);
        e.set_failure(NOT_AUDIO.into(), Some("not-audio"));
        e.peeked = true;
    }
    key(&mut s, KeyCode::Char('A'));
    assert!(s.popup.is_none());
    assert_eq!(
        s.status.message(),
        Some("lib/: nothing to accept, 2 files failed to classify")
    );
}

#[test]
fn c_where_there_is_no_audio_says_so() {
    let mut s = state(0, true);
    key(&mut s, KeyCode::Char('c'));
    assert_eq!(s.status.message(), Some("no audio files here to classify"));

    let mut s = state(0, true);
    let fx = update(
        &mut s,
        Msg::Scan(ScanBatch {
            entries: vec![ScanEntry::Dir {
                parent: ROOT,
                name: OsString::from("Scans"),
            }],
            progress: ScanProgress {
                done: true,
                ..ScanProgress::default()
            },
        }),
    );
    answer_inspections(&mut s, &fx);
    s.browser.select_index(&s.tree, 0);
    key(&mut s, KeyCode::Char('c'));
    assert_eq!(
        s.status.message(),
        Some("no audio files in Scans/ to classify")
    );
}

#[test]
fn a_file_that_cannot_play_leaves_nothing_in_the_player_bar() {
    let mut s = state(2, false);
    let fx = key(&mut s, KeyCode::Char(' '));
    let Some(Effect::Play(path)) = fx.iter().find(|e| matches!(e, Effect::Play(_))) else {
        panic!("nothing played: {fx:?}");
    };
    let failed = PlayerEvent::Failed {
        path: path.clone(),
        reason: NOT_AUDIO.into(),
    };
    update(&mut s, Msg::Player(failed));
    assert_eq!(s.player.node, None);
    let screen = screen_of(&s, 80, 24);
    assert!(screen.contains("nothing playing"), "{screen}");
    assert!(!screen.contains("0:00 / ?"), "{screen}");
    assert_eq!(
        s.status.message(),
        Some(format!("cannot play track-00.mp3: {NOT_AUDIO}").as_str())
    );
}

/// The listing's first row (the player bar shows the name too).
fn first_row(s: &State) -> String {
    lines_of(s, 80, 24)[1].clone()
}

/// What the inspection of a healthy one-minute mp3 says.
fn healthy_mp3() -> Inspection {
    Inspection {
        info: Ok(SourceInfo {
            container: "MP3".into(),
            codec: "mp3".into(),
            sample_rate: 44_100,
            channels: 2,
            bits_per_sample: None,
            duration_s: Some(60.0),
        }),
        tags: Ok(TagSummary::default()),
        problem: None,
        key: None,
        ino: None,
    }
}

#[test]
fn the_playing_mark_follows_the_player() {
    let mut s = state(2, false);
    let first = s.tree.files().next().unwrap();
    // A damaged file's `!` would hide the mark.
    s.tree.set_inspection(first, healthy_mp3());
    let fx = key(&mut s, KeyCode::Char(' '));
    let Some(Effect::Play(path)) = fx.into_iter().find(|e| matches!(e, Effect::Play(_))) else {
        panic!("nothing played");
    };
    let Ok(info) = healthy_mp3().info else {
        unreachable!()
    };
    let started = PlayerEvent::Started {
        path,
        info,
        paused: false,
    };
    update(&mut s, Msg::Player(started));
    assert_eq!(s.player.state, PlayState::Playing);
    assert!(
        first_row(&s).starts_with("│ ▶ track-00.mp3"),
        "{}",
        first_row(&s)
    );

    key(&mut s, KeyCode::Char(' '));
    assert_eq!(s.player.state, PlayState::Paused);
    assert!(
        first_row(&s).starts_with("│   track-00.mp3"),
        "{}",
        first_row(&s)
    );

    key(&mut s, KeyCode::Char(' '));
    key(&mut s, KeyCode::Char('s'));
    assert_eq!(s.player.state, PlayState::Stopped);
    assert!(
        first_row(&s).starts_with("│   track-00.mp3"),
        "{}",
        first_row(&s)
    );
}

/// Cut in the middle of the stem, names that share a beginning still differ.
#[test]
fn cut_names_keep_their_extension_at_80_columns() {
    let mut s = library(&[
        "hyperrogue-caribbean.m4a",
        "hyperrogue-caribbean.ogg",
        "singularity-enemy-unknown-alac.m4a",
        "singularity-enemy-unknown.aiff",
    ]);
    let files: Vec<_> = s.tree.files().collect();
    s.results.set_result(files[0], classified("reggae", 0.70));
    s.results.set_result(files[1], classified("reggae", 0.69));
    let lines = lines_of(&s, 80, 24);
    let rows: Vec<&str> = lines[1..5]
        .iter()
        .map(|l| &l[..l.find("││").unwrap()])
        .collect();
    assert!(
        rows[0].contains("hyperrogu…bean.m4a Reggae 70%"),
        "{rows:#?}"
    );
    assert!(
        rows[1].contains("hyperrogu…bean.ogg Reggae 69%"),
        "{rows:#?}"
    );
    assert!(
        rows[2].contains("singularity-enem…own-alac.m4a"),
        "{rows:#?}"
    );
    assert!(
        rows[3].contains("singularity-enem…unknown.aiff"),
        "{rows:#?}"
    );
}

/// A file whose decoder knows no length: the classifier's says it, and how
/// much of it was heard.
#[test]
fn the_track_pane_shows_the_known_length_and_a_partial_analysis() {
    let mut s = library(&["caribbean.ogg"]);
    let id = s.tree.files().next().unwrap();
    s.tree.set_inspection(
        id,
        Inspection {
            info: Ok(SourceInfo {
                container: "Ogg".into(),
                codec: "vorbis".into(),
                sample_rate: 44_100,
                channels: 2,
                bits_per_sample: None,
                duration_s: None,
            }),
            tags: Ok(TagSummary::default()),
            problem: None,
            key: None,
            ino: None,
        },
    );
    let mut c = classified("reggae", 0.31);
    c.duration_s = 62.0;
    c.analysed_s = Some(48.0);
    c.partial = true;
    s.results.set_result(id, c);
    s.browser.select_index(&s.tree, 0);

    let tall = screen_of(&s, 100, 50);
    assert!(tall.contains("Duration  1:02"), "{tall}");
    assert!(tall.contains("Partial   analysed 0:48 of 1:02"), "{tall}");
    let small = screen_of(&s, 80, 24);
    assert!(small.contains("analysed 0:48 of 1:02 · vorbis"), "{small}");
}

#[test]
fn the_silent_mode_message_fits_80_columns() {
    let mut setup = setup("/nowhere/lib".into(), false);
    setup.output = OutputStatus::Silent {
        reason: "no audio device".into(),
    };
    let s = State::new(setup);
    let last = lines_of(&s, 80, 24).pop().unwrap();
    assert!(
        last.contains("no audio device: playing silently "),
        "{last}"
    );
}

/// The genre picker says what its write does to genres the files hold
/// now: one file's genre by name, how many of the marked files hold one.
#[test]
fn the_picker_says_which_genres_its_write_replaces() {
    let mut s = library(&["a.mp3", "b.mp3", "c.mp3"]);
    let files: Vec<_> = s.tree.files().collect();
    for &f in &files {
        s.results.set_result(f, classified("rock", 0.9));
    }
    s.results.entry(files[1]).written = Some(vec!["Chanson".into()]);
    s.browser.select_index(&s.tree, 1);
    key(&mut s, KeyCode::Char('t'));
    let screen = screen_of(&s, 80, 24);
    assert!(screen.contains(" replaces Chanson "), "{screen}");
    key(&mut s, KeyCode::Esc);
    for i in 0..3 {
        s.browser.select_index(&s.tree, i);
        key(&mut s, KeyCode::Char('m'));
    }
    let fx = key(&mut s, KeyCode::Char('t'));
    // files not read yet are asked for (a fresh user's batch of 12 said
    // "2 of 12" where 3 held one: only files seen on screen counted)
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Inspect { node, .. } if *node == files[0])),
        "{fx:?}"
    );
    let screen = screen_of(&s, 80, 24);
    assert!(
        screen.contains(" 1 of 3 hold a genre; 1 unread "),
        "{screen}"
    );
    for &f in [files[0], files[2]].iter() {
        s.tree.set_inspection(f, healthy_mp3());
    }
    let screen = screen_of(&s, 80, 24);
    assert!(
        screen.contains(" 1 of 3 hold a genre: replaced "),
        "{screen}"
    );
    // a file without a genre: nothing to say
    let mut s = library(&["a.mp3"]);
    let file = s.tree.files().next().unwrap();
    s.results.set_result(file, classified("rock", 0.9));
    s.tree.set_inspection(file, healthy_mp3());
    s.browser.select_index(&s.tree, 0);
    key(&mut s, KeyCode::Char('t'));
    let screen = screen_of(&s, 80, 24);
    assert!(screen.contains("Genre for a.mp3"), "{screen}");
    assert!(!screen.contains("replace"), "{screen}");
}

/// A batch that replaces leaves out files that hold a genre already (another
/// tagger's), says so, and `a` ticks every row (again: none).
#[test]
fn batch_accept_holds_back_files_that_have_a_genre_and_a_ticks_all() {
    let mut s = library(&["new.mp3", "tagged.mp3"]);
    let files: Vec<_> = s.tree.files().collect();
    for &f in &files {
        s.results.set_result(f, classified("rock", 0.9));
    }
    s.browser.select_index(&s.tree, 0);
    let fx = key(&mut s, KeyCode::Char('A'));
    let (req, items) = super::tests::preview_asked(fx).expect("a dry run of the suggestions");
    let mut rows = dry_run(items);
    let tagged = rows.iter_mut().find(|r| r.node == files[1]).unwrap();
    if let Ok(plan) = tagged.plan.as_mut() {
        plan.old = vec!["Chanson".into()];
    }
    super::tests::previewed(&mut s, req, rows);
    assert_eq!(chosen(&s), [files[0]]);
    let screen = screen_of(&s, 100, 20);
    assert!(screen.contains("left out: 1 has a genre"), "{screen}");
    assert!(screen.contains("Chanson → Pop · has a genre"), "{screen}");
    key(&mut s, KeyCode::Char('a'));
    assert_eq!(chosen(&s), files);
    key(&mut s, KeyCode::Char('a'));
    assert!(chosen(&s).is_empty());
}

#[test]
fn files_held_back_for_their_genre_are_counted_in_the_plural() {
    let mut s = library(&["a.mp3", "b.mp3", "c.mp3"]);
    let files: Vec<_> = s.tree.files().collect();
    for &f in &files {
        s.results.set_result(f, classified("rock", 0.9));
    }
    s.browser.select_index(&s.tree, 0);
    let fx = key(&mut s, KeyCode::Char('A'));
    let (req, items) = super::tests::preview_asked(fx).expect("no dry run");
    let mut rows = dry_run(items);
    for r in rows.iter_mut().skip(1) {
        if let Ok(plan) = r.plan.as_mut() {
            plan.old = vec!["Chanson".into()];
        }
    }
    let event = super::super::tagger::TagEvent::Previewed(rows);
    update(&mut s, Msg::Tag { req, event });
    let screen = screen_of(&s, 100, 20);
    assert!(screen.contains("left out: 2 have a genre"), "{screen}");
}

/// `h` at the top of the opened folder has no parent to go to: it says so
/// instead of doing nothing.
#[test]
fn h_at_the_top_says_where_it_is() {
    let mut s = library(&["a.mp3", "b.mp3"]);
    s.browser.select_index(&s.tree, 0);
    key(&mut s, KeyCode::Char('h'));
    let said = s.status.message().unwrap_or_default().to_string();
    assert!(said.starts_with("at the top of lib/"), "{said}");
}

/// An inspection of `node` answered with these genre tags, as a rescan or a
/// write's re-read delivers it.
fn tags_read(s: &mut State, node: NodeId, genres: &[&str]) {
    let req = s.inflight.start(Work::Inspect(node));
    let mut inspection = healthy_mp3();
    inspection.tags = Ok(TagSummary {
        genres: genres.iter().map(|g| g.to_string()).collect(),
        ..TagSummary::default()
    });
    update(
        s,
        Msg::Inspected {
            reqs: vec![req],
            node,
            inspection: Box::new(inspection),
        },
    );
}

#[test]
fn a_genre_changed_by_another_tagger_shows_as_the_file_has_it_after_a_reread() {
    let mut s = library(&["hell.ogg"]);
    let id = s.tree.files().next().unwrap();
    s.browser.select_index(&s.tree, 0);
    s.results.set_result(id, classified("rock", 0.5));
    // earmark wrote Jazz; the re-read after the write agrees: the ✎ stays.
    s.results.entry(id).written = Some(vec!["Jazz".into()]);
    tags_read(&mut s, id, &["Jazz"]);
    assert!(screen_of(&s, 80, 24).contains("Tag Jazz\u{a0}✎"));
    // Another tagger wrote Metal, and `R` read the file again.
    tags_read(&mut s, id, &["Metal"]);
    let screen = screen_of(&s, 80, 24);
    assert!(screen.contains("Tag Metal"), "{screen}");
    assert!(!screen.contains('✎'), "{screen}");
    assert_eq!(s.results.get(id).unwrap().written, None);
}

#[test]
fn without_colours_the_spectrogram_stays_braille_and_v_says_why() {
    use super::super::theme::Theme;
    let mut s = state(1, false);
    s.theme = Theme::default_theme().without_colours();
    for flipped in [false, true] {
        assert!(!s.theme.spectrogram_halfblock(flipped));
    }
    key(&mut s, KeyCode::Char('v'));
    assert!(!s.spectrogram.flip_style);
    let said = s.status.message().unwrap_or_default().to_string();
    assert!(said.contains("NO_COLOR"), "{said}");
    assert!(
        said.width() <= 56,
        "the status line's room at 80 columns: {said}"
    );
    // With colours, `v` flips the style.
    s.theme = Theme::default_theme();
    let before = s.theme.spectrogram_halfblock(false);
    key(&mut s, KeyCode::Char('v'));
    assert_ne!(
        s.theme.spectrogram_halfblock(s.spectrogram.flip_style),
        before
    );
}

/// The picker ranked again when the cache answers keeps a cursor on the row
/// that types a new genre there (it fell to the top genre, which Enter would
/// then write to every marked file: a review's finding).
#[test]
fn a_reranked_picker_keeps_the_cursor_on_the_typing_row() {
    let mut s = library(&["a.mp3", "b.mp3"]);
    let files: Vec<_> = s.tree.files().collect();
    s.results.set_result(files[0], classified("rock", 0.9));
    for i in 0..2 {
        s.browser.select_index(&s.tree, i);
        key(&mut s, KeyCode::Char('m'));
    }
    key(&mut s, KeyCode::Char('t'));
    let Some(Popup::Picker { items, cursor, .. }) = &mut s.popup else {
        panic!("no picker");
    };
    *cursor = items.len();
    let typing = *cursor;
    update(
        &mut s,
        Msg::Peeked {
            req: 999_999,
            node: files[1],
            found: None,
        },
    );
    let Some(Popup::Picker { items, cursor, .. }) = &s.popup else {
        panic!("no picker");
    };
    assert_eq!((*cursor, items.len()), (typing, typing));
}
