//! Your genres in the app, without threads: the Genre pane and the tag keys
//! with a learned head, "play similar" on track end, the re-learn offer.

use std::sync::Arc;

use crossterm::event::KeyCode;

use super::super::analyst::ModelInfo;
use super::super::components::tagging::Popup;
use super::super::components::{AfterTrack, PlayState};
use super::super::effect::{Effect, Work};
use super::super::event::Msg;
use super::super::state::State;
use super::super::tagger::TagEvent;
use super::super::vocab_service::{VocabEvent, VocabRequest};
use super::tests::{key, state};
use super::update;
use crate::classifier::Classified;
use crate::model::Prediction;
use crate::player::PlayerEvent;
use crate::tags::apply::Applied;
use crate::tags::write::WriteReport;
use crate::vocab::{CvReport, Head};

/// A 2-d head: `Lo-fi` along +x, `Chanson` along +y; Lo-fi confident from 0.8,
/// Chanson never (it did not reach the precision in cross-validation).
fn head() -> Head {
    Head {
        version: Head::VERSION,
        model_sha256: "test-sha".into(),
        model_name: "test".into(),
        dim: 2,
        vocabulary: vec!["Lo-fi".into(), "Chanson".into()],
        counts: vec![6, 7],
        mean: vec![0.0, 0.0],
        scale: vec![1.0, 1.0],
        weights: vec![vec![4.0, -4.0], vec![-4.0, 4.0]],
        intercept: vec![0.0, 0.0],
        alpha: 1.0,
        target_precision: 0.9,
        thresholds: vec![Some(0.8), None],
        report: CvReport::default(),
    }
}

fn classified(embedding: [f32; 2]) -> Classified {
    Classified {
        duration_s: 30.0,
        analysed_s: Some(30.0),
        partial: false,
        warnings: Vec::new(),
        prediction: Prediction {
            labels: vec!["jazz".into(), "rock".into()],
            probs: vec![0.3, 0.7],
            segments: Vec::new(),
            embedding: Some(embedding.to_vec()),
        },
        from_cache: false,
        file_key: None,
    }
}

/// A state with the model ready, the head found, the first file selected
/// and classified with `embedding`.
fn with_head(embedding: [f32; 2]) -> State {
    with_head_of(head(), embedding)
}

fn with_head_of(head: Head, embedding: [f32; 2]) -> State {
    let mut s = state(3, true);
    let info = ModelInfo {
        name: "test".into(),
        sha256: "test-sha".into(),
        labels: vec!["jazz".into(), "rock".into()],
        warnings: Vec::new(),
        cache_path: None,
    };
    let fx = update(&mut s, Msg::Model(Ok(info)));
    let req = fx
        .iter()
        .find_map(|e| match e {
            Effect::Vocab {
                req,
                request: VocabRequest::FindHead,
            } => Some(*req),
            _ => None,
        })
        .expect("the model's arrival looks for the library's head");
    super::tests::answer_inspections(&mut s, &fx);
    update(
        &mut s,
        Msg::Vocab {
            req,
            event: VocabEvent::Head(Ok(Some(Arc::new(head)))),
        },
    );
    key(&mut s, KeyCode::Down);
    let id = s.browser.selected().unwrap();
    s.results.set_result(id, classified(embedding));
    s
}

