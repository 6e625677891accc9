//! TagLib's regression files (../shared/tagcorpus/taglib) under an
//! independent reader: each file is tagged by earmark and, on a second copy,
//! by mutagen. Where earmark writes, mutagen must see the genre and every
//! other tag unchanged, and ffmpeg the same decoded audio; where earmark
//! refuses, the reason is one line naming the file and the copy is
//! byte-identical. The files mutagen tags but earmark refuses are listed
//! below with the reason, so any change in coverage shows up here.
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;
mod tags_common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use tags_common::reader;

const EXTENSIONS: &[&str] = &[
    "mp3", "flac", "ogg", "oga", "opus", "spx", "m4a", "m4b", "mp4", "wav", "aif", "aiff", "aifc",
];

/// Files mutagen can tag that earmark refuses, each with the start of its
/// reason (measured; see the README's table).
const REFUSED: &[(&str, &str)] = &[
    // mutagen "tags" it by writing inside the `fmt ` chunk (a damaged file).
    (
        "zero-size-chunk.wav",
        "its WAV `data` chunk declares no length",
    ),
    // Its odd `data` chunk has no pad byte: the LIST chunk starts where the
    // pad should be, and mutagen (like earmark before) reads a chunk
    // `ISTt` of a gigabyte there and writes the tag inside it.
    (
        "infloop.wav",
        "a chunk of odd size is not followed by its pad byte",
    ),
    // Its comment page fails its CRC (ffmpeg and earmark's decoder refuse
    // the file): a rewrite would give the page a fresh CRC, passing off
    // whatever damage it holds as whole.
    (
        "lowercase-fields.ogg",
        "an Ogg header page fails its checksum",
    ),
    // APEv2 and ID3v1 but no ID3v2: an added ID3v2 tag would hide their
    // title, artist and album from players that read ID3v2 first.
    ("ape-id3v1.mp3", "has an ID3v1 tag but no ID3v2 tag"),
    // TagLib keeps only their headers: no audio behind a declared length,
    // as a file another program is still writing looks (its writer would
    // go on into the replaced file).
    (
        "ilst-is-last.m4a",
        "not written: its audio ends at 0:00 of the 1:06",
    ),
    // the same, where the sample table runs past the file's end
    (
        "non-full-meta.m4a",
        "not written: its audio does not decode whole",
    ),
    (
        "infloop.m4a",
        "not written: its audio does not decode whole",
    ),
    (
        "toc_many_children.mp3",
        "not written: its audio ends at 0:00 of the 0:13",
    ),
];

/// Files whose tags mutagen 1.47 cannot see at all (it reads `meta` as a
/// full box and misses a QuickTime-style one; its own write adds a second
/// `meta`): checked with ffprobe instead, which reads them. None is written
/// now: `non-full-meta.m4a`, the corpus's one, is refused as cut short (its
/// sample data ends early); the check stays for a whole one.
const MUTAGEN_BLIND: &[&str] = &[];

fn ext_of(p: &Path) -> String {
    p.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}

