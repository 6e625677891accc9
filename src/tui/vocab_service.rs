//! "Your genres" and "sounds like this" off the UI thread: one thread that
//! finds the learned head for the library, answers "which tracks sound like
//! this one" (cosine over embeddings loaded from the cache once per session,
//! missing ones computed with progress) and re-learns the head as a job.
//! Everything comes back as [`AppEvent::Vocab`], by request.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crossbeam_channel::Sender;

use super::analyst::ClassifierSlot;
use super::effect::ReqId;
use super::event::AppEvent;
use super::services::Sink;
use crate::classifier::Classifier;
use crate::library::tree::NodeId;
use crate::vocab::learn::report_card;
use crate::vocab::{EmbeddingTable, Head, LearnOptions, Progress, SimilarityIndex, store};

/// What the app asks for.
#[derive(Debug, Clone)]
pub enum VocabRequest {
    /// The head learned for the library root with this model, if any.
    FindHead,
    /// The `top` library files nearest to `query` (itself left out).
    Similar {
        query: PathBuf,
        files: Vec<(NodeId, PathBuf)>,
        top: usize,
    },
    /// Learn the library's genres again and save the head.
    Learn { min_tracks: usize, precision: f64 },
}

/// What a learn job made.
#[derive(Debug, Clone)]
pub struct LearnSummary {
    pub head: Arc<Head>,
    pub files: usize,
    pub tagged: usize,
    pub saved: PathBuf,
    /// The library learned from, when it is above the folder the app opened
    /// (its head is the one the app showed).
    pub above: Option<PathBuf>,
}

#[derive(Debug)]
pub enum VocabEvent {
    /// The library's head (None: none learned with this model yet).
    Head(Result<Option<Arc<Head>>, String>),
    /// Embeddings: `done` of `total` files.
    Progress {
        done: usize,
        total: usize,
    },
    /// Nearest files, best first, with their cosine similarity.
    Similar(Result<Vec<(NodeId, f32)>, String>),
    Learned(Result<LearnSummary, String>),
}

pub struct VocabService {
    tx: Sender<(ReqId, VocabRequest)>,
    cancels: Arc<Cancels>,
}

/// Which request to stop: the one running (its flag) or one still queued
/// (skipped when its turn comes). Cancelling a similar list must not stop a
/// re-learn that happens to be running.
#[derive(Default)]
struct Cancels {
    flag: AtomicBool,
    running: AtomicU64,
    dropped: Mutex<HashSet<ReqId>>,
}

impl Cancels {
    /// `req` starts: false when it was cancelled while queued.
    fn begin(&self, req: ReqId) -> bool {
        self.running.store(req, Ordering::SeqCst);
        self.flag.store(false, Ordering::SeqCst);
        !self.dropped.lock().is_ok_and(|mut d| d.remove(&req))
    }

    fn cancel(&self, req: ReqId) {
        if let Ok(mut d) = self.dropped.lock() {
            d.insert(req);
        }
        if self.running.load(Ordering::SeqCst) == req {
            self.flag.store(true, Ordering::SeqCst);
        }
    }
}

impl VocabService {
    pub fn start(root: PathBuf, classifier: ClassifierSlot, sink: Sink) -> VocabService {
        let (tx, rx) = crossbeam_channel::unbounded::<(ReqId, VocabRequest)>();
        let cancels = Arc::new(Cancels::default());
        let shared = Arc::clone(&cancels);
        let _ = std::thread::Builder::new()
            .name("earmark-vocab".into())
            .spawn(move || {
                // Loaded on first use, then kept: one query per session.
                let mut table: Option<EmbeddingTable> = None;
                while let Ok((req, request)) = rx.recv() {
                    let started = shared.begin(req);
                    let classifier = match (started, classifier.wait()) {
                        (true, Ok(c)) => c,
                        (false, _) => {
                            if !sink(AppEvent::Vocab {
                                req,
                                event: failed(&request, "cancelled".into()),
                            }) {
                                return;
                            }
                            continue;
                        }
                        (true, Err(e)) => {
                            if !sink(AppEvent::Vocab {
                                req,
                                event: failed(&request, e.clone()),
                            }) {
                                return;
                            }
                            continue;
                        }
                    };
                    let job = Job {
                        req,
                        root: &root,
                        classifier,
                        sink: &sink,
                        cancel: &shared.flag,
                    };
                    let event = job.run(request, &mut table);
                    if !sink(AppEvent::Vocab { req, event }) {
                        return;
                    }
                }
            });
        VocabService { tx, cancels }
    }

    pub fn request(&self, req: ReqId, request: VocabRequest) {
        let _ = self.tx.send((req, request));
    }

    /// Stop this request: soon if it is running, at its turn if queued (it
    /// still answers, as cancelled).
    pub fn cancel(&self, req: ReqId) {
        self.cancels.cancel(req);
    }

    /// Stop the running request (the app is closing).
    pub fn cancel_running(&self) {
        self.cancels.flag.store(true, Ordering::SeqCst);
    }
}

/// The answer to a request that could not start.
fn failed(request: &VocabRequest, e: String) -> VocabEvent {
    match request {
        VocabRequest::FindHead => VocabEvent::Head(Err(e)),
        VocabRequest::Similar { .. } => VocabEvent::Similar(Err(e)),
        VocabRequest::Learn { .. } => VocabEvent::Learned(Err(e)),
    }
}

