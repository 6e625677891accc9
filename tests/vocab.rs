//! Learned genres: a head trains and predicts deterministically on a committed
//! embedding fixture (tests/fixtures/vocab, made by make_fixture.py), folders
//! never straddle folds, and `learn`/`classify --genres mine`/`similar` work
//! end to end on real audio (the demo files, fast model).
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use std::path::PathBuf;

use earmark::vocab::{HeadMeta, Sample, Suggestion, TrainOptions, cv_groups, grouped_folds, train};

fn fixture() -> (Vec<String>, Vec<Vec<f32>>, Vec<Sample>) {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vocab/embeddings.json");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let floats = |x: &serde_json::Value| -> Vec<f32> {
        x.as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_f64().unwrap() as f32)
            .collect()
    };
    let vocabulary = v["vocabulary"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    let centres = v["centres"]
        .as_array()
        .unwrap()
        .iter()
        .map(floats)
        .collect();
    let samples = v["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| Sample {
            embedding: floats(&s["embedding"]),
            genres: s["genres"]
                .as_array()
                .unwrap()
                .iter()
                .map(|g| g.as_u64().unwrap() as usize)
                .collect(),
            group: s["group"].as_str().unwrap().to_string(),
        })
        .collect();
    (vocabulary, centres, samples)
}

fn meta(vocabulary: Vec<String>) -> HeadMeta {
    HeadMeta {
        model_sha256: "fixture".into(),
        model_name: "fixture".into(),
        vocabulary,
        left_out: vec![("Polka".into(), 1, "fewer than 5 tagged tracks".into())],
    }
}

#[test]
fn head_trains_and_predicts_deterministically() {
    let (vocabulary, centres, samples) = fixture();
    let opts = TrainOptions::default();
    let a = train(&samples, meta(vocabulary.clone()), &opts).unwrap();
    let b = train(&samples, meta(vocabulary.clone()), &opts).unwrap();
    assert_eq!(a, b, "same data, same head");
    assert_eq!(a.vocabulary, vocabulary);
    assert_eq!(
        a.counts,
        vec![16, 17, 16],
        "the two-genre track counts for both"
    );
    // Folders straddle no fold: 6 albums, 5 folds.
    assert_eq!(a.report.folds, 5);
    assert_eq!(a.report.folders, 6);
    assert!(a.report.accuracy >= 0.8, "{}", a.report.render());
    for (g, c) in centres.iter().enumerate() {
        let p = a.probs(c).unwrap();
        let best = (0..p.len()).max_by(|&x, &y| p[x].total_cmp(&p[y])).unwrap();
        assert_eq!(best, g, "centre of {} -> {p:?}", vocabulary[g]);
        match a.suggest(c).unwrap() {
            Suggestion::Genre { genre, .. } => assert_eq!(genre, vocabulary[g]),
            Suggestion::Unsure { candidates } => assert_eq!(candidates[0].0, vocabulary[g]),
        }
    }
    assert!(
        a.thresholds.iter().any(Option::is_some),
        "{:?}",
        a.thresholds
    );
    assert!(a.report.render().contains("left out: Polka"));
    // The columns are explained under the table.
    assert!(
        a.report
            .render()
            .contains("confident: of the tracks suggested it")
    );
    // The embedding of another model's size is refused, not misread.
    assert!(a.probs(&[0.0; 3]).is_none());
}

#[test]
fn two_albums_of_one_genre_sit_in_different_folds() {
    let (_, _, samples) = fixture();
    let groups: Vec<String> = samples.iter().map(|s| s.group.clone()).collect();
    let strata: Vec<usize> = samples.iter().map(|s| s.genres[0]).collect();
    let folds = grouped_folds(&groups, &strata, 5);
    for (i, g) in groups.iter().enumerate() {
        for (j, h) in groups.iter().enumerate() {
            if g == h {
                assert_eq!(folds[i], folds[j], "{g} straddles two folds");
            }
        }
    }
    let fold_of = |name: &str| folds[groups.iter().position(|g| g == name).unwrap()];
    assert_ne!(fold_of("Lo-fi/album0"), fold_of("Lo-fi/album1"));
}

