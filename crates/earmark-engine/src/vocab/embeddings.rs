//! A library's track embeddings for `learn` and `similar`: every cached one
//! loaded in one query (once per session, not once per file or per query),
//! the missing ones computed by the classifier on a few threads.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::cache::{FileId, FileKey, file_id};
use crate::classifier::Classifier;

/// Who hears how far a long computation got (a progress bar, the app).
pub trait Progress: Sync {
    /// `done` of `total` files handled.
    fn step(&self, done: usize, total: usize);
    /// A file was left out, and why (one line naming it).
    fn skipped(&self, line: String);
}

/// No one listens (tests).
pub struct Quiet;

impl Progress for Quiet {
    fn step(&self, _: usize, _: usize) {}
    fn skipped(&self, _: String) {}
}

/// Embeddings by canonical path, each for the file version it was computed on.
#[derive(Debug, Default, Clone)]
pub struct EmbeddingTable {
    rows: HashMap<PathBuf, (FileKey, Vec<f32>)>,
}

impl EmbeddingTable {
    /// Everything the classifier's cache holds for its model (one query);
    /// empty without a cache.
    pub fn load(classifier: &Classifier) -> EmbeddingTable {
        let rows = classifier
            .cached_embeddings()
            .into_iter()
            .map(|e| (e.path, (e.key, e.vector)))
            .collect();
        EmbeddingTable { rows }
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The embedding of this file version, if known.
    pub fn get(&self, id: &FileId) -> Option<&[f32]> {
        self.rows
            .get(&id.path)
            .filter(|(key, _)| *key == id.key)
            .map(|(_, v)| v.as_slice())
    }

    /// The embedding of `path` as it is on disk now, if known.
    pub fn get_path(&self, path: &Path) -> Option<&[f32]> {
        self.get(&file_id(path).ok()?)
    }

    pub fn insert(&mut self, id: FileId, vector: Vec<f32>) {
        self.rows.insert(id.path, (id.key, vector));
    }

    /// The embeddings of `files`, in order: known ones from the table, the
    /// others computed (and cached by the classifier) on `jobs` threads. A
    /// file that fails is reported to `progress` and gives None; after
    /// `cancel`, the files not reached give None.
    pub fn fill(
        &mut self,
        classifier: &Classifier,
        files: &[PathBuf],
        jobs: usize,
        progress: &dyn Progress,
        cancel: &AtomicBool,
    ) -> Vec<Option<Vec<f32>>> {
        let total = files.len();
        let mut out: Vec<Option<Vec<f32>>> = vec![None; total];
        let mut missing: Vec<usize> = Vec::new();
        for (i, path) in files.iter().enumerate() {
            match file_id(path) {
                Ok(id) => match self.get(&id) {
                    Some(v) => out[i] = Some(v.to_vec()),
                    None => missing.push(i),
                },
                Err(e) => progress.skipped(format!(
                    "{}: {}",
                    path.display(),
                    crate::library::io_reason(&e)
                )),
            }
        }
        let done = AtomicUsize::new(total - missing.len());
        progress.step(done.load(Ordering::Relaxed), total);
        let next = AtomicUsize::new(0);
        let computed: Mutex<Vec<(usize, FileId, Vec<f32>)>> = Mutex::new(Vec::new());
        let worker = || {
            loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                let Some(&i) = missing.get(k) else { return };
                if cancel.load(Ordering::Relaxed) {
                    return;
                }
                let path = &files[i];
                match classifier.classify_cancellable(path, cancel) {
                    Ok(c) => match (c.prediction.embedding, file_id(path)) {
                        (Some(v), Ok(id)) => {
                            if let Ok(mut list) = computed.lock() {
                                list.push((i, id, v));
                            }
                        }
                        (None, _) => progress
                            .skipped(format!("{}: the model gave no embedding", path.display())),
                        (_, Err(e)) => progress.skipped(format!(
                            "{}: {}",
                            path.display(),
                            crate::library::io_reason(&e)
                        )),
                    },
                    Err(e) if !cancel.load(Ordering::Relaxed) => progress.skipped(e.to_string()),
                    Err(_) => return,
                }
                progress.step(done.fetch_add(1, Ordering::Relaxed) + 1, total);
            }
        };
        std::thread::scope(|scope| {
            for _ in 1..jobs.clamp(1, missing.len().max(1)) {
                scope.spawn(worker);
            }
            worker();
        });
        for (i, id, v) in computed.into_inner().unwrap_or_default() {
            out[i] = Some(v.clone());
            self.insert(id, v);
        }
        out
    }
}
