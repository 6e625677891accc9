//! `earmark classify` with the default model and with `--model accurate` gives
//! results for the same files; names, folders and bad names are understood.
#![allow(clippy::unwrap_used)] // a test (or bench) that cannot unwrap has failed

mod common;

use std::path::{Path, PathBuf};

use common::{earmark, text};

fn demo(files: &[&str]) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo");
    files.iter().map(|f| root.join(f)).collect()
}

/// (path, probabilities) per track from `classify --json`.
fn classify(model: Option<&str>, files: &[PathBuf]) -> Vec<(String, Vec<f64>)> {
    let mut cmd = earmark();
    cmd.args(["classify", "--json", "--jobs", "2"]);
    if let Some(m) = model {
        cmd.args(["--model", m]);
    }
    let out = cmd.args(files).output().expect("earmark runs");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    v.as_array()
        .unwrap()
        .iter()
        .map(|t| {
            assert!(t["error"].is_null(), "{t}");
            let probs = t["prediction"]["probs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_f64().unwrap())
                .collect();
            (t["path"].as_str().unwrap().to_string(), probs)
        })
        .collect()
}

#[test]
fn default_and_accurate_models_classify_the_same_files() {
    let files = demo(&["HyperRogue/desert.ogg", "Max McCracken/awakening.mp3"]);
    let default = classify(None, &files);
    let fast = classify(Some("fast"), &files);
    let accurate = classify(Some("accurate"), &files);
    assert_eq!(default.len(), files.len());
    for results in [&default, &fast, &accurate] {
        assert_eq!(results.len(), files.len());
        for ((path, probs), file) in results.iter().zip(&files) {
            assert_eq!(path, &file.display().to_string());
            assert_eq!(probs.len(), 10, "{path}");
            let sum: f64 = probs.iter().sum();
            assert!((sum - 1.0).abs() < 1e-3, "{path}: sum {sum}");
        }
    }
    // `accurate` is the default; the fast model is another network.
    assert_eq!(default, accurate);
    assert_ne!(fast, accurate);
}

#[test]
fn a_model_folder_is_a_path_and_an_unknown_name_fails_clearly() {
    let files = demo(&["HyperRogue/hell.wav"]);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/accurate");
    let by_path = classify(Some(dir.to_str().unwrap()), &files);
    let by_name = classify(Some("accurate"), &files);
    assert_eq!(by_path, by_name);

    // A usage error (exit 2) in every command that takes --model, said at once.
    for cmd in [
        &["classify"][..],
        &["eval"],
        &["learn"],
        &["similar"],
        &["tag", "--auto"],
    ] {
        let out = earmark()
            .args(cmd)
            .args(["--model", "fastest"])
            .args(&files)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{cmd:?}");
        let err = text(&out.stderr);
        assert!(err.contains("accurate or fast"), "{cmd:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{cmd:?}: {err}");
    }
    // The app too: refused before it opens, not an app that cannot classify.
    let demo_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo");
    let out = earmark()
        .args(["--model", "fastest"])
        .arg(&demo_dir)
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(
        err,
        "earmark: model fastest: no such file or folder (a shipped model is named accurate or fast)\n"
    );
}

#[test]
fn help_lists_the_model_names() {
    let out = earmark().args(["classify", "--help"]).output().unwrap();
    let help = text(&out.stdout);
    assert!(help.contains("accurate|fast|PATH"), "{help}");
    assert!(help.contains("`accurate`"), "{help}");
}
