//! Reading (and, in `write`, safely writing) genre and other tags with lofty.
//!
//! API for the fronts (CLI and TUI):
//! - [`read_tags`]: title, artist, genres… for display.
//! - [`plan_genre`] / [`apply::preview`]: what a write would do (dry run, batch preview).
//! - [`apply::accept`] / [`apply::accept_batch`]: write safely and journal (undoable).
//! - [`apply::undo`], [`apply::undo_last`], [`apply::undo_all`]: take writes back.
//! - [`write_genre`]: the bare safe write, without journal.

pub mod apply;
pub mod byte_patch;
mod bytecheck;
mod chunks;
mod flac;
mod id3;
mod iff;
pub mod journal;
mod mp4;
mod native;
mod ogg;
mod skips;
mod state;
pub mod temps;
pub mod unwritten;
pub mod write;

pub use state::{
    GenreChange, GenreMode, GenreState, Slot, SlotValues, clean_genres, join_genres, split_genres,
};
pub use write::{
    TagWriteError, WriteConfig, WriteErrorKind, WriteReport, is_temp_file, plan_genre,
    read_genre_state, restore_genre_state, write_genre, write_genre_with,
};

use std::path::{Path, PathBuf};

use lofty::prelude::*;
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum TagError {
    #[error("{}: cannot read tags: {reason}", crate::library::shown(path.as_os_str()))]
    Read { path: PathBuf, reason: String },
}

/// Where earmark keeps data that is not cache (the undo journal, temp-copy
/// markers); see [`journal::data_dir`].
pub fn journal_dir() -> Option<PathBuf> {
    journal::data_dir()
}

/// The tags a person cares about when deciding on a genre.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct TagSummary {
    pub title: Option<String>,
    pub artist: Option<String>,
    pub album: Option<String>,
    pub year: Option<String>,
    pub genres: Vec<String>,
    /// Tag formats present, as people call them ("ID3v2", "Vorbis comments").
    pub formats: Vec<String>,
    pub pictures: usize,
}

impl TagSummary {
    pub fn genre_display(&self) -> String {
        self.genres.join("; ")
    }
}

/// Every value a tag holds for `key`, joined with "; " as genres are: a
/// file with eleven TITLE comments shows them all, not one of them at random.
fn all_values(tag: &lofty::tag::Tag, key: ItemKey) -> Option<String> {
    join_distinct(tag.get_strings(key))
}

/// Values trimmed, blanks and repeats dropped, joined with "; ".
fn join_distinct<'a>(values: impl Iterator<Item = &'a str>) -> Option<String> {
    let mut kept: Vec<&str> = Vec::new();
    for v in values.map(str::trim).filter(|v| !v.is_empty()) {
        if !kept.contains(&v) {
            kept.push(v);
        }
    }
    (!kept.is_empty()).then(|| kept.join("; "))
}

/// Containers earmark decodes whose tags lofty can neither read nor write
/// (as `sniff` names them): read here by other means, never written.
pub(crate) const WITHOUT_LOFTY: &[&str] = &["Matroska/WebM", "CAF"];

/// A container with tags lofty cannot read ([`WITHOUT_LOFTY`]), by its
/// first bytes.
fn container_without_lofty(path: &Path) -> Option<&'static str> {
    use std::io::Read;
    let mut head = [0u8; 16];
    let n = std::fs::File::open(path)
        .and_then(|f| f.take(16).read(&mut head))
        .ok()?;
    match crate::audio::sniff(&head[..n]) {
        crate::audio::Sniffed::Audio(name) if WITHOUT_LOFTY.contains(&name) => Some(name),
        _ => None,
    }
}

