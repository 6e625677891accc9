//! `earmark classify`, `eval` and `tag --auto` with the shipped model on real
//! files: the demo clips (always in the repo) and ../shared/music when present.
#![allow(clippy::unwrap_used)] // a test (or bench) that cannot unwrap has failed

mod common;

use std::path::{Path, PathBuf};

use common::{earmark, text};
use serde_json::Value;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn demo_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walk(&repo().join("demo"))
        .into_iter()
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("mp3" | "flac" | "ogg" | "m4a" | "wav")
            )
        })
        .collect();
    files.sort();
    files
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// classify --json, with a private cache dir; returns the parsed array.
fn classify_json(paths: &[PathBuf], cache: &Path, extra: &[&str]) -> Vec<Value> {
    let out = earmark()
        .env("EARMARK_CACHE_DIR", cache)
        .arg("classify")
        .arg("--json")
        .args(extra)
        .args(paths)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice::<Vec<Value>>(&out.stdout).unwrap()
}

fn probs_of(v: &Value) -> Vec<f64> {
    v["prediction"]["probs"]
        .as_array()
        .unwrap_or_else(|| panic!("no probs in {v}"))
        .iter()
        .map(|p| p.as_f64().unwrap())
        .collect()
}

#[test]
fn classify_gives_ten_probabilities_summing_to_one() {
    let mut files = demo_files();
    let music = repo().join("../shared/music");
    if music.is_dir() {
        files.extend(
            walk(&music)
                .into_iter()
                .filter(|p| p.extension().is_some_and(|e| e != "md" && e != "txt"))
                .filter(|p| !p.to_string_lossy().contains("licenses")),
        );
    } else {
        eprintln!("../shared/music absent: classifying demo/ only");
    }
    assert!(files.len() >= 6);
    let cache = tempfile::tempdir().unwrap();
    let results = classify_json(&files, cache.path(), &[]);
    assert_eq!(results.len(), files.len());
    for r in &results {
        assert!(r["error"].is_null(), "{r}");
        let p = probs_of(r);
        assert_eq!(p.len(), 10, "{}", r["path"]);
        let sum: f64 = p.iter().sum();
        assert!((sum - 1.0).abs() < 1e-3, "{} sums to {sum}", r["path"]);
        assert!(p.iter().all(|v| (0.0..=1.0).contains(v)));
        let segments = r["prediction"]["segments"].as_array().unwrap();
        assert!(!segments.is_empty());
        let top = r["top"].as_array().unwrap();
        assert_eq!(top.len(), 3);
    }
}

#[test]
fn cached_results_equal_fresh_ones_and_follow_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let src = &demo_files()[0];
    let file = dir.path().join(src.file_name().unwrap());
    std::fs::copy(src, &file).unwrap();
    let first = classify_json(std::slice::from_ref(&file), cache.path(), &[]);
    assert!(
        cache.path().join("earmark.sqlite").is_file(),
        "cache written"
    );
    let second = classify_json(std::slice::from_ref(&file), cache.path(), &[]);
    assert_eq!(probs_of(&first[0]), probs_of(&second[0]));
    // A corrupt cache file is set aside with a warning, and results still come.
    std::fs::write(
        cache.path().join("earmark.sqlite"),
        b"this is not a database at all",
    )
    .unwrap();
    let out = earmark()
        .env("EARMARK_CACHE_DIR", cache.path())
        .args(["classify", "--json"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        text(&out.stderr).contains("warning"),
        "{}",
        text(&out.stderr)
    );
    let third: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(probs_of(&first[0]), probs_of(&third[0]));
}

#[test]
fn csv_and_table_outputs() {
    let files = &demo_files()[..2];
    let cache = tempfile::tempdir().unwrap();
    let out = earmark()
        .env("EARMARK_CACHE_DIR", cache.path())
        .args(["classify", "--csv", "--top", "2", "--no-cache"])
        .args(files)
        .output()
        .unwrap();
    assert!(out.status.success());
    let csv = text(&out.stdout);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "path,rank,genre,probability,error");
    assert_eq!(lines.len(), 1 + 2 * files.len(), "{csv}");
    let out = earmark()
        .env("EARMARK_CACHE_DIR", cache.path())
        .arg("classify")
        .args(files)
        .output()
        .unwrap();
    assert!(out.status.success());
    let table = text(&out.stdout);
    assert!(table.starts_with("file"), "{table}");
    assert_eq!(table.lines().count(), 1 + files.len());
}

