//! Safe genre writing: copy the file to a hidden temp file beside it, write the
//! tags into the copy, check the copy (genre reads back, every other tag is
//! unchanged, the decoded audio is sample-for-sample identical, same stream
//! parameters), fsync, and atomically rename it over the original. On any
//! failure the temp file is deleted and the original is untouched.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::byte_patch::BytePatch;
use super::native::{Native, UNRECOGNISED, detect, format_not_written};
use super::state::{GenreChange, GenreMode, GenreState, Slot, clean_genres};
use crate::audio::{AudioError, AudioStream, Sniffed, SourceInfo, sniff, without_path};
use crate::clock::clock;

/// What a write did (or, for a dry run, would do).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WriteReport {
    #[serde(serialize_with = "super::journal::serialize_path")]
    pub path: PathBuf,
    /// Genres as a person sees them, before and after.
    pub old: Vec<String>,
    pub new: Vec<String>,
    /// False when the file already held these values: nothing was written.
    pub changed: bool,
    /// Exact per-field values before and after (what an undo restores).
    pub old_state: GenreState,
    pub new_state: GenreState,
    /// The file's size and mtime when the write read it (None for a plan):
    /// a classification of that version still speaks for the written file,
    /// whose audio the write verified unchanged.
    #[serde(skip)]
    pub key_before: Option<crate::cache::FileKey>,
}

/// Why a write failed, for the TUI's file marks and `--json` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WriteErrorKind {
    NotFound,
    NotAFile,
    /// Not audio at all (a text or image file): `classify`'s `not-audio`.
    NotAudio,
    /// The format cannot carry tags (`.au`) or lofty cannot write it.
    Unsupported,
    /// The file has no bytes: nothing to hold a tag (as `classify` says).
    Empty,
    /// The file (no write permission bits) or its file system is read-only.
    ReadOnly,
    PermissionDenied,
    DiskFull,
    /// The file has several hard links; replacing it would split them.
    HardLinked,
    InvalidGenre,
    /// The existing tags could not be parsed exactly.
    TagRead,
    /// lofty failed to write the tags into the copy.
    TagWrite,
    /// The copy failed a check (genre, other tags, audio); nothing was replaced.
    Verify,
    /// The file changed under us (another program), or since the journal entry.
    Changed,
    Io,
    /// A failure injected by a test.
    Injected,
    /// The undo journal could not record the write; nothing was replaced.
    Journal,
    /// The audio ends well before the length the file declares: cut short,
    /// or still being written by another program.
    CutShort,
}

impl WriteErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WriteErrorKind::NotFound => "not-found",
            WriteErrorKind::NotAFile => "not-a-file",
            WriteErrorKind::NotAudio => "not-audio",
            WriteErrorKind::Unsupported => "unsupported",
            WriteErrorKind::Empty => "empty",
            WriteErrorKind::ReadOnly => "read-only",
            WriteErrorKind::PermissionDenied => "permission-denied",
            WriteErrorKind::DiskFull => "disk-full",
            WriteErrorKind::HardLinked => "hard-linked",
            WriteErrorKind::InvalidGenre => "invalid-genre",
            WriteErrorKind::TagRead => "tag-read",
            WriteErrorKind::TagWrite => "tag-write",
            WriteErrorKind::Verify => "verify",
            WriteErrorKind::Changed => "changed",
            WriteErrorKind::Io => "io",
            WriteErrorKind::Injected => "injected",
            WriteErrorKind::Journal => "journal",
            WriteErrorKind::CutShort => "cut-short",
        }
    }
}

/// A failed write, in one line: "PATH: reason". The original file is untouched.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize)]
#[error("{}: {reason}", crate::library::shown(path.as_os_str()))]
pub struct TagWriteError {
    #[serde(serialize_with = "super::journal::serialize_path")]
    pub path: PathBuf,
    pub kind: WriteErrorKind,
    pub reason: String,
}

impl TagWriteError {
    pub fn new(path: &Path, kind: WriteErrorKind, reason: impl Into<String>) -> Self {
        TagWriteError {
            path: path.to_path_buf(),
            kind,
            reason: reason.into(),
        }
    }

    fn io(path: &Path, what: &str, e: &io::Error) -> Self {
        let (kind, reason) = io_reason(e);
        let reason = if what.is_empty() {
            reason
        } else {
            format!("{what}: {reason}")
        };
        TagWriteError::new(path, kind, reason)
    }
}

/// The kind of a failed write, and its reason in the same words reads use.
fn io_reason(e: &io::Error) -> (WriteErrorKind, String) {
    use io::ErrorKind as K;
    let kind = match e.kind() {
        K::PermissionDenied => WriteErrorKind::PermissionDenied,
        K::StorageFull | K::QuotaExceeded => WriteErrorKind::DiskFull,
        K::ReadOnlyFilesystem => WriteErrorKind::ReadOnly,
        K::NotFound => WriteErrorKind::NotFound,
        // a layout the writer does not rewrite (a fragmented MP4's)
        K::Unsupported => WriteErrorKind::Unsupported,
        _ => WriteErrorKind::Io,
    };
    let reason = crate::audio::io_words(e.kind()).map_or_else(|| e.to_string(), str::to_string);
    (kind, reason)
}

/// An io::Error somewhere in an error's source chain (lofty wraps them).
fn find_io<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a io::Error> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<io::Error>() {
            return Some(io);
        }
        cur = err.source();
    }
    None
}

/// Where a test can make a write fail on purpose.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailPoint {
    /// Copying the original to the temp file runs out of space.
    DiskFull,
    /// After the tags are written into the temp copy, before it is checked.
    AfterTagWrite,
    /// After the copy is written, checked and synced, just before the rename.
    BeforeRename,
    /// Not a failure: a 1-s pause just before the rename (after the undo
    /// journal recorded the write), so that a test can interrupt a run there.
    PauseBeforeRename,
}

/// Knobs for [`write_genre_with`]; `Default` is what users get.
#[derive(Debug, Clone, Default)]
pub struct WriteConfig {
    #[doc(hidden)]
    pub fail_point: Option<FailPoint>,
    /// The version of the file (size, mtime) the change was decided from (a
    /// suggestion from its audio, a preview of its tags): a file found
    /// otherwise was replaced or re-tagged since, and is not written.
    pub decided_on: Option<crate::cache::FileKey>,
    /// Tests only: run on the temporary copy's path once it is checked, as
    /// another program in a shared folder might (swap it for a link).
    #[doc(hidden)]
    pub after_check: Option<fn(&Path)>,
}

