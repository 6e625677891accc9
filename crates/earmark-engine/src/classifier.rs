//! One entry point for "what genre is this file": the model plus the result
//! cache. Used by `earmark classify`, `earmark tag --auto` and the TUI's
//! workers, so all three agree and share cached results.

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::audio::AnalysisPlan;
use crate::cache::{Cache, FileId, FileKey, Lookup, content_sha256, file_id};
use crate::model::{AnalyseError, GenreModel, Prediction, TrackAnalysis};

/// How sure the model must be before a genre is written without a person
/// choosing it: the app's batch accept starts there, and `tag --auto` uses it
/// unless told otherwise, so both write the same files.
pub const DEFAULT_MIN_CONFIDENCE: f32 = 0.5;

/// A track's classification, from the model or the cache.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Classified {
    pub duration_s: f64,
    /// Seconds of audio the model heard (excerpts of a long file, or what
    /// decoded of a damaged one).
    #[serde(default)]
    pub analysed_s: Option<f64>,
    /// Decoding ended before the end of the file.
    #[serde(default)]
    pub partial: bool,
    /// Damaged packets skipped, NaN samples silenced…
    #[serde(default)]
    pub warnings: Vec<String>,
    pub prediction: Prediction,
    /// True when this came from the cache (nothing was decoded).
    #[serde(skip)]
    pub from_cache: bool,
    /// The file's size and mtime when it was analysed or looked up: a file
    /// found with another key has changed since (replaced, re-tagged), and
    /// this result no longer speaks for it.
    #[serde(skip)]
    pub file_key: Option<FileKey>,
}

impl Classified {
    /// For a partial result: what was heard of how much, for the user.
    pub fn partial_note(&self) -> Option<String> {
        self.partial
            .then(|| partial_note(self.analysed_s, Some(self.duration_s)))
    }
}

/// "analysed 0:48 of 1:02", or "analysed 0:48, the rest missing" when the
/// file's whole length is not known (it stopped at damage, or was cut short).
pub fn partial_note(analysed_s: Option<f64>, duration_s: Option<f64>) -> String {
    let heard = analysed_s.map_or_else(|| "part".to_string(), crate::clock::clock);
    match (analysed_s, duration_s) {
        (Some(a), Some(d)) if d > a + 0.5 => {
            format!("analysed {heard} of {}", crate::clock::clock(d))
        }
        _ => format!("analysed {heard}, the rest missing"),
    }
}

/// Raised whenever a file that decoded before now yields other samples, so
/// that results and embeddings heard from the old samples are analysed again
/// rather than served until the file changes. 2: an Opus file's output gain
/// is applied (a −70 dB file was heard at full level), and an Ogg file cut
/// short is partial. 3: Opus in Matroska is read at 48 kHz, not at the rate
/// the container gives (a 24-kHz WebM was heard at half speed). 4: a file
/// that declares no length (a fragmented MP4) is measured and heard in
/// excerpts over its length, not by its first 48 s (raw AAC too, whose
/// length was an estimate), a seek by walking (an MP4 beside a track that
/// ended) lands where the container's would, and an Ogg of two audio
/// streams is heard by its first.
pub const DECODE_REVISION: u32 = 4;

/// The model, the analysis plan and an optional cache, shareable across threads.
#[derive(Clone)]
pub struct Classifier {
    model: Arc<GenreModel>,
    plan: AnalysisPlan,
    cache: Option<Arc<Mutex<Cache>>>,
    cache_key: String,
    /// The first failure to keep a result in the cache (a disk full, a file
    /// damaged under us), shared by clones: [`Self::take_store_error`].
    store_error: Arc<StoreError>,
}

#[derive(Default)]
struct StoreError {
    first: Mutex<Option<String>>,
    said: std::sync::atomic::AtomicBool,
    /// When the last store failed: none is tried for a while after.
    last: Mutex<Option<std::time::Instant>>,
}

/// After a store fails, how long none is tried: a cache locked by another
/// program made every file wait out the busy timeout (10 s) before failing,
/// and a lock that lifts lets a long session cache again.
const STORE_PAUSE: std::time::Duration = std::time::Duration::from_secs(60);

impl Classifier {
    pub fn new(model: Arc<GenreModel>, plan: AnalysisPlan, cache: Option<Cache>) -> Self {
        // A result depends on the model, on which parts of a long file were
        // heard, and on how the file was decoded, so all three are in the key.
        let cache_key = format!(
            "{}|w{}x{}|{}|d{DECODE_REVISION}",
            model.sha256(),
            plan.windows,
            plan.window_s,
            plan.whole_max_s
        );
        if let Some(c) = &cache {
            // Best effort: a failure only costs recomputation.
            for old in &model.card().equivalent_sha256 {
                let _ = c.adopt_equivalent(old, model.sha256());
            }
            for old in &model.card().embedding_equivalent_sha256 {
                let _ = c.adopt_embeddings(old, model.sha256());
            }
        }
        Classifier {
            model,
            plan,
            cache: cache.map(|c| Arc::new(Mutex::new(c))),
            cache_key,
            store_error: Arc::default(),
        }
    }

