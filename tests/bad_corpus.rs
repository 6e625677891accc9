//! A generated corpus of broken inputs (truncations at many offsets, bit flips,
//! header lies, zero-length files, huge declared sizes, wrong extensions,
//! dangling links, folders posing as files) fed through `info`, `classify` and
//! `tag --dry-run`: no panic, one clear error per bad file naming it, and the
//! documented exit codes (0: something was done; 1: nothing usable; never 101).
#![allow(clippy::unwrap_used)] // a test (or bench) that cannot unwrap has failed

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{earmark, text, wav_bytes};
use serde_json::Value;

/// A tiny deterministic generator (no rand dependency; reproducible cases).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn au_bytes(
    encoding: u32,
    rate: u32,
    channels: u32,
    data: &[u8],
    data_size: u32,
    offset: u32,
) -> Vec<u8> {
    let mut out = b".snd".to_vec();
    for v in [offset, data_size, encoding, rate, channels] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    out.resize(offset.max(24) as usize, 0);
    out.extend_from_slice(data);
    out
}

/// Real sources: the demo clips (one per format) plus generated WAV and AU.
fn sources() -> Vec<(String, Vec<u8>)> {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo");
    let mut out = Vec::new();
    for rel in [
        "Max McCracken/awakening.mp3",
        "Max McCracken/nebula.flac",
        "HyperRogue/desert.ogg",
        "HyperRogue/caribbean.m4a",
    ] {
        let bytes = std::fs::read(demo.join(rel)).unwrap();
        // Keep the head: the parsers live there, and it bounds the test's time.
        let bytes = bytes[..bytes.len().min(96 * 1024)].to_vec();
        let ext = rel.rsplit('.').next().unwrap().to_string();
        out.push((ext, bytes));
    }
    out.push(("wav".into(), wav_bytes(4.0, 22050)));
    let pcm: Vec<u8> = (0..22050 * 2)
        .flat_map(|i| (((i as f32 * 0.05).sin() * 12000.0) as i16).to_be_bytes())
        .collect();
    out.push((
        "au".into(),
        au_bytes(3, 22050, 1, &pcm, pcm.len() as u32, 24),
    ));
    out
}

/// Write the corpus into `dir`; returns every path a user could hand earmark.
fn build_corpus(dir: &Path) -> Vec<PathBuf> {
    let mut paths = Vec::new();
    let mut put = |name: String, bytes: &[u8]| {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        paths.push(p);
    };
    let mut rng = Lcg(0x5eed);
    for (ext, bytes) in sources() {
        let n = bytes.len();
        // Truncations at fixed and proportional offsets.
        let mut cuts = vec![
            1, 2, 3, 4, 8, 11, 12, 16, 24, 28, 44, 45, 64, 100, 256, 1000, 4096,
        ];
        cuts.extend([n / 10, n / 4, n / 3, n / 2, 2 * n / 3, 9 * n / 10, n - 1]);
        for cut in cuts.into_iter().filter(|c| *c < n) {
            put(format!("trunc-{cut:06}.{ext}"), &bytes[..cut]);
        }
        // Bit flips: mostly in the headers, some anywhere.
        for i in 0..12 {
            let mut b = bytes.clone();
            let flips = 1 + rng.below(8);
            for _ in 0..flips {
                let at = if i < 8 {
                    rng.below(n.min(4096))
                } else {
                    rng.below(n)
                };
                b[at] ^= 1 << rng.below(8);
            }
            put(format!("flip-{i:02}.{ext}"), &b);
        }
        // Random garbage after a valid head.
        let mut b = bytes[..n.min(512)].to_vec();
        b.extend((0..8192).map(|_| rng.below(256) as u8));
        put(format!("garbage-tail.{ext}"), &b);
    }
    // Zero-length files of every kind.
    for ext in ["mp3", "flac", "ogg", "m4a", "wav", "au", "aiff", "opus"] {
        put(format!("empty.{ext}"), b"");
    }
    // Header lies in WAV.
    let wav = wav_bytes(1.0, 8000);
    let lie = |at: usize, v: &[u8]| {
        let mut b = wav.clone();
        b[at..at + v.len()].copy_from_slice(v);
        b
    };
    let wav_lies: [(&str, Vec<u8>); 8] = [
        ("riff-size-huge", lie(4, &u32::MAX.to_le_bytes())),
        ("data-size-huge", lie(40, &u32::MAX.to_le_bytes())),
        ("channels-0", lie(22, &0u16.to_le_bytes())),
        ("channels-huge", lie(22, &u16::MAX.to_le_bytes())),
        ("rate-0", lie(24, &0u32.to_le_bytes())),
        ("bits-0", lie(34, &0u16.to_le_bytes())),
        ("bits-13", lie(34, &13u16.to_le_bytes())),
        ("fmt-size-huge", lie(16, &u32::MAX.to_le_bytes())),
    ];
    for (name, b) in wav_lies {
        put(format!("lie-{name}.wav"), &b);
    }
    // Header lies in AU.
    let pcm = vec![0u8; 8000];
    let au_lies = [
        ("offset-past-end", au_bytes(3, 8000, 1, &pcm, 8000, 1 << 30)),
        ("size-huge", au_bytes(3, 8000, 1, &pcm, u32::MAX - 1, 24)),
        ("encoding-99", au_bytes(99, 8000, 1, &pcm, 8000, 24)),
        ("channels-0", au_bytes(3, 8000, 0, &pcm, 8000, 24)),
        ("channels-huge", au_bytes(3, 8000, u32::MAX, &pcm, 8000, 24)),
        ("rate-0", au_bytes(3, 0, 1, &pcm, 8000, 24)),
        ("rate-huge", au_bytes(3, u32::MAX, 1, &pcm, 8000, 24)),
        ("offset-small", au_bytes(3, 8000, 1, &pcm, 8000, 3)),
        ("header-only", au_bytes(3, 8000, 1, &[], 8000, 24)),
    ];
    for (name, b) in au_lies {
        put(format!("lie-{name}.au"), &b);
    }
    // Wrong extensions and things that are not audio at all.
    let (_, mp3) = &sources()[0];
    put("mp3-named.flac".into(), mp3);
    put("mp3-named.wav".into(), mp3);
    put("wav-named.m4a".into(), &wav);
    put(
        "text.ogg".into(),
        b"just some words in a file, not music at all\n",
    );
    put(
        "png.mp3".into(),
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0",
    );
    put("zeros.flac".into(), &[0u8; 4096]);
    put("ff.mp3".into(), &[0xffu8; 4096]);
    // Links and folders posing as files.
    let dangling = dir.join("dangling.mp3");
    std::os::unix::fs::symlink(dir.join("does-not-exist.mp3"), &dangling).unwrap();
    paths.push(dangling);
    let folder = dir.join("folder.flac");
    std::fs::create_dir(&folder).unwrap();
    paths.push(folder);
    let locked = dir.join("locked.wav");
    std::fs::write(&locked, &wav).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    paths.push(locked);
    paths
}

