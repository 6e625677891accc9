//! earmark's engine: decode, features, model, library, tags, cache, eval, jobs,
//! the player and vocab (learned genres, similarity). It has no terminal dependency (no ratatui, no crossterm), so
//! the compiler keeps the engine/UI boundary; the `earmark` crate holds the CLI
//! and the terminal app on top of it.

pub mod analysis;
pub mod audio;
pub mod cache;
pub mod classifier;
pub mod clock;
pub mod eval;
pub mod features;
pub mod jobs;
pub mod library;
pub mod model;
pub mod player;
pub mod quiet;
pub mod small_file;
pub mod tags;
#[cfg(test)]
mod test_wav;
pub mod text;
pub mod vocab;

/// The repository root at build time: where `models/` and `demo/` live.
pub fn repo_root() -> &'static std::path::Path {
    // crates/earmark-engine → the repository, without `..` in what users see
    let engine = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    engine.ancestors().nth(2).unwrap_or(engine)
}
