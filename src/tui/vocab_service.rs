//! "Your genres" and "sounds like this" off the UI thread: one thread that
//! finds the learned head for the library, answers "which tracks sound like
//! this one" (cosine over embeddings loaded from the cache once per session,
//! missing ones computed with progress) and re-learns the head as a job.
//! Everything comes back as [`AppEvent::Vocab`], by request.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

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
    Learn { min_tracks: usize },
}

/// What a learn job made.
#[derive(Debug, Clone)]
pub struct LearnSummary {
    pub head: Arc<Head>,
    pub files: usize,
    pub tagged: usize,
    pub saved: PathBuf,
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
    cancel: Arc<AtomicBool>,
}

impl VocabService {
    pub fn start(root: PathBuf, classifier: ClassifierSlot, sink: Sink) -> VocabService {
        let (tx, rx) = crossbeam_channel::unbounded::<(ReqId, VocabRequest)>();
        let cancel = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&cancel);
        let _ = std::thread::Builder::new()
            .name("earmark-vocab".into())
            .spawn(move || {
                // Loaded on first use, then kept: one query per session.
                let mut table: Option<EmbeddingTable> = None;
                while let Ok((req, request)) = rx.recv() {
                    flag.store(false, Ordering::Relaxed);
                    let classifier = match classifier.wait() {
                        Ok(c) => c,
                        Err(e) => {
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
                        cancel: &flag,
                    };
                    let event = job.run(request, &mut table);
                    if !sink(AppEvent::Vocab { req, event }) {
                        return;
                    }
                }
            });
        VocabService { tx, cancel }
    }

    pub fn request(&self, req: ReqId, request: VocabRequest) {
        let _ = self.tx.send((req, request));
    }

    /// Stop the running request soon (it still answers).
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
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
            VocabRequest::Learn { min_tracks } => {
                VocabEvent::Learned(self.learn(table, min_tracks, workers))
            }
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
        if head.model_sha256 != self.classifier.model().sha256() {
            return Err(format!(
                "your genres for {} were learned with another version of the model; L learns them again",
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
        workers: usize,
    ) -> Result<LearnSummary, String> {
        let opts = LearnOptions {
            min_tracks,
            jobs: workers,
            ..LearnOptions::default()
        };
        let learned = crate::vocab::learn_library(
            self.classifier,
            std::slice::from_ref(self.root),
            &opts,
            table,
            self,
            self.cancel,
        )
        .map_err(|e| format!("learning your genres: {e}"))?;
        let path = store::head_path(self.root, self.model_name()).map_err(|e| e.to_string())?;
        store::save(&learned.head, &path).map_err(|e| e.to_string())?;
        let md = path.with_extension("md");
        std::fs::write(&md, report_card(&learned.head))
            .map_err(|e| format!("{}: {e}", md.display()))?;
        Ok(LearnSummary {
            head: Arc::new(learned.head),
            files: learned.files,
            tagged: learned.tagged,
            saved: path,
        })
    }
}
