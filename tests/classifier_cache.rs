//! The result cache behind `Classifier`, with the shipped model on a demo
//! clip: a result survives closing and reopening the cache (a restart), a
//! changed file (new mtime) misses, a corrupt cache file is set aside with a
//! warning and rebuilt, and `remember` carries a result over a tag rewrite.
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