/// A library sorted into one folder per genre (`Music/Jazz/*.flac`): held
/// out folder by folder, a genre would never be trained on, and every track
/// would come out wrong. Such genres are held out file by file, and said so.
#[test]
fn a_genre_in_one_folder_is_held_out_file_by_file() {
    let (vocabulary, _, samples) = fixture();
    let by_genre: Vec<Sample> = samples
        .iter()
        .filter(|s| s.genres.len() == 1)
        .map(|s| Sample {
            group: format!("Music/{}", vocabulary[s.genres[0]]),
            ..s.clone()
        })
        .collect();
    let (groups, split, _) = cv_groups(&by_genre, vocabulary.len());
    assert_eq!(split, (0..vocabulary.len()).collect::<Vec<_>>());
    let distinct: std::collections::BTreeSet<&String> = groups.iter().collect();
    assert_eq!(distinct.len(), by_genre.len());
    let head = train(
        &by_genre,
        meta(vocabulary.clone()),
        &TrainOptions::default(),
    )
    .unwrap();
    assert!(head.report.accuracy >= 0.8, "{}", head.report.render());
    assert!(head.report.render().contains("held out file by file"));
    // Albums keep their folders: nothing is split in the fixture's own layout.
    let (groups, split, _) = cv_groups(&samples, vocabulary.len());
    assert!(split.is_empty());
    assert!(groups.iter().zip(&samples).all(|(g, s)| *g == s.group));
}

#[test]
fn similar_lists_a_files_duplicate_first() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    common::copy_demo("HyperRogue/hell.wav", &lib.join("a/hell.wav"));
    common::copy_demo("HyperRogue/hell.wav", &lib.join("b/hell-copy.wav"));
    common::copy_demo("HyperRogue/desert.ogg", &lib.join("a/desert.ogg"));
    common::copy_demo("Max McCracken/nebula.flac", &lib.join("b/nebula.flac"));
    let out = common::earmark()
        .env("EARMARK_CACHE_DIR", dir.path().join("cache"))
        .args(["similar", "--model", "fast", "--json", "--top", "3"])
        .arg(lib.join("a/hell.wav"))
        .arg(&lib)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", common::text(&out.stderr));
    let near: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let near = near.as_array().unwrap();
    assert_eq!(near.len(), 3, "the query itself is not listed");
    assert!(
        near[0]["path"].as_str().unwrap().ends_with("hell-copy.wav"),
        "{near:?}"
    );
    assert!(near[0]["similarity"].as_f64().unwrap() > 0.9999);
    assert!(near[1]["similarity"].as_f64().unwrap() < 0.9999);

    // --each: every track of a folder, one model load; same answers.
    let out = common::earmark()
        .env("EARMARK_CACHE_DIR", dir.path().join("cache"))
        .args([
            "similar", "--each", "--model", "fast", "--json", "--top", "1",
        ])
        .arg(lib.join("a"))
        .arg(&lib)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", common::text(&out.stderr));
    let each: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let each = each.as_array().unwrap();
    assert_eq!(each.len(), 2, "hell.wav and desert.ogg: {each:?}");
    let hell = each
        .iter()
        .find(|q| q["query"].as_str().unwrap().ends_with("hell.wav"))
        .unwrap();
    let nearest = hell["nearest"].as_array().unwrap();
    assert_eq!(nearest.len(), 1);
    assert!(
        nearest[0]["path"]
            .as_str()
            .unwrap()
            .ends_with("hell-copy.wav")
    );
    // As text: each query at the margin, its neighbours indented under it.
    let out = common::earmark()
        .env("EARMARK_CACHE_DIR", dir.path().join("cache"))
        .args(["similar", "--each", "--model", "fast", "--top", "1"])
        .arg(lib.join("a"))
        .arg(&lib)
        .output()
        .unwrap();
    let text = common::text(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    for pair in lines.chunks(2) {
        assert!(!pair[0].starts_with(' '), "{text}");
        assert!(
            pair[1].starts_with("  0.") || pair[1].starts_with("  1."),
            "{text}"
        );
    }
}

/// A bad query is said before any library scan (its folder may be `/`), and a
/// library with nothing else to compare says so instead of printing nothing.
#[test]
fn similar_checks_the_query_first_and_says_when_alone() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    // a library scan would report this unreadable file as "skipped"
    std::fs::create_dir_all(&lib).unwrap();
    std::fs::write(lib.join("fake.mp3"), "not audio").unwrap();
    let similar = |args: &[&std::ffi::OsStr]| {
        common::earmark()
            .env("EARMARK_CACHE_DIR", dir.path().join("cache"))
            .args(["similar", "--model", "fast"])
            .args(args)
            .output()
            .unwrap()
    };
    let missing = lib.join("nope.ogg");
    let out = similar(&[missing.as_os_str(), lib.as_os_str()]);
    let err = common::text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "one line, no scan first: {err}");
    assert!(err.contains("nope.ogg"), "{err}");
    // a folder as the query points to --each
    let out = similar(&[lib.as_os_str()]);
    let err = common::text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("a folder, not a track (--each matches every track in it)"),
        "{err}"
    );

    let alone = lib.join("hell.wav");
    common::copy_demo("HyperRogue/hell.wav", &alone);
    let out = similar(&[alone.as_os_str()]);
    let err = common::text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(out.stdout.is_empty());
    assert!(err.contains("no other tracks to compare with in"), "{err}");
}

