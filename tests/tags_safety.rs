//! Failure paths of the safe write: whatever goes wrong, the original stays
//! byte-identical, no temp file is left behind, and the error names the file
//! and the reason.
#![allow(clippy::unwrap_used)] // a test (or bench) that cannot unwrap has failed

mod tags_common;

use std::path::Path;

use earmark::tags::apply::{self, UndoError};
use earmark::tags::write::FailPoint;
use earmark::tags::{GenreChange, WriteConfig, WriteErrorKind, write_genre, write_genre_with};
use tags_common::*;

fn fail_at(point: FailPoint) -> WriteConfig {
    WriteConfig {
        fail_point: Some(point),
        ..WriteConfig::default()
    }
}

fn assert_untouched(dir: &Path, path: &Path, bytes: &[u8]) {
    assert_eq!(std::fs::read(path).unwrap(), bytes, "original changed");
    assert!(
        leftovers(dir).is_empty(),
        "temp files left: {:?}",
        leftovers(dir)
    );
}

#[test]
fn injected_failure_before_rename_leaves_original_byte_identical() {
    for name in [
        "singularity-awakening.mp3",
        "singularity-nebula.flac",
        "hyperrogue-caribbean.m4a",
    ] {
        let Some((dir, path)) = copy_music(name) else {
            return;
        };
        enrich(&path);
        let bytes = std::fs::read(&path).unwrap();
        for point in [FailPoint::AfterTagWrite, FailPoint::BeforeRename] {
            let e = write_genre_with(&path, &GenreChange::replace("Jazz"), &fail_at(point))
                .unwrap_err();
            assert_eq!(e.kind, WriteErrorKind::Injected);
            let msg = e.to_string();
            assert!(msg.starts_with(&path.display().to_string()), "{msg}");
            assert!(!msg.contains('\n'));
            assert_untouched(dir.path(), &path, &bytes);
        }
    }
}

#[test]
fn injected_failure_is_not_journaled() {
    let Some((dir, path)) = copy_music("singularity-awakening.mp3") else {
        return;
    };
    let (_c, cache) = temp_cache();
    let bytes = std::fs::read(&path).unwrap();
    let e = apply::accept_with(
        &cache,
        1,
        &path,
        &GenreChange::replace("Jazz"),
        &fail_at(FailPoint::BeforeRename),
    )
    .unwrap_err();
    assert_eq!(e.kind(), "injected");
    assert!(cache.journal_list().unwrap().is_empty());
    assert_untouched(dir.path(), &path, &bytes);
}

#[test]
fn disk_full_is_reported() {
    let Some((dir, path)) = copy_music("hyperrogue-desert.wav") else {
        return;
    };
    let bytes = std::fs::read(&path).unwrap();
    let e = write_genre_with(
        &path,
        &GenreChange::replace("Jazz"),
        &fail_at(FailPoint::DiskFull),
    )
    .unwrap_err();
    assert_eq!(e.kind, WriteErrorKind::DiskFull);
    assert!(e.to_string().contains("disk full"), "{e}");
    assert_untouched(dir.path(), &path, &bytes);
}

#[test]
fn read_only_file_is_refused() {
    // Checked from the permission bits, so this holds even as root.
    let Some((dir, path)) = copy_music("singularity-awakening.mp3") else {
        return;
    };
    set_mode(&path, 0o444);
    let bytes = std::fs::read(&path).unwrap();
    let e = write_genre(&path, &GenreChange::replace("Jazz")).unwrap_err();
    assert_eq!(e.kind, WriteErrorKind::ReadOnly);
    assert!(e.to_string().contains("read-only"), "{e}");
    assert_untouched(dir.path(), &path, &bytes);
    set_mode(&path, 0o644);
}

#[test]
fn unwritable_folder_is_reported() {
    if !permissions_enforced() {
        eprintln!("skipping: running as root, permission bits are not enforced");
        return;
    }
    let Some((dir, path)) = copy_music("singularity-awakening.mp3") else {
        return;
    };
    let bytes = std::fs::read(&path).unwrap();
    set_mode(dir.path(), 0o555);
    let e = write_genre(&path, &GenreChange::replace("Jazz")).unwrap_err();
    set_mode(dir.path(), 0o755);
    assert_eq!(e.kind, WriteErrorKind::PermissionDenied, "{e}");
    assert!(e.to_string().contains("permission denied"), "{e}");
    assert!(e.to_string().contains("its folder must be writable"), "{e}");
    assert_untouched(dir.path(), &path, &bytes);
}

