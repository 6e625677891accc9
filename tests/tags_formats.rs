//! Genre writing per format, on copies of ../shared/music files: the genre is
//! written, other tags (cover art, comments, chapters) are intact, the decoded
//! audio is unchanged, and undo restores the exact previous tags, byte for
//! byte (the journal keeps the original bytes a write replaced).
#![allow(clippy::unwrap_used)] // a test (or bench) that cannot unwrap has failed

mod tags_common;

use std::path::Path;

use earmark::tags::apply;
use earmark::tags::{GenreChange, GenreMode, read_genre_state};
use tags_common::*;

/// Write on a plain copy (full decoded-audio hash), then on a copy with cover
/// art and extra tags added (the hazards lofty's tracker reports), with
/// replace, append and undo.
fn round_trip(name: &str) {
    if music_dir().is_none() {
        return;
    }
    plain(name);
    enriched(name);
}

fn plain(name: &str) {
    let (dir, path) = copy_music(name).unwrap();
    let (_cdir, cache) = temp_cache();
    let original = std::fs::read(&path).unwrap();
    let audio = audio_hash(&path);
    let tags = tag_dump(&path, true);
    let state = read_genre_state(&path).unwrap();
    let batch = cache.journal_new_batch().unwrap();
    let a = apply::accept(&cache, batch, &path, &GenreChange::replace("Jazz")).unwrap();
    assert!(a.report.changed && a.journal_id.is_some());
    assert_eq!(genres(&path), s(&["Jazz"]), "{name}");
    assert_eq!(a.report.new, s(&["Jazz"]));
    assert_eq!(audio_hash(&path), audio, "{name}: decoded audio changed");
    assert_eq!(
        tag_dump(&path, false),
        strip_genre(&tags),
        "{name}: other tags changed"
    );
    let undone = apply::undo_last(&cache).unwrap();
    assert_eq!(undone.len(), 1);
    undone[0].as_ref().unwrap();
    assert_eq!(
        tag_dump(&path, true),
        tags,
        "{name}: undo did not restore the tags"
    );
    assert_eq!(read_genre_state(&path).unwrap(), state);
    assert_eq!(audio_hash(&path), audio);
    assert!(
        std::fs::read(&path).unwrap() == original,
        "{name}: undo did not restore the file byte for byte"
    );
    // Clearing, then undoing, puts the genre back where it was.
    let batch = cache.journal_new_batch().unwrap();
    let clear = GenreChange {
        genres: Vec::new(),
        mode: GenreMode::Replace,
    };
    if apply::accept(&cache, batch, &path, &clear)
        .unwrap()
        .report
        .changed
    {
        apply::undo_last(&cache).unwrap()[0].as_ref().unwrap();
    }
    assert!(
        std::fs::read(&path).unwrap() == original,
        "{name}: undoing --clear did not restore the file byte for byte"
    );
    assert!(leftovers(dir.path()).is_empty());
}

fn enriched(name: &str) {
    let (dir, path) = copy_music(name).unwrap();
    enrich(&path);
    let (_cdir, cache) = temp_cache();
    let audio = audio_hash_declared(&path);
    let tags = tag_dump(&path, true);
    let pictures = picture_count(&path);
    assert!(pictures >= 1, "{name}: setup added no picture");
    let chapters = mp3_chapters_if(&path);
    let state = read_genre_state(&path).unwrap();
    let before = genres(&path);
    let original = std::fs::read(&path).unwrap();

    let batch = cache.journal_new_batch().unwrap();
    apply::accept(&cache, batch, &path, &GenreChange::replace("Jazz")).unwrap();
    assert_eq!(genres(&path), s(&["Jazz"]), "{name}");
    check_kept(name, &path, &audio, &tags, pictures, &chapters);

    let batch2 = cache.journal_new_batch().unwrap();
    let change = GenreChange {
        genres: s(&["Blues", "jazz"]),
        mode: GenreMode::Append,
    };
    let a = apply::accept(&cache, batch2, &path, &change).unwrap();
    assert_eq!(a.report.old, s(&["Jazz"]));
    assert_eq!(a.report.new, s(&["Jazz", "Blues"]));
    assert_eq!(genres(&path), s(&["Jazz", "Blues"]), "{name}");
    check_kept(name, &path, &audio, &tags, pictures, &chapters);

    // Same again: nothing to write, nothing journaled, file untouched.
    let bytes = std::fs::read(&path).unwrap();
    let again = apply::accept(&cache, batch2, &path, &change).unwrap();
    assert!(!again.report.changed && again.journal_id.is_none());
    assert_eq!(std::fs::read(&path).unwrap(), bytes);

    // Undo the append, then the replace: back to exactly what was there.
    let u = apply::undo_last(&cache).unwrap();
    assert_eq!(u.len(), 1);
    assert_eq!(genres(&path), s(&["Jazz"]));
    u[0].as_ref().unwrap();
    apply::undo_last(&cache).unwrap()[0].as_ref().unwrap();
    assert_eq!(genres(&path), before);
    assert_eq!(
        read_genre_state(&path).unwrap(),
        state,
        "{name}: exact genre values not restored"
    );
    assert_eq!(
        tag_dump(&path, true),
        tags,
        "{name}: undo did not restore the tags"
    );
    check_kept(name, &path, &audio, &tags, pictures, &chapters);
    assert!(
        std::fs::read(&path).unwrap() == original,
        "{name}: two undos did not restore the file byte for byte"
    );
    assert!(
        apply::undo_last(&cache).unwrap().is_empty(),
        "journal fully undone"
    );
    assert!(cache.journal_list().unwrap().iter().all(|e| e.undone));
    assert!(leftovers(dir.path()).is_empty());
}

