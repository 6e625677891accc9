//! Classification off the UI thread. The model loads on a thread of its own;
//! jobs run on a [`JobPool`] (the focused track first, latest-wins preview,
//! then selections, then folders); a small thread answers "is this file in
//! the cache?" for the rows on screen; every result comes back to the event
//! loop as an [`AppEvent`] naming the request it answers. Nothing here draws,
//! and the book-keeping of what is in flight lives in the app state.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, OnceLock};

use crossbeam_channel::Sender;

use super::effect::ReqId;
use super::event::AppEvent;
use super::services::Sink;
use crate::analysis::{TrackFeatures, track_features_cancellable};
use crate::audio::{AnalysisPlan, without_path};
use crate::cache::{Cache, FileKey};
use crate::classifier::{Classified, Classifier};
use crate::jobs::{FaultHook, JobEvent, JobId, JobPool, Priority};
use crate::library::tree::NodeId;

/// How the app classifies: which model, which cache, how many workers.
#[derive(Clone, Default)]
pub struct AnalystOptions {
    /// A model folder or .onnx file; None: the default model.
    pub model: Option<PathBuf>,
    /// Keep results in memory only (neither read nor write the cache file).
    pub no_cache: bool,
    /// Worker threads; 0: [`crate::jobs::default_workers`].
    pub workers: usize,
    /// Run before each job inside its panic guard (tests inject a panic).
    #[doc(hidden)]
    pub fault: Option<FaultHook>,
}

impl std::fmt::Debug for AnalystOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnalystOptions")
            .field("model", &self.model)
            .field("no_cache", &self.no_cache)
            .field("workers", &self.workers)
            .finish_non_exhaustive()
    }
}

/// What the loader found, for the status line and the panes.
#[derive(Debug, Clone)]
pub struct ModelInfo {
    pub name: String,
    /// SHA-256 of the model file: tells whether a report is about this model.
    pub sha256: String,
    pub labels: Vec<String>,
    /// Cache problems that were repaired (a corrupt file set aside…).
    pub warnings: Vec<String>,
    /// Where results are cached (None: memory only).
    pub cache_path: Option<PathBuf>,
}

/// A log-mel spectrogram for display: the analysed excerpts of a track, each
/// `[frames][bands]`, with the range to map onto dot density or colour.
#[derive(Debug, Clone, PartialEq)]
pub struct Spectrogram {
    /// Seconds per frame.
    pub hop_s: f64,
    pub n_bands: usize,
    pub duration_s: f64,
    pub excerpts: Vec<SpecExcerpt>,
    /// Values at or below `lo` show as empty, at or above `hi` as full.
    pub lo: f32,
    pub hi: f32,
    /// The same per band: half of a dot's level is relative to its own band,
    /// so quiet high bands still show their rhythm.
    pub band_lo: Vec<f32>,
    pub band_hi: Vec<f32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SpecExcerpt {
    pub start_s: f64,
    pub n_frames: usize,
    /// Row-major `[frames][bands]`, band 0 the lowest frequency.
    pub data: Vec<f32>,
}

impl Spectrogram {
    pub fn from_features(f: &TrackFeatures, hop_s: f64) -> Spectrogram {
        let n_bands = f.excerpts.first().map_or(0, |e| e.mel.n_mels);
        let excerpts: Vec<SpecExcerpt> = f
            .excerpts
            .iter()
            .map(|e| SpecExcerpt {
                start_s: e.start_s,
                n_frames: e.mel.n_frames,
                data: e.mel.data.clone(),
            })
            .collect();
        let (lo, hi) = value_range(excerpts.iter().flat_map(|e| e.data.iter().copied()));
        let (band_lo, band_hi) = (0..n_bands)
            .map(|b| {
                value_range(
                    excerpts
                        .iter()
                        .flat_map(|e| e.data.iter().skip(b).step_by(n_bands).copied()),
                )
            })
            .unzip();
        Spectrogram {
            hop_s,
            n_bands,
            duration_s: f.duration_s,
            excerpts,
            lo,
            hi,
            band_lo,
            band_hi,
        }
    }

