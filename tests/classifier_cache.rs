//! The result cache behind `Classifier`, with the shipped model on a demo
//! clip: a result survives closing and reopening the cache (a restart), a
//! changed file (new mtime) misses, a corrupt cache file is set aside with a
//! warning and rebuilt, and `remember` and a journaled tag write carry a
//! result over a tag rewrite.
#![allow(clippy::unwrap_used)] // a test (or bench) that cannot unwrap has failed

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use earmark::audio::AnalysisPlan;
use earmark::cache::Cache;
use earmark::classifier::Classifier;
use earmark::model::{GenreModel, load_model};

fn model() -> Arc<GenreModel> {
    Arc::new(load_model(None).expect("the shipped model loads"))
}

fn clip(dir: &Path) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/HyperRogue/hell.wav");
    let dst = dir.join("hell.wav");
    std::fs::copy(src, &dst).unwrap();
    dst
}

fn classifier(model: &Arc<GenreModel>, db: &Path) -> (Classifier, Vec<String>) {
    let cache = Cache::open(db).unwrap();
    let warnings = cache.warnings().to_vec();
    (
        Classifier::new(Arc::clone(model), AnalysisPlan::default(), Some(cache)),
        warnings,
    )
}

#[test]
fn hit_after_restart_miss_after_mtime_change_and_corrupt_recovery() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cache").join("earmark.sqlite");
    let file = clip(dir.path());
    let model = model();

    // First run: computed, stored.
    let (c, warnings) = classifier(&model, &db);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert!(c.cached(&file).is_none());
    let first = c.classify(&file).unwrap();
    assert!(!first.from_cache);
    drop(c);

    // "Restart": a new connection finds it without decoding.
    let (c, _) = classifier(&model, &db);
    let again = c.cached(&file).expect("hit after reopening");
    assert!(again.from_cache);
    assert_eq!(again.prediction.probs, first.prediction.probs);
    assert!(c.classify(&file).unwrap().from_cache);

    // The file changes (same bytes, new mtime): a miss.
    let f = std::fs::File::options().write(true).open(&file).unwrap();
    f.set_modified(SystemTime::now() + Duration::from_secs(5))
        .unwrap();
    drop(f);
    assert!(c.cached(&file).is_none(), "miss after mtime change");
    // A tag write keeps the audio: `remember` stores the result for the new version.
    c.remember(&file, &first);
    assert!(c.cached(&file).is_some());
    drop(c);

    // A corrupt cache file: set aside with a warning, rebuilt, and it works.
    std::fs::write(&db, b"garbage garbage garbage garbage garbage garbage").unwrap();
    let (c, warnings) = classifier(&model, &db);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(c.cached(&file).is_none());
    assert!(!c.classify(&file).unwrap().from_cache);
    assert!(c.cached(&file).is_some());
    let aside = std::fs::read_dir(db.parent().unwrap())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains(".corrupt-"))
        .count();
    assert_eq!(aside, 1);
}

/// A tag write keeps the audio, so the analyses of the version written follow
/// it in the cache, for every later reader (`earmark tag` then `classify` or
/// the app): no new analysis after a write, after its undo, or for a copy of
/// the written file elsewhere (found by its new content hash).
#[test]
fn a_tag_write_and_its_undo_keep_the_cached_analysis() {
    use earmark::tags::{GenreChange, apply};
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("earmark.sqlite");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/Max McCracken/nebula.flac");
    let file = dir.path().join("nebula.flac");
    std::fs::copy(src, &file).unwrap();
    let model = model();
    let (c, _) = classifier(&model, &db);
    let first = c.classify(&file).unwrap();
    assert!(!first.from_cache);
    // as `earmark tag` does: the journal is its own database, the results
    // cache is opened beside it
    let journal = Cache::open(&dir.path().join("journal.sqlite")).unwrap();
    let results = Cache::open(&db).unwrap();
    let batch = journal.journal_new_batch().unwrap();
    let a = apply::accept(&journal, batch, &file, &GenreChange::replace("Jazz")).unwrap();
    assert!(a.report.changed);
    assert_ne!(
        a.report.key_before, a.key_after,
        "the write gave a new version"
    );
    assert!(
        c.cached(&file).is_none(),
        "the journal alone carries nothing"
    );
    apply::carry_analyses(&results, &a.report, a.key_after);

    let after = c
        .cached(&file)
        .expect("the result follows the written version");
    assert_eq!(after.prediction.probs, first.prediction.probs);
    assert_eq!(after.prediction.embedding, first.prediction.embedding);
    assert_eq!(after.file_key, a.key_after);

    let copy = dir.path().join("copy.flac");
    std::fs::copy(&file, &copy).unwrap();
    assert!(c.cached(&copy).is_some(), "a copy is known by its new hash");

    let u = apply::undo(&journal, a.journal_id.unwrap()).unwrap();
    apply::carry_analyses(&results, &u.report, u.key_after);
    let undone = c.cached(&file).expect("and it follows the undo");
    assert_eq!(undone.prediction.probs, first.prediction.probs);

    // a version the cache never analysed is not claimed by a write from it
    let f = std::fs::File::options().write(true).open(&file).unwrap();
    f.set_modified(SystemTime::now() + Duration::from_secs(5))
        .unwrap();
    drop(f);
    let b = apply::accept(&journal, batch, &file, &GenreChange::replace("Rock")).unwrap();
    assert!(b.report.changed);
    apply::carry_analyses(&results, &b.report, b.key_after);
    assert!(c.cached(&file).is_none(), "a stale row stays stale");
}
