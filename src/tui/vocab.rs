//! What the app knows about "your genres": the learned head for the library
//! (if any), which vocabulary the Genre pane speaks, how many files were
//! tagged since the head was learned, a learn job's progress, and the
//! "play similar" mode. Plain data; [`super::update`] changes it.

use std::collections::HashSet;
use std::sync::Arc;

use crate::classifier::Classified;
use crate::library::tree::NodeId;
use crate::vocab::{Head, Suggestion};

/// After this many tag writes since the head was learned, the app offers to re-learn.
pub const RELEARN_AFTER: usize = 5;

#[derive(Debug, Clone, Default)]
pub struct VocabState {
    /// The head learned for this library with this model.
    pub head: Option<Arc<Head>>,
    /// Why the head could not be used (another model version, unreadable…).
    pub problem: Option<String>,
    /// The Genre pane shows GTZAN's bars although a head exists (`y`).
    pub show_gtzan: bool,
    /// Files whose genre was written since the head was learned (or loaded).
    pub tagged_since: usize,
    /// A learn job is running: embeddings (done, total).
    pub learning: Option<(usize, usize)>,
    /// When a track ends, play the nearest unplayed one (`F`).
    pub play_similar: bool,
    /// Tracks played in "play similar" mode (not offered again).
    pub played: HashSet<NodeId>,
}

/// A track in your genres: ranked genres and the head's verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct MineAnswer {
    pub ranked: Vec<(String, f32)>,
    pub suggestion: Suggestion,
}

impl VocabState {
    /// The head the Genre pane and the tag keys use now (None: GTZAN).
    pub fn active(&self) -> Option<&Head> {
        self.head.as_deref().filter(|_| !self.show_gtzan)
    }

    /// A classified track in your genres (None: no active head, or no
    /// embedding of the head's size).
    pub fn answer(&self, c: &Classified) -> Option<MineAnswer> {
        let head = self.active()?;
        let embedding = c.prediction.embedding.as_ref()?;
        let probs = head.probs(embedding)?;
        let suggestion = crate::vocab::suggest_from(&head.vocabulary, &probs, &head.thresholds);
        let mut ranked: Vec<(String, f32)> = head.vocabulary.iter().cloned().zip(probs).collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Some(MineAnswer { ranked, suggestion })
    }

    /// The browser's note for a classified file: the confident genre and its
    /// confidence, `unsure`, or (no head in use) GTZAN's top genre.
    pub fn short_note(&self, c: &Classified) -> Option<String> {
        if let Some(a) = self.answer(c) {
            return Some(match a.suggestion {
                Suggestion::Genre { genre, confidence } => {
                    format!("{genre} {:.0}%", confidence * 100.0)
                }
                Suggestion::Unsure { .. } => "unsure".to_string(),
            });
        }
        let (g, p) = *c.prediction.top(1).first()?;
        Some(format!(
            "{} {:.0}%",
            crate::tags::genre_tag_name(g),
            p * 100.0
        ))
    }

    /// Whether the app should offer to re-learn (enough new tags, no job running).
    pub fn relearn_due(&self) -> bool {
        self.tagged_since >= RELEARN_AFTER && self.learning.is_none()
    }
}