    pub fn model(&self) -> &GenreModel {
        &self.model
    }

    pub fn plan(&self) -> &AnalysisPlan {
        &self.plan
    }

    /// The cached result for `path` as it is now on disk, if any. A path the
    /// cache has not seen is matched by size and content against known files,
    /// so a moved library keeps its results.
    pub fn cached(&self, path: &Path) -> Option<Classified> {
        let cache = self.cache.as_ref()?;
        let id = file_id(path).ok()?;
        let found = cache
            .lock()
            .ok()?
            .lookup_result(&id, &self.cache_key)
            .ok()?;
        let json = match found {
            Lookup::Hit(json) => json,
            Lookup::Miss => return None,
            Lookup::MaybeMoved => {
                // Hash outside the lock: other workers keep using the cache.
                let hash = content_sha256(&id.path).ok()?;
                cache
                    .lock()
                    .ok()?
                    .adopt_moved_result(&id, &hash, &self.cache_key)
                    .ok()??
            }
        };
        let mut c: Classified = serde_json::from_str(&json).ok()?;
        // A result from a card with other labels is not ours to show.
        if c.prediction.labels != self.model.labels() {
            return None;
        }
        // The embedding lives in its own table; without it the result is
        // incomplete, so the file is analysed again (which fills both).
        if self.model.card().embedding.is_some() {
            let cache = cache.lock().ok()?;
            c.prediction.embedding = Some(
                cache
                    .get_embedding(&id.path, id.key, &self.cache_key)
                    .ok()??,
            );
        }
        c.from_cache = true;
        c.file_key = Some(id.key);
        Some(c)
    }

    /// The cached result, or classify now and remember it.
    pub fn classify(&self, path: &Path) -> Result<Classified, AnalyseError> {
        if let Some(c) = self.cached(path) {
            return Ok(c);
        }
        Ok(self.analyse(path)?.0)
    }

    /// A verified tag write (or its undo) rewrote `path` from version
    /// `before` to `after`: every model's result and embedding of `before`
    /// now speaks for `after` ([`Cache::follow_rewrite`]), not only this
    /// model's. Without a cache, nothing to move.
    pub fn follow_rewrite(&self, path: &Path, before: FileKey, after: FileKey) {
        if let Some(cache) = &self.cache
            && let Ok(c) = cache.lock()
        {
            let _ = c.follow_rewrite(path, before, after);
        }
    }

    /// Every embedding the cache holds for this model and plan, in one query
    /// (empty without a cache or when it cannot be read: they are recomputed).
    pub fn cached_embeddings(&self) -> Vec<crate::cache::StoredEmbedding> {
        let Some(cache) = &self.cache else {
            return Vec::new();
        };
        cache
            .lock()
            .ok()
            .and_then(|c| c.all_embeddings(&self.cache_key).ok())
            .unwrap_or_default()
    }

    /// The cache key of this model and plan (results and embeddings share it).
    pub fn cache_key(&self) -> &str {
        &self.cache_key
    }

    /// Put the result (with the file's content hash, so a moved library keeps
    /// it) and, separately, its embedding under `id`. A cache that cannot be
    /// written only costs speed next time.
    fn store(&self, id: &FileId, classified: &Classified) {
        let Some(cache) = &self.cache else { return };
        let paused = self
            .store_error
            .last
            .lock()
            .map_or(true, |last| last.is_some_and(|t| t.elapsed() < STORE_PAUSE));
        if paused {
            return;
        }
        // Hash outside the lock: other workers keep using the cache.
        let hash = content_sha256(&id.path).ok();
        let Ok(cache) = cache.lock() else { return };
        let mut lean = classified.clone();
        let embedding = lean.prediction.embedding.take();
        let mut kept = match serde_json::to_string(&lean) {
            Ok(json) => cache.put_result(id, hash.as_deref(), &self.cache_key, &json),
            Err(_) => Ok(()),
        };
        // (not tried after a failed result: a second wait for a locked cache)
        if let Some(e) = embedding {
            kept = kept.and_then(|()| cache.put_embedding(&id.path, id.key, &self.cache_key, &e));
        }
        if let Err(e) = kept {
            if let Ok(mut first) = self.store_error.first.lock() {
                first.get_or_insert_with(|| e.to_string());
            }
            if let Ok(mut last) = self.store_error.last.lock() {
                *last = Some(std::time::Instant::now());
            }
        }
    }