/// Environment variable (testing only) naming a [`FailPoint`]:
/// `disk-full`, `after-tag-write` or `before-rename`.
#[doc(hidden)]
pub const FAIL_POINT_ENV: &str = "EARMARK_FAIL_POINT";

impl WriteConfig {
    /// The default configuration, plus a fail point from `EARMARK_FAIL_POINT`
    /// (used by the CLI so tests can exercise the failure path end to end).
    pub fn from_env() -> Self {
        let fail_point = match std::env::var(FAIL_POINT_ENV).as_deref() {
            Ok("disk-full") => Some(FailPoint::DiskFull),
            Ok("after-tag-write") => Some(FailPoint::AfterTagWrite),
            Ok("before-rename") => Some(FailPoint::BeforeRename),
            Ok("pause-before-rename") => Some(FailPoint::PauseBeforeRename),
            _ => None,
        };
        WriteConfig {
            fail_point,
            ..WriteConfig::default()
        }
    }

    fn fail(&self, at: FailPoint, path: &Path) -> Result<(), TagWriteError> {
        if at == FailPoint::BeforeRename && self.fail_point == Some(FailPoint::PauseBeforeRename) {
            std::thread::sleep(std::time::Duration::from_millis(1000));
        }
        if self.fail_point == Some(at) {
            return Err(match at {
                FailPoint::DiskFull => TagWriteError::io(
                    path,
                    "cannot copy to a temporary file",
                    &io::Error::from(io::ErrorKind::StorageFull),
                ),
                _ => TagWriteError::new(
                    path,
                    WriteErrorKind::Injected,
                    format!("injected failure ({at:?})"),
                ),
            });
        }
        Ok(())
    }
}

/// Does this name belong to one of our temp files (library scans skip them)?
pub fn is_temp_file(path: &Path) -> bool {
    path.file_name().is_some_and(|n| {
        n.to_string_lossy().starts_with(".earmark-tmp-")
            || (n.to_string_lossy().starts_with('.')
                && n.to_string_lossy().contains(".earmark-tmp"))
    })
}

/// The genre values `path` holds now, per native field.
pub fn read_genre_state(path: &Path) -> Result<GenreState, TagWriteError> {
    read_genre_state_and_comments(path).map(|(state, _)| state)
}

/// [`read_genre_state`], and a Vorbis-comment file's entries in order (empty
/// for other formats), from the same one read.
pub(crate) fn read_genre_state_and_comments(
    path: &Path,
) -> Result<(GenreState, Vec<(String, String)>), TagWriteError> {
    let mut file = File::open(path).map_err(|e| TagWriteError::io(path, "cannot open", &e))?;
    match read_native(path, &mut file) {
        Ok(native) => Ok((native.state(), native.comment_entries())),
        Err(e) => id3v1_only_state(path, &e).map(|s| (s, Vec::new())).ok_or(e),
    }
}

/// What [`write_genre`] would do, without writing (dry run, batch preview):
/// it refuses what the write would refuse (a read-only file, say).
pub fn plan_genre(path: &Path, change: &GenreChange) -> Result<WriteReport, TagWriteError> {
    let genres = clean_genres(&change.genres)
        .map_err(|r| TagWriteError::new(path, WriteErrorKind::InvalidGenre, r))?;
    check_writable(path)?;
    let mut file = File::open(path).map_err(|e| TagWriteError::io(path, "cannot open", &e))?;
    let native = match read_native(path, &mut file) {
        Ok(native) => native,
        Err(e) => return id3v1_only_unchanged(path, e, &genres, change.mode),
    };
    let old = native.state();
    let new = old.target(&genres, change.mode);
    if !old.shows_same(&new) {
        refuse_genre_left_behind(path, &mut file, &native, &new, false)?;
    } else {
        refuse_clear_beside_other_stream(path, &mut file, &native, &new)?;
    }
    Ok(report(path, old, new))
}

/// Write a genre change to `path` safely (see the module docs).
pub fn write_genre(path: &Path, change: &GenreChange) -> Result<WriteReport, TagWriteError> {
    write_genre_with(path, change, &WriteConfig::from_env())
}

pub fn write_genre_with(
    path: &Path,
    change: &GenreChange,
    cfg: &WriteConfig,
) -> Result<WriteReport, TagWriteError> {
    write_genre_recorded(path, change, cfg, |_, _| Ok(()))
}

/// [`write_genre_with`], calling `record` (the undo journal) once the copy is
/// verified and just before it replaces the original, with the original
/// bytes the write replaces (`None` when too many changed, see `byte_patch`):
/// when `record` fails, the original is left untouched and its error returned.
pub fn write_genre_recorded(
    path: &Path,
    change: &GenreChange,
    cfg: &WriteConfig,
    record: impl FnOnce(&WriteReport, Option<&BytePatch>) -> Result<(), TagWriteError>,
) -> Result<WriteReport, TagWriteError> {
    let genres = clean_genres(&change.genres)
        .map_err(|r| TagWriteError::new(path, WriteErrorKind::InvalidGenre, r))?;
    safe_write(
        path,
        cfg,
        |old| Ok(old.target(&genres, change.mode)),
        true,
        record,
    )
    .or_else(|e| id3v1_only_unchanged(path, e, &genres, change.mode))
}

/// Put back `target` (an undo), provided the file still holds `expected`.
pub fn restore_genre_state(
    path: &Path,
    expected: &GenreState,
    target: &GenreState,
    cfg: &WriteConfig,
) -> Result<WriteReport, TagWriteError> {
    safe_write(
        path,
        cfg,
        |now| {
            still_written(path, &now.display(), &expected.display())?;
            Ok(target.onto(now))
        },
        false,
        |_, _| Ok(()),
    )
}