/// `tag --auto --genres …` skips a file it is unsure of, as the help says,
/// instead of failing the run (a cron job would "fail" on most runs).
/// An unsure file is skipped, saying what its top genre needs; one that
/// holds another genre is skipped for that first (`--overwrite` replaces).
#[test]
fn tag_auto_skips_unsure_files_without_failing() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("hell.wav");
    common::copy_demo("HyperRogue/hell.wav", &f);
    let run = |extra: &[&str]| {
        let out = common::earmark()
            .env("EARMARK_CACHE_DIR", dir.path().join("cache"))
            .env("EARMARK_DATA_DIR", dir.path().join("data"))
            .args([
                "tag",
                "--auto",
                "--genres",
                "gtzan",
                "--dry-run",
                "--model",
                "fast",
            ])
            .args(extra)
            .arg(&f)
            .output()
            .unwrap();
        let (stdout, stderr) = (common::text(&out.stdout), common::text(&out.stderr));
        assert!(out.status.success(), "{stdout}{stderr}");
        assert!(stderr.contains("0 failed"), "{stderr}");
        (stdout, stderr)
    };
    let (stdout, stderr) = run(&[]);
    assert!(stdout.contains("hell.wav: skipped, unsure ("), "{stdout}");
    assert!(
        stdout.contains(" needs ") || stdout.contains("no confidence at which"),
        "what the top genre lacks: {stdout}"
    );
    assert!(
        stderr.contains("1 skipped (unsure or low confidence)"),
        "{stderr}"
    );
    let out = common::earmark()
        .env("EARMARK_CACHE_DIR", dir.path().join("cache"))
        .env("EARMARK_DATA_DIR", dir.path().join("data"))
        .args(["tag", "--genre", "Chiptune"])
        .arg(&f)
        .output()
        .unwrap();
    assert!(out.status.success());
    let (stdout, stderr) = run(&[]);
    assert!(
        stdout.contains("hell.wav: skipped, it has a genre (Chiptune); --overwrite replaces it"),
        "{stdout}"
    );
    assert!(stderr.contains("1 skipped (a genre already"), "{stderr}");
    let (stdout, _) = run(&["--overwrite"]);
    assert!(stdout.contains("hell.wav: skipped, unsure ("), "{stdout}");
}

/// demo/'s files as a library with two genres tagged in three spellings,
/// and the environment that keeps earmark's cache and data beside it.
fn tagged_two_genre_library(
    dir: &std::path::Path,
) -> (PathBuf, impl Fn(&mut std::process::Command) + '_) {
    let lib = dir.join("library");
    common::demo_two_genre_library(&lib);
    let env = move |c: &mut std::process::Command| {
        c.env("EARMARK_CACHE_DIR", dir.join("cache"))
            .env("EARMARK_DATA_DIR", dir.join("data"));
    };
    for (genre, sub) in [
        ("Game Music", "game"),
        ("synth-wave", "synth/one"),
        ("Synth Wave", "synth/two"),
    ] {
        tag_with(&env, genre, &lib.join(sub));
    }
    (lib, env)
}

/// `earmark tag --genre GENRE PATH` in the test's environment, which must succeed.
fn tag_with(env: &impl Fn(&mut std::process::Command), genre: &str, path: &std::path::Path) {
    let mut c = common::earmark();
    env(&mut c);
    let out = c
        .args(["tag", "--genre", genre])
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", common::text(&out.stderr));
}

