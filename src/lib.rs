//! earmark: genre tagging for a local music library.
//!
//! The engine (`audio`, `features`, `model`, `library`, `tags`, `cache`, `eval`,
//! `jobs`) never imports ratatui; the `tui` turns engine state into widgets.

pub mod analysis;
pub mod audio;
pub mod cache;
pub mod classifier;
pub mod cli;
pub mod clock;
pub mod eval;
pub mod features;
pub mod jobs;
pub mod library;
pub mod model;
pub mod player;
pub mod tags;
pub mod tui;