fn assert_no_panic(what: &str, out: &Output) {
    let err = text(&out.stderr);
    assert!(
        !err.contains("panicked") && out.status.code() != Some(101),
        "{what} panicked:\n{err}"
    );
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{what}: exit {:?}\n{err}",
        out.status
    );
}

fn file_name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn corpus_of_bad_inputs_never_panics_and_names_each_file() {
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let corpus = build_corpus(dir.path());
    assert!(corpus.len() >= 200, "only {} cases", corpus.len());

    // info: one record per argument; failures carry an error naming the file.
    let out = earmark()
        .arg("info")
        .arg("--json")
        .args(&corpus)
        .output()
        .unwrap();
    assert_no_panic("info", &out);
    let records: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(records.len(), corpus.len());
    let mut info_failed = 0;
    for (r, p) in records.iter().zip(&corpus) {
        if r["audio"].is_null() {
            info_failed += 1;
            let e = r["error"]
                .as_str()
                .unwrap_or_else(|| panic!("no error for {r}"));
            assert!(
                e.contains(&file_name(p)),
                "error does not name the file: {e}"
            );
            assert!(!e.contains('\n'), "one line: {e}");
        }
    }
    assert!(
        info_failed >= 40,
        "only {info_failed} rejected: corpus too kind?"
    );

    // classify: every file is either classified (10 probabilities) or one error.
    let out = earmark()
        .env("EARMARK_CACHE_DIR", cache.path())
        .args(["classify", "--json", "--no-cache", "--jobs", "2"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_no_panic("classify", &out);
    let results: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let listed = results.len() + text(&out.stderr).matches("skipped:").count();
    assert!(
        listed + 1 >= corpus.len(),
        "{listed} of {} reported",
        corpus.len()
    );
    for r in &results {
        let path = r["path"].as_str().unwrap();
        match r["error"].as_str() {
            Some(e) => {
                let name = file_name(Path::new(path));
                assert!(e.contains(&name), "{e}");
            }
            None => {
                let probs = r["prediction"]["probs"].as_array().unwrap();
                assert_eq!(probs.len(), 10);
                let sum: f64 = probs.iter().map(|p| p.as_f64().unwrap()).sum();
                assert!((sum - 1.0).abs() < 1e-3, "{path}: {sum}");
            }
        }
    }

    // tag --dry-run: reads every file's tags, writes nothing, never panics.
    let before: Vec<(PathBuf, Option<Vec<u8>>)> = corpus
        .iter()
        .map(|p| (p.clone(), std::fs::read(p).ok()))
        .collect();
    let out = earmark()
        .env("EARMARK_CACHE_DIR", cache.path())
        .args(["tag", "--dry-run", "--json", "--genre", "Jazz"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_no_panic("tag --dry-run", &out);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    for r in report["results"].as_array().unwrap() {
        if r["status"] == "failed" {
            let e = r["error"].as_str().unwrap();
            let name = file_name(Path::new(r["path"].as_str().unwrap()));
            assert!(e.contains(&name), "{e}");
        }
    }
    for (p, bytes) in before {
        assert_eq!(std::fs::read(&p).ok(), bytes, "{} changed", p.display());
    }
}
