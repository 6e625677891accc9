//! Your genres: learn a library's own genre vocabulary from the tracks it
//! already tagged (a head over the model's embeddings), know when it does not
//! know (per-genre thresholds), and find tracks that sound alike.

pub mod embeddings;
pub mod gtzan;
pub mod head;
pub mod learn;
pub mod library;
pub mod report;
pub mod similar;
pub mod spelling;
pub mod store;
pub mod train;

pub use embeddings::{EmbeddingTable, Progress};
pub use head::{Head, Suggestion, suggest_from};
pub use learn::{LearnOptions, Learned, learn_library};
pub use report::{CvReport, GenreReport};
pub use similar::SimilarityIndex;
pub use train::{HeadMeta, Sample, TrainOptions, cv_groups, grouped_folds, train};

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum VocabError {
    #[error("no data directory (set XDG_DATA_HOME or HOME)")]
    NoDataDir,
    #[error("{}: {reason}", crate::library::shown(path.as_os_str()))]
    Io { path: PathBuf, reason: String },
    #[error("{0}")] // the command (`earmark learn: …`) already says what failed
    Train(String),
    /// Fewer than two genres have enough tagged tracks: what the tags hold.
    /// Said as the app and the CLI each can act on it (the CLI has
    /// `--min-tracks`, the app does not).
    #[error("{0}")]
    TooFewGenres(String),
}