/// An undo's precondition: the file still holds the genre that was written.
/// Values, not containers: another tagger may have re-saved the tag (ID3v2.3
/// as v2.4) without touching the genre.
pub fn still_written(path: &Path, now: &[String], written: &[String]) -> Result<(), TagWriteError> {
    if now == written {
        return Ok(());
    }
    Err(TagWriteError::new(
        path,
        WriteErrorKind::Changed,
        format!(
            "genre changed since it was written (now {}, expected {})",
            show(now),
            show(written)
        ),
    ))
}

/// A genre list for messages: "Rock; Pop" or "(none)".
pub fn show(genres: &[String]) -> String {
    if genres.is_empty() {
        "(none)".into()
    } else {
        genres.join("; ")
    }
}

fn report(path: &Path, old: GenreState, new: GenreState) -> WriteReport {
    WriteReport {
        path: path.to_path_buf(),
        old: old.display(),
        new: new.display(),
        changed: !old.shows_same(&new),
        old_state: old,
        new_state: new,
        key_before: None,
    }
}

/// "not written: a tracker module, a format earmark does not read" for a
/// file named as music earmark neither decodes nor tags.
fn unread_format(path: &Path) -> Option<String> {
    crate::library::unread_audio_format(path)
        .map(|f| format!("not written: {f}, a format earmark does not read"))
}

const ID3V1_ONLY: &str = "has an ID3v1 tag but no ID3v2 tag: the ID3v2 tag a genre needs would \
     hide its title, artist and album from most players; convert its tag to ID3v2 in a tag editor first";

/// The genre of an MP3 tagged only by an ID3v1 trailer, which the writer
/// refuses (`read_native`): read all the same, so that such a file holding
/// the genre asked is unchanged, not failed, and `--auto` sees it has one
/// (a folder's run failed on it, even a dry run).
fn id3v1_only_state(path: &Path, refused: &TagWriteError) -> Option<GenreState> {
    if refused.reason != ID3V1_ONLY {
        return None;
    }
    let code = super::id3::v1_genre(&mut File::open(path).ok()?).ok()??;
    Some(GenreState {
        slots: vec![super::state::SlotValues {
            slot: Slot::Id3v1,
            values: vec![code.to_string()],
        }],
    })
}

/// [`id3v1_only_state`]'s file when it holds `change` already: unchanged.
fn id3v1_only_unchanged(
    path: &Path,
    refused: TagWriteError,
    genres: &[String],
    mode: GenreMode,
) -> Result<WriteReport, TagWriteError> {
    let Some(old) = id3v1_only_state(path, &refused) else {
        return Err(refused);
    };
    let shown = old.display();
    let held = |g: &String| {
        shown
            .iter()
            .any(|s| crate::vocab::library::same_genre(s, g))
    };
    if genres.iter().all(held) && (mode == GenreMode::Append || genres.len() == shown.len()) {
        Ok(report(path, old.clone(), old))
    } else {
        Err(refused)
    }
}

fn read_native(path: &Path, file: &mut File) -> Result<Native, TagWriteError> {
    let mut head = [0u8; 64];
    let n = file
        .read(&mut head)
        .map_err(|e| TagWriteError::io(path, "cannot read", &e))?;
    if sniff(&head[..n]) == Sniffed::Audio("Sun/NeXT AU") || format_without_tags(path).is_some() {
        return Err(TagWriteError::new(
            path,
            WriteErrorKind::Unsupported,
            AU_HAS_NO_TAGS,
        ));
    }
    if n == 0 {
        return Err(TagWriteError::new(
            path,
            WriteErrorKind::Empty,
            "file is empty (0 bytes)",
        ));
    }
    let ft = detect(file).map_err(|r| {
        // what no reader takes for audio is said as classify says it
        match sniff(&head[..n]) {
            // named as music earmark does not read (a tracker module, TTA):
            // its name says more than a guess at its bytes
            Sniffed::Audio("MP3" | "MPEG audio") | Sniffed::Unknown
                if r == UNRECOGNISED
                    && let Some(why) = unread_format(path) =>
            {
                TagWriteError::new(path, WriteErrorKind::Unsupported, why)
            }
            Sniffed::Other(what) => TagWriteError::new(
                path,
                WriteErrorKind::NotAudio,
                format!("not an audio file ({what})"),
            ),
            // an ID3 tag with nothing lofty takes for MPEG audio behind it
            Sniffed::Audio("MP3" | "MPEG audio") if r == UNRECOGNISED => TagWriteError::new(
                path,
                WriteErrorKind::NotAudio,
                "not an audio file (no MPEG audio was found behind its ID3 tag)",
            ),
            // a container earmark reads (Matroska, CAF) or names (WMA)
            Sniffed::Audio(what) | Sniffed::Undecodable(what) if r == UNRECOGNISED => {
                TagWriteError::new(path, WriteErrorKind::Unsupported, format_not_written(what))
            }
            Sniffed::Unknown if r == UNRECOGNISED => TagWriteError::new(
                path,
                WriteErrorKind::NotAudio,
                "not an audio file (unrecognised format)",
            ),
            _ => TagWriteError::new(path, WriteErrorKind::Unsupported, r),
        }
    })?;
    let ends_with_id3v1 = |f: &mut File| super::id3::v1_genre(f).is_ok_and(|g| g.is_some());
    if ft == lofty::file::FileType::Mpeg && !head.starts_with(b"ID3") && ends_with_id3v1(file) {
        return Err(TagWriteError::new(
            path,
            WriteErrorKind::Unsupported,
            ID3V1_ONLY,
        ));
    }
    Native::read(file, ft).map_err(|r| {
        // a layout the writer declines (a genre it would leave behind, an
        // unsynchronised tag) was read fine: it is unsupported, not unreadable
        let kind = if r.contains("which earmark does not rewrite") {
            WriteErrorKind::Unsupported
        } else if r.contains("earmark tags music only") {
            // a video alone, as the MP4 one is counted
            WriteErrorKind::NotAudio
        } else {
            WriteErrorKind::TagRead
        };
        TagWriteError::new(path, kind, r)
    })
}

/// A change that would leave another genre showing in an MP3 is refused,
/// checked only where a write would change the genre (not on every read):
/// one in an APEv2 tag, always; one in a second ID3v2 tag, when the change
/// clears the first tag's, unless it is an `undo` (which puts back what the
/// file held).
fn refuse_genre_left_behind(
    path: &Path,
    file: &mut File,
    native: &Native,
    target: &GenreState,
    undo: bool,
) -> Result<(), TagWriteError> {
    refuse_ape_genre(path, file, native)?;
    if undo {
        return Ok(());
    }
    refuse_other_ogg_stream_genre(path, file, native)?;
    refuse_clear_behind_second_tag(path, file, native, target)
}