    pub fn total_frames(&self) -> usize {
        self.excerpts.iter().map(|e| e.n_frames).sum()
    }
}

/// The 2nd and 99.5th percentiles: a few loud frames must not wash out the rest.
fn value_range(values: impl Iterator<Item = f32>) -> (f32, f32) {
    let mut v: Vec<f32> = values.filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return (0.0, 1.0);
    }
    v.sort_by(f32::total_cmp);
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    let (lo, hi) = (at(0.02), at(0.995));
    if hi > lo { (lo, hi) } else { (lo, lo + 1.0) }
}

/// A finished job: the classification and, for the focused track, what the
/// model heard.
#[derive(Debug, Clone)]
pub struct Analysed {
    pub classified: Classified,
    pub spectrogram: Option<Arc<Spectrogram>>,
    /// The cache could not keep this (or an earlier) result: said once.
    pub cache_note: Option<String>,
}

/// Why a job gave no result.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AnalysisError {
    #[error("cancelled")]
    Cancelled,
    /// The model could not load, or the file could not be analysed (the reason,
    /// without the path: the UI shows it beside the file).
    #[error("{0}")]
    Failed(String),
    /// The file itself cannot be analysed (not audio, empty, damaged…):
    /// another try gives the same answer until the file changes. `kind` is
    /// the decode error's kind ("not-audio", "empty", …).
    #[error("{reason}")]
    Undecodable { kind: &'static str, reason: String },
}

impl AnalysisError {
    /// Word a classifier error for the UI (without the path), telling apart
    /// a file that cannot be decoded from a failure worth retrying.
    fn from_analyse(path: &Path, e: crate::model::AnalyseError) -> AnalysisError {
        let reason = without_path(path, e.to_string());
        match e {
            // deleted or moved since it was queued: said as such, not a failure
            crate::model::AnalyseError::Audio(a) if a.kind() == "gone" => {
                AnalysisError::Undecodable {
                    kind: "gone",
                    reason,
                }
            }
            crate::model::AnalyseError::Audio(a) if lasts_until_changed(&a) => {
                AnalysisError::Undecodable {
                    kind: a.kind(),
                    reason,
                }
            }
            _ => AnalysisError::Failed(reason),
        }
    }
}

/// Whether a decode error lies in the file's content (an I/O error or a
/// cancel may go away by itself).
fn lasts_until_changed(e: &crate::audio::AudioError) -> bool {
    !matches!(
        e,
        crate::audio::AudioError::Io { .. } | crate::audio::AudioError::Cancelled { .. }
    )
}

pub type Outcome = Result<Box<Analysed>, AnalysisError>;

/// What a job reports, by request.
#[derive(Debug)]
pub enum JobUpdate {
    Started,
    Finished(Outcome),
    Cancelled,
}

/// The classifier once the model has loaded (or why it did not); shared
/// with the vocabulary service, which needs the same model and cache.
pub type ClassifierSlot = Arc<OnceLock<Result<Classifier, String>>>;

struct Engine {
    classifier: ClassifierSlot,
    /// The focused track: jobs for it also compute the spectrogram.
    focus: Mutex<Option<PathBuf>>,
}

impl Engine {
    fn is_focus(&self, path: &Path) -> bool {
        self.focus
            .lock()
            .map(|f| f.as_deref() == Some(path))
            .unwrap_or(false)
    }

    fn set_focus(&self, path: Option<PathBuf>) {
        if let Ok(mut f) = self.focus.lock() {
            *f = path;
        }
    }

    fn work(&self, path: &Path, cancel: &AtomicBool) -> Outcome {
        let failed = |e| AnalysisError::from_analyse(path, e);
        let classifier = match self.classifier.wait() {
            Ok(c) => c,
            Err(e) => return Err(AnalysisError::Failed(e.clone())),
        };
        if cancel.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(AnalysisError::Cancelled);
        }
        if !self.is_focus(path) {
            let classified = classifier
                .classify_cancellable(path, cancel)
                .map_err(failed)?;
            return Ok(Box::new(Analysed {
                classified,
                spectrogram: None,
                cache_note: classifier.take_store_error(),
            }));
        }
        let hop_s = classifier.model().card().features.hop_seconds();
        if let Some(classified) = classifier.cached(path) {
            // Only the picture is missing: decode, no model run.
            let model = classifier.model();
            let spectrogram = track_features_cancellable(
                path,
                model.extractor(),
                classifier.plan(),
                &model.card().segment,
                cancel,
            )
            .ok()
            .map(|f| Arc::new(Spectrogram::from_features(&f, hop_s)));
            return Ok(Box::new(Analysed {
                classified,
                spectrogram,
                cache_note: None,
            }));
        }
        let (classified, analysis) = classifier
            .analyse_cancellable(path, cancel)
            .map_err(failed)?;
        Ok(Box::new(Analysed {
            classified,
            spectrogram: Some(Arc::new(Spectrogram::from_features(
                &analysis.features,
                hop_s,
            ))),
            cache_note: classifier.take_store_error(),
        }))
    }
}

