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
    assert_untouched(dir.path(), &path, &bytes);
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
