//! `earmark … | head`: when the reader goes away, earmark ends quietly (like
//! other Unix tools) instead of panicking on a broken pipe.
#![allow(clippy::unwrap_used)] // a test (or bench) that cannot unwrap has failed

mod common;

use std::io::Read;
use std::process::Stdio;

use common::earmark;

#[test]
fn a_closed_pipe_ends_quietly() {
    let demo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("demo");
    let files: Vec<_> = std::fs::read_dir(demo.join("HyperRogue"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    // Many records, so the output outgrows the pipe buffer after we hang up.
    let mut child = earmark()
        .arg("info")
        .arg("--json")
        .args(files.iter().cycle().take(3000))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 16];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap(); // then dropped: closed
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let status = child.wait().unwrap();
    assert!(!err.contains("panicked"), "{err}");
    assert_ne!(status.code(), Some(101), "{err}");
}

#[test]
fn an_eval_report_is_written_even_when_the_reader_left_first() {
    let dir = tempfile::tempdir().unwrap();
    for (genre, seconds) in [("Rock", 4.0), ("Jazz", 5.0)] {
        let d = dir.path().join("lib").join(genre);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("a.wav"), common::wav_bytes(seconds, 22_050)).unwrap();
    }
    let report = dir.path().join("r.json");
    let mut child = earmark()
        .args(["eval", "--model", "fast", "--json"])
        .arg(&report)
        .arg(dir.path().join("lib"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // `| head -0`: gone before the table
    let status = child.wait().unwrap();
    assert_ne!(status.code(), Some(101));
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(saved["n"], 2);
}

/// Output that cannot be written (`> /dev/full`) is one line and exit 1,
/// for the commands that print as they go and for classify's streamed rows:
/// no crash report, and no success without the output.
#[test]
fn a_full_disk_for_the_output_is_one_line_and_exit_1() {
    let full = std::path::Path::new("/dev/full");
    if !full.exists() {
        return; // Linux only
    }
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("hell.wav");
    common::copy_demo("HyperRogue/hell.wav", &wav);
    for args in [
        vec!["info"],
        vec!["info", "--json"],
        vec!["classify", "--model", "fast"],
        vec!["classify", "--model", "fast", "--json"],
        vec!["classify", "--model", "fast", "--csv"],
    ] {
        let out = earmark()
            .args(&args)
            .arg(&wav)
            .env("EARMARK_CACHE_DIR", dir.path().join("cache"))
            .env("RUST_BACKTRACE", "1")
            .stdout(std::fs::File::create(full).unwrap())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains("No space left on device"), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    }
}

/// Ctrl-C in `classify --json` over many files: the files in progress end,
/// the array is closed (what was printed parses), and the run says how far it
/// got and exits 130.
#[cfg(unix)]
#[test]
fn an_interrupted_json_run_still_prints_a_whole_array() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let wav = common::wav_bytes(10.0, 22_050);
    let files: Vec<_> = (0..40)
        .map(|i| {
            let f = dir.path().join(format!("t{i:02}.wav"));
            std::fs::write(&f, &wav).unwrap();
            f
        })
        .collect();
    let mut child = earmark()
        .args(["classify", "--json", "--no-cache", "--jobs", "1"])
        .args(&files)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut printed = String::new();
    // the first track's object ends with `  }` (its line ends when the
    // next object or the array's end is printed)
    loop {
        let mut line = String::new();
        assert_ne!(stdout.read_line(&mut line).unwrap(), 0, "{printed}");
        printed.push_str(&line);
        if line.starts_with("  }") {
            break;
        }
    }
    // SAFETY: a signal to a pid of our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    stdout.read_to_string(&mut printed).unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let status = child.wait().unwrap();
    let rows: Vec<serde_json::Value> = serde_json::from_str(&printed)
        .unwrap_or_else(|e| panic!("not one JSON array ({e}): {printed}\n{err}"));
    assert!(
        !rows.is_empty() && rows.len() < files.len(),
        "{} rows: {err}",
        rows.len()
    );
    for (row, file) in rows.iter().zip(&files) {
        assert_eq!(row["path"].as_str(), file.to_str(), "in input order");
    }
    assert!(
        err.contains(&format!(
            "interrupted after {} of {} files; the rest were not classified",
            rows.len(),
            files.len()
        )),
        "{err}"
    );
    assert_eq!(status.code(), Some(130), "{err}");
}
