//! earmark: genre tagging for a local music library.
//!
//! The engine lives in its own crate (`crates/earmark-engine`: audio, features,
//! model, library, tags, cache, eval, jobs, player, vocab), which cannot import
//! ratatui; this crate adds the command line and the terminal app. The engine's
//! modules are re-exported so that `earmark::audio` and friends keep one path.

pub use earmark_engine::{
    analysis, audio, cache, classifier, clock, eval, features, jobs, library, model, player, quiet,
    small_file, tags, text, vocab,
};

pub mod cli;
pub mod tui;