fn writes(fx: &[Effect]) -> Vec<Vec<String>> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::WriteTags { items, .. } => Some(items[0].change.genres.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_and_t_speak_your_genres_and_y_goes_back_to_gtzan() {
    // Clearly Lo-fi: `a` writes the library's own spelling.
    let mut s = with_head([1.0, 0.0]);
    // the same file written again and again: the cursor stays on it
    s.advance_after_tag = false;
    let fx = key(&mut s, KeyCode::Char('a'));
    assert_eq!(writes(&fx), vec![vec!["Lo-fi".to_string()]]);

    // Chanson is never confident: `a` writes nothing and says why.
    let mut s = with_head([0.0, 1.0]);
    s.advance_after_tag = false;
    let fx = key(&mut s, KeyCode::Char('a'));
    assert!(writes(&fx).is_empty(), "{fx:?}");
    assert_eq!(
        s.status.message(),
        Some(
            "nothing written: unsure, Chanson never reached the target precision \
             · t picks one"
        )
    );
    // Lo-fi leads but below its threshold: the line says by how much.
    let mut near = with_head([1.0, 0.9]);
    key(&mut near, KeyCode::Char('a'));
    assert_eq!(
        near.status.message(),
        Some("nothing written: unsure, Lo-fi needs 80%, has 64% · t picks one")
    );

    // t: your genres first (ranked), then GTZAN's.
    key(&mut s, KeyCode::Char('t'));
    let Some(Popup::Picker { items, .. }) = &s.popup else {
        panic!("no picker");
    };
    let names: Vec<&str> = items.iter().map(|(g, _)| g.as_str()).collect();
    assert_eq!(names, ["Chanson", "Lo-fi", "Rock", "Jazz"]);
    key(&mut s, KeyCode::Esc);

    // A digit tags the genre beside it in the pane shown: your genres'
    // bars are numbered too (a fresh user's `1` there was refused).
    // At 100×30 the reason wraps and the pane has room for rank 1 only: 2
    // writes nothing unseen; at 160 columns both ranks show.
    let small = screen(&s, 100, 30);
    assert!(
        small.contains("1 Chanson") && !small.contains("2 Lo-fi"),
        "{small}"
    );
    let fx = key(&mut s, KeyCode::Char('2'));
    assert!(writes(&fx).is_empty(), "{fx:?}");
    let screen = screen(&s, 160, 40);
    assert!(screen.contains("2 Lo-fi"), "{screen}");
    let fx = key(&mut s, KeyCode::Char('2'));
    assert_eq!(writes(&fx), vec![vec!["Lo-fi".to_string()]]);
    let fx = key(&mut s, KeyCode::Char('1'));
    assert_eq!(writes(&fx), vec![vec!["Chanson".to_string()]]);

    // y: GTZAN's genres again; `a` writes the model's top genre.
    key(&mut s, KeyCode::Char('y'));
    assert!(s.vocab.show_gtzan);
    let fx = key(&mut s, KeyCode::Char('a'));
    assert_eq!(writes(&fx), vec![vec!["Rock".to_string()]]);
}

#[test]
fn five_tag_writes_offer_to_relearn_and_l_learns_as_a_job() {
    let mut s = with_head([1.0, 0.0]);
    let id = s.browser.selected().unwrap();
    for i in 0..5 {
        let report = WriteReport {
            path: s.tree.path(id),
            old: Vec::new(),
            new: vec![format!("Lo-fi {i}")],
            changed: true,
            old_state: Default::default(),
            new_state: Default::default(),
            key_before: None,
        };
        update(
            &mut s,
            Msg::Tag {
                req: 0,
                event: TagEvent::Written {
                    node: id,
                    result: Ok(Applied {
                        report,
                        journal_id: Some(i),
                        key_after: None,
                    }),
                },
            },
        );
    }
    assert!(s.vocab.relearn_due());
    let msg = s.status.message().unwrap_or_default().to_string();
    assert!(msg.contains("5 files tagged") && msg.contains("L"), "{msg}");

    // a head learned with `--precision 0.4` is relearned for 0.4 (it went
    // back to the default 0.9 unsaid: a helper's finding)
    let mut chosen = (**s.vocab.head.as_ref().unwrap()).clone();
    chosen.target_precision = 0.4;
    s.vocab.head = Some(std::sync::Arc::new(chosen));
    let fx = key(&mut s, KeyCode::Char('L'));
    let req = fx
        .iter()
        .find_map(|e| match e {
            Effect::Vocab {
                req,
                request:
                    VocabRequest::Learn {
                        min_tracks: 5,
                        precision,
                    },
            } if *precision == 0.4 => Some(*req),
            _ => None,
        })
        .expect("L asks the service to learn (min tracks and precision from the old head)");
    let learning = |s: &State| s.inflight.count(|w| matches!(w, Work::Learn));
    assert_eq!(learning(&s), 1, "a learn job is in flight");
    update(
        &mut s,
        Msg::Vocab {
            req,
            event: VocabEvent::Progress { done: 3, total: 8 },
        },
    );
    assert_eq!(s.vocab.learning, Some((3, 8)));
    assert!(s.status.message().unwrap_or_default().contains("3/8"));
    update(
        &mut s,
        Msg::Vocab {
            req,
            event: VocabEvent::Learned(Err(
                "learning your genres: needs at least two genres".into()
            )),
        },
    );
    assert_eq!(s.vocab.learning, None);
    assert_eq!(learning(&s), 0);
    assert!(
        s.vocab.head.is_some(),
        "a failed re-learn keeps the old head"
    );
}

/// A head sure of no genre would make every row "unsure": GTZAN's genres
/// stay shown, and the line says why; a usable one is shown at once.
#[test]
fn a_learned_head_sure_of_nothing_is_not_switched_to() {
    let mut s = with_head([1.0, 0.0]);
    for (thresholds, gtzan) in [(vec![None, None], true), (vec![Some(0.5), None], false)] {
        key(&mut s, KeyCode::Char('L'));
        let req = s.inflight.start(Work::Learn);
        let learned = Head {
            thresholds,
            ..head()
        };
        update(
            &mut s,
            Msg::Vocab {
                req,
                event: VocabEvent::Learned(Ok(crate::tui::vocab_service::LearnSummary {
                    head: Arc::new(learned),
                    files: 20,
                    tagged: 13,
                    saved: "head.json".into(),
                    above: None,
                })),
            },
        );
        assert_eq!(s.vocab.show_gtzan, gtzan);
        let said = s.status.message().unwrap_or_default();
        assert!(
            said.starts_with(
                "learned 2 genres from 13 tagged tracks of 20 files (cross-validated accuracy 0%)"
            ),
            "{said}"
        );
        assert_eq!(
            said.contains("sure of no genre: GTZAN's genres stay · y shows yours"),
            gtzan,
            "{said}"
        );
    }
}

#[test]
fn play_similar_plays_the_nearest_unplayed_track_when_one_ends() {
    let mut s = with_head([1.0, 0.0]);
    let files: Vec<_> = s.tree.files().collect();
    key(&mut s, KeyCode::Char('F'));
    assert!(s.vocab.play_similar);
    s.player.node = Some(files[0]);
    s.player.state = PlayState::Playing;
    let path = s.tree.path(files[0]);
    let fx = update(&mut s, Msg::Player(PlayerEvent::Finished { path }));
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::Play(_))),
        "waits for the list"
    );
    let (req, asked) = fx
        .iter()
        .find_map(|e| match e {
            Effect::Vocab {
                req,
                request: VocabRequest::Similar { files, top: 1, .. },
            } => Some((*req, files.iter().map(|(n, _)| *n).collect::<Vec<_>>())),
            _ => None,
        })
        .expect("the nearest unplayed track is asked for");
    assert_eq!(asked, files[1..], "the track that ended is not offered");
    assert!(matches!(
        s.inflight.get(req),
        Some(Work::Similar { advance: true })
    ));
    let fx = update(
        &mut s,
        Msg::Vocab {
            req,
            event: VocabEvent::Similar(Ok(vec![(files[2], 0.93)])),
        },
    );
    let third = s.tree.path(files[2]);
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Play(p) if *p == third)),
        "{fx:?}"
    );
    assert_eq!(s.player.node, Some(files[2]));
    // files[2] ends: only files[1] is left to offer.
    s.player.state = PlayState::Playing;
    let fx = update(&mut s, Msg::Player(PlayerEvent::Finished { path: third }));
    let asked: Vec<_> = fx
        .iter()
        .find_map(|e| match e {
            Effect::Vocab {
                request: VocabRequest::Similar { files, .. },
                ..
            } => Some(files.iter().map(|(n, _)| *n).collect::<Vec<_>>()),
            _ => None,
        })
        .unwrap();
    assert_eq!(asked, vec![files[1]]);
}