/// Clearing an Ogg's genre where the audio stream holds none, while another
/// stream's comments still name one (a Theora video's, which mutagen reads
/// as a Theora-first file's): "unchanged" would leave it shown. (A clear
/// that changes the audio's is refused by [`refuse_genre_left_behind`].)
fn refuse_clear_beside_other_stream(
    path: &Path,
    file: &mut File,
    native: &Native,
    target: &GenreState,
) -> Result<(), TagWriteError> {
    if target.display().is_empty() {
        refuse_other_ogg_stream_genre(path, file, native)?;
    }
    Ok(())
}

/// An Ogg file whose other stream (a Theora video multiplexed beside the
/// audio) names a genre in its own comments: earmark writes the audio's,
/// and mutagen reads a Theora-first file's video comments as the file's.
fn refuse_other_ogg_stream_genre(
    path: &Path,
    file: &mut File,
    native: &Native,
) -> Result<(), TagWriteError> {
    let Native::Ogg(tags) = native else {
        return Ok(());
    };
    match tags.other_stream_genres(file) {
        Some((what, genre)) => Err(TagWriteError::new(
            path,
            WriteErrorKind::Unsupported,
            format!(
                "{what}'s comments hold a genre too ({genre}), which earmark does not rewrite: \
                 players that read them would keep showing it; tag it with another program"
            ),
        )),
        None => Ok(()),
    }
}

/// An MP3 whose APEv2 tag holds a genre too.
fn refuse_ape_genre(path: &Path, file: &mut File, native: &Native) -> Result<(), TagWriteError> {
    if !matches!(native, Native::Mpeg(..)) {
        return Ok(());
    }
    match ape_genre(file) {
        Some(genre) => Err(TagWriteError::new(
            path,
            WriteErrorKind::Unsupported,
            format!(
                "its APEv2 tag holds a genre too ({genre}), which earmark does not rewrite: players \
                 that read APE would keep showing it; tag it with another program"
            ),
        )),
        None => Ok(()),
    }
}

/// Clearing the genre of an MP3 whose first ID3v2 tag is followed by a
/// second one with a genre: ffmpeg merges the two, so the second tag's genre
/// would show as the file's. (A genre written to the first tag is what
/// ffmpeg, TagLib and mutagen all show: that write goes ahead.)
fn refuse_clear_behind_second_tag(
    path: &Path,
    file: &mut File,
    native: &Native,
    target: &GenreState,
) -> Result<(), TagWriteError> {
    let Native::Mpeg(tag, _) = native else {
        return Ok(());
    };
    if !target.display().is_empty() {
        return Ok(());
    }
    match super::id3::second_tag_genre(file, tag) {
        Some(genre) => Err(TagWriteError::new(
            path,
            WriteErrorKind::Unsupported,
            format!(
                "a second ID3v2 tag follows the first and holds a genre too ({genre}), which \
                 earmark does not rewrite: players that read both would show it once this one is \
                 cleared; tag it with another program"
            ),
        )),
        None => Ok(()),
    }
}

/// The genre in an MP3's APEv2 tag (foobar2000 writes one), if any: earmark
/// rewrites the ID3 tags only, so a write would leave two genres.
fn ape_genre(file: &mut File) -> Option<String> {
    use lofty::file::TaggedFileExt;
    file.seek(SeekFrom::Start(0)).ok()?;
    let tagged = crate::audio::guard::catch_quietly(|| {
        lofty::probe::Probe::new(std::io::BufReader::new(&mut *file))
            .options(super::native::parse_options())
            .set_file_type(lofty::file::FileType::Mpeg)
            .read()
    })
    .ok()?
    .ok()?;
    let genre = tagged
        .tag(lofty::tag::TagType::Ape)?
        .get_string(lofty::prelude::ItemKey::Genre)?
        .trim();
    (!genre.is_empty()).then(|| genre.to_string())
}

const AU_HAS_NO_TAGS: &str = "Sun/NeXT .au files cannot carry tags";

/// Why a file read as `container` (`SourceInfo::container`) is not written
/// to: the containers earmark decodes but writes no genres to. A front end
/// says so before asking for a genre.
pub fn container_not_written(container: &str) -> Option<String> {
    super::WITHOUT_LOFTY
        .contains(&container)
        .then(|| super::native::format_not_written(container))
}

/// Why a file of this name can never hold a genre (a `.au`), without reading
/// it: the app says so instead of offering genres to pick.
pub fn format_without_tags(path: &Path) -> Option<&'static str> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    (ext.eq_ignore_ascii_case("au") || ext.eq_ignore_ascii_case("snd")).then_some(AU_HAS_NO_TAGS)
}

/// Deletes the temp file unless disarmed; its marker goes either way.
///
/// The copy is written, given its mode, owner and attributes through
/// `file`, the handle its exclusive creation returned, never reopened by
/// name: in a folder others may write, a name swapped for a link would
/// have had root write or chmod the link's target.
struct TempGuard {
    path: PathBuf,
    file: File,
    armed: bool,
    _marker: super::temps::Marker,
}

impl TempGuard {
    /// The name still holds the copy this write made (checked before it is
    /// read back, before it is journaled and before the rename).
    fn still_ours(&self, shown: &Path) -> Result<(), TagWriteError> {
        let ours = self
            .file
            .metadata()
            .map_err(|e| TagWriteError::io(shown, "", &e))?;
        match fs::symlink_metadata(&self.path) {
            Ok(named) if named.is_file() && same_inode(&named, &ours) => Ok(()),
            _ => Err(TagWriteError::new(
                shown,
                WriteErrorKind::Changed,
                "another program replaced earmark's temporary copy during the write; not changed",
            )),
        }
    }
}

impl Drop for TempGuard {
    fn drop(&mut self) {
        // (a name another program took over is left to it)
        if self.armed && self.still_ours(&self.path).is_ok() {
            let _ = fs::remove_file(&self.path);
        }
    }
}