enum Peek {
    Lookup(ReqId, NodeId, PathBuf),
    Follow(PathBuf, FileKey, FileKey),
}

/// The handle on classification: the model loads, jobs run on a [`JobPool`],
/// cache lookups on a thread of their own; everything reports to the sink,
/// by request id.
pub struct Analyst {
    engine: Arc<Engine>,
    pool: JobPool<Outcome>,
    peek_tx: Sender<Peek>,
    /// The request each pool job answers; locked across submitting, so the
    /// forwarding thread never sees a job before its request.
    requests: Arc<Mutex<HashMap<JobId, ReqId>>>,
}

impl Analyst {
    /// Load the model and open the cache in the background; results go to `sink`.
    pub fn start(opts: AnalystOptions, sink: Sink) -> Analyst {
        let engine = Arc::new(Engine {
            classifier: Arc::default(),
            focus: Mutex::new(None),
        });
        let fault = opts.fault.clone();
        let workers = if opts.workers == 0 {
            crate::jobs::default_workers()
        } else {
            opts.workers
        };
        {
            let engine = Arc::clone(&engine);
            let sink = Arc::clone(&sink);
            let _ = std::thread::Builder::new()
                .name("earmark-model".into())
                .spawn(move || {
                    let (result, info) = load(&opts);
                    let _ = engine.classifier.set(result);
                    sink(AppEvent::Model(info));
                });
        }
        let work_engine = Arc::clone(&engine);
        let pool = JobPool::new(
            workers,
            move |path: &PathBuf, cancel: &AtomicBool| work_engine.work(path, cancel),
            |_: &Path, reason: String| Err(AnalysisError::Failed(reason)),
        );
        if let Some(hook) = fault {
            pool.inject_fault(hook);
        }
        let requests: Arc<Mutex<HashMap<JobId, ReqId>>> = Arc::default();
        forward_jobs(
            pool.events().clone(),
            Arc::clone(&requests),
            Arc::clone(&sink),
        );
        let (peek_tx, peek_rx) = crossbeam_channel::unbounded::<Peek>();
        {
            let engine = Arc::clone(&engine);
            let _ = std::thread::Builder::new()
                .name("earmark-peek".into())
                .spawn(move || {
                    while let Ok(msg) = peek_rx.recv() {
                        let Ok(c) = engine.classifier.wait() else {
                            // No model: every lookup finds nothing.
                            if let Peek::Lookup(req, node, _) = msg
                                && !sink(AppEvent::Peeked {
                                    req,
                                    node,
                                    found: None,
                                })
                            {
                                return;
                            }
                            continue;
                        };
                        match msg {
                            Peek::Lookup(req, node, path) => {
                                let found = c.cached(&path).map(Box::new);
                                if !sink(AppEvent::Peeked { req, node, found }) {
                                    return;
                                }
                            }
                            Peek::Follow(path, before, after) => {
                                c.follow_rewrite(&path, before, after)
                            }
                        }
                    }
                });
        }
        Analyst {
            engine,
            pool,
            peek_tx,
            requests,
        }
    }

    /// Classify a file; `priority` None: the focused track, latest wins (a
    /// newer preview cancels this one) and its spectrogram is computed too.
    pub fn classify(&self, req: ReqId, path: PathBuf, priority: Option<Priority>) {
        let Ok(mut requests) = self.requests.lock() else {
            return;
        };
        let job = match priority {
            None => {
                self.engine.set_focus(Some(path.clone()));
                self.pool.preview(path)
            }
            Some(p) => self.pool.submit(path, p),
        };
        requests.insert(job, req);
    }

