//! Every kind of bad input gets a one-line error naming the file and the
//! reason — never a panic — and a batch carries on past it.
#![allow(clippy::unwrap_used)] // a test (or bench) that cannot unwrap has failed

mod common;

use std::ffi::OsStr;
use std::fs;
use std::path::Path;

use common::*;

fn info_error(path: &Path) -> String {
    let out = run(&[OsStr::new("info"), path.as_os_str()]);
    let err = text(&out.stderr);
    assert!(
        !err.contains("panicked"),
        "panic on {}: {err}",
        path.display()
    );
    assert!(
        !out.status.success(),
        "info should fail on {}",
        path.display()
    );
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "one line per bad file, got: {err}");
    let name = path.file_name().unwrap().to_string_lossy();
    assert!(
        lines[0].contains(name.as_ref()),
        "error names the file: {err}"
    );
    lines[0].to_string()
}

#[test]
fn each_kind_of_bad_file_gets_a_clear_reason() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name);

    fs::write(p("empty.mp3"), b"").unwrap();
    assert!(info_error(&p("empty.mp3")).contains("empty"));

    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend_from_slice(&[0u8; 200]);
    fs::write(p("cover.mp3"), &png).unwrap();
    assert!(info_error(&p("cover.mp3")).contains("not an audio file (PNG image)"));

    let noise: Vec<u8> = (0..40_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    fs::write(p("noise.ogg"), &noise).unwrap();
    let e = info_error(&p("noise.ogg"));
    assert!(
        e.contains("not an audio file") || e.contains("corrupt"),
        "{e}"
    );

    // Opus decodes (libopus): a valid one-packet stream is no error.
    fs::write(p("voice.opus"), opus_bytes()).unwrap();
    let out = run(&[OsStr::new("info"), p("voice.opus").as_os_str()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("opus"), "{}", text(&out.stdout));

    let wav = wav_bytes(2.0, 22_050);
    fs::write(p("header-only.wav"), &wav[..30]).unwrap();
    assert!(info_error(&p("header-only.wav")).contains("corrupt or truncated"));

    fs::write(p("missing.au"), b"").unwrap();
    fs::remove_file(p("missing.au")).unwrap();
    assert!(info_error(&p("missing.au")).contains("no such file"));

    let mut au = Vec::new();
    for w in [0x2e73_6e64u32, 24, 100, 23, 8000, 1] {
        au.extend_from_slice(&w.to_be_bytes());
    }
    au.extend_from_slice(&[0u8; 100]);
    fs::write(p("g721.au"), &au).unwrap();
    assert!(info_error(&p("g721.au")).contains("unsupported codec: AU encoding 23"));
}

#[test]
fn truncated_audio_is_reported_not_analysed() {
    let dir = tempfile::tempdir().unwrap();
    let wav = wav_bytes(10.0, 16_000);
    // The header still claims 10 s but only 2 s remain.
    let cut = dir.path().join("cut.wav");
    fs::write(&cut, &wav[..44 + 64_000]).unwrap();
    let out = run(&[
        OsStr::new("features"),
        cut.as_os_str(),
        OsStr::new("--out"),
        dir.path().join("f").as_os_str(),
    ]);
    let err = text(&out.stderr);
    assert!(err.contains("truncated"), "{err}");
    assert!(
        !out.status.success(),
        "nothing succeeded, so the exit code says so"
    );
}

#[test]
fn unreadable_file_is_reported() {
    if is_root() {
        eprintln!("skipped: running as root, permission bits do not apply");
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("locked.wav");
    fs::write(&f, wav_bytes(1.0, 8000)).unwrap();
    fs::set_permissions(&f, fs::Permissions::from_mode(0o000)).unwrap();
    assert!(info_error(&f).contains("permission denied"));
}

#[test]
fn a_batch_survives_loops_odd_names_and_bad_files() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    fs::create_dir_all(lib.join("rock")).unwrap();
    fs::write(lib.join("rock/good.wav"), wav_bytes(4.0, 22_050)).unwrap();
    // A name that is not UTF-8.
    let odd = lib
        .join("rock")
        .join(OsStr::from_bytes(b"caf\xe9-\xff.wav"));
    fs::write(&odd, wav_bytes(3.0, 44_100)).unwrap();
    fs::write(lib.join("rock/zero.flac"), b"").unwrap();
    std::os::unix::fs::symlink(&lib, lib.join("rock/loop")).unwrap();
    // A link to itself: the system's ELOOP, in words.
    std::os::unix::fs::symlink("self.mp3", lib.join("rock/self.mp3")).unwrap();

    let out_dir = dir.path().join("features");
    let out = run(&[
        OsStr::new("features"),
        lib.as_os_str(),
        OsStr::new("--out"),
        out_dir.as_os_str(),
        OsStr::new("--jobs"),
        OsStr::new("2"),
    ]);
    let err = text(&out.stderr);
    assert!(out.status.success(), "some files succeeded: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains("empty"), "{err}");

    let index: serde_json::Value =
        serde_json::from_slice(&fs::read(out_dir.join("index.json")).unwrap()).unwrap();
    let index = index.as_array().unwrap();
    assert_eq!(index.len(), 2, "good.wav and the odd name");
    for rec in index {
        assert_eq!(rec["label"], "rock");
        let (shape, data) = earmark::features::npy::read_f32(
            fs::File::open(out_dir.join(rec["file"].as_str().unwrap())).unwrap(),
        )
        .unwrap();
        assert_eq!(shape[1], 96);
        assert_eq!(shape[0] as u64, rec["n_frames"].as_u64().unwrap());
        assert!(data.iter().all(|v| v.is_finite()));
    }
    let errors: serde_json::Value =
        serde_json::from_slice(&fs::read(out_dir.join("errors.json")).unwrap()).unwrap();
    let errors = errors.to_string();
    assert!(
        errors.contains("directory symlink loop (back to"),
        "{errors}"
    );
    assert!(
        errors.contains("symlink loop (the link leads back to itself)"),
        "{errors}"
    );
    assert!(!errors.contains("os error"), "{errors}");
    assert!(errors.contains("zero.flac"), "{errors}");
}

/// A classify run where some files fail still exits 0 (something was
/// classified) and ends its errors with the count, so a long run's failures
/// are not only lines that scrolled away.
#[test]
fn a_partly_failed_classify_run_ends_with_the_count() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("good.wav"), wav_bytes(4.0, 22_050)).unwrap();
    fs::write(dir.path().join("bad.flac"), b"not audio at all, only words").unwrap();
    fs::write(dir.path().join("odd.wv"), b"x").unwrap();
    let out = run(&[
        OsStr::new("classify"),
        dir.path().as_os_str(),
        OsStr::new("--model"),
        OsStr::new("fast"),
    ]);
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert_eq!(
        err.lines().last(),
        Some("earmark classify: 1 file classified; 1 could not be, 1 skipped (each said above)"),
        "{err}"
    );
}

