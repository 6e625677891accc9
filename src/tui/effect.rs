//! What [`super::update`] asks the outside world to do, and the work it is
//! waiting for. Effects are plain data: [`super::services::Services`] turns
//! them into calls on the background services; tests read them directly.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::tagger::TagItem;
use super::vocab_service::VocabRequest;
use crate::cache::FileKey;
use crate::jobs::Priority;
use crate::library::tree::NodeId;

/// Names one request from the moment it is made until its answer arrives.
pub type ReqId = u64;

/// One thing for a service to do.
#[derive(Debug, Clone)]
pub enum Effect {
    /// Read a file's tags and check it (`urgent`: before the others queued).
    Inspect {
        req: ReqId,
        node: NodeId,
        path: PathBuf,
        urgent: bool,
    },
    /// Ask the cache whether this file has a result.
    Peek {
        req: ReqId,
        node: NodeId,
        path: PathBuf,
    },
    /// A verified tag write or undo rewrote the file from version `before`
    /// to `after`: the cache's analyses of every model follow it.
    FollowRewrite {
        path: PathBuf,
        before: FileKey,
        after: FileKey,
    },
    /// Classify a file; `priority` None: the focused track's latest-wins preview.
    Classify {
        req: ReqId,
        node: NodeId,
        path: PathBuf,
        priority: Option<Priority>,
    },
    /// No file has the focus (a folder is selected): previews stop computing pictures.
    ClearFocus,
    /// Cancel every classification job.
    CancelJobs,
    /// Walk the library again (answered with the whole new tree); `auto`:
    /// because the watch saw a change.
    Rescan {
        auto: bool,
    },
    Play(PathBuf),
    Pause(bool),
    Stop,
    Seek(f64),
    Volume(f32),
    /// Write these changes as one undoable batch.
    WriteTags {
        req: ReqId,
        items: Vec<TagItem>,
    },
    /// Dry-run these changes (with each suggestion's confidence) for the batch preview.
    PreviewTags {
        req: ReqId,
        items: Vec<(TagItem, f32)>,
    },
    /// Read which files the journal says earmark wrote (for the ✎ marks)
    /// and which were skipped (–).
    LoadMarks {
        req: ReqId,
        root: PathBuf,
    },
    /// Keep a file skipped across sessions (`x`), or no longer.
    KeepSkip {
        path: PathBuf,
        skipped: bool,
    },
    /// Files moved or renamed (from, to): the journal's pending entries
    /// and skips follow them.
    FollowMoves(Vec<(PathBuf, PathBuf)>),
    /// Take back these journal entries, newest first (writes made since the app opened).
    UndoTags {
        req: ReqId,
        ids: Vec<i64>,
    },
    /// Your genres and "sounds like this" (the vocabulary service).
    Vocab {
        req: ReqId,
        request: VocabRequest,
    },
    /// Stop this vocabulary request (running or queued).
    CancelVocab {
        req: ReqId,
    },
}

/// Work asked for and not answered yet.
#[derive(Debug, Clone, PartialEq)]
pub enum Work {
    Inspect(NodeId),
    Peek(NodeId),
    /// A classification job; `started` once a worker has it; `counted` in
    /// the run's progress (a preview started during a batch is not: the
    /// status line counts what was queued, not what the focus passed over).
    Classify {
        node: NodeId,
        preview: bool,
        started: bool,
        counted: bool,
    },
    /// A tag write: the files not reported yet.
    Write {
        left: Vec<NodeId>,
        /// Files of this batch whose write failed so far.
        failed: usize,
        /// Of those, files deleted or moved away before their turn (no ✗
        /// to look at: the rescan after the batch drops their rows).
        gone: usize,
        /// Files that held the genre already: nothing written to them.
        unchanged: usize,
        /// The genres every file of the batch is given, when it is one
        /// change (`T` over marked files), as the summary names them.
        genres: Option<String>,
    },
    PreviewTags,
    Undo,
    LoadMarks,
    /// A vocabulary request: finding the head, a similar list (`advance`:
    /// for "play similar" when a track ends), or learning.
    FindHead,
    Similar {
        advance: bool,
    },
    Learn,
}

/// Every request in flight, by id. An answer removes its entry, so a count
/// shown to the user cannot outlive the work it counts.
#[derive(Debug, Clone, Default)]
pub struct InFlight {
    next: ReqId,
    work: BTreeMap<ReqId, Work>,
    /// Classification jobs per node, kept with `work`: each answer asks
    /// whether its file has another, and scanning all work per answer made
    /// cancelling 12 000 queued files take 2.5 s.
    classify_nodes: std::collections::HashMap<NodeId, u32>,
}

