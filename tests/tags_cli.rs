//! `earmark tag` end to end: reports, exit codes, dry run, JSON, journal, undo,
//! and the failure path through the real binary.
#![allow(clippy::unwrap_used)] // a test (or bench) that cannot unwrap has failed

mod tags_common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tags_common::*;

struct Env {
    _dir: tempfile::TempDir,
    music: PathBuf,
    cache: PathBuf,
}

/// A temp folder with a few music copies and its own cache dir.
fn setup(names: &[&str]) -> Option<Env> {
    let src = music_dir()?;
    let dir = tempfile::tempdir().unwrap();
    let music = dir.path().join("music");
    std::fs::create_dir(&music).unwrap();
    for n in names {
        let p = music.join(n);
        std::fs::copy(src.join(n), &p).unwrap();
        set_mode(&p, 0o644);
    }
    let cache = dir.path().join("cache");
    Some(Env {
        _dir: dir,
        music,
        cache,
    })
}

fn earmark(env: &Env, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_earmark"))
        .args(args)
        .env("EARMARK_CACHE_DIR", &env.cache)
        .env_remove("EARMARK_FAIL_POINT")
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A folder's `.au` (no tags possible) is skipped with its reason, as the
/// app's `t` says; named on its own it was asked for, and fails.
#[test]
fn tag_reports_old_to_new_and_fails_per_file() {
    let Some(env) = setup(&["singularity-awakening.mp3", "hyperrogue-hell.au"]) else {
        return;
    };
    let au = env.music.join("hyperrogue-hell.au");
    let au_bytes = std::fs::read(&au).unwrap();
    let out = earmark(&env, &["tag", "--genre", "Jazz", p(&env.music)]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "nothing failed: {stdout}{stderr}");
    assert!(
        stdout.contains("singularity-awakening.mp3: Soundtrack → Jazz"),
        "{stdout}"
    );
    assert!(
        stdout.contains("hyperrogue-hell.au: skipped, Sun/NeXT .au files cannot carry tags"),
        "{stdout}"
    );
    assert!(
        stderr.contains(
            "1 written, 0 unchanged, 0 failed, 1 skipped (formats that cannot carry tags)"
        ),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&au).unwrap(), au_bytes);
    assert_eq!(
        genres(&env.music.join("singularity-awakening.mp3")),
        s(&["Jazz"])
    );
    let out = earmark(&env, &["tag", "--genre", "Jazz", "--json", p(&env.music)]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let row = |name: &str| {
        v["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["path"].as_str().unwrap().ends_with(name))
            .cloned()
            .unwrap()
    };
    assert_eq!(row(".au")["status"], "skipped", "{v}");
    assert_eq!(row(".au")["error_kind"], "no-tags", "{v}");
    assert_eq!(row(".mp3")["status"], "unchanged", "{v}");

    let out = earmark(&env, &["tag", "--genre", "Jazz", p(&au)]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "asked for: {stderr}");
    assert!(
        stderr.contains("hyperrogue-hell.au: Sun/NeXT .au files cannot carry tags"),
        "{stderr}"
    );
    assert!(
        stderr.contains("0 written, 0 unchanged, 1 failed (1 unsupported)"),
        "{stderr}"
    );

    // Journal lists it; undo takes it back.
    let out = earmark(&env, &["tag", "--journal"]);
    assert!(out.status.success());
    assert!(
        text(&out.stdout).contains("Soundtrack → Jazz"),
        "{}",
        text(&out.stdout)
    );
    let out = earmark(&env, &["tag", "--undo", "--last"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("Jazz → Soundtrack"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(
        genres(&env.music.join("singularity-awakening.mp3")),
        s(&["Soundtrack"])
    );
    let out = earmark(&env, &["tag", "--undo"]);
    assert!(out.status.success());
    assert!(text(&out.stderr).contains("nothing to undo"));
}

#[test]
fn dry_run_writes_nothing() {
    let Some(env) = setup(&["singularity-nebula.flac"]) else {
        return;
    };
    let f = env.music.join("singularity-nebula.flac");
    let bytes = std::fs::read(&f).unwrap();
    let out = earmark(&env, &["tag", "-g", "Ambient", "--dry-run", p(&f)]);
    assert!(out.status.success());
    assert!(
        text(&out.stdout).contains("(none) → Ambient (dry run)"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(std::fs::read(&f).unwrap(), bytes);
    let out = earmark(&env, &["tag", "--journal", "--json"]);
    assert_eq!(text(&out.stdout).trim(), "[]");
}

/// `tag undo --run N` takes back every file one earlier run wrote, leaving
/// later runs' writes alone; its dry run says the same first.
#[test]
fn undo_by_run_takes_back_one_earlier_run() {
    let Some(env) = setup(&["singularity-nebula.flac", "hyperrogue-hell.ogg"]) else {
        return;
    };
    let [a, b] = ["singularity-nebula.flac", "hyperrogue-hell.ogg"].map(|n| env.music.join(n));
    let before_a = genres(&a);
    let out = earmark(&env, &["tag", "-g", "Jazz", "--json", p(&a)]);
    assert!(out.status.success());
    // The report names the run as the journal and `undo --run` do.
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let reported_run = report["run"].as_i64();
    let out = earmark(&env, &["tag", "-g", "Blues", p(&b)]);
    assert!(out.status.success());
    let listing = text(&earmark(&env, &["tag", "journal", "--json"]).stdout);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&listing).unwrap();
    let run_of_b = rows
        .iter()
        .find(|r| r["path"].as_str().unwrap().ends_with("hell.ogg"))
        .and_then(|r| r["run"].as_i64())
        .unwrap_or_else(|| panic!("{listing}"));
    // The hint names its own run (`--last` would be another run's if one
    // finished after it).
    assert!(
        text(&out.stderr).contains(&format!("undo with: earmark tag undo --run {run_of_b}\n")),
        "{}",
        text(&out.stderr)
    );
    let rows: Vec<serde_json::Value> = serde_json::from_str(&listing).unwrap();
    let run_of_a = rows
        .iter()
        .find(|r| r["path"].as_str().unwrap().ends_with("nebula.flac"))
        .and_then(|r| r["run"].as_i64())
        .unwrap_or_else(|| panic!("{listing}"));
    assert_eq!(reported_run, Some(run_of_a), "{report}");
    // A run that writes nothing names no run: its number goes to the next
    // run that writes (a script keeping it would undo that one).
    let out = earmark(&env, &["tag", "-g", "Jazz", "--json", p(&a)]);
    let unchanged: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        unchanged["results"][0]["status"], "unchanged",
        "{unchanged}"
    );
    assert!(unchanged.get("run").is_none(), "{unchanged}");
    assert!(
        !text(&out.stderr).contains("undo with"),
        "{}",
        text(&out.stderr)
    );
    // The listing does not read files whole: it says undoable, not how.
    assert!(rows.iter().all(|r| r["undo"] == "undoable"), "{listing}");
    let run = run_of_a.to_string();
    let out = earmark(&env, &["tag", "undo", "--dry-run", "--run", &run]);
    let said = text(&out.stdout);
    assert!(
        said.contains("nebula.flac") && !said.contains("hell.ogg"),
        "{said}"
    );
    // The flag spelling takes --run and --dry-run as the subcommand does.
    let out = earmark(&env, &["tag", "--undo", "--run", &run, "--dry-run"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("would undo"),
        "{}",
        text(&out.stdout)
    );
    let out = earmark(&env, &["tag", "undo", "--run", &run]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(genres(&a), before_a);
    assert_eq!(genres(&b), s(&["Blues"]));
    // Again: undone already, said so; a run the journal never had is an error.
    let out = earmark(&env, &["tag", "undo", "--run", &run]);
    assert!(out.status.success());
    assert!(
        text(&out.stderr).contains(&format!("run {run} (1 file) was undone already")),
        "{}",
        text(&out.stderr)
    );
    let out = earmark(&env, &["tag", "undo", "--run", "999"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("no run 999 in the journal"),
        "{}",
        text(&out.stderr)
    );
}

/// Two `tag undo --all` at once over three runs of writes: every file comes
/// back byte for byte, both exit 0, and no entry is relabelled "never
/// written" (each undo of an entry holds the journal's undo turn; one the
/// other run took meanwhile is said so). Before, ten entries of one run were
/// relabelled and both runs failed.
#[test]
fn two_undo_runs_at_once_take_turns() {
    let names = [
        "singularity-nebula.flac",
        "hyperrogue-hell.ogg",
        "singularity-awakening.mp3",
    ];
    let Some(env) = setup(&names) else {
        return;
    };
    let files = names.map(|n| env.music.join(n));
    let before: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    for g in ["Rock", "Pop", "Jazz"] {
        let mut args = vec!["tag", "-g", g];
        args.extend(files.iter().map(|f| p(f)));
        assert!(earmark(&env, &args).status.success());
    }
    let [one, two] = [0, 1].map(|_| {
        Command::new(env!("CARGO_BIN_EXE_earmark"))
            .args(["tag", "undo", "--all", "--json"])
            .env("EARMARK_CACHE_DIR", &env.cache)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    });
    let mut statuses = Vec::new();
    for child in [one, two] {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
        statuses.extend(
            rows.into_iter()
                .map(|r| r["status"].as_str().unwrap().to_string()),
        );
    }
    let undone = statuses.iter().filter(|s| *s == "undone").count();
    assert_eq!(undone, 9, "each entry undone once: {statuses:?}");
    assert!(
        statuses
            .iter()
            .all(|s| s == "undone" || s == "undone-elsewhere"),
        "{statuses:?}"
    );
    for (f, b) in files.iter().zip(&before) {
        assert_eq!(&std::fs::read(f).unwrap(), b, "{}", f.display());
    }
}

/// The report keeps the order of the arguments: a named file that is not
/// audio or is missing (in no walk) stays where it was named (it came first).
#[test]
fn the_report_keeps_the_arguments_order() {
    let Some(env) = setup(&["singularity-nebula.flac", "hyperrogue-hell.au"]) else {
        return;
    };
    let [flac, au] = ["singularity-nebula.flac", "hyperrogue-hell.au"].map(|n| env.music.join(n));
    let missing = env.music.join("nope.mp3");
    let out = earmark(
        &env,
        &["tag", "-g", "Jazz", "--json", p(&flac), p(&au), p(&missing)],
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let paths: Vec<&str> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, [p(&flac), p(&au), p(&missing)], "{report}");
}

/// Undoing a write that a later write of earmark's covers says which entry
/// to undo first (a fresh user got only "genre changed since it was written").
#[test]
fn undo_under_a_newer_write_names_the_newer_entry() {
    let Some(env) = setup(&["singularity-nebula.flac"]) else {
        return;
    };
    let a = env.music.join("singularity-nebula.flac");
    for genre in ["Jazz", "Blues"] {
        assert!(earmark(&env, &["tag", "-g", genre, p(&a)]).status.success());
    }
    let listing = text(&earmark(&env, &["tag", "journal", "--json"]).stdout);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&listing).unwrap();
    let mut ids: Vec<i64> = rows.iter().filter_map(|r| r["id"].as_i64()).collect();
    ids.sort_unstable();
    let [older, newer] = ids[..] else {
        panic!("{listing}")
    };
    // the dry run says it as the undo does (it said only "genre changed")
    for dry in [true, false] {
        let older = older.to_string();
        let mut args = vec!["tag", "undo", older.as_str()];
        if dry {
            args.push("--dry-run");
        }
        let out = earmark(&env, &args);
        assert_eq!(out.status.code(), Some(1));
        let said = text(&out.stdout) + &text(&out.stderr);
        assert!(
            said.contains(&format!("#{newer} wrote it since: undo that first")),
            "dry run {dry}: {said}"
        );
    }
    assert_eq!(genres(&a), s(&["Blues"]));
}

/// A dry run refuses what the real run would refuse: a read-only file is
/// said to be read-only (exit 1) by `tag --dry-run` and `tag undo --dry-run`
/// alike, not promised a write.
#[test]
fn a_dry_run_refuses_a_read_only_file_as_the_write_does() {
    let Some(env) = setup(&["singularity-nebula.flac"]) else {
        return;
    };
    let f = env.music.join("singularity-nebula.flac");
    assert!(
        earmark(&env, &["tag", "-g", "Jazz", p(&f)])
            .status
            .success()
    );
    set_mode(&f, 0o444);
    let bytes = std::fs::read(&f).unwrap();
    for args in [
        &["tag", "-g", "Rock", "--dry-run", p(&f)][..],
        &["tag", "-g", "Rock", p(&f)][..],
        &["tag", "undo", "--dry-run"][..],
        &["tag", "undo"][..],
    ] {
        let out = earmark(&env, args);
        let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert_eq!(out.status.code(), Some(1), "{args:?}: {said}");
        assert!(said.contains("read-only"), "{args:?}: {said}");
        assert!(!said.contains("(dry run)"), "{args:?}: {said}");
        assert!(!said.contains("would undo"), "{args:?}: {said}");
    }
    assert_eq!(std::fs::read(&f).unwrap(), bytes);
    set_mode(&f, 0o644);
}

#[test]
fn json_report_append_and_undo_by_id() {
    let Some(env) = setup(&["singularity-awakening.mp3"]) else {
        return;
    };
    let f = env.music.join("singularity-awakening.mp3");
    let out = earmark(
        &env,
        &[
            "tag",
            "--genre",
            "Ambient;Drone",
            "--mode",
            "append",
            "--json",
            p(&f),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let r = &v["results"][0];
    assert_eq!(r["status"], "written");
    assert_eq!(r["old"], serde_json::json!(["Soundtrack"]));
    assert_eq!(
        r["new"],
        serde_json::json!(["Soundtrack", "Ambient", "Drone"])
    );
    let id = r["journal_id"].as_i64().unwrap();
    assert_eq!(genres(&f), s(&["Soundtrack", "Ambient", "Drone"]));

    let out = earmark(&env, &["tag", "--journal", "--json"]);
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j[0]["id"].as_i64(), Some(id));
    assert_eq!(j[0]["undone"], false);

    let out = earmark(&env, &["tag", "--undo", &id.to_string(), "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let u: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(u[0]["status"], "undone");
    assert_eq!(genres(&f), s(&["Soundtrack"]));
    // Undoing it again fails, with a non-zero exit.
    let out = earmark(&env, &["tag", "--undo", &id.to_string()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("already undone"));
}

#[test]
fn injected_failure_through_the_binary_leaves_the_file_alone() {
    let Some(env) = setup(&["hyperrogue-caribbean.m4a"]) else {
        return;
    };
    let f = env.music.join("hyperrogue-caribbean.m4a");
    let bytes = std::fs::read(&f).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_earmark"))
        .args(["tag", "--genre", "Jazz", p(&f)])
        .env("EARMARK_CACHE_DIR", &env.cache)
        .env("EARMARK_FAIL_POINT", "before-rename")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("hyperrogue-caribbean.m4a: injected failure"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read(&f).unwrap(), bytes);
    assert!(leftovers(&env.music).is_empty());
}

#[test]
fn usage_errors() {
    let Some(env) = setup(&["singularity-nebula.flac"]) else {
        return;
    };
    let f = env.music.join("singularity-nebula.flac");
    // No genre.
    assert_eq!(earmark(&env, &["tag", p(&f)]).status.code(), Some(2));
    // --genre and --auto together, --undo with files.
    assert_eq!(
        earmark(&env, &["tag", "--auto", "-g", "Jazz", p(&f)])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        earmark(&env, &["tag", "--undo", p(&f)]).status.code(),
        Some(2)
    );
    // A bad genre name.
    let out = earmark(&env, &["tag", "-g", "bad\tname", p(&f)]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn corrupt_journal_is_moved_aside_with_a_warning() {
    let Some(env) = setup(&["singularity-nebula.flac"]) else {
        return;
    };
    // The journal lives in the data folder (here inside the redirected cache
    // folder); a corrupt cache database beside it does not matter to tagging.
    std::fs::create_dir_all(env.cache.join("data")).unwrap();
    std::fs::write(env.cache.join("earmark.sqlite"), vec![0x42u8; 8192]).unwrap();
    std::fs::write(env.cache.join("data/journal.sqlite"), vec![0x42u8; 8192]).unwrap();
    let f = env.music.join("singularity-nebula.flac");
    let out = earmark(&env, &["tag", "-g", "Jazz", p(&f)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("warning: undo journal"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        text(&out.stderr).contains(".corrupt-"),
        "{}",
        text(&out.stderr)
    );
    // And the new journal works: undo finds the entry.
    assert!(earmark(&env, &["tag", "--undo"]).status.success());
    assert!(genres(&f).is_empty());
}

#[test]
fn undo_and_journal_subcommands_and_forget() {
    let Some(env) = setup(&["singularity-nebula.flac"]) else {
        return;
    };
    let f = env.music.join("singularity-nebula.flac");
    assert!(
        earmark(&env, &["tag", "-g", "Jazz", p(&f)])
            .status
            .success()
    );

    // `tag journal` lists what `tag --journal` lists.
    let out = earmark(&env, &["tag", "journal"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("(none) → Jazz"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(
        text(&out.stdout),
        text(&earmark(&env, &["tag", "--journal"]).stdout)
    );
    let out = earmark(&env, &["tag", "journal", "--json"]);
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = j[0]["id"].as_i64().unwrap();

    // `tag undo ID` takes it back.
    let out = earmark(&env, &["tag", "undo", &id.to_string()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(genres(&f).is_empty());
    // An ID and --last together is a usage error, as with --undo.
    let out = earmark(&env, &["tag", "undo", &id.to_string(), "--last"]);
    assert_eq!(out.status.code(), Some(2));

    // Forget drops an entry without touching the file: undo then finds nothing.
    assert!(
        earmark(&env, &["tag", "-g", "Blues", p(&f)])
            .status
            .success()
    );
    let out = earmark(&env, &["tag", "journal", "--json"]);
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let last = j
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["undone"] == false)
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    // It can still be undone: forget refuses without --force, nothing dropped.
    let id = last.to_string();
    let out = earmark(&env, &["tag", "journal", "forget", &id]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains(&format!("#{last} can still be undone")),
        "{}",
        text(&out.stderr)
    );
    let out = earmark(&env, &["tag", "journal", "forget", &id, "--force"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains(&format!("forgot #{last}")));
    assert_eq!(genres(&f), s(&["Blues"]));
    let out = earmark(&env, &["tag", "undo", "--last"]);
    assert!(out.status.success());
    assert!(
        text(&out.stderr).contains("nothing to undo"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(genres(&f), s(&["Blues"]));

    // Forgetting an entry that does not exist says so (exit 1).
    let out = earmark(&env, &["tag", "journal", "forget", "999999"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("earmark tag: no journal entry #999999"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn tag_clear_removes_the_genre_under_an_independent_reader_and_undoes() {
    let names = [
        "singularity-awakening.mp3",
        "singularity-nebula.flac",
        "hyperrogue-caribbean.m4a",
        "hyperrogue-desert.ogg",
    ];
    let Some(env) = setup(&names) else {
        return;
    };
    let Some(py) = reader::mutagen_python() else {
        return;
    };
    let files: Vec<PathBuf> = names.iter().map(|n| env.music.join(n)).collect();
    // Every file carries a genre first, so clearing has something to remove.
    let out = earmark(&env, &["tag", "--genre", "Jazz", p(&env.music)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let before = reader::dump(&py, &files);

    let out = earmark(&env, &["tag", "--clear", p(&env.music)]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("singularity-nebula.flac: Jazz → (none)"),
        "{stdout}"
    );
    let after = reader::dump(&py, &files);
    for f in &files {
        let key = f.to_string_lossy();
        let (b, a) = (&before[&*key], &after[&*key]);
        assert_eq!(a["genre"], serde_json::json!([]), "{key}: {a}");
        for k in ["others", "length", "channels", "sample_rate"] {
            assert_eq!(a[k], b[k], "{key}: {k} changed");
        }
        assert!(genres(f).is_empty(), "{key}");
    }
    // --clear is one undoable run like any other.
    let out = earmark(&env, &["tag", "undo", "--last"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for f in &files {
        assert_eq!(genres(f), s(&["Jazz"]), "{}", f.display());
    }
    // It cannot be combined with a genre.
    let out = earmark(&env, &["tag", "--clear", "--genre", "Rock", p(&env.music)]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

/// A newline in a file name is escaped in every text line (it must not split
/// a line a script reads), and a folder without audio is an error, as for
/// `classify` and `info`.
#[test]
fn odd_names_stay_on_one_line_and_empty_folders_fail() {
    let Some(env) = setup(&["hyperrogue-desert.ogg"]) else {
        return;
    };
    let odd = env.music.join("new\nline.ogg");
    std::fs::rename(env.music.join("hyperrogue-desert.ogg"), &odd).unwrap();
    let data = env.music.parent().unwrap().join("data");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_earmark"))
            .args(args)
            .env("EARMARK_CACHE_DIR", &env.cache)
            .env("EARMARK_DATA_DIR", &data)
            .output()
            .unwrap()
    };
    for args in [
        &["tag", "-g", "Jazz", p(&env.music)][..],
        &["tag", "journal"],
        &["tag", "undo", "--last"],
    ] {
        let out = run(args);
        let stdout = text(&out.stdout);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        let lines: Vec<&str> = stdout.lines().filter(|l| l.contains("line.ogg")).collect();
        assert_eq!(lines.len(), 1, "{args:?}: {stdout:?}");
        assert!(lines[0].contains("new\\nline.ogg"), "{args:?}: {stdout:?}");
    }
    // a zero-byte file is empty, not of an unsupported format (as classify says)
    let zero = env.music.join("zero.mp3");
    std::fs::write(&zero, b"").unwrap();
    let out = run(&["tag", "-g", "Jazz", p(&zero)]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("zero.mp3: file is empty (0 bytes)"), "{err}");
    assert!(err.contains("1 failed (1 empty)"), "{err}");
    std::fs::remove_file(&zero).unwrap();
    let empty = env.music.join("empty");
    std::fs::create_dir(&empty).unwrap();
    let out = run(&["tag", "-g", "Jazz", p(&empty)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("earmark tag: no audio files found in"),
        "{}",
        text(&out.stderr)
    );
}

/// A name that is not UTF-8 (a Latin-1 rip): the write lands on that very
/// file (read back by ffprobe), text output escapes the odd byte instead of
/// merging it into U+FFFD, and JSON gives the name's bytes as `path_bytes`.
#[cfg(unix)]
#[test]
fn a_latin1_name_is_tagged_and_reported_byte_for_byte() {
    use std::os::unix::ffi::OsStrExt;
    let Some(env) = setup(&["singularity-awakening.mp3"]) else {
        return;
    };
    if !reader::ffmpeg_present() {
        return;
    }
    let name = std::ffi::OsStr::from_bytes(b"Bj\xf6rk.mp3");
    let odd = env.music.join(name);
    std::fs::rename(env.music.join("singularity-awakening.mp3"), &odd).unwrap();
    let bytes: Vec<u64> = odd
        .as_os_str()
        .as_bytes()
        .iter()
        .map(|&b| b.into())
        .collect();

    let out = earmark(&env, &["tag", "-g", "Jazz", p(&env.music)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("Bj\\xF6rk.mp3"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(
        reader::ffprobe_tags(&odd).get("genre").map(String::as_str),
        Some("Jazz")
    );

    let out = earmark(&env, &["tag", "-g", "Blues", "--json", p(&env.music)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rec = &v["results"][0];
    assert!(
        rec["path"].as_str().unwrap().ends_with("Bj\\xF6rk.mp3"),
        "{rec}"
    );
    let got: Vec<u64> = rec["path_bytes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_u64().unwrap())
        .collect();
    assert_eq!(got, bytes);
    assert_eq!(
        reader::ffprobe_tags(&odd).get("genre").map(String::as_str),
        Some("Blues")
    );

    // a UTF-8 name has no `path_bytes`
    let plain = env.music.join("Björk.mp3");
    std::fs::copy(&odd, &plain).unwrap();
    let out = earmark(&env, &["tag", "-g", "Pop", "--json", p(&plain)]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["results"][0].get("path_bytes").is_none(), "{v}");
}

/// `tag journal` says which entries `undo` can take back now, and
/// `tag undo --dry-run` says how (byte for byte, or values only after another
/// tagger re-saved the file), writing nothing; the real undo then does
/// exactly what the dry run said.
#[test]
fn the_journal_and_a_dry_run_say_what_undo_would_do() {
    let names = [
        "hyperrogue-hell.ogg",
        "singularity-nebula.flac",
        "hyperrogue-desert.ogg",
        "singularity-awakening.ogg",
    ];
    let Some(env) = setup(&names) else {
        return;
    };
    let [twice, resaved, gone, plain] = names.map(|n| env.music.join(n));
    let originals = [&twice, &plain].map(|f| std::fs::read(f).unwrap());
    assert!(
        earmark(&env, &["tag", "--genre", "Jazz", p(&env.music)])
            .status
            .success()
    );
    assert!(
        earmark(&env, &["tag", "--genre", "Blues", p(&twice)])
            .status
            .success()
    );
    enrich(&resaved); // another tagger: new bytes, same genre
    std::fs::remove_file(&gone).unwrap();

    let out = earmark(&env, &["tag", "journal"]);
    let listing = text(&out.stdout);
    let row = |f: &Path, genre: &str| {
        listing
            .lines()
            .find(|l| l.contains(p(f)) && l.ends_with(genre))
            .unwrap_or_else(|| panic!("{listing}"))
            .to_string()
    };
    assert!(row(&twice, "Game → Jazz").contains("after #5"), "{listing}");
    assert!(row(&gone, "Game → Jazz").contains("missing"), "{listing}");
    for f in [&resaved, &plain] {
        assert!(!row(f, "→ Jazz").contains('#'), "{listing}");
    }

    let before: Vec<Vec<u8>> = [&twice, &resaved, &plain]
        .iter()
        .map(|f| std::fs::read(f).unwrap())
        .collect();
    let out = earmark(&env, &["tag", "undo", "--dry-run", "--all"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    let said = |f: &Path, how: &str| {
        stdout
            .lines()
            .filter(|l| l.contains(p(f)) && l.ends_with(how))
            .count()
    };
    assert_eq!(said(&twice, "(byte for byte)"), 2, "{stdout}");
    assert_eq!(said(&plain, "(byte for byte)"), 1, "{stdout}");
    assert_eq!(said(&resaved, "re-saved since)"), 1, "{stdout}");
    assert!(
        stderr.contains("hyperrogue-desert.ogg: cannot undo"),
        "{stderr}"
    );
    assert!(
        stderr.contains("4 would be undone, 1 could not"),
        "{stderr}"
    );
    for (f, b) in [&twice, &resaved, &plain].iter().zip(&before) {
        assert_eq!(
            &std::fs::read(f).unwrap(),
            b,
            "a dry run wrote {}",
            f.display()
        );
    }

    let out = earmark(&env, &["tag", "undo", "--all"]);
    assert!(
        text(&out.stderr).contains("4 undone, 1 failed"),
        "{}",
        text(&out.stderr)
    );
    for (f, b) in [&twice, &plain].iter().zip(&originals) {
        assert_eq!(
            &std::fs::read(f).unwrap(),
            b,
            "{} not restored exactly",
            f.display()
        );
    }
    assert!(genres(&resaved).is_empty());
}

/// `tag --auto` leaves a genre another tagger (or the user) set, as the app's
/// batch accept does: skipped and said, unless `--overwrite`; `--mode
/// append` adds beside it.
#[test]
fn auto_keeps_a_genre_already_there_unless_overwrite() {
    let Some(env) = setup(&["singularity-nebula.flac"]) else {
        return;
    };
    let f = env.music.join("singularity-nebula.flac");
    assert!(
        earmark(&env, &["tag", "-g", "Game", p(&f)])
            .status
            .success()
    );
    let auto = |extra: &[&str]| {
        // every confidence: this is about the genre the file holds
        let mut args = vec!["tag", "--auto", "--dry-run", "--json", "--model", "fast"];
        args.extend_from_slice(&["--min-confidence", "0"]);
        args.extend_from_slice(extra);
        args.push(p(&f));
        let out = earmark(&env, &args);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        report["results"][0].clone()
    };
    let held = auto(&[]);
    assert_eq!(held["status"], "skipped", "{held}");
    assert_eq!(held["error_kind"], "has-genre", "{held}");
    assert_eq!(held["error"], "it has a genre (Game)", "{held}");
    assert_eq!(auto(&["--overwrite"])["status"], "would-write");
    let appended = auto(&["--mode", "append"]);
    assert_eq!(appended["status"], "would-write", "{appended}");
    assert_eq!(genres(&f), s(&["Game"]), "dry runs write nothing");

    // The file's own spelling of the suggested genre stays (as the app's
    // batch holds it back): `--auto` rewrote `hip hop` to `Hip-Hop`.
    let suggested = auto(&["--overwrite"])["new"][0]
        .as_str()
        .unwrap()
        .to_string();
    let theirs = suggested.to_lowercase().replace('-', " ");
    assert!(
        earmark(&env, &["tag", "-g", &theirs, p(&f)])
            .status
            .success()
    );
    let kept = auto(&[]);
    assert_eq!(kept["status"], "unchanged", "{kept}");
    assert_eq!(kept["new"][0], theirs.as_str(), "{kept}");
    // --overwrite replaces another genre, not the file's spelling of this
    // one (it rewrote `hip hop` while the app kept it)
    let kept = auto(&["--overwrite"]);
    assert_eq!(kept["status"], "unchanged", "{kept}");
    assert_eq!(kept["new"][0], theirs.as_str(), "{kept}");
}

/// A user who owns a file but is not in its group cannot give the new copy
/// that group: the refusal names the group, not the owner, and the file is
/// left as it was. Needs root to make such a user's file (CI runs as root);
/// skipped otherwise.
#[cfg(unix)]
#[test]
fn a_group_the_writer_is_not_in_is_what_the_refusal_names() {
    use std::os::unix::fs::{PermissionsExt, chown};
    const NOBODY: u32 = 65534;
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if !root || Command::new("setpriv").arg("--version").output().is_err() {
        eprintln!("skipped: needs root and setpriv to act as another user");
        return;
    }
    let Some(env) = setup(&["singularity-nebula.flac"]) else {
        return;
    };
    let f = env.music.join("singularity-nebula.flac");
    let top = env.music.parent().unwrap();
    std::fs::set_permissions(top, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::create_dir_all(&env.cache).unwrap();
    for d in [&env.music, &env.cache] {
        chown(d, Some(NOBODY), Some(NOBODY)).unwrap();
    }
    chown(&f, Some(NOBODY), Some(0)).unwrap(); // owned by nobody, group root
    let before = std::fs::read(&f).unwrap();
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_earmark"))
        .args(["tag", "-g", "Jazz", p(&f)])
        .env("EARMARK_CACHE_DIR", &env.cache)
        .env_remove("EARMARK_FAIL_POINT")
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("cannot give the new file the original's group (gid 0): you are not in it"),
        "{err}"
    );
    assert_eq!(std::fs::read(&f).unwrap(), before, "untouched");
}

/// Ctrl-C in the middle of a run: every journal entry is a write that
/// happened (the file holds it), every other file is untouched byte for
/// byte, no temporary copy is left, and the run exits 130. Each write pauses
/// 1 s between its journal entry and its rename (a test-only fail point),
/// so the signal lands there: exiting at once used to leave an entry for a
/// write that never happened.
/// Six copies of a FLAC tagged in one run that pauses a second before each
/// rename (a test-only fail point), Ctrl-C once the first is journaled: the
/// files, the original bytes, and the run's output.
#[cfg(unix)]
fn interrupt_six_flac_writes(env: &Env, extra: &[&str]) -> (Vec<PathBuf>, Vec<u8>, Output) {
    let src = env.music.join("singularity-nebula.flac");
    let files: Vec<PathBuf> = (0..6)
        .map(|i| {
            let f = env.music.join(format!("t{i:03}.flac"));
            std::fs::copy(&src, &f).unwrap();
            f
        })
        .collect();
    std::fs::remove_file(&src).unwrap();
    let original = std::fs::read(&files[0]).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_earmark"))
        .args(["tag", "-g", "Jazz"])
        .args(extra)
        .args(&files)
        .env("EARMARK_CACHE_DIR", &env.cache)
        .env("EARMARK_FAIL_POINT", "pause-before-rename")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // the first entry is journaled: its rename is a second away
    let t0 = std::time::Instant::now();
    while t0.elapsed() < std::time::Duration::from_secs(30) {
        let listed = text(&earmark(env, &["tag", "journal", "--json"]).stdout);
        if listed.contains("t00") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // SAFETY: kill with a pid of our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    (files, original, child.wait_with_output().unwrap())
}

#[cfg(unix)]
#[test]
fn an_interrupted_run_leaves_only_writes_that_happened() {
    let Some(env) = setup(&["singularity-nebula.flac"]) else {
        return;
    };
    let (files, original, out) = interrupt_six_flac_writes(&env, &[]);
    let err = text(&out.stderr);
    let listing = text(&earmark(&env, &["tag", "journal", "--json"]).stdout);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&listing).unwrap();
    let journaled: Vec<&str> = rows.iter().map(|r| r["path"].as_str().unwrap()).collect();
    let mut written = 0;
    for f in &files {
        let name = f.file_name().unwrap().to_str().unwrap();
        if journaled.iter().any(|j| j.ends_with(name)) {
            assert_eq!(genres(f), s(&["Jazz"]), "{name} journaled but not written");
            written += 1;
        } else {
            assert_eq!(std::fs::read(f).unwrap(), original, "{name} touched: {err}");
        }
    }
    let left: Vec<_> = std::fs::read_dir(&env.music)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(left.is_empty(), "temporary copies left: {left:?}");
    assert!(
        written < files.len(),
        "the run ended before the signal: {err}"
    );
    assert_eq!(out.status.code(), Some(130), "{err}");
    let run = rows[0]["run"].as_i64().unwrap();
    let said = format!(
        "interrupted after writing {written} of {} files, the rest unchanged; undo with: earmark tag undo --run {run}",
        files.len()
    );
    assert!(err.contains(&said), "{err}");
}

/// Ctrl-C while the write waits for another earmark's lock on the file (a
/// wait of up to a minute) ends the run at once, the file unchanged.
#[cfg(unix)]
#[test]
fn ctrl_c_while_waiting_for_a_lock_ends_the_run_at_once() {
    let Some(env) = setup(&["singularity-nebula.flac"]) else {
        return;
    };
    let file = env.music.join("singularity-nebula.flac");
    let original = std::fs::read(&file).unwrap();
    // hold the lock an earmark writing this file would hold
    let held = std::fs::File::open(&file).unwrap();
    held.lock().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_earmark"))
        .args(["tag", "-g", "Jazz"])
        .arg(&file)
        .env("EARMARK_CACHE_DIR", &env.cache)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // the write is journaled only once it holds the lock: it is waiting
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert!(child.try_wait().unwrap().is_none(), "it did not wait");
    let t0 = std::time::Instant::now();
    // SAFETY: kill with a pid of our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    while child.try_wait().unwrap().is_none() && t0.elapsed().as_secs() < 20 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let waited = t0.elapsed();
    let out = child.wait_with_output().unwrap();
    let err = text(&out.stderr);
    assert!(
        waited < std::time::Duration::from_secs(5),
        "Ctrl-C waited {waited:?} for the lock: {err}"
    );
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted; no file was changed"), "{err}");
    // after a second's wait it said why it waited (it looked like a hang)
    assert!(
        err.contains("singularity-nebula.flac: waiting for another program that holds its lock (up to a minute; Ctrl-C stops)"),
        "{err}"
    );
    drop(held);
    assert_eq!(std::fs::read(&file).unwrap(), original);
}

/// Ctrl-C during a run over a folder: stdout has a line for every file the
/// run wrote, as many as the closing "interrupted after writing N of M"
/// says, and those N files (no others) hold the genre. The last write's
/// line used to be lost: the run stopped for the signal between the rename
/// and the line. Each write pauses 1 s before its rename (a test-only fail
/// point), and the signal goes once a first line is out, so it lands in a
/// later write however slow the machine.
#[cfg(unix)]
#[test]
fn ctrl_c_keeps_the_line_of_every_file_written() {
    use std::io::BufRead;
    let Some(env) = setup(&[]) else {
        return;
    };
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/HyperRogue/caribbean.m4a");
    let files: Vec<PathBuf> = (0..8)
        .map(|i| {
            let f = env.music.join(format!("t{i:03}.m4a"));
            std::fs::copy(&demo, &f).unwrap();
            set_mode(&f, 0o644);
            f
        })
        .collect();
    let original = std::fs::read(&files[0]).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_earmark"))
        .args(["tag", "-g", "Jazz", p(&env.music)])
        .env("EARMARK_CACHE_DIR", &env.cache)
        .env("EARMARK_FAIL_POINT", "pause-before-rename")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, lines) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let _ = tx.send(line.unwrap());
        }
    });
    let mut said = vec![
        lines
            .recv_timeout(std::time::Duration::from_secs(120))
            .expect("no file was written in two minutes"),
    ];
    // SAFETY: kill with a pid of our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    reader.join().unwrap();
    said.extend(lines.try_iter());
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{said:?} {err}");
    let n: usize = err
        .split("interrupted after writing ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count: {err}"));
    assert!(n < files.len(), "the run ended before the signal: {err}");
    assert!(
        err.contains(&format!("writing {n} of {} files", files.len())),
        "{err}"
    );
    let written: Vec<&String> = said.iter().filter(|l| l.ends_with("→ Jazz")).collect();
    assert_eq!(written.len(), n, "stdout {said:?}, stderr {err}");
    for f in &files {
        let name = f.file_name().unwrap().to_str().unwrap();
        if written.iter().any(|l| l.contains(name)) {
            assert_eq!(genres(f), s(&["Jazz"]), "{name}");
        } else {
            assert_eq!(std::fs::read(f).unwrap(), original, "{name} changed unsaid");
        }
    }
}

/// A run killed (`kill -9`) between a file's journal entry and its rename
/// leaves an entry for a write that never happened: the file is byte for
/// byte what it was. `tag journal`, `tag undo --dry-run` and `tag undo` say
/// so ("never written"), the undo marks the entry and is not a failure, and
/// the run's real writes are undone as ever. They used to fail for ever with
/// "genre changed since it was written (now …, expected KillTest)". The kill
/// is simulated where it happens: the entry (with the original's bytes, or
/// killed before those were kept) is recorded and the rename never comes.
#[test]
fn an_entry_whose_write_was_killed_before_its_rename_is_never_written() {
    use earmark::cache::Cache;
    use earmark::tags::journal::NewJournalEntry;
    use earmark::tags::write::write_genre_recorded;
    use earmark::tags::{GenreChange, TagWriteError, WriteConfig, WriteErrorKind};
    let names = [
        "singularity-nebula.flac",
        "hyperrogue-hell.ogg",
        "singularity-awakening.mp3",
    ];
    let Some(env) = setup(&names) else {
        return;
    };
    let [written, killed, killed_early] = names.map(|n| env.music.join(n));
    let before_written = genres(&written);
    let out = earmark(&env, &["tag", "-g", "KillTest", "--json", p(&written)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let run = report["run"].as_i64().unwrap();
    let journal = Cache::open(&env.cache.join("data/journal.sqlite")).unwrap();
    let kill = |f: &Path, keep_bytes: bool| {
        let original = std::fs::read(f).unwrap();
        let change = GenreChange::replace("KillTest");
        let e = write_genre_recorded(f, &change, &WriteConfig::default(), |r, patch| {
            let entry = NewJournalEntry {
                path: f.to_path_buf(),
                old: r.old.clone(),
                new: r.new.clone(),
                old_state: r.old_state.to_json(),
                new_state: r.new_state.to_json(),
                batch: run,
            };
            let id = journal.journal_add(&entry).unwrap();
            if keep_bytes {
                journal.journal_keep_bytes(id, patch.unwrap()).unwrap();
            }
            // killed here: the rename never happens
            Err(TagWriteError::new(f, WriteErrorKind::Injected, "killed"))
        });
        assert!(e.is_err());
        assert_eq!(std::fs::read(f).unwrap(), original);
        original
    };
    let originals = [kill(&killed, true), kill(&killed_early, false)];
    drop(journal);
    let never =
        "never written (the run was interrupted before this file's rename); nothing to undo";

    let out = earmark(&env, &["tag", "journal"]);
    let listing = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let row = |f: &Path| {
        listing
            .lines()
            .find(|l| l.contains(p(f)))
            .unwrap_or_else(|| panic!("{listing}"))
            .to_string()
    };
    for f in [&killed, &killed_early] {
        assert!(row(f).contains(" unwritten "), "{listing}");
    }
    assert!(!row(&written).contains("unwritten"), "{listing}");

    let run_s = run.to_string();
    let out = earmark(&env, &["tag", "undo", "--dry-run", "--run", &run_s]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    for f in [&killed, &killed_early] {
        assert!(
            stdout
                .lines()
                .any(|l| l.contains(p(f)) && l.ends_with(never)),
            "{stdout}"
        );
    }
    assert!(stdout.contains("would undo"), "{stdout}");
    assert!(
        stderr.contains("1 would be undone, 2 never written, 0 could not"),
        "{stderr}"
    );

    let out = earmark(&env, &["tag", "undo", "--run", &run_s]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert_eq!(stdout.matches(never).count(), 2, "{stdout}");
    assert!(
        stderr.contains("1 undone, 2 never written, 0 failed"),
        "{stderr}"
    );
    assert_eq!(genres(&written), before_written);
    for (f, b) in [&killed, &killed_early].iter().zip(&originals) {
        assert_eq!(&std::fs::read(f).unwrap(), b, "{}", f.display());
    }

    // Marked: nothing of the run is pending, and the listing says why.
    let out = earmark(&env, &["tag", "journal", "--json"]);
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(rows.iter().all(|r| r["undone"] == true), "{rows:?}");
    let unwritten = rows.iter().filter(|r| r["undo"] == "never-written").count();
    assert_eq!(unwritten, 2, "{rows:?}");
    let out = earmark(&env, &["tag", "undo", "--run", &run_s]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("(3 files) was undone already (2 of them never written)"),
        "{}",
        text(&out.stderr)
    );
}

/// `tag DIR` walks a folder as `classify DIR` does: what classify skips (a
/// socket, a FIFO, a link to /dev/zero named song.mp3, a dangling link,
/// symlink loops) is said as `skipped: PATH: why` and is no failure, with
/// --genre, --auto, a dry run or a write; the same FIFO named on the command
/// line still fails the run. They used to count as failures (exit 1).
#[cfg(unix)]
#[test]
fn tag_skips_what_classify_skips_in_a_folder() {
    use std::os::unix::fs::symlink;
    let Some(env) = setup(&["singularity-awakening.mp3"]) else {
        return;
    };
    let lib = &env.music;
    let good = lib.join("singularity-awakening.mp3");
    let _socket = std::os::unix::net::UnixListener::bind(lib.join("sock.mp3")).unwrap();
    let fifo = lib.join("fifo.mp3");
    let c = std::ffi::CString::new(p(&fifo)).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    symlink("/dev/zero", lib.join("song.mp3")).unwrap();
    symlink("nowhere.mp3", lib.join("dangling.mp3")).unwrap();
    symlink("self.mp3", lib.join("self.mp3")).unwrap();
    std::fs::create_dir(lib.join("sub")).unwrap();
    symlink("..", lib.join("sub/loop")).unwrap();
    let odd = 6;

    let out = earmark(&env, &["classify", "--model", "fast", p(lib)]);
    let classify_skips = text(&out.stderr).matches("skipped: ").count();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(classify_skips, odd, "{}", text(&out.stderr));

    let auto = ["--auto", "--model", "fast", "--min-confidence", "0"];
    for args in [
        &["-g", "Jazz", "--dry-run"][..],
        &auto[..],
        &["-g", "Jazz"][..],
    ] {
        let mut all = vec!["tag"];
        all.extend_from_slice(args);
        all.push(p(lib));
        if args.contains(&"--auto") {
            all.push("--dry-run");
        }
        let out = earmark(&env, &all);
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stdout}{stderr}");
        assert_eq!(
            stderr.matches("skipped: ").count(),
            odd,
            "{args:?}: {stderr}"
        );
        assert!(
            stderr.contains(&format!(
                "skipped: {}: not a regular file (a FIFO)",
                p(&fifo)
            )),
            "{args:?}: {stderr}"
        );
        assert!(stderr.contains(" 0 failed"), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!(
                "{odd} skipped (not regular files, unreadable, or music earmark does not read)"
            )),
            "{args:?}: {stderr}"
        );
        assert!(
            stdout.contains("singularity-awakening.mp3"),
            "{args:?}: {stdout}"
        );
    }
    assert_eq!(genres(&good), s(&["Jazz"]));

    // Named, it is not skipped: the run fails, as before.
    let out = earmark(
        &env,
        &["tag", "-g", "Rock", "--dry-run", p(&fifo), p(&good)],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("1 failed (1 unreadable or not audio)"),
        "{stderr}"
    );
    assert!(!stderr.contains("skipped: "), "{stderr}");
}

/// `classify`, then `tag`, then `tag undo`, through the binary: the journal
/// and the results cache are two databases, and what `classify` analysed
/// follows each rewrite of the file, so the next `classify` or the app
/// finds it instead of analysing again.
#[test]
fn tag_and_undo_keep_what_classify_analysed() {
    use earmark::cache::Cache;
    use earmark::classifier::Classifier;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nebula.flac");
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/Max McCracken/nebula.flac");
    std::fs::copy(demo, &file).unwrap();
    let cache = dir.path().join("cache");
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_earmark"))
            .args(args)
            .env("EARMARK_CACHE_DIR", &cache)
            .env_remove("EARMARK_DATA_DIR")
            .env_remove("EARMARK_FAIL_POINT")
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    };
    let known = || {
        let model = std::sync::Arc::new(earmark::model::load_model(None).unwrap());
        let c = Cache::open(&cache.join("earmark.sqlite")).unwrap();
        let classifier = Classifier::new(model, earmark::audio::AnalysisPlan::default(), Some(c));
        classifier.cached(&file).is_some()
    };
    run(&["classify", p(&file)]);
    assert!(known());
    run(&["tag", "--genre", "Jazz", p(&file)]);
    assert!(known(), "the analysis follows the write");
    run(&["tag", "undo", "--last"]);
    assert!(known(), "and the undo");
}

/// An MP3 whose only tag is ID3v1 (128 bytes at its end) is refused, the
/// file untouched: the ID3v2 tag a genre needs is what players read first,
/// so its title, artist and album would vanish from view behind it.
#[test]
fn an_mp3_with_only_an_id3v1_tag_is_refused_untouched() {
    let Some(env) = setup(&["singularity-awakening.mp3"]) else {
        return;
    };
    let file = env.music.join("singularity-awakening.mp3");
    let bytes = std::fs::read(&file).unwrap();
    assert_eq!(&bytes[..3], b"ID3");
    let v2_len = 10
        + bytes[6..10]
            .iter()
            .fold(0usize, |a, &b| (a << 7) | usize::from(b));
    let mut v1 = vec![0u8; 128];
    v1[..3].copy_from_slice(b"TAG");
    v1[3..12].copy_from_slice(b"Awakening");
    v1[33..43].copy_from_slice(b"Singularit");
    v1[127] = 7; // Hip-Hop
    let mut only_v1 = bytes[v2_len..].to_vec();
    only_v1.extend_from_slice(&v1);
    std::fs::write(&file, &only_v1).unwrap();
    for args in [
        &["tag", "-g", "Jazz"][..],
        &["tag", "-g", "Jazz", "--dry-run"][..],
    ] {
        let mut a = args.to_vec();
        let p = file.to_str().unwrap();
        a.push(p);
        let out = earmark(&env, &a);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains("has an ID3v1 tag but no ID3v2 tag"), "{err}");
        assert!(err.contains("in a tag editor first"), "{err}");
    }
    // The genre it holds already is no change, not a failure; `--auto`
    // without `--overwrite` sees it has one (a folder's run failed on it).
    for args in [
        &["tag", "-g", "hip hop"][..],
        &["tag", "-g", "Hip-Hop", "--dry-run"][..],
        &["tag", "--auto", "--model", "fast"][..],
    ] {
        let mut a = args.to_vec();
        a.push(file.to_str().unwrap());
        let out = earmark(&env, &a);
        let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert_eq!(out.status.code(), Some(0), "{args:?}: {said}");
        assert!(
            said.contains("Hip-Hop (unchanged)") || said.contains("it has a genre (Hip-Hop)"),
            "{args:?}: {said}"
        );
    }
    assert_eq!(std::fs::read(&file).unwrap(), only_v1);
}

/// A mistyped path is missing, said once, not "unreadable or not audio";
/// runs that wrote nothing leave no gap in the run numbers.
#[test]
fn a_missing_path_is_said_once_as_missing() {
    let Some(env) = setup(&["hyperrogue-hell.ogg"]) else {
        return;
    };
    let gone = env.music.join("nothere.ogg");
    for dry in [false, true] {
        let mut args = vec!["tag", "-g", "Jazz", p(&gone)];
        if dry {
            args.push("--dry-run");
        }
        let out = earmark(&env, &args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert_eq!(
            stderr.matches("no such file or directory").count(),
            1,
            "{stderr}"
        );
        assert!(stderr.contains("1 failed (1 missing)"), "{stderr}");
    }
    let out = earmark(&env, &["tag", "-g", "Jazz", p(&env.music)]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("undo with: earmark tag undo --run 1\n"),
        "{stderr}"
    );
}

/// A text file named `.mp3` is "not audio" to `tag` as to `classify` (the
/// same `error_kind`), and a PNG is named as one; both are left untouched.
#[test]
fn a_file_that_is_not_audio_is_said_so_as_classify_says_it() {
    let Some(env) = setup(&[]) else {
        return;
    };
    let fake = env.music.join("fake.mp3");
    std::fs::write(&fake, b"just some text, not audio at all").unwrap();
    let png = env.music.join("cover.flac");
    std::fs::write(&png, b"\x89PNG\r\n\x1a\n0000000000000000").unwrap();
    for (f, said) in [
        (&fake, "not an audio file (unrecognised format)"),
        (&png, "not an audio file (PNG image)"),
    ] {
        let before = std::fs::read(f).unwrap();
        let out = earmark(&env, &["tag", "-g", "Jazz", "--json", p(f)]);
        assert_eq!(out.status.code(), Some(1));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["results"][0]["error_kind"], "not-audio", "{v}");
        assert!(
            v["results"][0]["error"].as_str().unwrap().contains(said),
            "{v}"
        );
        assert_eq!(std::fs::read(f).unwrap(), before);
        let out = earmark(&env, &["classify", "--model", "fast", "--json", p(f)]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v[0]["error_kind"], "not-audio", "{v}");
    }
}

/// `--json` lists files in the folder's order, however each was decided (a
/// `.au` is skipped before any write, yet comes after `a.mp3`).
#[test]
fn the_json_report_keeps_the_folders_order() {
    let Some(env) = setup(&["singularity-awakening.mp3", "hyperrogue-hell.au"]) else {
        return;
    };
    std::fs::rename(
        env.music.join("singularity-awakening.mp3"),
        env.music.join("a.mp3"),
    )
    .unwrap();
    std::fs::rename(env.music.join("hyperrogue-hell.au"), env.music.join("z.au")).unwrap();
    let out = earmark(
        &env,
        &["tag", "-g", "Jazz", "--dry-run", "--json", p(&env.music)],
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["path"].as_str().unwrap().rsplit('/').next().unwrap())
        .collect();
    assert_eq!(names, ["a.mp3", "z.au"], "{v}");
}

/// `find … -print0 | earmark tag --files-from -`: every listed file is one
/// run (one `undo --last` takes them all back), a name holding a newline
/// arrives whole, and a listed file deleted since is said and counted while
/// the rest are written (read back by mutagen).
#[cfg(unix)]
#[test]
fn a_nul_list_on_stdin_is_one_run() {
    use std::io::Write;
    let Some(env) = setup(&["singularity-awakening.mp3", "hyperrogue-desert.ogg"]) else {
        return;
    };
    let Some(py) = reader::mutagen_python() else {
        return;
    };
    let odd = env.music.join("two\nlines.ogg");
    std::fs::rename(env.music.join("hyperrogue-desert.ogg"), &odd).unwrap();
    let mp3 = env.music.join("singularity-awakening.mp3");
    let before = [std::fs::read(&mp3).unwrap(), std::fs::read(&odd).unwrap()];
    let gone = env.music.join("deleted since.flac");
    let mut list = Vec::new();
    for f in [&mp3, &gone, &odd] {
        list.extend_from_slice(f.as_os_str().as_encoded_bytes());
        list.push(0);
    }
    let tag = |args: &[&str], stdin: &[u8]| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_earmark"))
            .args(args)
            .env("EARMARK_CACHE_DIR", &env.cache)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin).unwrap();
        child.wait_with_output().unwrap()
    };
    let out = tag(&["tag", "--genre", "Jazz", "--files-from", "-"], &list);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "one is missing: {stderr}");
    assert!(
        stderr.contains("deleted since.flac: no such file or directory"),
        "{stderr}"
    );
    assert!(
        stderr.contains("2 written, 0 unchanged, 1 failed (1 missing)"),
        "{stderr}"
    );
    let seen = reader::dump(&py, &[mp3.clone(), odd.clone()]);
    for f in [&mp3, &odd] {
        let genre = &seen[f.to_str().unwrap()]["genre"];
        assert_eq!(genre, &serde_json::json!(["Jazz"]), "{seen}");
    }
    let out = earmark(&env, &["tag", "undo", "--last"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(std::fs::read(&mp3).unwrap(), before[0]);
    assert_eq!(std::fs::read(&odd).unwrap(), before[1]);
}

/// Ctrl-C during `tag --json`: the JSON is still printed, whole — a result
/// for every file written (mutagen reads each), `interrupted`, and the run to
/// undo — and the run exits 130; files not started are untouched. It
/// printed nothing: a script lost the run's number.
#[cfg(unix)]
#[test]
fn an_interrupted_json_run_still_prints_its_json() {
    let Some(env) = setup(&["singularity-nebula.flac"]) else {
        return;
    };
    let Some(py) = reader::mutagen_python() else {
        return;
    };
    let (files, original, out) = interrupt_six_flac_writes(&env, &["--json"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{err}", text(&out.stdout)));
    assert_eq!(v["interrupted"], true, "{v}");
    let results = v["results"].as_array().unwrap();
    assert!(!results.is_empty() && results.len() < files.len(), "{v}");
    let seen = reader::dump(&py, &files);
    for f in &files {
        let name = f.file_name().unwrap().to_str().unwrap();
        let row = results
            .iter()
            .find(|r| r["path"].as_str().unwrap().ends_with(name));
        match row {
            Some(r) => {
                assert_eq!(r["status"], "written", "{r}");
                assert_eq!(seen[p(f)]["genre"], serde_json::json!(["Jazz"]), "{name}");
            }
            None => assert_eq!(std::fs::read(f).unwrap(), original, "{name} touched"),
        }
    }
    let run = v["run"].as_i64().expect("the run to undo");
    assert!(
        err.contains(&format!(
            "interrupted after writing {} of 6 files, the rest unchanged; undo with: earmark tag undo --run {run}",
            results.len()
        )),
        "{err}"
    );
}

/// Two `tag undo ID` of one entry at once (the test holds the undo turn so
/// that both wait for it): one undoes, the other says it was undone
/// meanwhile by another earmark, and both exit 0, as two `undo --run` do.
/// The second failed ("is already undone", exit 1). An entry undone before
/// it was asked for is still an error.
#[test]
fn two_undos_of_one_entry_at_once_both_succeed() {
    let Some(env) = setup(&["singularity-nebula.flac"]) else {
        return;
    };
    let f = env.music.join("singularity-nebula.flac");
    let before = std::fs::read(&f).unwrap();
    assert!(
        earmark(&env, &["tag", "-g", "Jazz", p(&f)])
            .status
            .success()
    );
    let lock = env.cache.join("data/journal.sqlite.undo-lock");
    let held = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock)
        .unwrap();
    held.lock().unwrap();
    let both = [0, 1].map(|_| {
        Command::new(env!("CARGO_BIN_EXE_earmark"))
            .args(["tag", "undo", "1"])
            .env("EARMARK_CACHE_DIR", &env.cache)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    });
    std::thread::sleep(std::time::Duration::from_millis(1500));
    drop(held);
    let mut said = String::new();
    for child in both {
        let out = child.wait_with_output().unwrap();
        said += &(text(&out.stdout) + &text(&out.stderr));
        assert!(out.status.success(), "{said}");
    }
    assert_eq!(said.matches("undid #1").count(), 1, "{said}");
    assert!(
        said.contains("singularity-nebula.flac: undone meanwhile by another earmark"),
        "{said}"
    );
    assert_eq!(std::fs::read(&f).unwrap(), before);
    let out = earmark(&env, &["tag", "undo", "1"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("is already undone"));
}
