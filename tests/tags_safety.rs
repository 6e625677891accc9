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
    let mut seen = 0;
    let results = apply::accept_batch(&cache, &items, |_, _| seen += 1).unwrap();
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