/// CJK genres take two columns a character: the bars start in one column and
/// each percentage stays on its genre's row.
#[test]
fn the_genre_pane_lines_up_cjk_genres() {
    let mut h = head();
    h.vocabulary = vec!["クラシック音楽".into(), "ポップ".into()];
    let s = with_head_of(h, [0.3, 0.1]);
    let (w, rows) = (100u16, 40u16);
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, rows)).unwrap();
    t.draw(|f| super::super::view::draw(&s, f)).unwrap();
    let buf = t.backend().buffer().clone();
    // The bar rows: (where the bar starts, the row's text).
    let bars: Vec<(u16, String)> = (0..rows)
        .filter_map(|y| {
            let row: String = (0..w).map(|x| buf[(x, y)].symbol().to_string()).collect();
            let bar = (0..w).find(|&x| "█▉▊▋▌▍▎▏".contains(buf[(x, y)].symbol()))?;
            Some((bar, row))
        })
        .collect();
    assert_eq!(bars.len(), 2, "{bars:#?}");
    assert_eq!(bars[0].0, bars[1].0, "{bars:#?}");
    for (_, row) in &bars {
        assert!(
            row.contains('%') && (row.contains('ク') || row.contains('ポ')),
            "{row}"
        );
    }
}

/// The text of the whole screen at `w`×`rows`.
fn screen(s: &State, w: u16, rows: u16) -> String {
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, rows)).unwrap();
    t.draw(|f| super::super::view::draw(s, f)).unwrap();
    let buf = t.backend().buffer().clone();
    (0..rows)
        .map(|y| {
            (0..w)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect::<String>()
                + "\n"
        })
        .collect()
}

