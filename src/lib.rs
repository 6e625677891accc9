//! earmark: genre tagging for a local music library.
//!
//! The engine (`audio`, `features`, `model`, `library`, `tags`, `cache`, `eval`,
//! `jobs`) never imports ratatui; the `tui` turns engine state into widgets.

pub mod audio;
pub mod features;
pub mod analysis;
pub mod library;
pub mod tags;
pub mod cli;
pub mod player;
pub mod tui;