/// A path the system cannot take says so, not the bare "File name too long
/// (os error 36)", which a short name over a deep folder got too.
#[test]
fn a_path_too_long_for_the_system_says_so() {
    let long = std::env::temp_dir().join("x".repeat(300) + ".flac");
    let e = write_genre(&long, &GenreChange::replace("Jazz")).unwrap_err();
    assert!(
        e.reason.contains(
            "path too long for the system (a name over 255 bytes, or a whole path over 4096)"
        ),
        "{e}"
    );
}

#[test]
fn permissions_are_kept() {
    use std::os::unix::fs::PermissionsExt;
    let Some((_dir, path)) = copy_music("singularity-nebula.flac") else {
        return;
    };
    set_mode(&path, 0o640);
    write_genre(&path, &GenreChange::replace("Jazz")).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
}

#[test]
fn symlink_stays_a_link() {
    let Some((dir, path)) = copy_music("singularity-nebula.flac") else {
        return;
    };
    let link = dir.path().join("link.flac");
    std::os::unix::fs::symlink(&path, &link).unwrap();
    write_genre(&link, &GenreChange::replace("Jazz")).unwrap();
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(genres(&path), s(&["Jazz"]));
}

#[test]
fn hard_links_are_refused() {
    let Some((dir, path)) = copy_music("singularity-nebula.flac") else {
        return;
    };
    let other = dir.path().join("other.flac");
    std::fs::hard_link(&path, &other).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let e = write_genre(&path, &GenreChange::replace("Jazz")).unwrap_err();
    assert_eq!(e.kind, WriteErrorKind::HardLinked);
    // what to do, as every refusal says
    assert!(
        e.reason.contains("give it a file of its own"),
        "{}",
        e.reason
    );
    assert_untouched(dir.path(), &path, &bytes);
}

#[test]
fn not_audio_and_missing_files() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("notes.mp3");
    std::fs::write(
        &fake,
        b"just some text, not an mp3 at all, long enough to probe",
    )
    .unwrap();
    let e = write_genre(&fake, &GenreChange::replace("Jazz")).unwrap_err();
    assert!(
        e.to_string().starts_with(&fake.display().to_string()),
        "{e}"
    );
    assert_eq!(
        std::fs::read(&fake).unwrap(),
        b"just some text, not an mp3 at all, long enough to probe"
    );
    let e = write_genre(
        &dir.path().join("missing.mp3"),
        &GenreChange::replace("Jazz"),
    )
    .unwrap_err();
    assert_eq!(e.kind, WriteErrorKind::NotFound);
    let e = write_genre(dir.path(), &GenreChange::replace("Jazz")).unwrap_err();
    assert_eq!(e.kind, WriteErrorKind::NotAFile);
    assert!(leftovers(dir.path()).is_empty());
}

#[test]
fn invalid_genres_are_refused() {
    let Some((_dir, path)) = copy_music("singularity-nebula.flac") else {
        return;
    };
    for bad in ["", "  ", "Rock;Pop", "A\nB", "nul\0"] {
        let e = write_genre(&path, &GenreChange::replace(bad)).unwrap_err();
        assert_eq!(e.kind, WriteErrorKind::InvalidGenre, "{bad:?}");
    }
}

#[test]
fn undo_refuses_when_the_file_changed_since() {
    let Some((_dir, path)) = copy_music("singularity-awakening.mp3") else {
        return;
    };
    let (_c, cache) = temp_cache();
    let a = apply::accept(&cache, 1, &path, &GenreChange::replace("Jazz")).unwrap();
    // Someone else retags the file.
    write_genre(&path, &GenreChange::replace("Polka")).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let e = apply::undo(&cache, a.journal_id.unwrap()).unwrap_err();
    match &e {
        UndoError::Write { error, .. } => assert_eq!(error.kind, WriteErrorKind::Changed),
        other => panic!("unexpected {other}"),
    }
    assert!(e.to_string().contains("Polka"), "{e}");
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    assert!(
        !cache
            .journal_get(a.journal_id.unwrap())
            .unwrap()
            .unwrap()
            .undone
    );
    // Undoing twice, or a missing entry, says so.
    write_genre(&path, &GenreChange::replace("Jazz")).unwrap();
    apply::undo(&cache, a.journal_id.unwrap()).unwrap();
    assert_eq!(genres(&path), s(&["Soundtrack"]));
    assert!(matches!(
        apply::undo(&cache, a.journal_id.unwrap()),
        Err(UndoError::AlreadyUndone { .. })
    ));
    assert!(matches!(
        apply::undo(&cache, 9999),
        Err(UndoError::NoSuchEntry(9999))
    ));
}