    /// The first failure to keep a result in the cache, once per classifier:
    /// results still come, but are analysed again next time, which the user
    /// should hear of once (a cache damaged while the app ran said nothing).
    pub fn take_store_error(&self) -> Option<String> {
        let error = self.store_error.first.lock().ok()?.clone()?;
        let said = self
            .store_error
            .said
            .swap(true, std::sync::atomic::Ordering::Relaxed);
        (!said).then(|| format!("results are not kept for next time: {error}"))
    }

    /// Always decode and run the model (the caller wants the features too,
    /// e.g. for a spectrogram); the result is stored in the cache.
    pub fn analyse(&self, path: &Path) -> Result<(Classified, TrackAnalysis), AnalyseError> {
        self.analyse_cancellable(path, &crate::audio::NEVER_CANCELLED)
    }

    /// [`Self::classify`], stopping soon after `cancel` is raised.
    pub fn classify_cancellable(
        &self,
        path: &Path,
        cancel: &AtomicBool,
    ) -> Result<Classified, AnalyseError> {
        if let Some(c) = self.cached(path) {
            return Ok(c);
        }
        Ok(self.analyse_cancellable(path, cancel)?.0)
    }

    /// [`Self::analyse`], stopping soon after `cancel` is raised.
    pub fn analyse_cancellable(
        &self,
        path: &Path,
        cancel: &AtomicBool,
    ) -> Result<(Classified, TrackAnalysis), AnalyseError> {
        let id_before = file_id(path).ok();
        let analysis = self.model.analyse_cancellable(path, &self.plan, cancel)?;
        let mut classified = Classified {
            duration_s: analysis.duration_s,
            analysed_s: Some(analysis.features.analysed_s),
            partial: analysis.features.partial,
            warnings: analysis.features.warnings.clone(),
            prediction: analysis.prediction.clone(),
            from_cache: false,
            file_key: None,
        };
        // Only store (and vouch for the file's version) when the file did not
        // change while it was being read.
        if let Some(id) = id_before
            && file_id(path).ok().as_ref() == Some(&id)
        {
            classified.file_key = Some(id.key);
            self.store(&id, &classified);
        }
        Ok((classified, analysis))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::load_embedded;

    /// The fast model's graph under another hash: a doc_string field
    /// (ModelProto field 6) appended to the protobuf changes the bytes, not
    /// the network — as an exact rewrite changes the graph, not the outputs.
    fn rehashed_fast(equivalent: Vec<String>) -> GenreModel {
        rehashed_fast_with(equivalent, vec![])
    }

    fn rehashed_fast_with(
        equivalent: Vec<String>,
        embedding_equivalent: Vec<String>,
    ) -> GenreModel {
        let dir = crate::repo_root().join("models/fast");
        let mut onnx = std::fs::read(dir.join("genre.onnx")).unwrap();
        onnx.extend_from_slice(&[0x32, 4]);
        onnx.extend_from_slice(b"redo");
        let mut card = crate::model::shipped_card("fast").unwrap();
        card.sha256 = None;
        card.equivalent_sha256 = equivalent;
        card.embedding_equivalent_sha256 = embedding_equivalent;
        GenreModel::from_parts(card, &onnx, dir.join("genre.onnx")).unwrap()
    }

    /// The shipped fast model classifies `clip` once into the cache at `db`: the model before an
    /// upgrade, and what it cached.
    fn cached_by_fast(db: &Path, clip: &Path, plan: AnalysisPlan) -> (Arc<GenreModel>, Classified) {
        let before = Arc::new(load_embedded("fast").unwrap());
        let old = Classifier::new(before.clone(), plan, Some(Cache::open(db).unwrap()));
        let first = old.classify(clip).unwrap();
        assert!(!first.from_cache);
        assert_eq!(old.cached_embeddings().len(), 1);
        (before, first)
    }

    /// A cache that cannot keep a result (here its table gone, as a file
    /// damaged under a running app) still classifies, and says so once.
    #[test]
    fn a_cache_that_cannot_keep_results_is_said_once() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(&dir.path().join("cache.sqlite")).unwrap();
        cache.conn().execute_batch("DROP TABLE results").unwrap();
        let model = Arc::new(load_embedded("fast").unwrap());
        let c = Classifier::new(model, AnalysisPlan::default(), Some(cache));
        let clip = crate::repo_root().join("demo/HyperRogue/hell.wav");
        assert_eq!(c.take_store_error(), None);
        c.classify(&clip).unwrap();
        let said = c.take_store_error().unwrap();
        assert!(
            said.starts_with("results are not kept for next time: cache "),
            "{said}"
        );
        c.classify(&clip).unwrap();
        assert_eq!(c.take_store_error(), None, "once");
    }

    #[test]
    fn results_made_with_an_equivalent_graph_are_kept_after_an_upgrade() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("cache.sqlite");
        let clip = crate::repo_root().join("demo/HyperRogue/hell.wav");
        let plan = AnalysisPlan::default();
        let (before, first) = cached_by_fast(&db, &clip, plan);