/// Your genres keep the library's own spelling in the bars, as in the
/// verdict (a lower-case `soundtrack` was capitalised in the bars only).
#[test]
fn the_bars_spell_your_genres_as_the_library_does() {
    let mut h = head();
    h.vocabulary = vec!["soundtrack".into(), "hiphop".into()];
    let s = with_head_of(h, [0.3, 0.1]);
    let text = screen(&s, 100, 40);
    assert!(text.contains("soundtrack "), "{text}");
    assert!(text.contains("hiphop "), "{text}");
    assert!(
        !text.contains("Soundtrack") && !text.contains("Hip-Hop"),
        "{text}"
    );
}

/// Your genres' names get the columns they need beside their bars (a
/// helper's 'Musique F…' twice at 100 columns, with room to spare).
#[test]
fn long_genre_names_are_shown_whole_where_the_pane_has_room() {
    let mut h = head();
    h.vocabulary = vec!["Musique Française".into(), "Musique Franco-Arabe".into()];
    let s = with_head_of(h, [0.3, 0.1]);
    let text = screen(&s, 100, 40);
    assert!(text.contains("Musique Française "), "{text}");
    assert!(text.contains("Musique Franco-Arabe "), "{text}");
}

/// A genre tag removed here reads `none ✎`, not a blank before the mark.
#[test]
fn a_removed_tag_reads_none() {
    let mut s = with_head([0.3, 0.1]);
    let id = s.browser.selected().unwrap();
    s.results.entry(id).written = Some(Vec::new());
    let text = screen(&s, 100, 40);
    assert!(text.contains("Tag none\u{a0}✎"), "{text}");
}

