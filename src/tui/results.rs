//! What the app knows about each file's classification and tagging: job
//! state, the result, failures, writes and skips, plus the spectrograms of
//! recently focused tracks. Updated from events; read by the panes.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use super::analyst::{ModelInfo, Spectrogram};
use crate::classifier::Classified;
use crate::library::tree::NodeId;

/// Where a file's classification job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JobMark {
    #[default]
    Idle,
    Queued,
    Running,
}

#[derive(Debug, Clone, Default)]
pub struct FileState {
    pub job: JobMark,
    pub result: Option<Arc<Classified>>,
    /// Why classification failed.
    pub error: Option<String>,
    /// With `error`, when the file itself cannot be decoded: the decode
    /// error's kind ("not-audio", "empty", …). Classifying it again would
    /// fail the same way until the file changes (a rescan forgets it).
    pub failure_kind: Option<&'static str>,
    /// Genres earmark wrote: this session, or earlier when the journal says
    /// so and the tags still show them (cleared by undo).
    pub written: Option<Vec<String>>,
    /// Why the last tag write failed.
    pub write_error: Option<String>,
    /// The user skipped this suggestion.
    pub skipped: bool,
    /// The cache was asked about this file already.
    pub peeked: bool,
}

impl FileState {
    /// Why the file cannot be classified, when another try would fail alike.
    pub fn lasting_failure(&self) -> Option<&str> {
        self.failure_kind.and(self.error.as_deref())
    }

    /// The file decodes but holds nothing to judge (digital silence, or
    /// less audio than a segment needs): not a failure of the file or of
    /// earmark, so the listing marks it apart.
    pub fn nothing_to_judge(&self) -> bool {
        self.error.is_some()
            && self
                .failure_kind
                .is_some_and(crate::audio::kind_has_nothing_to_judge)
    }

    /// The file is not audio at all (or empty): no tag format can hold a
    /// genre in it, so a write would fail.
    pub fn cannot_hold_tags(&self) -> bool {
        self.error.is_some() && matches!(self.failure_kind, Some("not-audio" | "empty"))
    }

    /// Record a failed classification (`kind`: see [`Self::failure_kind`]).
    pub fn set_failure(&mut self, reason: String, kind: Option<&'static str>) {
        self.error = Some(reason);
        self.failure_kind = kind;
    }

    pub fn clear_failure(&mut self) {
        self.error = None;
        self.failure_kind = None;
    }
}

/// The model as the panes see it.
#[derive(Debug, Clone, Default)]
pub enum ModelStatus {
    /// Classification is switched off (tests, or no model wanted).
    #[default]
    Off,
    Loading,
    Ready(ModelInfo),
    Failed(String),
}

/// How many spectrograms to keep (moving back to a track shows it at once).
const KEEP_SPECTROGRAMS: usize = 8;

#[derive(Debug, Default)]
pub struct Results {
    files: HashMap<NodeId, FileState>,
    spectrograms: VecDeque<(NodeId, Arc<Spectrogram>)>,
    pub model: ModelStatus,
}

impl Results {
    pub fn new(model: ModelStatus) -> Results {
        Results {
            model,
            ..Results::default()
        }
    }

    pub fn get(&self, id: NodeId) -> Option<&FileState> {
        self.files.get(&id)
    }

    pub fn entry(&mut self, id: NodeId) -> &mut FileState {
        self.files.entry(id).or_default()
    }

    pub fn result(&self, id: NodeId) -> Option<&Arc<Classified>> {
        self.files.get(&id).and_then(|f| f.result.as_ref())
    }

    pub fn spectrogram(&self, id: NodeId) -> Option<&Arc<Spectrogram>> {
        self.spectrograms
            .iter()
            .find(|(n, _)| *n == id)
            .map(|(_, s)| s)
    }

    pub fn set_spectrogram(&mut self, id: NodeId, s: Arc<Spectrogram>) {
        self.spectrograms.retain(|(n, _)| *n != id);
        self.spectrograms.push_front((id, s));
        self.spectrograms.truncate(KEEP_SPECTROGRAMS);
    }

    pub fn set_result(&mut self, id: NodeId, c: Classified) {
        let f = self.entry(id);
        f.result = Some(Arc::new(c));
        f.clear_failure();
        f.peeked = true;
    }

    /// The file changed on disk since its result (or failure) was found:
    /// forget both and its spectrogram, so that it is looked up again. True
    /// when there was something to forget.
    pub fn forget_result(&mut self, id: NodeId) -> bool {
        self.spectrograms.retain(|(n, _)| *n != id);
        let Some(f) = self.files.get_mut(&id) else {
            return false;
        };
        let had = f.result.take().is_some() || f.error.is_some();
        f.clear_failure();
        f.peeked = false;
        had
    }

    /// Whether `id`'s result was found for another version of the file than
    /// `now` (its size and mtime as just read): replaced, or re-tagged by
    /// another program. A result of unknown version is trusted.
    pub fn outdated(&self, id: NodeId, now: crate::cache::FileKey) -> bool {
        self.result(id)
            .and_then(|r| r.file_key)
            .is_some_and(|k| k != now)
    }

    /// Files with a result, a failure or a write (for counts).
    pub fn iter(&self) -> impl Iterator<Item = (&NodeId, &FileState)> {
        self.files.iter()
    }

    /// Move what is known to the nodes of a rescanned tree; files that are
    /// gone are forgotten, and no job is running for the new nodes. Failures
    /// are forgotten too: a rescan is how a changed file gets another try.
    pub fn remap(&mut self, to: impl Fn(NodeId) -> Option<NodeId>) {
        self.files = std::mem::take(&mut self.files)
            .into_iter()
            .filter_map(|(id, mut f)| {
                f.job = JobMark::Idle;
                f.clear_failure();
                to(id).map(|n| (n, f))
            })
            .collect();
        self.spectrograms = std::mem::take(&mut self.spectrograms)
            .into_iter()
            .filter_map(|(id, sp)| to(id).map(|n| (n, sp)))
            .collect();
    }

    pub fn labels(&self) -> Option<&[String]> {
        match &self.model {
            ModelStatus::Ready(i) => Some(&i.labels),
            _ => None,
        }
    }
}
