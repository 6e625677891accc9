//! A journal entry whose write never happened: the run was killed between
//! recording it and renaming the checked copy into place, so the file is
//! still what it was before. Said only on solid evidence: the original's
//! bytes when the entry kept their hash, else every genre field as before
//! the write and not as written.

use std::path::Path;

use super::byte_patch::{BytePatch, sha256_file};
use super::state::GenreState;

/// What undo, its dry run and the journal say of such an entry.
pub const NEVER_WRITTEN: &str =
    "never written (the run was interrupted before this file's rename); nothing to undo";

/// The file at `path`, holding `now`, is what it was before the entry's
/// write (`states`: its old and new genres, `patch` its kept bytes). `whole`: hash the file to
/// compare with the original's (reads it whole); without, its length must
/// do, as the journal's listing reads no file whole.
pub(crate) fn on_disk(
    path: &Path,
    now: &GenreState,
    states: (&GenreState, &GenreState),
    patch: Option<&BytePatch>,
    whole: bool,
) -> bool {
    as_before(now, states)
        && patch.is_none_or(|p| {
            path.metadata().is_ok_and(|m| m.len() == p.old_len)
                && (!whole || sha256_file(path).is_ok_and(|sha| sha == p.old_sha256))
        })
}

/// As [`on_disk`], for the file as the undos planned before this one would
/// leave it: `now`, with its sha256 when known (an exact undo's original).
pub(crate) fn planned(
    now: &GenreState,
    sha256: Option<[u8; 32]>,
    states: (&GenreState, &GenreState),
    patch: Option<&BytePatch>,
) -> bool {
    as_before(now, states) && patch.is_none_or(|p| sha256 == Some(p.old_sha256))
}

/// Every genre field as before the write (`old`, `new`), and not as written.
pub(crate) fn as_before(now: &GenreState, (old, new): (&GenreState, &GenreState)) -> bool {
    now.same_values(old) && !now.same_values(new)
}