#[test]
fn batch_accept_and_undo_last_takes_back_the_batch() {
    let Some(music) = music_dir() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let names = [
        "singularity-awakening.mp3",
        "singularity-nebula.flac",
        "hyperrogue-hell.au",
    ];
    let mut items = Vec::new();
    for n in names {
        let p = dir.path().join(n);
        std::fs::copy(music.join(n), &p).unwrap();
        set_mode(&p, 0o644);
        items.push((p, GenreChange::replace("Ambient")));
    }
    let (_c, cache) = temp_cache();
    let preview = apply::preview(&items);
    assert_eq!(preview[0].as_ref().unwrap().old, s(&["Soundtrack"]));
    assert_eq!(preview[0].as_ref().unwrap().new, s(&["Ambient"]));
    assert!(preview[2].is_err());
    let batch: Vec<apply::BatchItem> = items
        .iter()
        .map(|(path, change)| apply::BatchItem {
            path: path.clone(),
            change: change.clone(),
            decided_on: None,
        })
        .collect();
    let mut seen = 0;
    let results = apply::accept_batch(&cache, &batch, |_, _| {
        seen += 1;
        true
    })
    .unwrap();
    assert_eq!(seen, 3);
    assert!(results[0].is_ok() && results[1].is_ok() && results[2].is_err());
    // A single accept afterwards is its own batch.
    let extra = cache.journal_new_batch().unwrap();
    apply::accept(&cache, extra, &items[1].0, &GenreChange::append("Drone")).unwrap();
    assert_eq!(apply::undo_last(&cache).unwrap().len(), 1);
    assert_eq!(genres(&items[1].0), s(&["Ambient"]));
    let undone = apply::undo_last(&cache).unwrap();
    assert_eq!(undone.len(), 2);
    assert!(undone.iter().all(|u| u.is_ok()));
    assert_eq!(genres(&items[0].0), s(&["Soundtrack"]));
    assert!(genres(&items[1].0).is_empty());
}

#[test]
fn non_utf8_file_names_work_through_the_journal() {
    use std::os::unix::ffi::OsStrExt;
    let Some(music) = music_dir() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9 \xff.flac");
    let path = dir.path().join(name);
    if std::fs::copy(music.join("singularity-nebula.flac"), &path).is_err() {
        eprintln!("skipping: file system refuses non-UTF-8 names");
        return;
    }
    set_mode(&path, 0o644);
    let (_c, cache) = temp_cache();
    apply::accept(&cache, 1, &path, &GenreChange::replace("Jazz")).unwrap();
    let entry = &cache.journal_list().unwrap()[0];
    assert_eq!(entry.path, path);
    apply::undo_last(&cache).unwrap()[0].as_ref().unwrap();
    assert!(genres(&path).is_empty());
}

