//! Genre writes on files other programs made, checked by other programs:
//! ffmpeg makes the files, mutagen (pinned venv) writes the quirky tags and
//! reads the result. Also the journal's move out of the cache database.
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;
mod tags_common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tags_common::reader;

/// A two-second MP3 with no metadata at all (starts with an MPEG frame).
fn untagged_mp3(dir: &Path) -> Option<PathBuf> {
    if !reader::ffmpeg_present() {
        return None;
    }
    let p = dir.join("plain.mp3");
    let ok = Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=2",
        ])
        .args([
            "-map_metadata",
            "-1",
            "-id3v2_version",
            "0",
            "-write_xing",
            "0",
        ])
        .args(["-c:a", "libmp3lame", "-b:a", "64k"])
        .arg(&p)
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "ffmpeg could not make an MP3");
    let head = std::fs::read(&p).unwrap();
    assert!(
        head[0] == 0xFF && head[1] & 0xE0 == 0xE0,
        "not a bare MPEG stream"
    );
    Some(p)
}

/// The pinned mutagen, a temporary folder and an untagged MP3 in it (None
/// where mutagen or ffmpeg is missing, which fails under CI).
fn mutagen_and_mp3() -> Option<(PathBuf, tempfile::TempDir, PathBuf)> {
    let py = reader::mutagen_python()?;
    let dir = tempfile::tempdir().unwrap();
    let mp3 = untagged_mp3(dir.path())?;
    Some((py, dir, mp3))
}

/// earmark with its data and cache under `data`, `args` then `file`.
fn earmark(args: &[&str], file: &Path, data: &Path) -> Output {
    earmark_on(&[args, &[file.to_str().unwrap()]].concat(), data)
}

/// earmark with its data and cache under `data` (`tag undo`: no file).
fn earmark_on(args: &[&str], data: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_earmark"))
        .args(args)
        .env("EARMARK_DATA_DIR", data.join("data"))
        .env("EARMARK_CACHE_DIR", data.join("cache"))
        .output()
        .unwrap()
}