static TEMP_SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Create a fresh hidden temp file beside `real`: `.earmark-tmp-PID-N.EXT`,
/// short whatever the original's name (a 250-byte name still fits), the
/// extension kept so decoders treat it exactly like the original. A marker
/// is written first, so an interrupted run's copy is found and removed later.
fn create_temp(real: &Path, shown: &Path) -> Result<TempGuard, TagWriteError> {
    let dir = real.parent().unwrap_or(Path::new("."));
    let ext = real.extension().filter(|e| e.len() <= 16);
    for _ in 0..100u32 {
        let n = TEMP_SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut name = std::ffi::OsString::from(format!(".earmark-tmp-{}-{n}", std::process::id()));
        if let Some(ext) = ext {
            name.push(".");
            name.push(ext);
        }
        let candidate = dir.join(name);
        let marker = super::temps::mark(&candidate);
        match OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&candidate)
        {
            Ok(file) => {
                return Ok(TempGuard {
                    path: candidate,
                    file,
                    armed: true,
                    _marker: marker,
                });
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                let mut error = TagWriteError::io(
                    shown,
                    &format!("cannot create a temporary file in {}", dir.display()),
                    &e,
                );
                if e.kind() == io::ErrorKind::PermissionDenied {
                    error.reason.push_str(
                        " (earmark writes a checked copy beside the file, so its folder must be writable: `chmod u+w` on the folder allows tagging)",
                    );
                }
                return Err(error);
            }
        }
    }
    Err(TagWriteError::new(
        shown,
        WriteErrorKind::Io,
        format!(
            "cannot create a temporary file in {}: too many leftovers",
            dir.display()
        ),
    ))
}

/// Stream parameters and a hash of every decoded sample's bits.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioPrint {
    pub info: SourceInfo,
    pub samples: u64,
    pub sha256: String,
    /// The stream ended on an error or before its declared length by more
    /// than a second (decoded seconds, when known), as `classify` marks a
    /// result partial.
    pub cut_short: Option<CutShort>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CutShort {
    pub decoded_s: f64,
    pub declared_s: Option<f64>,
}

/// Decode `path` whole and fingerprint the samples (bit-exact), stopping
/// after `max_samples` when given.
pub fn audio_print(path: &Path, max_samples: Option<u64>) -> Result<AudioPrint, AudioError> {
    let mut stream = AudioStream::open(path)?;
    let mut h = Sha256::new();
    let mut samples = 0u64;
    let mut bytes = Vec::new();
    let cap = max_samples.unwrap_or(u64::MAX);
    while samples < cap {
        let Some(chunk) = stream.read()? else { break };
        let take = chunk
            .len()
            .min(usize::try_from(cap - samples).unwrap_or(usize::MAX));
        bytes.clear();
        bytes.extend(chunk[..take].iter().flat_map(|x| x.to_bits().to_le_bytes()));
        h.update(&bytes);
        samples += take as u64;
    }
    let info = stream.info().clone();
    let decoded_s =
        samples as f64 / info.channels.max(1) as f64 / f64::from(info.sample_rate.max(1));
    let trouble = stream.trouble();
    let short_of_declared = info.duration_s.is_some_and(|d| d - decoded_s > 1.0);
    let whole = max_samples.is_none_or(|cap| samples < cap);
    let cut_short = (whole && (short_of_declared || trouble.ended_early || trouble.cut_short))
        .then_some(CutShort {
            decoded_s,
            declared_s: info.duration_s,
        });
    Ok(AudioPrint {
        info,
        samples,
        sha256: hex::encode(h.finalize()),
        cut_short,
    })
}

fn file_stamp(meta: &fs::Metadata) -> (u64, Option<std::time::SystemTime>) {
    (meta.len(), meta.modified().ok())
}

/// The common path of every write: `decide` maps the current state to the target.
fn safe_write(
    shown: &Path,
    cfg: &WriteConfig,
    decide: impl FnOnce(&GenreState) -> Result<GenreState, TagWriteError>,
    keep_bytes: bool,
    record: impl FnOnce(&WriteReport, Option<&BytePatch>) -> Result<(), TagWriteError>,
) -> Result<WriteReport, TagWriteError> {
    let (real, mut original, meta) = open_locked(shown)?;
    let stamp = file_stamp(&meta);
    let key_before = crate::cache::FileKey::of(&meta);
    if cfg.decided_on.is_some_and(|k| k != key_before) {
        return Err(TagWriteError::new(
            shown,
            WriteErrorKind::Changed,
            "changed on disk since earmark read it (replaced or re-tagged)",
        ));
    }
    let native = read_native(shown, &mut original)?;
    let old = native.state();
    let target = decide(&old)?;
    if old.shows_same(&target) {
        if keep_bytes {
            refuse_clear_beside_other_stream(shown, &mut original, &native, &target)?;
        }
        return Ok(report(shown, old.clone(), old));
    }
    // (an undo, `keep_bytes` false, puts back what the file held)
    refuse_genre_left_behind(shown, &mut original, &native, &target, !keep_bytes)?;
    let expected = Expected::of(shown, &real, &native, target)?;
    drop(native);

    let guard = create_temp(&real, shown)?;
    let temp = guard.path.clone();
    write_copy(shown, cfg, &real, &guard.file, &expected.target)?;
    cfg.fail(FailPoint::AfterTagWrite, shown)?;
    guard.still_ours(shown)?;
    expected.verify(shown, &real, &temp)?;
    if let Some(meddle) = cfg.after_check {
        meddle(&temp);
    }
    keep_extended_attributes(shown, &real, &guard.file)?;
    give_original_owner(shown, &guard.file, &meta)?;

    unchanged_since(shown, &real, stamp)?;
    let done = WriteReport {
        key_before: Some(key_before),
        ..report(shown, old, expected.target)
    };
    // a patch that cannot be taken only costs the undo its byte-exactness
    let patch = keep_bytes
        .then(|| BytePatch::between(&real, &temp).ok().flatten())
        .flatten();
    guard.still_ours(shown)?;
    record(&done, patch.as_ref())?;
    put_in_place(shown, &real, guard, cfg)?;
    Ok(done)
}