#[test]
#[allow(clippy::too_many_lines)] // one pass over the corpus, its checks in order
fn corpus_writes_hold_under_an_independent_reader_and_undo_exactly() {
    let Some(corpus) = common::shared_tagcorpus() else {
        return;
    };
    let Some(py) = reader::mutagen_python() else {
        return;
    };
    let ffmpeg = reader::ffmpeg_present();
    let work = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let mut originals: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| EXTENSIONS.contains(&ext_of(p).as_str()))
        .collect();
    originals.sort();
    assert!(
        originals.len() >= 59,
        "corpus has {} files",
        originals.len()
    );

    let before = reader::dump(&py, &originals);
    let mut written = Vec::new();
    let mut failures = Vec::new();
    let mut refused_taggable = BTreeMap::new();
    for orig in &originals {
        let name = orig.file_name().unwrap().to_string_lossy().to_string();
        let ours = work.path().join(format!("e_{name}"));
        let theirs = work.path().join(format!("m_{name}"));
        for p in [&ours, &theirs] {
            std::fs::copy(orig, p).unwrap();
            tags_common::set_mode(p, 0o644);
        }
        let mutagen_ok = reader::mutagen_tags(&py, &theirs, "Jazz");
        let out = Command::new(env!("CARGO_BIN_EXE_earmark"))
            .args(["tag", "--genre", "Jazz"])
            .arg(&ours)
            .env("EARMARK_DATA_DIR", data.path())
            .env("EARMARK_CACHE_DIR", data.path().join("cache"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        if std::fs::read(&ours).unwrap() == std::fs::read(orig).unwrap() {
            // Refused: one clear line naming the file, nothing changed.
            // The reason line (plus the run's "0 written, … 1 failed" summary).
            let summary = |l: &str| l.contains(" written, ") && l.contains(" failed");
            let lines: Vec<&str> = stderr.lines().filter(|l| !summary(l)).collect();
            if out.status.success()
                || lines.len() != 1
                || !lines[0].contains(&*ours.to_string_lossy())
                || lines[0].contains("{ ")
            {
                failures.push(format!("{name}: refusal not one clear line: {stderr:?}"));
            }
            let reason = lines
                .first()
                .and_then(|l| l.split_once(&format!("{}: ", ours.display())))
                .map_or(String::new(), |(_, r)| r.to_string());
            if mutagen_ok {
                refused_taggable.insert(name.clone(), reason);
            }
            continue;
        }
        if !out.status.success() {
            failures.push(format!("{name}: changed but earmark failed: {stderr}"));
            continue;
        }
        written.push(name.clone());
        if MUTAGEN_BLIND.contains(&name.as_str()) {
            let (mut b, mut a) = (reader::ffprobe_tags(orig), reader::ffprobe_tags(&ours));
            if a.remove("genre").as_deref() != Some("Jazz") {
                failures.push(format!("{name}: ffprobe does not read the genre"));
            }
            b.remove("genre");
            if a != b || a.is_empty() {
                failures.push(format!("{name}: ffprobe sees other tags change"));
            }
            continue;
        }
        let after = reader::dump(&py, std::slice::from_ref(&ours));
        let (b, a) = (
            &before[&*orig.to_string_lossy()],
            &after[&*ours.to_string_lossy()],
        );
        if a["genre"] != serde_json::json!(["Jazz"]) {
            failures.push(format!("{name}: mutagen reads genre {}", a["genre"]));
        }
        for key in ["others", "length", "channels", "sample_rate"] {
            if a[key] != b[key] {
                failures.push(format!("{name}: {key} changed: {} -> {}", b[key], a[key]));
            }
        }
        if ffmpeg
            && let Some(md5) = reader::ffmpeg_md5(orig)
            && reader::ffmpeg_md5(&ours).as_ref() != Some(&md5)
        {
            failures.push(format!("{name}: ffmpeg decodes different audio"));
        }
    }
    // One undo of everything: each written file back to its original, byte
    // for byte (the journal keeps the bytes each write replaced).
    let undo = Command::new(env!("CARGO_BIN_EXE_earmark"))
        .args(["tag", "undo", "--all"])
        .env("EARMARK_DATA_DIR", data.path())
        .env("EARMARK_CACHE_DIR", data.path().join("cache"))
        .output()
        .unwrap();
    if !undo.status.success() {
        failures.push(format!(
            "undo --all failed: {}",
            String::from_utf8_lossy(&undo.stderr)
        ));
    }
    for name in &written {
        let ours = work.path().join(format!("e_{name}"));
        if std::fs::read(&ours).unwrap() != std::fs::read(corpus.join(name)).unwrap() {
            failures.push(format!("{name}: undo did not restore it byte for byte"));
        }
    }
    eprintln!(
        "{} files: {} written, {} refused although mutagen tags them",
        originals.len(),
        written.len(),
        refused_taggable.len()
    );
    for (name, reason) in &refused_taggable {
        eprintln!("  refused {name}: {reason}");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let expected: BTreeMap<String, String> = REFUSED
        .iter()
        .map(|(n, r)| (n.to_string(), r.to_string()))
        .collect();
    for (name, reason) in &refused_taggable {
        match expected.get(name) {
            Some(start) => assert!(
                reason.starts_with(start.as_str()),
                "{name}: refused for {reason:?}, expected {start:?}"
            ),
            None => panic!("{name}: mutagen tags it but earmark now refuses: {reason}"),
        }
    }
    for name in expected.keys() {
        assert!(
            refused_taggable.contains_key(name),
            "{name} is now tagged: take it off REFUSED (and the README table)"
        );
    }
}

/// Tags lofty cannot read (a Theora video multiplexed with Vorbis audio)
/// are read by earmark's own Ogg reader from the audio stream, as ffmpeg
/// reads them (it warned "cannot read tags: failed to parse Mpeg file");
/// `error` stays for files `info` cannot describe at all (as `classify
/// --json` does).
#[test]
fn a_tag_lofty_cannot_read_is_read_from_the_audio_stream() {
    let Some(corpus) = common::shared_tagcorpus() else {
        return;
    };
    let out = common::earmark()
        .args(["info", "--json"])
        .arg(corpus.join("multiplex.ogg"))
        .arg(corpus.join("no-extension"))
        .output()
        .unwrap();
    let records: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let ogg = &records[0];
    assert!(ogg["audio"]["duration_s"].as_f64().unwrap() > 0.0, "{ogg}");
    assert!(ogg["error"].is_null(), "{ogg}");
    assert!(ogg["warnings"].is_null(), "{ogg}");
    // ffprobe: stream 1 (vorbis) TITLE=Paper Lights, stream 0 (theora) none
    assert_eq!(ogg["tags"]["title"], "Paper Lights", "{ogg}");
    assert!(records[1]["audio"].is_null() && records[1]["error"].is_string());

    // Once `tag` has written its genre (into the audio stream's comments,
    // where ffmpeg looks), `info` shows it as `tag` reads it.
    let work = tempfile::tempdir().unwrap();
    let copy = work.path().join("multiplex.ogg");
    std::fs::write(&copy, std::fs::read(corpus.join("multiplex.ogg")).unwrap()).unwrap();
    let tagged = common::earmark()
        .args(["tag", "-g", "Rock"])
        .arg(&copy)
        .env("EARMARK_CACHE_DIR", work.path().join("cache"))
        .output()
        .unwrap();
    assert!(tagged.status.success(), "{tagged:?}");
    let out = common::earmark()
        .args(["info", "--json"])
        .arg(&copy)
        .output()
        .unwrap();
    let records: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        records[0]["tags"]["genres"],
        serde_json::json!(["Rock"]),
        "{}",
        records[0]
    );
}

/// A file whose content is another format than its name or lofty's first
/// guess says is refused as that format, by name: TagLib's excessive_alloc.aif
/// holds AAC frames behind a damaged FORM header, no-tags.webm is WebM.
#[test]
fn refusals_name_the_format_the_content_is() {
    let Some(corpus) = common::shared_tagcorpus() else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    for (name, said) in [
        (
            "excessive_alloc.aif",
            "its content reads as AAC (ADTS), which earmark does not write genres to",
        ),
        (
            "no-tags.webm",
            "its content reads as Matroska/WebM, which earmark does not write genres to",
        ),
        // named as music earmark does not read, where the bytes say little
        // (an S3M's bytes looked like MPEG: "does not decode as MPEG audio")
        (
            "test.s3m",
            "not written: a tracker module, a format earmark does not read",
        ),
        (
            "tagged.tta",
            "not written: a TTA file, a format earmark does not read",
        ),
    ] {
        let copy = work.path().join(name);
        // Written, not copied: the shared files are read-only.
        std::fs::write(&copy, std::fs::read(corpus.join(name)).unwrap()).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_earmark"))
            .args(["tag", "-g", "Rock", "--json"])
            .arg(&copy)
            .env("EARMARK_CACHE_DIR", work.path().join("cache"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{name}");
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let row = &report["results"][0];
        assert_eq!(row["error_kind"], "unsupported", "{name}: {report}");
        assert!(
            row["error"].as_str().is_some_and(|e| e.contains(said)),
            "{name}: {report}"
        );
        assert_eq!(
            std::fs::read(&copy).unwrap(),
            std::fs::read(corpus.join(name)).unwrap()
        );
    }
}
