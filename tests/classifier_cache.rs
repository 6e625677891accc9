//! The result cache behind `Classifier`, with the shipped model on a demo
//! clip: a result survives closing and reopening the cache (a restart), a
//! changed file (new mtime) misses, a corrupt cache file is set aside with a
//! warning and rebuilt, and a journaled tag write carries every model's
//! results over the rewrite (as `earmark tag` and the app ask it to).
#![allow(clippy::unwrap_used)] // a test (or bench) that cannot unwrap has failed

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use earmark::audio::AnalysisPlan;
use earmark::cache::{Cache, FileKey};
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

fn key_of(file: &Path) -> FileKey {
    FileKey::of(&std::fs::metadata(file).unwrap())
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
    let before = key_of(&file);
    let f = std::fs::File::options().write(true).open(&file).unwrap();
    f.set_modified(SystemTime::now() + Duration::from_secs(5))
        .unwrap();
    drop(f);
    assert!(c.cached(&file).is_none(), "miss after mtime change");
    // A tag write keeps the audio: its analyses follow it to the new version.
    c.follow_rewrite(&file, before, key_of(&file));
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

/// The app's tagger has no results cache of its own: it asks the running
/// model's classifier to move the file's analyses, and every model's move
/// (the other model is found after the write without analysing again).
#[test]
fn a_write_in_the_app_carries_every_models_analyses() {
    use earmark::tags::{GenreChange, apply};
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("earmark.sqlite");
    let file = clip(dir.path());
    let accurate = model();
    let fast = Arc::new(load_model(Some(Path::new("fast"))).expect("fast loads"));
    let (running, _) = classifier(&accurate, &db);
    let (other, _) = classifier(&fast, &db);
    assert_ne!(running.cache_key(), other.cache_key());
    running.classify(&file).unwrap();
    let first = other.classify(&file).unwrap();

    let journal = Cache::open(&dir.path().join("journal.sqlite")).unwrap();
    let batch = journal.journal_new_batch().unwrap();
    let a = apply::accept(&journal, batch, &file, &GenreChange::replace("Jazz")).unwrap();
    assert!(
        other.cached(&file).is_none(),
        "a new version, not yet followed"
    );
    running.follow_rewrite(&file, a.report.key_before.unwrap(), a.key_after.unwrap());
    assert!(running.cached(&file).is_some());
    let moved = other
        .cached(&file)
        .expect("the other model's result follows too");
    assert_eq!(moved.prediction.probs, first.prediction.probs);
    assert_eq!(moved.prediction.embedding, first.prediction.embedding);
}

/// A result heard from samples an earlier decoder gave (stored under a key
/// without this decoder's revision) is not served: the file is analysed
/// again, and its new result is stored under the current key.
#[test]
fn a_result_of_an_earlier_decoder_is_analysed_again() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("earmark.sqlite");
    let file = clip(dir.path());
    let model = model();
    let (c, _) = classifier(&model, &db);
    let first = c.classify(&file).unwrap();
    let current = c.cache_key().to_string();
    let revision = format!("|d{}", earmark::classifier::DECODE_REVISION);
    let earlier = current
        .strip_suffix(&revision)
        .expect("the key ends with the revision");
    drop(c);
    let moved = rekey_results(&db, &current, earlier);
    assert_eq!(moved, 1, "the stored result moved under the earlier key");

    let (c, _) = classifier(&model, &db);
    assert!(
        c.cached(&file).is_none(),
        "an earlier decoder's result is not served"
    );
    let again = c.classify(&file).unwrap();
    assert!(!again.from_cache);
    assert_eq!(again.prediction.probs, first.prediction.probs);
    assert!(
        c.cached(&file).is_some(),
        "stored again under the current key"
    );
}

/// Move the result rows of one key to another, as an earlier earmark keyed them.
fn rekey_results(db: &Path, from: &str, to: &str) -> usize {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.execute(
        "UPDATE results SET model_sha256 = ?2 WHERE model_sha256 = ?1",
        rusqlite::params![from, to],
    )
    .unwrap()
}