/// Undo a write byte for byte: rebuild the original from `patch`, provided
/// the file is still exactly what that write left. `Ok(None)` when it is not
/// (another program re-saved it): the caller restores values instead.
pub fn restore_bytes(
    shown: &Path,
    patch: &BytePatch,
    expected: &GenreState,
    target: &GenreState,
    cfg: &WriteConfig,
) -> Result<Option<WriteReport>, TagWriteError> {
    let (real, _lock, meta) = open_locked(shown)?;
    let stamp = file_stamp(&meta);
    let unread = |e: io::Error| TagWriteError::io(shown, "cannot read", &e);
    if !patch.applies_to(&real).map_err(unread)? {
        return Ok(None);
    }
    let guard = create_temp(&real, shown)?;
    cfg.fail(FailPoint::DiskFull, shown)?;
    patch
        .rebuild(&real, &guard.file)
        .map_err(|e| TagWriteError::io(shown, "cannot rebuild the original", &e))?;
    keep_extended_attributes(shown, &real, &guard.file)?;
    give_original_owner(shown, &guard.file, &meta)?;
    unchanged_since(shown, &real, stamp)?;
    put_in_place(shown, &real, guard, cfg)?;
    Ok(Some(WriteReport {
        key_before: Some(crate::cache::FileKey::of(&meta)),
        ..report(shown, expected.clone(), target.clone())
    }))
}

/// How long a write waits for another earmark writing the same file.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// Set once the process is leaving (Ctrl-C in `earmark tag`, quitting the
/// app): a write still waiting for another earmark's lock gives up, having
/// changed nothing, instead of holding the exit for up to a minute.
static LEAVING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Writes waiting for a lock give up from now on (the process is leaving);
/// writes past the wait finish as ever.
pub fn give_up_lock_waits() {
    LEAVING.store(true, std::sync::atomic::Ordering::SeqCst);
}

/// Said once a write has waited a second for a file's lock.
static ON_LOCK_WAIT: std::sync::OnceLock<fn(&Path)> = std::sync::OnceLock::new();

/// What to do when a write has waited a second for another program's lock
/// on a file (`earmark tag` says so: the wait looked like a hang).
pub fn on_lock_wait(say: fn(&Path)) {
    let _ = ON_LOCK_WAIT.set(say);
}

/// Open the real file behind `shown` (a symlink stays a link) and hold its
/// lock: writers of one file (two `earmark tag` runs, the app and a run) take
/// turns from here until the copy replaces it, so each starts from the
/// previous one's result instead of renaming over it. Other programs do not
/// take the lock; the stamp check before the rename still sees them.
fn open_locked(shown: &Path) -> Result<(PathBuf, File, fs::Metadata), TagWriteError> {
    let waited = std::time::Instant::now();
    let mut said = false;
    loop {
        let real = fs::canonicalize(shown).map_err(|e| TagWriteError::io(shown, "", &e))?;
        let meta = fs::metadata(&real).map_err(|e| TagWriteError::io(shown, "", &e))?;
        check_replaceable(shown, &real, &meta)?;
        let file = File::open(&real).map_err(|e| TagWriteError::io(shown, "cannot open", &e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock)
                if LEAVING.load(std::sync::atomic::Ordering::SeqCst) =>
            {
                return Err(TagWriteError::new(
                    shown,
                    WriteErrorKind::Changed,
                    "stopped while another earmark was writing this file; not changed",
                ));
            }
            Err(fs::TryLockError::WouldBlock) if waited.elapsed() < LOCK_WAIT => {
                if !said && waited.elapsed() >= std::time::Duration::from_secs(1) {
                    said = true;
                    if let Some(say) = ON_LOCK_WAIT.get() {
                        say(shown);
                    }
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
                continue;
            }
            Err(fs::TryLockError::WouldBlock) => {
                return Err(TagWriteError::new(
                    shown,
                    WriteErrorKind::Changed,
                    "another program (another earmark?) has held this file's lock for a minute; not changed",
                ));
            }
            Err(fs::TryLockError::Error(e)) => {
                return Err(TagWriteError::io(shown, "cannot lock", &e));
            }
        }
        // The previous writer renamed its copy over the path while we waited:
        // lock the file the path names now.
        let now = fs::metadata(&real).map_err(|e| TagWriteError::io(shown, "", &e))?;
        let locked = file
            .metadata()
            .map_err(|e| TagWriteError::io(shown, "", &e))?;
        if same_inode(&locked, &now) {
            return Ok((real, file, now));
        }
    }
}

fn same_inode(a: &fs::Metadata, b: &fs::Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        (a.dev(), a.ino()) == (b.dev(), b.ino())
    }
    #[cfg(not(unix))]
    {
        a.len() == b.len() && a.modified().ok() == b.modified().ok()
    }
}

/// Nobody else touched the original since `stamp`?
fn unchanged_since(
    shown: &Path,
    real: &Path,
    stamp: (u64, Option<std::time::SystemTime>),
) -> Result<(), TagWriteError> {
    let now = fs::metadata(real).map_err(|e| TagWriteError::io(shown, "", &e))?;
    if file_stamp(&now) != stamp {
        return Err(TagWriteError::new(
            shown,
            WriteErrorKind::Changed,
            "file was modified by another program during the write; not replaced",
        ));
    }
    Ok(())
}

/// Rename the finished copy over the original and make the rename durable.
fn put_in_place(
    shown: &Path,
    real: &Path,
    mut guard: TempGuard,
    cfg: &WriteConfig,
) -> Result<(), TagWriteError> {
    cfg.fail(FailPoint::BeforeRename, shown)?;
    guard.still_ours(shown)?;
    fs::rename(&guard.path, real)
        .map_err(|e| TagWriteError::io(shown, "cannot replace the original", &e))?;
    guard.armed = false;
    // (a swap between the check and the rename is said, not hidden)
    let placed = fs::symlink_metadata(real).ok();
    let ours = guard.file.metadata().ok();
    if !matches!((placed, ours), (Some(p), Some(o)) if same_inode(&p, &o)) {
        return Err(TagWriteError::new(
            shown,
            WriteErrorKind::Changed,
            "another program replaced earmark's temporary copy as it was put in place; check the file",
        ));
    }
    if let Some(dir) = real.parent()
        && let Ok(d) = File::open(dir)
    {
        let _ = d.sync_all();
    }
    Ok(())
}

