//! Soak: many write/undo cycles on copies of real files, checking after every
//! step that the decoded audio is unchanged and the genre reads back. Ignored
//! by default (minutes); run with `bash scripts/soak.sh [CYCLES]` (default 1000
//! cycles spread over the formats).
#![allow(clippy::unwrap_used)] // a test (or bench) that cannot unwrap has failed

mod tags_common;

use earmark::tags::GenreChange;
use earmark::tags::apply;
use tags_common::*;

const FILES: [&str; 7] = [
    "singularity-awakening.mp3",
    "singularity-nebula.flac",
    "hyperrogue-desert.ogg",
    "hyperrogue-caribbean.m4a",
    "singularity-enemy-unknown-alac.m4a",
    "hyperrogue-desert.wav",
    "singularity-enemy-unknown.aiff",
];
const GENRES: [&str; 5] = ["Jazz", "Hip-Hop", "Rock;Blues", "Классика", "Drum & Bass"];

#[test]
#[ignore]
fn thousand_write_undo_cycles_keep_the_audio() {
    if music_dir().is_none() {
        return;
    }
    let cycles: usize = std::env::var("EARMARK_SOAK_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let (_cdir, cache) = temp_cache();
    let copies: Vec<_> = FILES.iter().map(|f| copy_music(f).unwrap()).collect();
    let hash = |p: &std::path::Path| {
        if p.extension().is_some_and(|e| e == "aiff") {
            audio_hash_declared(p)
        } else {
            audio_hash(p)
        }
    };
    let originals: Vec<(String, Vec<String>)> =
        copies.iter().map(|(_, p)| (hash(p), genres(p))).collect();
    for i in 0..cycles {
        let k = i % copies.len();
        let (dir, path) = &copies[k];
        let wanted: Vec<String> = GENRES[i % GENRES.len()]
            .split(';')
            .map(str::to_string)
            .collect();
        let change = GenreChange {
            genres: wanted.clone(),
            mode: earmark::tags::GenreMode::Replace,
        };
        let batch = cache.journal_new_batch().unwrap();
        let a = apply::accept(&cache, batch, path, &change)
            .unwrap_or_else(|e| panic!("cycle {i} {}: {e}", path.display()));
        assert_eq!(genres(path), wanted, "cycle {i} {}", path.display());
        assert_eq!(
            hash(path),
            originals[k].0,
            "cycle {i}: audio changed after write"
        );
        if let Some(id) = a.journal_id {
            apply::undo(&cache, id).unwrap_or_else(|e| panic!("cycle {i} undo: {e}"));
        }
        assert_eq!(
            genres(path),
            originals[k].1,
            "cycle {i}: undo did not restore"
        );
        assert_eq!(
            hash(path),
            originals[k].0,
            "cycle {i}: audio changed after undo"
        );
        assert!(
            leftovers(dir.path()).is_empty(),
            "cycle {i}: temp files left"
        );
    }
    eprintln!(
        "{cycles} write/undo cycles over {} formats: audio intact",
        FILES.len()
    );
}