/// Run a mutagen snippet with `path` as `sys.argv[1]`; its stdout.
fn mutagen(py: &Path, code: &str, path: &Path) -> String {
    let out = Command::new(py)
        .args(["-c", code])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "mutagen: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

const READ: &str = "import sys, mutagen.id3 as i
t = i.ID3(sys.argv[1])
print(t.version[1], t['TCON'].genres, t['TPE1'].text, t['TIT2'].text)";

#[test]
fn untagged_ffmpeg_mp3_tags_in_one_command() {
    let Some((py, dir, mp3)) = mutagen_and_mp3() else {
        return;
    };
    let md5 = reader::ffmpeg_md5(&mp3).unwrap();
    let out = earmark(&["tag", "--genre", "Jazz"], &mp3, dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let genre = mutagen(
        py.as_path(),
        "import sys, mutagen.id3 as i; print(i.ID3(sys.argv[1])['TCON'].genres)",
        &mp3,
    );
    assert_eq!(genre, "['Jazz']");
    assert_eq!(reader::ffmpeg_md5(&mp3).unwrap(), md5, "audio changed");
}

#[test]
fn v23_multi_value_artist_survives_a_genre_write() {
    let Some((py, dir, mp3)) = mutagen_and_mp3() else {
        return;
    };
    // ID3v2.3 with NUL-separated values, as some taggers write them.
    mutagen(
        &py,
        "import sys, mutagen.id3 as i
t = i.ID3()
t.add(i.TPE1(encoding=1, text=['piman', 'jzig']))
t.add(i.TIT2(encoding=1, text=['Song']))
t.add(i.TCON(encoding=1, text=['Rock']))
t.save(sys.argv[1], v2_version=3, v23_sep=None)",
        &mp3,
    );
    assert_eq!(
        mutagen(&py, READ, &mp3),
        "3 ['Rock'] ['piman', 'jzig'] ['Song']"
    );
    let out = earmark(&["tag", "--genre", "Jazz"], &mp3, dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        mutagen(&py, READ, &mp3),
        "3 ['Jazz'] ['piman', 'jzig'] ['Song']"
    );
}

#[test]
fn journal_moves_out_of_the_cache_database() {
    let Some(music) = tags_common::music_dir() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let song = dir.path().join("song.flac");
    std::fs::copy(music.join("singularity-nebula.flac"), &song).unwrap();
    tags_common::set_mode(&song, 0o644);
    let before = tags_common::genres(&song);
    // An older earmark kept the journal in the cache database: make one by
    // writing with the journal there, then point the data dir elsewhere.
    let cache = dir.path().join("cache");
    let out = Command::new(env!("CARGO_BIN_EXE_earmark"))
        .args(["tag", "--genre", "Jazz"])
        .arg(&song)
        .env("EARMARK_DATA_DIR", &cache)
        .env("EARMARK_CACHE_DIR", &cache)
        .output()
        .unwrap();
    assert!(out.status.success());
    std::fs::rename(cache.join("journal.sqlite"), cache.join("earmark.sqlite")).unwrap();
    assert_eq!(tags_common::genres(&song), ["Jazz"]);

    let data = dir.path().join("data");
    let undo = Command::new(env!("CARGO_BIN_EXE_earmark"))
        .args(["tag", "undo", "--last"])
        .env("EARMARK_DATA_DIR", &data)
        .env("EARMARK_CACHE_DIR", &cache)
        .output()
        .unwrap();
    assert!(
        undo.status.success(),
        "{}",
        String::from_utf8_lossy(&undo.stderr)
    );
    assert_eq!(tags_common::genres(&song), before, "undo after the move");
    assert!(data.join("journal.sqlite").is_file());
    let left: i64 = rusqlite_count(&cache.join("earmark.sqlite"));
    assert_eq!(left, 0, "entries left in the cache database");
}

fn rusqlite_count(db: &Path) -> i64 {
    let out = Command::new("python3")
        .args([
            "-c",
            "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from journal').fetchone()[0])",
        ])
        .arg(db)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

/// A bare MP3 given a TCON by mutagen: `(version, separator, values)`.
fn mp3_with_genres(py: &Path, dir: &Path, version: u8, sep: &str) -> Option<PathBuf> {
    let mp3 = untagged_mp3(dir)?;
    let sep = if sep.is_empty() {
        "None".to_string()
    } else {
        format!("'{sep}'")
    };
    mutagen(
        py,
        &format!(
            "import sys, mutagen.id3 as i
t = i.ID3()
t.add(i.TCON(encoding=1, text=['Rock', 'Pop']))
t.add(i.TPE1(encoding=1, text=['A']))
t.save(sys.argv[1], v2_version={version}, v23_sep={sep})"
        ),
        &mp3,
    );
    Some(mp3)
}

fn info_genres(mp3: &Path, data: &Path) -> serde_json::Value {
    let out = earmark(&["info", "--json"], mp3, data);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v[0]["tags"]["genres"].clone()
}

#[test]
fn multi_value_genres_show_as_lists_and_append_keeps_them() {
    let Some(py) = reader::mutagen_python() else {
        return;
    };
    // v2.4 `Rock\0Pop`, v2.3 `Rock/Pop` (mutagen's convention), v2.3 `Rock\0Pop`.
    for (version, sep, appended) in [
        (4, "/", "['Rock', 'Pop', 'Jazz']"),
        // the stored name stays as it was ('/' is in names: Hip-Hop/Rap)
        (3, "/", "['Rock/Pop; Jazz']"),
        (3, "", "['Rock; Pop; Jazz']"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let Some(mp3) = mp3_with_genres(&py, dir.path(), version, sep) else {
            return;
        };
        let case = format!("v2.{version} sep {sep:?}");
        assert_eq!(
            info_genres(&mp3, dir.path()),
            serde_json::json!(["Rock", "Pop"]),
            "{case}: info --json"
        );
        let table = earmark(&["info"], &mp3, dir.path());
        assert!(
            String::from_utf8_lossy(&table.stdout).contains("genre       Rock; Pop"),
            "{case}: info table"
        );
        let dry = earmark(
            &[
                "tag",
                "--genre",
                "Jazz",
                "--mode",
                "append",
                "--dry-run",
                "--json",
            ],
            &mp3,
            dir.path(),
        );
        let dry: serde_json::Value = serde_json::from_slice(&dry.stdout).unwrap();
        assert_eq!(dry["results"][0]["old"], serde_json::json!(["Rock", "Pop"]));
        assert_eq!(
            dry["results"][0]["new"],
            serde_json::json!(["Rock", "Pop", "Jazz"]),
            "{case}: dry run"
        );
        let out = earmark(
            &["tag", "--genre", "Jazz", "--mode", "append"],
            &mp3,
            dir.path(),
        );
        assert!(out.status.success(), "{case}");
        let got = mutagen(
            &py,
            "import sys, mutagen.id3 as i; t = i.ID3(sys.argv[1]); print(t.version[1], t['TCON'].text, t['TPE1'].text)",
            &mp3,
        );
        assert_eq!(got, format!("{version} {appended} ['A']"), "{case}");
        assert_eq!(
            info_genres(&mp3, dir.path()),
            serde_json::json!(["Rock", "Pop", "Jazz"]),
            "{case}: after append"
        );
    }
}

/// ID3v2.3's `(17)Rock` (a genre reference followed by its name, as old
/// taggers wrote it) is one genre, Rock: shown once, and accepting Rock
/// leaves the file untouched; another genre replaces both parts.
#[test]
fn a_v23_reference_and_its_name_are_one_genre() {
    let Some((py, dir, mp3)) = mutagen_and_mp3() else {
        return;
    };
    // by hand: mutagen rewrites `(17)Rock` as `Rock` when it saves v2.3
    let text = b"\0(17)Rock";
    let mut frame = b"TCON".to_vec();
    frame.extend((text.len() as u32).to_be_bytes());
    frame.extend([0, 0]);
    frame.extend(text);
    let mut tag = b"ID3\x03\0\0".to_vec();
    let n = frame.len() as u32;
    tag.extend([(n >> 21) & 127, (n >> 14) & 127, (n >> 7) & 127, n & 127].map(|b| b as u8));
    tag.extend(frame);
    tag.extend(std::fs::read(&mp3).unwrap());
    std::fs::write(&mp3, tag).unwrap();
    let raw = "import sys, mutagen.id3 as i; t = i.ID3(sys.argv[1], translate=False); print(t['TCON'].text, t['TCON'].genres)";
    assert_eq!(mutagen(&py, raw, &mp3), "['(17)Rock'] ['Rock']");
    assert_eq!(info_genres(&mp3, dir.path()), serde_json::json!(["Rock"]));
    let before = std::fs::read(&mp3).unwrap();
    let out = earmark(&["tag", "--genre", "Rock", "--json"], &mp3, dir.path());
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["results"][0]["status"], "unchanged", "{v}");
    assert_eq!(v["results"][0]["old"], serde_json::json!(["Rock"]));
    assert!(
        std::fs::read(&mp3).unwrap() == before,
        "the file was rewritten"
    );
    let out = earmark(&["tag", "--genre", "Jazz"], &mp3, dir.path());
    assert!(out.status.success());
    assert_eq!(mutagen(&py, raw, &mp3), "['Jazz'] ['Jazz']");
}

/// A file with eleven TITLE comments (an export that kept a whole album's):
/// `info` shows every one, as mutagen reads them, not one picked at random.
#[test]
fn repeated_titles_show_every_value_as_mutagen_reads_them() {
    let Some(music) = tags_common::music_dir() else {
        return;
    };
    let Some(py) = reader::mutagen_python() else {
        return;
    };
    let file = music.join("hyperrogue-desert.ogg");
    let theirs = mutagen(
        &py,
        "import sys, mutagen; print('\\n'.join(mutagen.File(sys.argv[1]).tags['title']))",
        &file,
    );
    let theirs: Vec<&str> = theirs.lines().collect();
    assert_eq!(theirs.len(), 11, "{theirs:?}");
    let data = tempfile::tempdir().unwrap();
    let out = earmark(&["info", "--json"], &file, data.path());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ours = v[0]["tags"]["title"].as_str().unwrap().to_string();
    let mut ours: Vec<&str> = ours.split("; ").collect();
    let mut theirs = theirs;
    ours.sort_unstable();
    theirs.sort_unstable();
    assert_eq!(ours, theirs);
}

/// An MP3 with an ID3v1 trailer beside its ID3v2 tag (as older taggers and
/// mutagen's `v1=2` leave them): the trailer's genre follows each write, so
/// a cleared genre does not come back from it (mutagen, and earmark's own
/// `info`, fall back to ID3v1), and an undo puts the file back byte for byte.
#[test]
fn the_id3v1_genre_follows_each_write() {
    let Some((py, dir, mp3)) = mutagen_and_mp3() else {
        return;
    };
    mutagen(
        &py,
        "import sys, mutagen.id3 as i
t = i.ID3()
t.add(i.TIT2(encoding=3, text=['Song']))
t.add(i.TCON(encoding=3, text=['Rock']))
t.save(sys.argv[1], v1=2)",
        &mp3,
    );
    let original = std::fs::read(&mp3).unwrap();
    let md5 = reader::ffmpeg_md5(&mp3).unwrap();
    // mutagen's own ID3v1 parser on the last 128 bytes: (title, genre)
    let v1 = "import sys, mutagen.id3._id3v1 as v
f = open(sys.argv[1], 'rb'); f.seek(-128, 2); t = v.ParseID3v1(f.read())
print(t['TIT2'].text[0] if 'TIT2' in t else None, t['TCON'].genres if 'TCON' in t else [])";
    assert_eq!(mutagen(&py, v1, &mp3), "Song ['Rock']");
    let steps: [(&[&str], &str, &str); 3] = [
        (&["tag", "--genre", "Jazz"], "Song ['Jazz']", "['Jazz']"),
        (
            &["tag", "--genre", "Hip Hop"],
            "Song ['Hip-Hop']",
            "['Hip Hop']",
        ),
        (&["tag", "--clear"], "Song []", "[]"),
    ];
    for (args, in_v1, merged) in steps {
        let out = earmark(args, &mp3, dir.path());
        assert!(out.status.success(), "{args:?}: {out:?}");
        assert_eq!(mutagen(&py, v1, &mp3), in_v1, "{args:?}");
        // mutagen.File merges ID3v1 into the tags where ID3v2 lacks a frame
        let tcon = "import sys, mutagen; t = mutagen.File(sys.argv[1]).tags
print([g for f in t.getall('TCON') for g in f.genres])";
        assert_eq!(mutagen(&py, tcon, &mp3), merged, "{args:?}");
        assert_eq!(reader::ffmpeg_md5(&mp3).unwrap(), md5, "audio changed");
    }
    let info = earmark(&["info", "--json"], &mp3, dir.path());
    let records: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
    assert_eq!(records[0]["tags"]["genres"], serde_json::json!([]));
    for run in ["3", "2", "1"] {
        let out = earmark_on(&["tag", "undo", "--run", run], dir.path());
        assert!(out.status.success(), "undo {run}: {out:?}");
    }
    assert!(
        std::fs::read(&mp3).unwrap() == original,
        "undo is not exact"
    );
}

/// An MP3 whose APEv2 tag holds a genre too (foobar2000 writes one): earmark
/// rewrites ID3 only, so the write is refused in one line, naming it, and
/// the file is left as it was; an APEv2 tag without a genre does not matter.
#[test]
fn an_ape_genre_beside_id3_is_refused_by_name() {
    let Some((py, dir, mp3)) = mutagen_and_mp3() else {
        return;
    };
    let ape = |genre: &str| {
        format!(
            "import sys, mutagen.id3 as i, mutagen.apev2 as a
t = i.ID3(); t.add(i.TCON(encoding=3, text=['Rock'])); t.save(sys.argv[1])
x = a.APEv2(); x['Title'] = 'Song'{genre}; x.save(sys.argv[1])"
        )
    };
    mutagen(&py, &ape("; x['Genre'] = 'Rock'"), &mp3);
    let before = std::fs::read(&mp3).unwrap();
    let out = earmark(&["tag", "--genre", "Jazz"], &mp3, dir.path());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("its APEv2 tag holds a genre too (Rock)"),
        "{err}"
    );
    assert!(
        std::fs::read(&mp3).unwrap() == before,
        "a refused file changed"
    );
    let other = tempfile::tempdir().unwrap();
    let plain = untagged_mp3(other.path()).unwrap();
    mutagen(&py, &ape(""), &plain);
    let out = earmark(&["tag", "--genre", "Jazz"], &plain, dir.path());
    assert!(out.status.success(), "{out:?}");
}

/// An MP3 whose ID3v2 tag is followed by a second, padded one that holds a
/// genre (some taggers add a tag instead of rewriting; TagLib's
/// `duplicate_id3v2.mp3`): lofty's probe does not look past it, earmark's
/// does (it was refused as "not an audio file"); ffmpeg merges the two. A genre written to the
/// first is what ffmpeg and mutagen show, so that write goes ahead; clearing
/// it would let the second tag's genre show, so a clear is refused by name,
/// the file untouched, and the write's undo is byte-exact all the same.
#[test]
fn a_second_id3_tag_with_a_genre_refuses_a_clear() {
    let Some((py, dir, mp3)) = mutagen_and_mp3() else {
        return;
    };
    mutagen(
        &py,
        "import sys, mutagen.id3 as i
p = sys.argv[1]
t = i.ID3(); t.add(i.TIT2(encoding=3, text=['Song'])); t.save(p, v2_version=3)
open(p + '.2', 'wb').close()
u = i.ID3(); u.add(i.TCON(encoding=3, text=['Punk'])); u.save(p + '.2')
b = open(p, 'rb').read(); z = b[6:10]
n = 10 + (z[0] << 21 | z[1] << 14 | z[2] << 7 | z[3])
open(p, 'wb').write(b[:n] + open(p + '.2', 'rb').read() + b[n:])",
        &mp3,
    );
    let genre = |f: &Path| reader::ffprobe_tags(f).get("genre").cloned();
    assert_eq!(
        genre(&mp3).as_deref(),
        Some("Punk"),
        "ffmpeg reads both tags"
    );
    let original = std::fs::read(&mp3).unwrap();
    let md5 = reader::ffmpeg_md5(&mp3).unwrap();

    let out = earmark(&["tag", "--genre", "Jazz"], &mp3, dir.path());
    assert!(out.status.success(), "{out:?}");
    assert_eq!(genre(&mp3).as_deref(), Some("Jazz"));
    let tcon = "import sys, mutagen; t = mutagen.File(sys.argv[1]).tags
print([g for f in t.getall('TCON') for g in f.genres], t['TIT2'].text)";
    assert_eq!(mutagen(&py, tcon, &mp3), "['Jazz'] ['Song']");
    assert_eq!(reader::ffmpeg_md5(&mp3).unwrap(), md5, "audio changed");

    let written = std::fs::read(&mp3).unwrap();
    for args in [&["tag", "--clear", "--dry-run"][..], &["tag", "--clear"]] {
        let out = earmark(args, &mp3, dir.path());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains("a second ID3v2 tag follows the first and holds a genre too (Punk)"),
            "{err}"
        );
        assert!(
            std::fs::read(&mp3).unwrap() == written,
            "a refused file changed"
        );
    }
    let out = earmark_on(&["tag", "undo", "--run", "1"], dir.path());
    assert!(out.status.success(), "undo: {out:?}");
    assert!(
        std::fs::read(&mp3).unwrap() == original,
        "undo is not exact"
    );
}

/// A genre value another program stored with control characters (a newline,
/// ESC): `tag`, its dry run, the journal and undo print it escaped, as names
/// are, so it can neither split a line nor drive the terminal.
#[test]
fn control_characters_in_a_stored_genre_are_escaped() {
    let Some((py, dir, mp3)) = mutagen_and_mp3() else {
        return;
    };
    mutagen(
        &py,
        "import sys, mutagen.id3 as i
t = i.ID3(); t.add(i.TCON(encoding=3, text=['Ro\\nck\\x1b[31m'])); t.save(sys.argv[1])",
        &mp3,
    );
    let runs = [
        earmark(&["tag", "--dry-run", "--genre", "Jazz"], &mp3, dir.path()),
        earmark(&["tag", "--genre", "Jazz"], &mp3, dir.path()),
        earmark_on(&["tag", "journal"], dir.path()),
        earmark_on(&["tag", "undo", "--last"], dir.path()),
    ];
    for out in &runs {
        assert!(out.status.success(), "{out:?}");
        let all = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(
            !all.contains('\u{1b}') && !all.contains("Ro\nck"),
            "{all:?}"
        );
        assert!(all.contains("Ro\\nck\\u{1b}[31m"), "{all:?}");
    }
}

/// Repeated fields (a file of eleven `TITLE`s) show in the order the file
/// holds them, as mutagen reads them: lofty's reader reordered them (the
/// titles started at the seventh). Every Vorbis-comment file of
/// ../shared/music, title, artist and album.
#[test]
fn repeated_fields_show_in_the_files_order() {
    let (Some(py), Some(music)) = (reader::mutagen_python(), common::shared_music()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for entry in std::fs::read_dir(&music).unwrap() {
        let path = entry.unwrap().path();
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !["ogg", "flac", "opus"].contains(&ext) {
            continue;
        }
        let theirs = mutagen(
            &py,
            "import sys, mutagen, json
t = mutagen.File(sys.argv[1]).tags
def j(k):
    v = []
    for x in t.get(k, []):
        x = x.strip()
        if x and x not in v: v.append(x)
    return '; '.join(v) or None
print(json.dumps([j('title'), j('artist'), j('album')]))",
            &path,
        );
        let theirs: Vec<Option<String>> = serde_json::from_str(&theirs).unwrap();
        let out = earmark(&["info", "--json"], &path, dir.path());
        assert!(out.status.success(), "{out:?}");
        let ours: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let ours = &ours[0]["tags"];
        for (field, want) in ["title", "artist", "album"].iter().zip(&theirs) {
            assert_eq!(
                ours[field].as_str(),
                want.as_deref(),
                "{}: {field}",
                path.display()
            );
        }
        checked += 1;
    }
    assert!(checked >= 5, "only {checked} Vorbis-comment files");
}