impl InFlight {
    /// Record new work; its id goes into the effect that asks for it.
    pub fn start(&mut self, work: Work) -> ReqId {
        self.next += 1;
        if let Work::Classify { node, .. } = work {
            *self.classify_nodes.entry(node).or_default() += 1;
        }
        self.work.insert(self.next, work);
        self.next
    }

    pub fn finish(&mut self, req: ReqId) -> Option<Work> {
        let work = self.work.remove(&req);
        if let Some(Work::Classify { node, .. }) = &work {
            self.forget_job_of(*node);
        }
        work
    }

    fn forget_job_of(&mut self, node: NodeId) {
        if let Some(n) = self.classify_nodes.get_mut(&node) {
            *n -= 1;
            if *n == 0 {
                self.classify_nodes.remove(&node);
            }
        }
    }

    pub fn get(&self, req: ReqId) -> Option<&Work> {
        self.work.get(&req)
    }

    /// (Not to move a job to another node: the per-node index follows
    /// `start`, `finish` and `remap`.)
    pub fn get_mut(&mut self, req: ReqId) -> Option<&mut Work> {
        self.work.get_mut(&req)
    }

    pub fn is_empty(&self) -> bool {
        self.work.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (ReqId, &Work)> {
        self.work.iter().map(|(r, w)| (*r, w))
    }

    /// How many entries match.
    pub fn count(&self, f: impl Fn(&Work) -> bool) -> usize {
        self.work.values().filter(|w| f(w)).count()
    }

    /// Files in tag writes not reported yet.
    pub fn writing(&self) -> usize {
        self.work
            .values()
            .map(|w| match w {
                Work::Write { left, .. } => left.len(),
                _ => 0,
            })
            .sum()
    }

    /// An undo is being carried out.
    pub fn undoing(&self) -> bool {
        self.work.values().any(|w| matches!(w, Work::Undo))
    }

    /// Classification jobs for `node` not reported yet.
    pub fn classifying(&self, node: NodeId) -> bool {
        self.classify_nodes.contains_key(&node)
    }

    /// Point the work at the nodes of a rescanned tree; work whose node is
    /// gone is forgotten (its answer, when it comes, is dropped).
    pub fn remap(&mut self, to: impl Fn(NodeId) -> Option<NodeId>) {
        self.work.retain(|_, w| match w {
            Work::Inspect(n) | Work::Peek(n) | Work::Classify { node: n, .. } => match to(*n) {
                Some(m) => {
                    *n = m;
                    true
                }
                None => false,
            },
            Work::Write { left, .. } => {
                left.retain_mut(|n| to(*n).map(|m| *n = m).is_some());
                true
            }
            Work::PreviewTags
            | Work::Undo
            | Work::LoadMarks
            | Work::FindHead
            | Work::Similar { .. }
            | Work::Learn => true,
        });
        self.classify_nodes.clear();
        for w in self.work.values() {
            if let Work::Classify { node, .. } = w {
                *self.classify_nodes.entry(*node).or_default() += 1;
            }
        }
    }

    /// Classification jobs not reported yet.
    pub fn jobs(&self) -> usize {
        self.count(|w| matches!(w, Work::Classify { .. }))
    }

    /// Whether any file is being classified: stops at the first (`jobs()`
    /// counts them all, and `c` on 20 000 marked files asked it once per
    /// file queued: seconds of a frozen screen).
    pub fn has_jobs(&self) -> bool {
        self.work
            .values()
            .any(|w| matches!(w, Work::Classify { .. }))
    }

    /// Whether a batch (not a preview) is being classified.
    pub fn batch_running(&self) -> bool {
        self.count(|w| matches!(w, Work::Classify { preview: false, .. })) > 0
    }

    /// Nodes a worker is classifying now.
    pub fn running(&self) -> Vec<NodeId> {
        self.work
            .values()
            .filter_map(|w| match w {
                Work::Classify {
                    node,
                    started: true,
                    ..
                } => Some(*node),
                _ => None,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(node: NodeId) -> Work {
        Work::Classify {
            node,
            preview: false,
            started: false,
            counted: true,
        }
    }

    /// Whether a file has a job is kept per node through start, finish and
    /// a rescan's remap, as a scan of all work said it.
    #[test]
    fn a_file_has_a_job_until_its_last_is_answered() {
        let mut f = InFlight::default();
        let (a, b) = (f.start(job(3)), f.start(job(3)));
        let c = f.start(job(4));
        f.start(Work::Inspect(5));
        assert!(f.classifying(3) && f.classifying(4) && !f.classifying(5));
        f.finish(a);
        assert!(f.classifying(3), "one left");
        f.finish(b);
        assert!(!f.classifying(3));
        // node 4 becomes 40; nothing else survives the rescan
        f.remap(|n| (n == 4).then_some(40));
        assert!(!f.classifying(4) && f.classifying(40));
        f.finish(c);
        assert!(!f.classifying(40) && !f.has_jobs());
    }
}