/// Lay the demo clips out as `<genre>/<file>` with known truths, then check
/// that eval's counts agree with what classify predicts for the same files.
#[test]
fn eval_arithmetic_on_a_generated_layout() {
    let files = demo_files();
    let truths = ["blues", "rock", "jazz"];
    let layout = tempfile::tempdir().unwrap();
    let mut placed = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let genre = truths[i % truths.len()];
        let dir = layout.path().join("genres").join(genre);
        std::fs::create_dir_all(&dir).unwrap();
        let dest = dir.join(format!("{genre}.{i:05}.{}", ext(f)));
        std::fs::copy(f, &dest).unwrap();
        placed.push((dest, genre));
    }
    // An unknown genre folder is reported, not scored.
    let odd = layout.path().join("genres").join("polka");
    std::fs::create_dir_all(&odd).unwrap();
    std::fs::copy(
        &files[0],
        odd.join(format!("polka.00000.{}", ext(&files[0]))),
    )
    .unwrap();

    let cache = tempfile::tempdir().unwrap();
    let paths: Vec<PathBuf> = placed.iter().map(|(p, _)| p.clone()).collect();
    let predicted: Vec<String> = classify_json(&paths, cache.path(), &["--no-cache"])
        .iter()
        .map(|r| r["top"][0]["genre"].as_str().unwrap().to_string())
        .collect();
    let correct = placed
        .iter()
        .zip(&predicted)
        .filter(|((_, t), p)| t == p)
        .count();

    let report_path = layout.path().join("report.json");
    let out = earmark()
        .arg("eval")
        .arg(layout.path().join("genres"))
        .arg("--json")
        .arg(&report_path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let human = text(&out.stdout);
    assert!(human.contains("accuracy"), "{human}");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&report_path).unwrap()).unwrap();
    assert_eq!(report["n"], placed.len());
    let accuracy = report["accuracy"].as_f64().unwrap();
    assert!((accuracy - correct as f64 / placed.len() as f64).abs() < 1e-9);
    let labels: Vec<&str> = report["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    let confusion = report["confusion"].as_array().unwrap();
    for (truth, pred) in placed.iter().map(|(_, t)| *t).zip(&predicted) {
        let r = labels.iter().position(|l| *l == truth).unwrap();
        let c = labels.iter().position(|l| l == pred).unwrap();
        assert!(confusion[r][c].as_u64().unwrap() >= 1);
    }
    let total: u64 = confusion
        .iter()
        .flat_map(|row| row.as_array().unwrap())
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(total as usize, placed.len());
    assert_eq!(
        report["errors"].as_array().unwrap().len(),
        1,
        "polka skipped"
    );
    // Recall per class is correct / support.
    for c in report["per_class"].as_array().unwrap() {
        let label = c["label"].as_str().unwrap();
        let support = placed.iter().filter(|(_, t)| *t == label).count();
        assert_eq!(c["support"].as_u64().unwrap() as usize, support);
        if support > 0 {
            let hits = placed
                .iter()
                .zip(&predicted)
                .filter(|((_, t), p)| *t == label && p.as_str() == label)
                .count();
            let recall = c["recall"].as_f64().unwrap();
            assert!((recall - hits as f64 / support as f64).abs() < 1e-9);
        }
    }

    split_keeps_the_listed_clips(layout.path(), &placed);
}

/// `eval --split` keeps only the listed clips (matched on folder + name, any
/// extension), and says how many lines matched no clip.
fn split_keeps_the_listed_clips(layout: &Path, placed: &[(PathBuf, &str)]) {
    let list = layout.join("split.txt");
    let (first, genre) = &placed[0];
    let stem = first.file_stem().unwrap().to_string_lossy();
    std::fs::write(
        &list,
        format!("# test split\n{genre}/{stem}.wav\n{genre}/gone.00099.wav\n"),
    )
    .unwrap();
    let out = earmark()
        .arg("eval")
        .arg(layout.join("genres"))
        .arg("--split")
        .arg(&list)
        .arg("--json")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["n"], 1);
    // a line that matches no clip is said (it was dropped silently)
    assert!(
        text(&out.stderr).contains("1 line of the split list matched no clip here"),
        "{}",
        text(&out.stderr)
    );
}

fn ext(p: &Path) -> String {
    p.extension().unwrap().to_string_lossy().into_owned()
}

#[test]
fn tag_auto_dry_run_suggests_the_top_genre() {
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let src = demo_files().into_iter().find(|p| ext(p) == "flac").unwrap();
    let file = dir.path().join("x.flac");
    std::fs::copy(&src, &file).unwrap();
    let before = std::fs::read(&file).unwrap();
    let classified = classify_json(std::slice::from_ref(&file), cache.path(), &[]);
    let top = classified[0]["top"][0]["genre"]
        .as_str()
        .unwrap()
        .to_string();
    let out = earmark()
        .env("EARMARK_CACHE_DIR", cache.path())
        .args([
            "tag",
            "--auto",
            "--dry-run",
            "--json",
            "--min-confidence",
            "0",
        ])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let r = &report["results"][0];
    let new = r["new"][0]
        .as_str()
        .unwrap()
        .to_lowercase()
        .replace('-', "");
    assert_eq!(new, top);
    assert_eq!(
        std::fs::read(&file).unwrap(),
        before,
        "dry run writes nothing"
    );

    // A bare 1 (1 % or 100 %?) is refused as a usage error.
    let out = earmark()
        .args(["tag", "--auto", "--min-confidence", "1"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("1% or 100%"));
    // Above every possible confidence: skipped, nothing written.
    let out = earmark()
        .env("EARMARK_CACHE_DIR", cache.path())
        .args(["tag", "--auto", "--min-confidence", "100%", "--json"])
        .arg(&file)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["results"][0]["status"], "skipped", "{report}");
    assert_eq!(std::fs::read(&file).unwrap(), before);
}
