//! The independent reader: mutagen 1.47.0 in a venv the tests create on
//! first use (`target/tmp/mutagen-venv-1.47.0`, from PyPI), and ffmpeg for
//! decoded-audio digests. Missing tools follow `missing()`: a failure under
//! CI=true, a skip locally.

use std::path::{Path, PathBuf};
use std::process::Command;

pub const MUTAGEN: &str = "mutagen==1.47.0";

fn probe_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tags_common/mutagen_probe.py")
}

fn missing(what: &str) {
    if std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false") {
        panic!("{what}, and CI=true: this test must run in CI");
    }
    eprintln!("skipped: {what}");
}

/// The venv's python with mutagen, created if needed; None (after
/// `missing`) when python3-venv or PyPI is unavailable.
pub fn mutagen_python() -> Option<PathBuf> {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("mutagen-venv-1.47.0");
    let py = venv.join("bin/python");
    let ready = |py: &Path| {
        Command::new(py)
            .args([
                "-c",
                "import mutagen; assert mutagen.version_string == '1.47.0'",
            ])
            .status()
            .is_ok_and(|s| s.success())
    };
    if ready(&py) {
        return Some(py);
    }
    // Build beside, then rename: concurrent test binaries never see half a venv.
    let staging = venv.with_extension(format!("tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    let made = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&staging)
        .status()
        .is_ok_and(|s| s.success())
        && Command::new(staging.join("bin/pip"))
            .args(["install", "-q", "--disable-pip-version-check", MUTAGEN])
            .status()
            .is_ok_and(|s| s.success());
    if !made {
        let _ = std::fs::remove_dir_all(&staging);
        missing("cannot create the mutagen venv (needs python3-venv and PyPI)");
        return None;
    }
    if std::fs::rename(&staging, &venv).is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    // A venv's scripts name its own path: use the renamed one's python
    // (python itself is a symlink and works from anywhere).
    if ready(&py) {
        Some(py)
    } else {
        missing("the mutagen venv does not work");
        None
    }
}

/// mutagen's view of each file: `{path: {genre, others, length, …} | {error}}`.
pub fn dump(py: &Path, files: &[PathBuf]) -> serde_json::Value {
    let out = Command::new(py)
        .arg(probe_script())
        .arg("dump")
        .args(files)
        .output()
        .expect("run mutagen");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("mutagen dump JSON")
}

/// Does mutagen write `genre` into `file` (another tagger's verdict)?
pub fn mutagen_tags(py: &Path, file: &Path, genre: &str) -> bool {
    let out = Command::new(py)
        .arg(probe_script())
        .arg("tag")
        .arg(file)
        .arg(genre)
        .output()
        .expect("run mutagen");
    String::from_utf8_lossy(&out.stdout).contains("\"ok\": true")
}

/// Is ffmpeg here? (Under CI its absence is a failure.)
pub fn ffmpeg_present() -> bool {
    let ok = Command::new("ffmpeg")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        missing("ffmpeg not found (decoded-audio digests)");
    }
    ok
}

/// MD5 of the first audio stream as ffmpeg decodes it; None when it cannot.
pub fn ffmpeg_md5(file: &Path) -> Option<String> {
    let out = Command::new("ffmpeg")
        .args(["-v", "quiet", "-i"])
        .arg(file)
        .args(["-map", "0:a:0", "-f", "md5", "-"])
        .output()
        .ok()?;
    let s = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && s.starts_with("MD5=")).then_some(s)
}

/// The container-level tags as ffprobe reads them (keys lower-cased), the
/// second independent reader where mutagen misreads a container.
pub fn ffprobe_tags(file: &Path) -> std::collections::BTreeMap<String, String> {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-show_entries", "format_tags", "-of", "json"])
        .arg(file)
        .output()
        .expect("run ffprobe");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    v["format"]["tags"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.to_lowercase(), v.as_str().unwrap_or("").to_string()))
                .collect()
        })
        .unwrap_or_default()
}