#[test]
fn learn_saves_a_head_without_paths_and_classify_speaks_it() {
    let dir = tempfile::tempdir().unwrap();
    let (lib, env) = tagged_two_genre_library(dir.path());
    // A genre too thin to learn on a track of no kept genre is said too
    // (only thin genres beside a kept one were: 7 of 30 in a review).
    let game = lib.join("game/one/desert.ogg");
    let thin = lib.join("thin/polka.ogg");
    std::fs::create_dir_all(thin.parent().unwrap()).unwrap();
    std::fs::copy(&game, &thin).unwrap();
    tag_with(&env, "Polka", &thin);
    // `Other` is what taggers write for no genre: never learned, however
    // many tracks hold it (a review's library taught earmark to say `Other`)
    let other = lib.join("other");
    std::fs::create_dir_all(&other).unwrap();
    for n in 0..3 {
        std::fs::copy(&game, other.join(format!("{n}.ogg"))).unwrap();
    }
    tag_with(&env, "Other", &other);
    let mut c = common::earmark();
    env(&mut c);
    let out = c
        .args(["learn", "--model", "fast", "--min-tracks", "3"])
        .arg(&lib)
        .output()
        .unwrap();
    let stdout = common::text(&out.stdout);
    assert!(
        out.status.success(),
        "{}\n{}",
        stdout,
        common::text(&out.stderr)
    );
    assert!(
        stdout.contains("Game Music") && stdout.contains("precision"),
        "{stdout}"
    );
    assert!(stdout.contains("left out: Polka (1 track)"), "{stdout}");
    assert!(
        stdout.contains("left out: Other (3 tracks): a placeholder, not a genre"),
        "{stdout}"
    );
    let vocab = dir.path().join("data/vocab");
    let heads: Vec<PathBuf> = std::fs::read_dir(&vocab)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    assert_eq!(heads.len(), 1);
    let text = std::fs::read_to_string(&heads[0]).unwrap();
    assert!(
        !text.contains(dir.path().to_str().unwrap()),
        "the head holds no path"
    );
    assert!(!text.contains("hell"), "nor file names");
    let head: serde_json::Value = serde_json::from_str(&text).unwrap();
    let words: Vec<&str> = head["vocabulary"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    // One genre per spelling family: "synth-wave" and "Synth Wave" are one.
    assert_eq!(words.len(), 2, "{words:?}");
    assert!(words.contains(&"Game Music"));

    // Asked with the default model: one line before any work, naming the fix.
    let mut c = common::earmark();
    env(&mut c);
    let out = c
        .args(["classify", "--genres", "mine", "--no-cache"])
        .arg(&lib)
        .output()
        .unwrap();
    let err = common::text(&out.stderr);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "{}", common::text(&out.stdout));
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("learned with the `fast` model; add `--model fast`"),
        "{err}"
    );

    let mut c = common::earmark();
    env(&mut c);
    let out = c
        .args(["classify", "--model", "fast", "--genres", "mine", "--json"])
        .arg(&lib)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", common::text(&out.stderr));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for r in rows.as_array().unwrap() {
        let s = r["suggestion"].as_str().unwrap();
        assert!(s == "unsure" || words.contains(&s), "{s}");
        assert!(words.contains(&r["top"][0]["genre"].as_str().unwrap()));
    }
}

/// Learning again says what it replaces; a mistyped folder or a count of 0
/// is an error before any work.
#[test]
fn learn_again_says_what_it_replaces_and_refuses_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let (lib, env) = tagged_two_genre_library(dir.path());
    let learn = || {
        let mut c = common::earmark();
        env(&mut c);
        c.args(["learn", "--model", "fast", "--min-tracks", "3"])
            .arg(&lib)
            .output()
            .unwrap()
    };
    let first = learn();
    assert!(first.status.success(), "{}", common::text(&first.stderr));
    assert!(!common::text(&first.stderr).contains("replaces"));
    let out = learn();
    let err = common::text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("it replaces the genres learned before (2 genres from"),
        "{err}"
    );
    // The table speaks the library's spelling, as JSON and the app do: a
    // learned "synth-wave" is not shown as GTZAN-style "Synth-wave".
    let vocab = dir.path().join("data/vocab");
    let head = std::fs::read_dir(&vocab)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .unwrap();
    let head: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(head).unwrap()).unwrap();
    let mut c = common::earmark();
    env(&mut c);
    let out = c
        .args(["classify", "--model", "fast", "--genres", "mine"])
        .arg(&lib)
        .output()
        .unwrap();
    let table = common::text(&out.stdout);
    for word in head["vocabulary"].as_array().unwrap() {
        let word = word.as_str().unwrap();
        let mut capital = word.chars();
        let capital: String = capital
            .next()
            .map(|f| f.to_uppercase().chain(capital).collect())
            .unwrap_or_default();
        assert!(table.contains(word), "{word}: {table}");
        assert!(
            capital == word || !table.contains(&capital),
            "{word}: {table}"
        );
    }
    let mut c = common::earmark();
    env(&mut c);
    let out = c
        .args(["learn", "--model", "fast"])
        .arg(dir.path().join("no-such-library"))
        .output()
        .unwrap();
    let err = common::text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("no-such-library: no such file or directory"),
        "{err}"
    );
    assert!(!err.contains("skipped"), "{err}");
    // Too few tracks of each genre: what the tags hold, and what to do
    // (the app says the same without the command-line flag).
    let mut c = common::earmark();
    env(&mut c);
    let out = c
        .args(["learn", "--model", "fast", "--min-tracks", "1000"])
        .arg(&lib)
        .output()
        .unwrap();
    let err = common::text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("needs two genres with at least 1000 tagged tracks each; found ")
            && err.contains(": tag more tracks of each (or lower --min-tracks)"),
        "{err}"
    );
    let mut c = common::earmark();
    env(&mut c);
    let out = c
        .args(["learn", "--min-tracks", "0"])
        .arg(&lib)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        common::text(&out.stderr).contains("a genre needs at least 1 track"),
        "{}",
        common::text(&out.stderr)
    );
}