/// `o` and `F` say what really plays when a track ends: play similar picks
/// the next track whatever auto-advance says, so turning auto-advance off
/// while it is on must not claim that playing stops.
#[test]
fn o_and_f_say_what_plays_when_a_track_ends() {
    let mut s = with_head([1.0, 0.0]);
    assert_eq!(s.after_track(), AfterTrack::Next);
    key(&mut s, KeyCode::Char('F'));
    assert_eq!(s.after_track(), AfterTrack::Similar);
    key(&mut s, KeyCode::Char('o'));
    assert_eq!(s.after_track(), AfterTrack::Similar);
    assert_eq!(
        s.status.message(),
        Some("auto-advance off; play similar (F) still picks the next track")
    );
    key(&mut s, KeyCode::Char('F'));
    assert_eq!(s.after_track(), AfterTrack::Stop);
    assert_eq!(
        s.status.message(),
        Some("play similar off: playing stops when a track ends")
    );
    key(&mut s, KeyCode::Char('o'));
    assert_eq!(
        s.status.message(),
        Some("auto-advance on: the next file plays when a track ends")
    );
    // Without a model there is no similarity to follow.
    s.classify = false;
    key(&mut s, KeyCode::Char('F'));
    assert_eq!(s.after_track(), AfterTrack::Next);
    assert_eq!(
        s.status.message(),
        Some("play similar needs a model: classification is off")
    );
}

/// The player bar keeps `then: similar track` whole at 80 columns; the hint
/// beside it gives way with `…`, not cut mid-word at the edge.
#[test]
fn the_player_bar_says_similar_track_and_cuts_the_hint_cleanly() {
    let mut s = with_head([1.0, 0.0]);
    key(&mut s, KeyCode::Char('F'));
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(80, 24)).unwrap();
    t.draw(|f| super::super::view::draw(&s, f)).unwrap();
    let buffer = t.backend().buffer();
    let bar: String = (0..24)
        .map(|y| (0..80).map(|x| buffer[(x, y)].symbol()).collect::<String>())
        .find(|l| l.contains("nothing playing"))
        .expect("the player bar");
    assert!(bar.contains("… then: similar track · vol"), "{bar}");
}

/// `A` on a file your genres are unsure of says so, not "not classified";
/// nor is a file that does not open as audio (the test's files are not:
/// the one inspected so far) waiting to be classified.
#[test]
fn batch_accept_counts_unsure_files_as_unsure() {
    let mut s = with_head([0.0, 1.0]);
    super::tests::batch_key(&mut s);
    assert_eq!(
        s.status.message(),
        Some(
            "lib/: nothing to accept, 1 not classified yet: c classifies; \
             your genres are unsure of 1 file: t picks one; 1 file failed to classify"
        )
    );
}

/// `A` with your genres: the preview says its rows passed each genre's own
/// bar, the slider being a bar of the user's own on top.
#[test]
fn batch_accept_with_your_genres_says_each_genre_has_its_bar() {
    let mut s = with_head([1.0, 0.0]);
    let fx = super::tests::batch_key(&mut s);
    let (req, items) = super::tests::preview_asked(fx).expect("a preview");
    assert_eq!(items.len(), 1);
    super::tests::previewed(&mut s, req, super::tests::dry_run(items));
    let screen = screen(&s, 100, 30);
    assert!(
        screen.contains("Write 1 of 1 files · past each genre's own bar, and ≥ 50% (←/→ changes)"),
        "{screen}"
    );
}

/// A similar list in a window 6 rows high or less draws in what there is
/// (its height was clamped to at least 6 rows, which panicked there).
#[test]
fn a_similar_list_fits_a_tiny_window() {
    let mut s = with_head([1.0, 0.0]);
    key(&mut s, KeyCode::Char('f'));
    assert!(s.similar.is_some());
    for (w, h) in [(60, 6), (20, 6), (100, 8)] {
        let shown = screen(&s, w, h);
        assert!(shown.contains("Sounds") || w < 30, "{w}x{h}:\n{shown}");
    }
}

