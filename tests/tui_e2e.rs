//! Runs tests/e2e_tmux.sh: the real binary in tmux on demo/ with no audio
//! device (navigate, filter, play, help, resize, quit, terminal restored).
//! Without tmux: a failure under CI (`CI=true`), a skip with a message locally.
#![allow(clippy::unwrap_used)] // a test (or bench) that cannot unwrap has failed

use std::process::Command;

#[test]
fn end_to_end_in_tmux() {
    if Command::new("tmux").arg("-V").output().is_err() {
        let what = "tmux is not installed (apt-get install tmux)";
        if std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false") {
            panic!("{what}, and CI=true: the end-to-end test must run in CI");
        }
        eprintln!("SKIP end_to_end_in_tmux: {what}");
        return;
    }
    let root = env!("CARGO_MANIFEST_DIR");
    let out = Command::new("bash")
        .arg(format!("{root}/tests/e2e_tmux.sh"))
        .arg(env!("CARGO_BIN_EXE_earmark"))
        .current_dir(root)
        .output()
        .expect("run bash");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(out.status.success(), "e2e failed:\n{stdout}\n{stderr}");
}