        // A graph that does not declare the old one equivalent recomputes.
        let stranger = Classifier::new(
            Arc::new(rehashed_fast(vec![])),
            plan,
            Some(Cache::open(&db).unwrap()),
        );
        assert_ne!(stranger.model().sha256(), before.sha256());
        assert!(stranger.cached(&clip).is_none());
        drop(stranger);

        let upgraded = Arc::new(rehashed_fast(vec![before.sha256().to_string()]));
        assert!(upgraded.answers_for(before.sha256()) && upgraded.answers_for(upgraded.sha256()));
        let new = Classifier::new(upgraded, plan, Some(Cache::open(&db).unwrap()));
        let kept = new.cached(&clip).expect("the old result, re-keyed");
        assert_eq!(kept.prediction.probs, first.prediction.probs);
        assert_eq!(kept.prediction.embedding, first.prediction.embedding);
        assert_eq!(new.cached_embeddings().len(), 1, "the embedding too");
    }

    #[test]
    fn a_retrained_genre_output_keeps_embeddings_and_heads_not_genres() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("cache.sqlite");
        let clip = crate::repo_root().join("demo/HyperRogue/hell.wav");
        let plan = AnalysisPlan::default();
        let (before, _) = cached_by_fast(&db, &clip, plan);

        let retrained = Arc::new(rehashed_fast_with(
            vec![],
            vec![before.sha256().to_string()],
        ));
        assert!(retrained.embeds_like(before.sha256()) && !retrained.answers_for(before.sha256()));
        let new = Classifier::new(retrained, plan, Some(Cache::open(&db).unwrap()));
        assert!(new.cached(&clip).is_none(), "genres are analysed again");
        assert_eq!(new.cached_embeddings().len(), 1, "the embedding is kept");
    }

    #[test]
    fn one_models_results_are_never_served_for_the_other() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("cache.sqlite");
        let clip = crate::repo_root().join("demo/HyperRogue/hell.wav");
        let plan = AnalysisPlan::default();
        let open = |name: &str| {
            let model = Arc::new(load_embedded(name).unwrap());
            Classifier::new(model, plan, Some(Cache::open(&db).unwrap()))
        };
        let fast = open("fast");
        let accurate = open("accurate");

        let first = fast.classify(&clip).unwrap();
        assert!(!first.from_cache);
        assert!(fast.classify(&clip).unwrap().from_cache);
        // The same file, cached by the fast model: the accurate one must run itself.
        assert!(accurate.cached(&clip).is_none());
        let other = accurate.classify(&clip).unwrap();
        assert!(!other.from_cache);
        assert_ne!(other.prediction.probs, first.prediction.probs);
        // Both results now live side by side, each served to its own model only.
        let again_fast = fast.cached(&clip).unwrap();
        let again_accurate = accurate.cached(&clip).unwrap();
        assert_eq!(again_fast.prediction.probs, first.prediction.probs);
        assert_eq!(again_accurate.prediction.probs, other.prediction.probs);
        // Each model's embedding comes back with its result: both 200-d (fast
        // estimates accurate's), each its own model's values.
        let (fe, ae) = (
            first.prediction.embedding.unwrap(),
            other.prediction.embedding.unwrap(),
        );
        assert_eq!((fe.len(), ae.len()), (200, 200));
        assert_ne!(fe, ae);
        assert_eq!(again_fast.prediction.embedding.as_ref(), Some(&fe));
        assert_eq!(again_accurate.prediction.embedding.as_ref(), Some(&ae));
    }

    #[test]
    fn another_spelling_or_a_moved_copy_is_served_from_the_cache() {
        let dir = tempfile::tempdir().unwrap();
        let lib = dir.path().join("lib");
        std::fs::create_dir(&lib).unwrap();
        let clip = lib.join("hell.wav");
        std::fs::copy(crate::repo_root().join("demo/HyperRogue/hell.wav"), &clip).unwrap();
        let model = Arc::new(load_embedded("fast").unwrap());
        let db = dir.path().join("cache.sqlite");
        let c = Classifier::new(
            model,
            AnalysisPlan::default(),
            Some(Cache::open(&db).unwrap()),
        );
        let first = c.classify(&clip).unwrap();
        assert!(!first.from_cache);
        let respelled = dir.path().join("lib/../lib/./hell.wav");
        let again = c.cached(&respelled).expect("same file, other spelling");
        assert_eq!(again.prediction.probs, first.prediction.probs);

        let moved = dir.path().join("moved");
        std::fs::create_dir(&moved).unwrap();
        std::fs::rename(&clip, moved.join("renamed.wav")).unwrap();
        let after_move = c.cached(&moved.join("renamed.wav")).expect("moved file");
        assert_eq!(after_move.prediction.probs, first.prediction.probs);
    }
}