/// `f` classified the library on its way (into the cache): files looked up
/// before without a result are looked up again, so they get their ✓.
#[test]
fn after_a_similar_list_files_without_a_result_are_looked_up_again() {
    let mut s = with_head([1.0, 0.0]);
    let bare: Vec<_> = s
        .tree
        .files()
        .filter(|&f| s.results.result(f).is_none())
        .collect();
    assert_eq!(bare.len(), 2);
    for &f in &bare {
        s.results.entry(f).peeked = true;
    }
    let fx = key(&mut s, KeyCode::Char('f'));
    let req = fx
        .iter()
        .find_map(|e| match e {
            Effect::Vocab {
                req,
                request: VocabRequest::Similar { .. },
            } => Some(*req),
            _ => None,
        })
        .expect("f asks for similar tracks");
    update(
        &mut s,
        Msg::Vocab {
            req,
            event: VocabEvent::Similar(Ok(Vec::new())),
        },
    );
    let fx = super::tests::draw(&mut s, 100, 30);
    let peeked: Vec<_> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::Peek { node, .. } => Some(*node),
            _ => None,
        })
        .collect();
    assert_eq!(peeked, bare);
}

/// GTZAN's genre is written in the library's spelling when its learned
/// genres hold it ("Hip Hop" where GTZAN says "Hip-Hop"), not a third one.
#[test]
fn a_gtzan_genre_is_written_as_the_library_spells_it() {
    let mut h = head();
    h.vocabulary = vec!["Lo-fi".into(), "ROCK".into()];
    let mut s = with_head_of(h, [1.0, 0.0]);
    // the same file written again and again: the cursor stays on it
    s.advance_after_tag = false;
    key(&mut s, KeyCode::Char('y'));
    let fx = key(&mut s, KeyCode::Char('a'));
    assert_eq!(writes(&fx), vec![vec!["ROCK".to_string()]]);
    let fx = key(&mut s, KeyCode::Char('2'));
    assert_eq!(writes(&fx), vec![vec!["Jazz".to_string()]]);
}

/// The similar list takes the browser's keys as bound (a rebound `down`
/// did nothing there; a rebound `similar` did not close it), and the status
/// line says esc closes it, not that q quits (q closes it).
#[test]
fn the_similar_list_takes_the_keys_as_bound() {
    let mut s = with_head([1.0, 0.0]);
    s.keymap = crate::tui::keymap::KeyMap::with_overrides([
        ("down", vec!["ctrl-n"]),
        ("similar", vec!["S"]),
    ])
    .unwrap()
    .0;
    key(&mut s, KeyCode::Char('S'));
    assert!(s.similar.is_some());
    let files: Vec<_> = s.tree.files().collect();
    let rows = files.iter().map(|&f| (f, 0.5)).collect();
    s.similar.as_mut().unwrap().rows = Some(Ok(rows));
    let bar = screen(&s, 100, 30);
    let status = bar.lines().last().unwrap_or_default().to_string();
    assert!(
        status.contains("esc closes") && !status.contains("quit"),
        "{status}"
    );
    super::tests::ctrl(&mut s, 'n');
    assert_eq!(s.similar.as_ref().unwrap().selected(), Some(files[1]));
    key(&mut s, KeyCode::Char('S'));
    assert!(s.similar.is_none(), "its own key closes it");
}

/// A movement bound to one of the similar list's own keys leaves that key
/// to the list: `down = "enter"` moved there instead of playing the track.
#[test]
fn the_similar_list_keeps_its_own_keys_over_a_movement() {
    let mut s = with_head([1.0, 0.0]);
    s.keymap = crate::tui::keymap::KeyMap::with_overrides([("down", vec!["j", "enter"])])
        .unwrap()
        .0;
    key(&mut s, KeyCode::Char('f'));
    assert!(s.similar.is_some());
    let files: Vec<_> = s.tree.files().collect();
    let rows = files.iter().map(|&f| (f, 0.5)).collect();
    s.similar.as_mut().unwrap().rows = Some(Ok(rows));
    key(&mut s, KeyCode::Char('j'));
    assert_eq!(s.similar.as_ref().unwrap().selected(), Some(files[1]));
    let fx = key(&mut s, KeyCode::Enter);
    assert_eq!(
        s.similar.as_ref().unwrap().selected(),
        Some(files[1]),
        "Enter did not move"
    );
    assert!(
        fx.iter()
            .any(|e| matches!(e, crate::tui::effect::Effect::Play(_))),
        "Enter plays: {fx:?}"
    );
}