/// The checks every write makes before it reads the tag (a regular file,
/// writable by us, not hard-linked), for a plan that writes nothing.
pub fn check_writable(shown: &Path) -> Result<(), TagWriteError> {
    let real = fs::canonicalize(shown).map_err(|e| TagWriteError::io(shown, "", &e))?;
    let meta = fs::metadata(&real).map_err(|e| TagWriteError::io(shown, "", &e))?;
    check_replaceable(shown, &real, &meta)
}

/// Refuse files a replace-by-rename would harm: not regular, read-only,
/// hard-linked, or not writable by us (a rename would bypass its permissions).
fn check_replaceable(shown: &Path, real: &Path, meta: &fs::Metadata) -> Result<(), TagWriteError> {
    if !meta.is_file() {
        return Err(TagWriteError::new(
            shown,
            WriteErrorKind::NotAFile,
            "not a regular file",
        ));
    }
    // Unreadable first: that is what a user must fix before anything else
    // (a mode-000 file is also "read-only", but chmod u+w alone would not do).
    File::open(real).map_err(|e| TagWriteError::io(shown, "cannot open", &e))?;
    if meta.permissions().readonly() {
        return Err(TagWriteError::new(
            shown,
            WriteErrorKind::ReadOnly,
            if owned_by_us(meta) {
                "file is read-only (no write permission: `chmod u+w` allows tagging); not changed"
            } else {
                "file is read-only, and owned by another user (only its owner can allow writing); not changed"
            },
        ));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if meta.nlink() > 1 {
            return Err(TagWriteError::new(
                shown,
                WriteErrorKind::HardLinked,
                format!(
                    "file has {} hard links; replacing it would split them \
                     (give it a file of its own with `cp` first)",
                    meta.nlink()
                ),
            ));
        }
    }
    // Opening for writing changes nothing.
    drop(
        OpenOptions::new()
            .write(true)
            .open(real)
            .map_err(|e| TagWriteError::io(shown, "cannot open for writing", &e))?,
    );
    Ok(())
}

/// Whether `chmod` by this process could change the file's mode (its owner,
/// or root).
fn owned_by_us(meta: &fs::Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // SAFETY: geteuid has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        me == 0 || me == meta.uid()
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        true
    }
}

/// Copy the original into the temporary file (its handle) and write the
/// target genre into the copy.
fn write_copy(
    shown: &Path,
    cfg: &WriteConfig,
    real: &Path,
    temp: &File,
    target: &GenreState,
) -> Result<(), TagWriteError> {
    cfg.fail(FailPoint::DiskFull, shown)?;
    let copy_failed =
        |e: io::Error| TagWriteError::io(shown, "cannot copy to a temporary file", &e);
    let mut tf = temp.try_clone().map_err(copy_failed)?;
    let mut src = File::open(real).map_err(|e| TagWriteError::io(shown, "cannot open", &e))?;
    io::copy(&mut src, &mut tf).map_err(copy_failed)?;
    tf.seek(SeekFrom::Start(0)).map_err(copy_failed)?;
    let mut native = read_native(shown, &mut tf)?;
    native
        .apply(target)
        .map_err(|r| TagWriteError::new(shown, WriteErrorKind::TagWrite, r))?;
    native.save(&mut tf).map_err(|e| match find_io(&e) {
        Some(io) => TagWriteError::io(shown, "cannot write tags", io),
        None => TagWriteError::new(
            shown,
            WriteErrorKind::TagWrite,
            format!("cannot write tags: {e}"),
        ),
    })?;
    tf.sync_all()
        .map_err(|e| TagWriteError::io(shown, "cannot flush the temporary copy", &e))
}

/// What the written copy must show: the target genre, every other tag as
/// before, and the same audio.
struct Expected {
    target: GenreState,
    layout: Option<super::bytecheck::Layout>,
    /// AIFF: the sample count the file declares (see `iff`).
    aiff_samples: Option<u64>,
    /// `None` where the decoder cannot read the audio but a byte-level check
    /// covers the container (its bytes must not change).
    print: Option<AudioPrint>,
}

fn aiff_samples(p: &Path) -> Option<u64> {
    super::iff::aiff_declared_samples(p).ok().flatten()
}

impl Expected {
    fn of(
        shown: &Path,
        real: &Path,
        native: &Native,
        target: GenreState,
    ) -> Result<Expected, TagWriteError> {
        let layout = native.layout();
        let cap = aiff_samples(real);
        let print = match (audio_print(real, cap), layout) {
            // A file another program is still writing (or a cut download)
            // would lose its rest: its writer goes on into the replaced file.
            (
                Ok(AudioPrint {
                    cut_short: Some(cut),
                    ..
                }),
                _,
            ) => {
                let said = match cut.declared_s {
                    Some(d) => format!(
                        "its audio ends at {} of the {} it declares",
                        clock(cut.decoded_s),
                        clock(d)
                    ),
                    None => format!("its audio ends early, at {}", clock(cut.decoded_s)),
                };
                return Err(TagWriteError::new(
                    shown,
                    WriteErrorKind::CutShort,
                    format!(
                        "not written: {said} (cut short, or another program is still writing it); not changed"
                    ),
                ));
            }
            (Ok(p), _) => Some(p),
            // A tracker module or any blob lofty took for MPEG would get an
            // ID3 tag in front: an untagged file must decode as MPEG.
            (Err(_), Some(_))
                if native.is_untagged_mpeg()
                    && let Some(why) = unread_format(real) =>
            {
                return Err(TagWriteError::new(shown, WriteErrorKind::Unsupported, why));
            }
            (Err(e), Some(_)) if native.is_untagged_mpeg() => {
                return Err(TagWriteError::new(
                    shown,
                    WriteErrorKind::NotAudio,
                    format!(
                        "not written: it does not decode as MPEG audio ({}), so it is not given an ID3 tag; tag it with another program",
                        without_path(real, e.to_string())
                    ),
                ));
            }
            // A byte-level check covers a codec earmark does not decode
            // (AC-3 in MP4), not audio that breaks off: a faststart MP4 cut
            // short (or still being written) lists all its samples up front.
            (Err(e), Some(_)) if e.kind() == "corrupt" => {
                return Err(TagWriteError::new(
                    shown,
                    WriteErrorKind::CutShort,
                    format!(
                        "not written: its audio does not decode whole ({}): cut short, damaged, or another program is still writing it; not changed",
                        without_path(real, e.to_string())
                    ),
                ));
            }
            // A video alone (no audio track of any codec): not music.
            (Err(e), Some(_)) if e.kind() == "no-track" => {
                return Err(TagWriteError::new(
                    shown,
                    WriteErrorKind::NotAudio,
                    "not written: it holds no audio track (a video alone?); earmark tags music only",
                ));
            }
            (Err(_), Some(_)) => None,
            (Err(e), None) => {
                return Err(TagWriteError::new(
                    shown,
                    WriteErrorKind::Unsupported,
                    format!(
                        "not written: earmark cannot decode its audio ({}), so it could not check a write; tag it with another program",
                        without_path(real, e.to_string())
                    ),
                ));
            }
        };
        Ok(Expected {
            target,
            layout,
            aiff_samples: cap,
            print,
        })
    }