/// A Matroska file's title, artist, album, date and genres from its
/// SimpleTags (names are upper case by the spec; matched regardless). A
/// file the decoder cannot open has none (its fault is said elsewhere).
fn matroska_tags(path: &Path) -> TagSummary {
    let Ok(mut stream) = crate::audio::AudioStream::open(path) else {
        return TagSummary::default();
    };
    let tags = stream.container_tags();
    let values = |name: &str| -> Vec<String> {
        tags.iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect()
    };
    let joined = |name: &str| Some(values(name).join("; ")).filter(|v| !v.is_empty());
    TagSummary {
        // ffmpeg (and yt-dlp) put the title in the Segment Info, not in Tags
        title: joined("TITLE").or_else(|| segment_title_of(path)),
        artist: joined("ARTIST"),
        album: joined("ALBUM"),
        year: values("DATE_RELEASED")
            .into_iter()
            .chain(values("DATE"))
            .next(),
        genres: values("GENRE"),
        formats: if tags.is_empty() {
            Vec::new()
        } else {
            vec!["Matroska".into()]
        },
        pictures: 0,
    }
}

/// The Segment Info's title, from the file's first MiB (where it sits,
/// before the first Cluster).
fn segment_title_of(path: &Path) -> Option<String> {
    use std::io::Read;
    let mut head = Vec::new();
    std::fs::File::open(path)
        .ok()?
        .take(1 << 20)
        .read_to_end(&mut head)
        .ok()?;
    crate::audio::segment_title(&head)
}

/// A tag format as people call it (`ID3v2`, not lofty's `Id3v2`).
fn tag_type_name(t: lofty::tag::TagType) -> String {
    use lofty::tag::TagType;
    match t {
        TagType::Ape => "APEv2",
        TagType::Id3v1 => "ID3v1",
        TagType::Id3v2 => "ID3v2",
        TagType::Mp4Ilst => "MP4 ilst",
        TagType::VorbisComments => "Vorbis comments",
        TagType::RiffInfo => "RIFF INFO",
        TagType::AiffText => "AIFF text",
        other => return format!("{other:?}"),
    }
    .to_string()
}