/// A write decided from one version of a file (its suggestion came from that
/// audio, its preview from those tags) is refused once another program has
/// replaced or re-tagged it, and leaves it as it is; the version it was
/// decided from writes. A batch told to stop (the app quitting) stops after
/// the file being written: the rest untouched, no half-done write.
#[test]
fn a_write_decided_on_another_version_is_refused_and_a_batch_stops_between_files() {
    let Some(music) = music_dir() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("a.flac");
    std::fs::copy(music.join("singularity-nebula.flac"), &f).unwrap();
    set_mode(&f, 0o644);
    let seen = earmark::cache::file_key(&f).unwrap();
    // another tagger writes a genre (earmark's own writer stands in for it)
    write_genre(&f, &GenreChange::replace("Game")).unwrap();
    let retagged = std::fs::read(&f).unwrap();
    let (_c, cache) = temp_cache();
    let batch = cache.journal_new_batch().unwrap();
    let stale = WriteConfig {
        decided_on: Some(seen),
        ..WriteConfig::default()
    };
    let e = apply::accept_with(&cache, batch, &f, &GenreChange::replace("Ambient"), &stale)
        .unwrap_err();
    assert_eq!(e.kind(), "changed", "{e}");
    assert!(
        e.to_string()
            .contains("changed on disk since earmark read it"),
        "{e}"
    );
    assert_eq!(std::fs::read(&f).unwrap(), retagged, "untouched");
    assert!(
        cache.journal_list().unwrap().is_empty(),
        "nothing journaled"
    );

    let now = earmark::cache::file_key(&f).unwrap();
    let fresh = WriteConfig {
        decided_on: Some(now),
        ..WriteConfig::default()
    };
    let done =
        apply::accept_with(&cache, batch, &f, &GenreChange::replace("Ambient"), &fresh).unwrap();
    assert_eq!(done.report.key_before, Some(now));
    assert_eq!(done.key_after, Some(earmark::cache::file_key(&f).unwrap()));
    assert_eq!(genres(&f), s(&["Ambient"]));

    let files: Vec<_> = (0..3)
        .map(|i| {
            let p = dir.path().join(format!("b{i}.flac"));
            std::fs::copy(music.join("singularity-nebula.flac"), &p).unwrap();
            set_mode(&p, 0o644);
            p
        })
        .collect();
    let before: Vec<Vec<u8>> = files.iter().map(|p| std::fs::read(p).unwrap()).collect();
    let items: Vec<apply::BatchItem> = files
        .iter()
        .map(|p| apply::BatchItem {
            path: p.clone(),
            change: GenreChange::replace("Drone"),
            decided_on: None,
        })
        .collect();
    let out = apply::accept_batch(&cache, &items, |_, _| false).unwrap();
    assert_eq!(out.len(), 1, "stopped after the first file");
    assert_eq!(genres(&files[0]), s(&["Drone"]));
    for (p, b) in files.iter().zip(&before).skip(1) {
        assert_eq!(&std::fs::read(p).unwrap(), b, "{}", p.display());
    }
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("earmark-tmp"))
        .collect();
    assert!(left.is_empty(), "no temporary copy left");
}