fn check_kept(
    name: &str,
    path: &Path,
    audio: &str,
    tags: &[String],
    pictures: usize,
    chapters: &[String],
) {
    assert_eq!(
        audio_hash_declared(path),
        audio,
        "{name}: decoded audio changed"
    );
    assert_eq!(
        tag_dump(path, false),
        strip_genre(tags),
        "{name}: other tags changed"
    );
    assert_eq!(picture_count(path), pictures, "{name}: pictures changed");
    assert_eq!(mp3_chapters_if(path), chapters, "{name}: chapters changed");
}

fn mp3_chapters_if(path: &Path) -> Vec<String> {
    if path.extension().is_some_and(|e| e == "mp3") {
        let c = mp3_chapters(path);
        assert!(!c.is_empty(), "mp3 setup added a chapter");
        c
    } else {
        Vec::new()
    }
}

fn strip_genre(dump: &[String]) -> Vec<String> {
    dump.iter()
        .filter(|l| !l.contains(" Genre "))
        .cloned()
        .collect()
}

#[test]
fn mp3_id3v23_with_genre() {
    round_trip("singularity-awakening.mp3");
}

#[test]
fn flac_vorbis_comments() {
    round_trip("singularity-nebula.flac");
}

#[test]
fn ogg_vorbis() {
    round_trip("hyperrogue-caribbean.ogg");
}

#[test]
fn m4a_aac() {
    round_trip("hyperrogue-caribbean.m4a");
}

#[test]
fn m4a_alac() {
    round_trip("singularity-enemy-unknown-alac.m4a");
}

#[test]
fn wav_id3_and_riff_info() {
    round_trip("hyperrogue-desert.wav");
    // The wav has a RIFF INFO list: IGNR follows the genre there too.
    let Some((_d, path)) = copy_music("hyperrogue-desert.wav") else {
        return;
    };
    apply::accept(
        &temp_cache().1,
        1,
        &path,
        &GenreChange {
            genres: s(&["Jazz", "Blues"]),
            mode: GenreMode::Replace,
        },
    )
    .unwrap();
    let st = read_genre_state(&path).unwrap();
    assert_eq!(
        st.get(earmark::tags::Slot::Id3v2).unwrap(),
        s(&["Jazz", "Blues"]).as_slice()
    );
    assert_eq!(
        st.get(earmark::tags::Slot::RiffInfo).unwrap(),
        s(&["Jazz; Blues"]).as_slice()
    );
}

#[test]
fn aiff_id3() {
    round_trip("singularity-enemy-unknown.aiff");
}

#[test]
fn au_cannot_carry_tags() {
    let Some((_d, path)) = copy_music("hyperrogue-hell.au") else {
        return;
    };
    let bytes = std::fs::read(&path).unwrap();
    let e = earmark::tags::write_genre(&path, &GenreChange::replace("Jazz")).unwrap_err();
    assert_eq!(e.kind, earmark::tags::WriteErrorKind::Unsupported);
    assert!(
        e.to_string().contains("hyperrogue-hell.au") && e.to_string().contains("cannot carry tags")
    );
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
}