struct Job<'a> {
    req: ReqId,
    root: &'a PathBuf,
    classifier: &'a Classifier,
    sink: &'a Sink,
    cancel: &'a AtomicBool,
}

impl Progress for Job<'_> {
    fn step(&self, done: usize, total: usize) {
        (self.sink)(AppEvent::Vocab {
            req: self.req,
            event: VocabEvent::Progress { done, total },
        });
    }

    // The app shows counts; a file that fails is already marked in the browser.
    fn skipped(&self, _line: String) {}
}

impl Job<'_> {
    fn run(&self, request: VocabRequest, table: &mut Option<EmbeddingTable>) -> VocabEvent {
        let workers = crate::jobs::default_workers();
        if matches!(request, VocabRequest::FindHead) {
            return VocabEvent::Head(self.find_head());
        }
        // The cached embeddings load with the first request that needs them.
        let table = table.get_or_insert_with(|| EmbeddingTable::load(self.classifier));
        match request {
            VocabRequest::FindHead => VocabEvent::Head(self.find_head()),
            VocabRequest::Similar { query, files, top } => {
                VocabEvent::Similar(self.similar(table, &query, &files, top, workers))
            }
            VocabRequest::Learn {
                min_tracks,
                precision,
            } => VocabEvent::Learned(self.learn(table, min_tracks, precision, workers)),
        }
    }

    fn model_name(&self) -> &str {
        &self.classifier.model().card().name
    }

    fn find_head(&self) -> Result<Option<Arc<Head>>, String> {
        if self.classifier.model().card().embedding.is_none() {
            return Ok(None);
        }
        let Some((root, file)) = store::find_for(self.root, self.model_name()) else {
            return Ok(None);
        };
        let head = store::load(&file).map_err(|e| e.to_string())?;
        if !self.classifier.model().embeds_like(&head.model_sha256) {
            return Err(format!(
                "your genres for {} were learned with another version of the model",
                root.display()
            ));
        }
        Ok(Some(Arc::new(head)))
    }

    fn similar(
        &self,
        table: &mut EmbeddingTable,
        query: &PathBuf,
        files: &[(NodeId, PathBuf)],
        top: usize,
        workers: usize,
    ) -> Result<Vec<(NodeId, f32)>, String> {
        if self.classifier.model().card().embedding.is_none() {
            return Err("this model has no embeddings (try --model accurate)".into());
        }
        let q = table.fill(
            self.classifier,
            std::slice::from_ref(query),
            1,
            &crate::vocab::embeddings::Quiet,
            self.cancel,
        );
        let q = q.into_iter().next().flatten().ok_or_else(|| {
            format!(
                "{}: no embedding (it could not be analysed)",
                query.display()
            )
        })?;
        let paths: Vec<PathBuf> = files.iter().map(|(_, p)| p.clone()).collect();
        let vectors = table.fill(self.classifier, &paths, workers, self, self.cancel);
        if self.cancel.load(Ordering::Relaxed) {
            return Err("cancelled".into());
        }
        let mut index = SimilarityIndex::new(q.len());
        let mut nodes = Vec::new();
        for ((node, _), v) in files.iter().zip(vectors) {
            if let Some(v) = v
                && index.push(&v).is_some()
            {
                nodes.push(*node);
            }
        }
        Ok(index
            .nearest(&q, top, &[])
            .into_iter()
            .map(|(i, s)| (nodes[i], s))
            .collect())
    }

    fn learn(
        &self,
        table: &mut EmbeddingTable,
        min_tracks: usize,
        precision: f64,
        workers: usize,
    ) -> Result<LearnSummary, String> {
        let opts = LearnOptions {
            min_tracks,
            precision,
            jobs: workers,
        };
        // The app opened on a folder inside a library whose head it shows:
        // that head is relearned, from its whole library, not a narrower one.
        let root = store::find_for(self.root, self.model_name())
            .map_or_else(|| self.root.clone(), |(root, _)| root);
        let learned = crate::vocab::learn_library(
            self.classifier,
            std::slice::from_ref(&root),
            &opts,
            table,
            self,
            self.cancel,
        )
        .map_err(|e| format!("learn: {e}"))?;
        let path = store::head_path(&root, self.model_name()).map_err(|e| e.to_string())?;
        store::save(&learned.head, &path).map_err(|e| e.to_string())?;
        let md = path.with_extension("md");
        std::fs::write(&md, report_card(&learned.head))
            .map_err(|e| format!("{}: {e}", md.display()))?;
        Ok(LearnSummary {
            head: Arc::new(learned.head),
            files: learned.files,
            tagged: learned.tagged,
            saved: path,
            above: (std::fs::canonicalize(self.root).ok() != Some(root.clone())).then_some(root),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancelling_one_request_leaves_the_running_one_alone() {
        let c = Cancels::default();
        assert!(c.begin(1), "a learn job starts");
        c.cancel(2); // a similar list queued behind it is closed
        assert!(!c.flag.load(Ordering::SeqCst), "the learn job goes on");
        assert!(!c.begin(2), "the closed list is skipped at its turn");
        assert!(c.begin(3));
        c.cancel(3);
        assert!(c.flag.load(Ordering::SeqCst), "the running list stops");
        assert!(
            c.begin(4) && !c.flag.load(Ordering::SeqCst),
            "the next starts clean"
        );
    }
}