/// An extended attribute of `path` as the kernel holds it (None: absent).
fn xattr_of(path: &Path, name: &str) -> Option<Vec<u8>> {
    use std::os::unix::ffi::OsStrExt;
    let p = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    let n = std::ffi::CString::new(name).unwrap();
    let mut buf = vec![0u8; 256];
    // SAFETY: both strings are NUL-terminated; buf is as long as we say.
    let got = unsafe { libc::getxattr(p.as_ptr(), n.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    (got >= 0).then(|| buf[..got as usize].to_vec())
}

/// Set one; false where the file system holds none.
fn set_xattr(path: &Path, name: &str, value: &[u8]) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let p = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    let n = std::ffi::CString::new(name).unwrap();
    // SAFETY: both strings are NUL-terminated; value is as long as we say.
    unsafe {
        libc::setxattr(
            p.as_ptr(),
            n.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        ) == 0
    }
}

/// A write replaces the file by a new one: a user's extended attributes
/// (comments, ACLs, labels) must come with it, and with its undo.
#[test]
fn extended_attributes_are_kept_by_a_write_and_its_undo() {
    let Some((_dir, path)) = copy_music("singularity-nebula.flac") else {
        return;
    };
    if !set_xattr(&path, "user.earmark.note", b"keep me") {
        // a file system's ability, not data a checkout lacks: nothing to keep here
        eprintln!("skipped: this file system holds no user extended attributes");
        return;
    }
    let (_c, cache) = temp_cache();
    let before = std::fs::read(&path).unwrap();
    let a = apply::accept(&cache, 1, &path, &GenreChange::replace("Jazz")).unwrap();
    assert_eq!(genres(&path), s(&["Jazz"]));
    assert_eq!(
        xattr_of(&path, "user.earmark.note").as_deref(),
        Some(&b"keep me"[..])
    );
    apply::undo(&cache, a.journal_id.unwrap()).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(
        xattr_of(&path, "user.earmark.note").as_deref(),
        Some(&b"keep me"[..])
    );
}

/// A WAV of silence with `extra` chunks after its `data` (each (id, body)).
fn wav_with(extra: &[(&[u8; 4], Vec<u8>)], declared_last: Option<u32>) -> Vec<u8> {
    let mut body = b"WAVEfmt ".to_vec();
    body.extend_from_slice(&16u32.to_le_bytes());
    for v in [1u16, 1] {
        body.extend_from_slice(&v.to_le_bytes());
    }
    body.extend_from_slice(&22_050u32.to_le_bytes());
    body.extend_from_slice(&44_100u32.to_le_bytes());
    body.extend_from_slice(&2u16.to_le_bytes());
    body.extend_from_slice(&16u16.to_le_bytes());
    body.extend_from_slice(b"data");
    let pcm: Vec<u8> = (0..22_050u32)
        .flat_map(|i| (((i as f32 * 0.05).sin() * 8000.0) as i16).to_le_bytes())
        .collect();
    body.extend_from_slice(&(pcm.len() as u32).to_le_bytes());
    body.extend(pcm);
    for (i, (id, chunk)) in extra.iter().enumerate() {
        body.extend_from_slice(*id);
        let size = match declared_last {
            Some(n) if i + 1 == extra.len() => n,
            _ => chunk.len() as u32,
        };
        body.extend_from_slice(&size.to_le_bytes());
        body.extend_from_slice(chunk);
        if chunk.len() % 2 == 1 {
            body.push(0);
        }
    }
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend(body);
    out
}

/// An ID3v2.3 tag holding one TIT2 frame.
fn id3_title(title: &str) -> Vec<u8> {
    let mut frame = b"TIT2".to_vec();
    frame.extend_from_slice(&(title.len() as u32 + 1).to_be_bytes());
    frame.extend_from_slice(&[0, 0, 0]);
    frame.extend_from_slice(title.as_bytes());
    let mut tag = b"ID3\x03\x00\x00".to_vec();
    let n = frame.len() as u32;
    tag.extend(
        [
            (n >> 21) & 0x7f,
            (n >> 14) & 0x7f,
            (n >> 7) & 0x7f,
            n & 0x7f,
        ]
        .map(|b| b as u8),
    );
    tag.extend(frame);
    tag
}

/// The genre writer rewrites a WAV's ID3 chunk whole and its INFO list in
/// place: a chunk holding bytes that are not the tag, or a list the file
/// ends inside, would lose them. Refused, untouched.
#[test]
fn wav_chunks_a_rewrite_would_lose_are_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let mut trailing = id3_title("Kept");
    trailing.extend_from_slice(b"ANOTHER PROGRAM'S DATA");
    let mut info = b"INFO".to_vec();
    info.extend_from_slice(b"INAM");
    info.extend_from_slice(&6u32.to_le_bytes());
    info.extend_from_slice(b"Title\0");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "not-id3.wav",
            wav_with(&[(b"id3 ", b"NOT AN ID3 TAG: precious".to_vec())], None),
            "does not hold an ID3v2 tag",
        ),
        (
            "trailing.wav",
            wav_with(&[(b"id3 ", trailing)], None),
            "holds other data after its tag",
        ),
        (
            "cut-list.wav",
            wav_with(&[(b"LIST", info)], Some(400)),
            "its `LIST` chunk runs past the end of the file",
        ),
    ];
    for (name, bytes, why) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, &bytes).unwrap();
        let e = write_genre(&path, &GenreChange::replace("Jazz")).unwrap_err();
        assert!(e.reason.contains(why), "{name}: {e}");
        assert!(e.reason.contains("tag it with another program"), "{e}");
        assert_untouched(dir.path(), &path, &bytes);
    }
    // Zeros after the tag are padding: such a chunk is rewritten.
    let mut padded = id3_title("Kept");
    padded.extend_from_slice(&[0u8; 32]);
    let path = dir.path().join("padded.wav");
    std::fs::write(&path, wav_with(&[(b"id3 ", padded)], None)).unwrap();
    write_genre(&path, &GenreChange::replace("Jazz")).unwrap();
    assert_eq!(genres(&path), s(&["Jazz"]));
    assert!(
        tag_dump(&path, false).iter().any(|t| t.contains("Kept")),
        "{:?}",
        tag_dump(&path, false)
    );
}