/// Read the tags of `path`. Formats lofty cannot tag (e.g. `.au`) give an empty summary.
pub fn read_tags(path: &Path) -> Result<TagSummary, TagError> {
    // Sun .au has no tag format; lofty would misread its samples as MPEG.
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    if ext.eq_ignore_ascii_case("au") || ext.eq_ignore_ascii_case("snd") {
        return Ok(TagSummary::default());
    }
    let err = |reason: String| TagError::Read {
        path: path.to_path_buf(),
        reason,
    };
    // Nor CAF and Matroska, which lofty does not know: guessing from their
    // content, it can take PCM samples for an AAC stream's sync word and
    // warn of a broken "Aac file". Matroska's own tags are read through the
    // decoder's demuxer (yt-dlp's WebM downloads carry title and artist).
    match container_without_lofty(path) {
        Some("Matroska/WebM") => return Ok(matroska_tags(path)),
        Some(_) => return Ok(TagSummary::default()),
        None => {}
    }
    let probe = lofty::probe::Probe::open(path)
        .map_err(|e| err(e.to_string()))?
        .guess_file_type()
        .map_err(|e| err(e.to_string()))?;
    if probe.file_type().is_none() {
        return Ok(TagSummary::default());
    }
    let tagged = match crate::audio::guard::catch_quietly(|| probe.read()) {
        Ok(Ok(tagged)) => tagged,
        _ => {
            // Tags `tag` reads and writes (a multiplexed Ogg's audio stream,
            // FLAC in Ogg, which lofty cannot parse) are shown, not warned of.
            return match write::read_genre_state_and_comments(path) {
                Ok((state, comments)) => {
                    let mut summary = TagSummary {
                        genres: state.display(),
                        ..Default::default()
                    };
                    if !comments.is_empty() {
                        summary.formats = vec![tag_type_name(lofty::tag::TagType::VorbisComments)];
                    }
                    in_file_order(&mut summary, &comments);
                    Ok(summary)
                }
                // the writer's reason where it has one: lofty calls a
                // video-only Ogg a broken MPEG file
                Err(e) => Err(err(e.reason)),
            };
        }
    };
    let mut summary = TagSummary {
        formats: tagged
            .tags()
            .iter()
            .map(|t| tag_type_name(t.tag_type()))
            .collect(),
        pictures: tagged.tags().iter().map(|t| t.pictures().len()).sum(),
        ..Default::default()
    };
    // Primary tag first, then any other, so the most specific value wins.
    let mut tags: Vec<&lofty::tag::Tag> = tagged.primary_tag().into_iter().collect();
    tags.extend(
        tagged
            .tags()
            .iter()
            .filter(|t| Some(t.tag_type()) != tagged.primary_tag().map(|p| p.tag_type())),
    );
    for tag in tags {
        let fill = |slot: &mut Option<String>, v: Option<String>| {
            if slot.is_none() {
                *slot = v;
            }
        };
        fill(&mut summary.title, all_values(tag, ItemKey::TrackTitle));
        fill(&mut summary.artist, all_values(tag, ItemKey::TrackArtist));
        fill(&mut summary.album, all_values(tag, ItemKey::AlbumTitle));
        if summary.year.is_none() {
            summary.year = tag
                .get_string(ItemKey::RecordingDate)
                .or_else(|| tag.get_string(ItemKey::Year))
                .map(str::to_string);
        }
        if summary.genres.is_empty() {
            summary.genres = tag
                .get_strings(ItemKey::Genre)
                .flat_map(split_genres)
                // ID3v1's "no genre", as lofty passes it on
                .filter(|g| g != "255" && g != "(255)")
                .collect();
        }
    }
    // The genre as `tag` sees it (ID3v2.3 '/' lists, every `©gen` value, a
    // QuickTime `meta`), so every front shows the same list; lofty's reading
    // stays for formats and tags earmark does not write (APE, ID3v1 only).
    if let Ok((state, comments)) = write::read_genre_state_and_comments(path) {
        let shown = state.display();
        if !shown.is_empty() {
            summary.genres = shown;
        }
        in_file_order(&mut summary, &comments);
    }
    Ok(summary)
}

/// A Vorbis-comment file's title, artist and album in the order its fields
/// stand (lofty's reorders repeated fields: a file of 11 `TITLE`s showed
/// them from the seventh, where mutagen and ffprobe start at the first).
fn in_file_order(summary: &mut TagSummary, comments: &[(String, String)]) {
    let joined = |key: &str| {
        join_distinct(
            comments
                .iter()
                .filter(|(k, _)| k == key)
                .map(|(_, v)| v.as_str()),
        )
    };
    for (slot, key) in [
        (&mut summary.title, "TITLE"),
        (&mut summary.artist, "ARTIST"),
        (&mut summary.album, "ALBUM"),
    ] {
        if let Some(v) = joined(key) {
            *slot = Some(v);
        }
    }
}

/// The genre name earmark writes for a model label: the conventional ID3v1 /
/// Winamp spelling ("hiphop" -> "Hip-Hop"), so players group it with what is
/// already in the library; labels it does not know are capitalised.
pub fn genre_tag_name(label: &str) -> String {
    match label.to_ascii_lowercase().as_str() {
        "hiphop" | "hip-hop" | "hip hop" => "Hip-Hop".to_string(),
        "rnb" | "r&b" => "R&B".to_string(),
        _ => {
            let mut c = label.chars();
            match c.next() {
                Some(f) => f.to_uppercase().chain(c).collect(),
                None => String::new(),
            }
        }
    }
}

#[cfg(test)]
mod genre_name_tests {
    use super::genre_tag_name;

    #[test]
    fn labels_become_conventional_names() {
        assert_eq!(genre_tag_name("hiphop"), "Hip-Hop");
        assert_eq!(genre_tag_name("blues"), "Blues");
        assert_eq!(genre_tag_name("classical"), "Classical");
        assert_eq!(genre_tag_name(""), "");
    }
}