    /// Check the copy from scratch; any difference keeps the original.
    fn verify(&self, shown: &Path, real: &Path, temp: &Path) -> Result<(), TagWriteError> {
        let verify = |r: String| {
            TagWriteError::new(
                shown,
                WriteErrorKind::Verify,
                format!("{r}; original left untouched"),
            )
        };
        self.verify_tags(shown, temp).map_err(|r| match r {
            Ok(r) => verify(r),
            Err(e) => e,
        })?;
        if let Some(layout) = self.layout {
            super::bytecheck::check(layout, real, temp).map_err(verify)?;
        }
        if aiff_samples(temp) != self.aiff_samples {
            return Err(verify("the AIFF sample count changed".into()));
        }
        if let Some(print) = &self.print {
            self.verify_audio(print, temp).map_err(verify)?;
        }
        Ok(())
    }

    /// The genre reads back and no other tag changed. `Err(Ok(reason))` is a
    /// failed check, `Err(Err(e))` a copy that cannot be reopened.
    fn verify_tags(&self, shown: &Path, temp: &Path) -> Result<(), Result<String, TagWriteError>> {
        let mut tf = File::open(temp).map_err(|e| {
            Err(TagWriteError::io(
                shown,
                "cannot reopen the temporary copy",
                &e,
            ))
        })?;
        let native = read_native(shown, &mut tf)
            .map_err(|e| Ok(format!("written tags do not read back: {}", e.reason)))?;
        let now = native.state();
        if !now.same_values(&self.target) {
            return Err(Ok(format!(
                "genre reads back as {} instead of {}",
                show(&now.display()),
                show(&self.target.display())
            )));
        }
        Ok(())
    }

    /// The copy decodes to the same stream and the same samples.
    fn verify_audio(&self, print: &AudioPrint, temp: &Path) -> Result<(), String> {
        let after = audio_print(temp, self.aiff_samples).map_err(|e| {
            format!(
                "the written copy does not decode: {}",
                without_path(temp, e.to_string())
            )
        })?;
        // The container label may change (an MP3 that gains its first ID3
        // tag sniffs as "MP3" instead of "MPEG audio"); the stream may not.
        let stream = |i: &SourceInfo| {
            (
                i.codec.clone(),
                i.sample_rate,
                i.channels,
                i.bits_per_sample,
            )
        };
        if stream(&after.info) != stream(&print.info) {
            return Err(format!(
                "the audio stream reads differently after writing ({} Hz, {} channels vs {} Hz, {} channels)",
                after.info.sample_rate,
                after.info.channels,
                print.info.sample_rate,
                print.info.channels
            ));
        }
        if after.samples != print.samples || after.sha256 != print.sha256 {
            return Err(format!(
                "decoded audio differs after writing ({} vs {} samples)",
                after.samples, print.samples
            ));
        }
        Ok(())
    }
}

/// The original's extended attributes (a user's comments, ACLs, SELinux
/// labels) on the new file, which neither `fs::copy` nor a rebuild carries.
/// One that cannot be given keeps the original as it is.
fn keep_extended_attributes(shown: &Path, real: &Path, temp: &File) -> Result<(), TagWriteError> {
    use xattr::FileExt;
    let names = match xattr::list(real) {
        Ok(names) => names,
        // a file system without them: nothing to keep
        Err(e) if e.kind() == io::ErrorKind::Unsupported => return Ok(()),
        Err(e) => {
            return Err(TagWriteError::io(
                shown,
                "cannot list its extended attributes",
                &e,
            ));
        }
    };
    for name in names {
        let said = name.to_string_lossy();
        let value = xattr::get(real, &name).map_err(|e| {
            TagWriteError::io(
                shown,
                &format!("cannot read its extended attribute {said}"),
                &e,
            )
        })?;
        if let Some(value) = value {
            temp.set_xattr(&name, &value).map_err(|e| {
                TagWriteError::io(
                    shown,
                    &format!("cannot give the new file its extended attribute {said}"),
                    &e,
                )
            })?;
        }
    }
    Ok(())
}

/// Same permissions and owner as the original.
fn give_original_owner(
    shown: &Path,
    temp: &File,
    meta: &fs::Metadata,
) -> Result<(), TagWriteError> {
    temp.set_permissions(meta.permissions())
        .map_err(|e| TagWriteError::io(shown, "cannot set permissions on the copy", &e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let tmeta = temp
            .metadata()
            .map_err(|e| TagWriteError::io(shown, "", &e))?;
        // Say which one cannot be given: a user may own the file yet not
        // belong to its group, and chown would refuse only the group.
        let (uid, gid) = (meta.uid(), meta.gid());
        let what = match (tmeta.uid() != uid, tmeta.gid() != gid) {
            (false, false) => None,
            (true, false) => Some(format!(
                "cannot give the new file the original's owner (uid {uid})"
            )),
            (false, true) => Some(format!(
                "cannot give the new file the original's group (gid {gid}): you are not in it"
            )),
            (true, true) => Some(format!(
                "cannot give the new file the original's owner and group (uid {uid}, gid {gid})"
            )),
        };
        if let Some(what) = what {
            std::os::unix::fs::fchown(temp, Some(uid), Some(gid))
                .map_err(|e| TagWriteError::io(shown, &what, &e))?;
        }
    }
    Ok(())
}