/// An ID3v2.3 tag holding one TCON frame.
fn id3_genre(genre: &str) -> Vec<u8> {
    let mut tag = id3_title("x");
    let mut frame = b"TCON".to_vec();
    frame.extend_from_slice(&(genre.len() as u32 + 1).to_be_bytes());
    frame.extend_from_slice(&[0, 0, 0]);
    frame.extend_from_slice(genre.as_bytes());
    tag.extend(frame);
    let n = tag.len() as u32 - 10;
    tag[6..10].copy_from_slice(
        &[
            (n >> 21) & 0x7f,
            (n >> 14) & 0x7f,
            (n >> 7) & 0x7f,
            n & 0x7f,
        ]
        .map(|b| b as u8),
    );
    tag
}

/// A RIFF `LIST` body of INFO holding one IGNR.
fn info_genre(genre: &str) -> Vec<u8> {
    let mut list = b"INFOIGNR".to_vec();
    let text = format!("{genre}\0");
    list.extend_from_slice(&(text.len() as u32).to_le_bytes());
    list.extend_from_slice(text.as_bytes());
    if text.len() % 2 == 1 {
        list.push(0);
    }
    list
}

/// A FLAC metadata block of Vorbis comments holding one GENRE.
fn vorbis_block(genre: &str) -> Vec<u8> {
    let comment = format!("GENRE={genre}");
    let mut body = 0u32.to_le_bytes().to_vec(); // empty vendor
    body.extend_from_slice(&1u32.to_le_bytes());
    body.extend_from_slice(&(comment.len() as u32).to_le_bytes());
    body.extend_from_slice(comment.as_bytes());
    let mut block = vec![4];
    block.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    block.extend(body);
    block
}

/// A genre in a place the writer does not rewrite (an ID3v2 tag in front of
/// a FLAC stream, a second Vorbis comment block, a second ID3 chunk) would
/// outlive the write, and earmark's own reader would show it: refused,
/// untouched (a --clear said "Rock → (none)" and info then said Metal).
#[test]
fn a_genre_the_writer_would_leave_behind_is_refused() {
    let Some((dir, flac)) = copy_music("singularity-nebula.flac") else {
        return;
    };
    let plain = std::fs::read(&flac).unwrap();
    let mut id3_in_front = id3_genre("Metal");
    id3_in_front.extend_from_slice(&plain);
    // two comment blocks right after STREAMINFO (4 + 4 + 34 bytes)
    let mut second_block = plain[..42].to_vec();
    second_block.extend(vorbis_block("First"));
    second_block.extend(vorbis_block("Second"));
    second_block.extend_from_slice(&plain[42..]);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "id3.flac",
            id3_in_front,
            "the ID3v2 tag in front of its FLAC stream holds a genre too",
        ),
        (
            "two.flac",
            second_block,
            "a second Vorbis comment block holds a genre too",
        ),
        (
            "two.wav",
            wav_with(
                &[(b"ID3 ", id3_genre("Blues")), (b"id3 ", id3_genre("Metal"))],
                None,
            ),
            "a second ID3 chunk holds a genre too",
        ),
        (
            "two-info.wav",
            wav_with(
                &[
                    (b"LIST", info_genre("Soundtrack")),
                    (b"LIST", info_genre("Rock")),
                ],
                None,
            ),
            "a second RIFF INFO list holds a genre too",
        ),
    ];
    for (name, bytes, why) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, &bytes).unwrap();
        for change in [
            GenreChange::replace("Jazz"),
            GenreChange {
                genres: Vec::new(),
                mode: earmark::tags::GenreMode::Replace,
            },
        ] {
            let e = write_genre(&path, &change).unwrap_err();
            assert!(e.reason.contains(why), "{name}: {e}");
            assert_eq!(e.kind, WriteErrorKind::Unsupported, "{name}: read fine");
            assert_untouched(dir.path(), &path, &bytes);
        }
    }
}

/// lofty takes a file with an MPEG frame sync in its first bytes for MPEG:
/// a tracker module or a blob named `.mp3` would get an ID3 tag in front.
/// A file with no ID3v2 tag is written only when it decodes as MPEG.
#[test]
fn an_untagged_file_that_is_not_mpeg_audio_gets_no_id3_tag() {
    let dir = tempfile::tempdir().unwrap();
    let mut blob = b"IMPM a tracker module, say".to_vec();
    blob.extend_from_slice(&[0xFF, 0xFB, 0x90, 0x64]);
    blob.extend((0..2000u32).map(|i| (i * 7 % 251) as u8));
    let path = dir.path().join("module.mp3");
    std::fs::write(&path, &blob).unwrap();
    let e = write_genre(&path, &GenreChange::replace("Jazz")).unwrap_err();
    assert_eq!(e.kind, WriteErrorKind::NotAudio, "{e}");
    assert!(e.reason.contains("does not decode as MPEG audio"), "{e}");
    assert_untouched(dir.path(), &path, &blob);
}