    /// The classifier, shared (filled once the model has loaded).
    pub fn classifier_slot(&self) -> ClassifierSlot {
        Arc::clone(&self.engine.classifier)
    }

    /// The focused track is no longer a file (a folder is selected).
    pub fn clear_focus(&self) {
        self.engine.set_focus(None);
    }

    /// Ask whether `path` has a cached result (answered with `AppEvent::Peeked`).
    pub fn peek(&self, req: ReqId, node: NodeId, path: PathBuf) {
        let _ = self.peek_tx.send(Peek::Lookup(req, node, path));
    }

    /// After a verified tag write or undo (same audio, new size and mtime),
    /// the cache's analyses of every model follow the file.
    pub fn follow_rewrite(&self, path: PathBuf, before: FileKey, after: FileKey) {
        let _ = self.peek_tx.send(Peek::Follow(path, before, after));
    }

    /// Cancel every job; each still reports back (as cancelled).
    pub fn cancel(&self) {
        self.pool.cancel_all();
    }
}

/// Pass the pool's events on, as updates of the requests they answer.
fn forward_jobs(
    events: crossbeam_channel::Receiver<JobEvent<Outcome>>,
    requests: Arc<Mutex<HashMap<JobId, ReqId>>>,
    sink: Sink,
) {
    let _ = std::thread::Builder::new()
        .name("earmark-jobs".into())
        .spawn(move || {
            while let Ok(ev) = events.recv() {
                let (job, update, last) = match ev {
                    JobEvent::Started { id, .. } => (id, JobUpdate::Started, false),
                    JobEvent::Finished { id, result, .. } => {
                        (id, JobUpdate::Finished(result), true)
                    }
                    JobEvent::Cancelled { id, .. } => (id, JobUpdate::Cancelled, true),
                };
                let req = requests.lock().ok().and_then(|mut r| {
                    if last {
                        r.remove(&job)
                    } else {
                        r.get(&job).copied()
                    }
                });
                if let Some(req) = req
                    && !sink(AppEvent::Job { req, update })
                {
                    return;
                }
            }
        });
}

/// Load the model and open the cache: the classifier, and what to tell the user.
fn load(opts: &AnalystOptions) -> (Result<Classifier, String>, Result<ModelInfo, String>) {
    let model = match crate::model::load_model(opts.model.as_deref()) {
        Ok(m) => Arc::new(m),
        Err(e) => {
            let msg = format!("no genre model: {e}");
            return (Err(msg.clone()), Err(msg));
        }
    };
    let mut warnings = Vec::new();
    let cache = if opts.no_cache {
        None
    } else {
        match Cache::open_default() {
            Ok(c) => {
                warnings.extend(c.warnings().iter().cloned());
                Some(c)
            }
            Err(e) => {
                warnings.push(format!("{e}; results are not cached"));
                None
            }
        }
    };
    let cache_path = cache.as_ref().map(|c| c.path().to_path_buf());
    let info = ModelInfo {
        name: model.card().name.clone(),
        sha256: model.sha256().to_string(),
        labels: model.labels().to_vec(),
        warnings,
        cache_path,
    };
    let cache = cache.or_else(|| Cache::open_in_memory().ok());
    (
        Ok(Classifier::new(model, AnalysisPlan::default(), cache)),
        Ok(info),
    )
}

#[cfg(test)]
mod tests {
    use super::AnalysisError;
    use std::path::Path;

    /// A file deleted since it was queued is "gone", not a failure to retry;
    /// another I/O error stays one.
    #[test]
    fn a_file_not_found_is_gone() {
        let path = Path::new("/lib/a.ogg");
        let io = |kind| {
            crate::model::AnalyseError::Audio(crate::audio::AudioError::io(
                path,
                std::io::Error::from(kind),
            ))
        };
        assert!(matches!(
            AnalysisError::from_analyse(path, io(std::io::ErrorKind::NotFound)),
            AnalysisError::Undecodable { kind: "gone", .. }
        ));
        assert!(matches!(
            AnalysisError::from_analyse(path, io(std::io::ErrorKind::PermissionDenied)),
            AnalysisError::Failed(_)
        ));
    }
}