/// The terminal app refuses what cannot show it, with one line that says
/// what to use instead, and exit 2: a pipe, and TERM=dumb (Emacs' shell).
#[test]
fn the_app_refuses_a_dumb_terminal_or_a_pipe_in_one_line() {
    for (term, want) in [
        ("dumb", "TERM=dumb cannot show the terminal app"),
        (
            "xterm-256color",
            "the terminal app needs an interactive terminal",
        ),
    ] {
        let out = earmark()
            .arg(env!("CARGO_MANIFEST_DIR"))
            .env("TERM", term)
            .output()
            .unwrap();
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{term}: {err}");
        assert_eq!(err.lines().count(), 1, "{term}: {err}");
        assert!(err.contains(want), "{term}: {err}");
    }
}

/// A config, theme or report named as a device is refused in one line (a
/// config linked to /dev/zero grew to 11 GB in 6 s before this).
#[cfg(unix)]
#[test]
fn a_settings_file_that_is_a_device_is_refused_in_one_line() {
    let runs: [(&[&str], Option<&str>); 3] = [
        (&[], Some("/dev/zero")),
        (&["--theme", "/dev/zero"], None),
        (&["--eval-report", "/dev/zero"], None),
    ];
    for (args, config) in runs {
        let mut cmd = earmark();
        cmd.args(args).arg(env!("CARGO_MANIFEST_DIR"));
        if let Some(c) = config {
            cmd.env("EARMARK_CONFIG", c);
        }
        let out = cmd.output().unwrap();
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains("not a regular file"), "{args:?}: {err}");
    }
}

/// A name that is not UTF-8 keeps its bytes as `\xNN` in error lines, as
/// in `path`, not U+FFFD (two such names would read the same).
#[cfg(unix)]
#[test]
fn errors_name_a_latin1_file_with_escapes() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join(OsStr::from_bytes(b"caf\xe9.mp3"));
    fs::write(&bad, b"just some text, not audio at all").unwrap();
    for cmd in ["info", "classify"] {
        let out = earmark()
            .args([cmd])
            .arg(&bad)
            .env("EARMARK_CACHE_DIR", dir.path().join("cache"))
            .output()
            .unwrap();
        let err = text(&out.stderr);
        assert!(
            err.contains("caf\\xE9.mp3: not an audio file"),
            "{cmd}: {err}"
        );
        assert!(!err.contains('\u{FFFD}'), "{cmd}: {err}");
    }
}

/// The table's file column is as wide as the escaped name it prints: the
/// longest name, not UTF-8, is shown whole, not cut to `…t\xE9.wav`.
#[cfg(unix)]
#[test]
fn the_table_fits_a_latin1_name_whole() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("nu");
    copy_demo("HyperRogue/hell.wav", &lib.join("ab.wav"));
    copy_demo(
        "HyperRogue/hell.wav",
        &lib.join(OsStr::from_bytes(b"caf\xe9l\xe0tr.wav")),
    );
    let out = earmark()
        .args(["classify", "--model", "fast", "--top", "1"])
        .arg(&lib)
        .env("EARMARK_CACHE_DIR", dir.path().join("cache"))
        .output()
        .unwrap();
    let table = text(&out.stdout);
    assert!(table.contains("nu/caf\\xE9l\\xE0tr.wav "), "{table}");
}

/// `EARMARK_CONFIG` set empty means unset (it was refused as ": no such
/// file"); a config that is a link to nothing is said, not read as no config.
#[cfg(unix)]
#[test]
fn an_empty_config_variable_is_unset_and_a_dangling_config_link_is_said() {
    let dir = tempfile::tempdir().unwrap();
    let run = || {
        let out = earmark()
            .arg(env!("CARGO_MANIFEST_DIR"))
            .env("EARMARK_CONFIG", "")
            .env("XDG_CONFIG_HOME", dir.path())
            .env("TERM", "xterm-256color")
            .output()
            .unwrap();
        text(&out.stderr)
    };
    // no config at all: past the config, to the terminal check
    let err = run();
    assert!(err.contains("needs an interactive terminal"), "{err}");
    let config = dir.path().join("earmark/config.toml");
    fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(dir.path().join("dotfiles/earmark.toml"), &config).unwrap();
    let err = run();
    assert!(
        err.contains("config.toml") && err.contains("a link to a file that does not exist"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}