/// Another user of a shared, world-writable folder swaps earmark's checked
/// copy for a link to a file of theirs choosing (root's, say) before the
/// copy gets its mode and owner: the link's target keeps its mode and bytes
/// (the mode was set by name, through the link), the write is refused in
/// one line instead of putting the link in the track's place and saying
/// "written", and the track is unchanged. What the other program left under
/// the copy's name is left to it.
#[cfg(unix)]
#[test]
fn a_copy_swapped_for_a_link_is_refused_and_its_target_untouched() {
    use std::os::unix::fs::PermissionsExt;
    let Some((dir, path)) = copy_music("singularity-nebula.flac") else {
        return;
    };
    set_mode(&path, 0o664);
    let secret = dir.path().join("secret");
    std::fs::write(&secret, b"not yours").unwrap();
    set_mode(&secret, 0o600);
    let bytes = std::fs::read(&path).unwrap();
    fn swap(temp: &Path) {
        let dir = temp.parent().unwrap();
        std::fs::rename(temp, dir.join("moved-aside")).unwrap();
        std::os::unix::fs::symlink(dir.join("secret"), temp).unwrap();
    }
    let cfg = WriteConfig {
        after_check: Some(swap),
        ..WriteConfig::default()
    };
    let e = write_genre_with(&path, &GenreChange::replace("Jazz"), &cfg).unwrap_err();
    assert_eq!(e.kind, WriteErrorKind::Changed, "{e}");
    assert!(
        e.to_string()
            .contains("another program replaced earmark's temporary copy"),
        "{e}"
    );
    let mode = std::fs::metadata(&secret).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the link's target was given the track's mode");
    assert_eq!(std::fs::read(&secret).unwrap(), b"not yours");
    assert_eq!(std::fs::read(&path).unwrap(), bytes, "the track changed");
    assert!(
        !std::fs::symlink_metadata(&path).unwrap().is_symlink(),
        "the link took the track's place"
    );
}

/// A file whose audio ends well before the length it declares (a download
/// cut short, or one another program is still writing: its writer would go
/// on into the replaced file, and the rest be lost) is refused, untouched,
/// saying how much of it there is; `classify` marks the same file partial.
#[test]
fn a_file_cut_short_is_not_written() {
    let Some((dir, path)) = copy_music("singularity-nebula.flac") else {
        return;
    };
    let whole = std::fs::read(&path).unwrap();
    let cut = dir.path().join("cut.flac");
    std::fs::write(&cut, &whole[..whole.len() / 5]).unwrap();
    let e = write_genre(&cut, &GenreChange::replace("Jazz")).unwrap_err();
    assert_eq!(e.kind, WriteErrorKind::CutShort, "{e}");
    assert!(
        e.to_string().contains("of the 0:30 it declares (cut short, or another program is still writing it); not changed"),
        "{e}"
    );
    assert_eq!(std::fs::read(&cut).unwrap(), &whole[..whole.len() / 5]);
    write_genre(&path, &GenreChange::replace("Jazz")).unwrap();
    assert_eq!(genres(&path), s(&["Jazz"]));

    // A faststart MP4 (ffmpeg's +faststart: its sample table up front) cut
    // in half: the byte-level MP4 check alone let it through (re-review).
    if !reader::ffmpeg_present() {
        return;
    }
    let m4a = dir.path().join("faststart.m4a");
    let made = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(&path)
        .args(["-c:a", "aac", "-movflags", "+faststart"])
        .arg(&m4a)
        .status()
        .is_ok_and(|s| s.success());
    assert!(made, "ffmpeg made no faststart MP4");
    write_genre(&m4a, &GenreChange::replace("Jazz")).expect("the whole one is written");
    let whole = std::fs::read(&m4a).unwrap();
    std::fs::write(&m4a, &whole[..whole.len() / 2]).unwrap();
    let e = write_genre(&m4a, &GenreChange::replace("Rock")).unwrap_err();
    assert_eq!(e.kind, WriteErrorKind::CutShort, "{e}");
    assert_eq!(std::fs::read(&m4a).unwrap(), &whole[..whole.len() / 2]);
}
