//! Per-format genre access through lofty's concrete file types, editing each
//! format's native tag in place (never through the generic `Tag`, which drops
//! frames it has no key for: chapters, private frames, unknown atoms).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

use lofty::config::{ParseOptions, ParsingMode};
use lofty::file::FileType;

use super::bytecheck::Layout;
use super::chunks::ChunkTags;
use super::flac::FlacMeta;
use super::id3::Id3Tag;
use super::mp4::Mp4Meta;
use super::ogg::OggTags;
use super::state::{GenreState, Slot, SlotValues};

/// Strict parsing: a tag lofty cannot read completely must not be rewritten
/// (a best-attempt parse would silently drop what it skipped). No implicit
/// conversions: ID3v2.3 frames, `gnre` atoms and `TRACKNUMBER=1/9` stay as stored.
pub(crate) fn parse_options() -> ParseOptions {
    ParseOptions::new()
        .parsing_mode(ParsingMode::Strict)
        .implicit_conversions(false)
        .read_properties(false)
}

/// A file's tags, held in lofty's type for its format.
pub(crate) enum Native {
    /// Our own ID3v2 writer (see `id3`), and the genre byte of an ID3v1
    /// trailer when the file ends with one.
    Mpeg(Id3Tag, Option<u8>),
    /// Our own FLAC writer (see `flac`).
    Flac(FlacMeta),
    /// Our own Ogg writer for Vorbis, Opus, Speex and FLAC in Ogg (see `ogg`).
    Ogg(OggTags),
    /// Our own MP4 writer (see `mp4`).
    Mp4(Mp4Meta),
    /// Our own WAV/AIFF writer (see `chunks`).
    Chunks(ChunkTags),
}

/// How many logical streams begin on the file's first pages (a
/// multiplexed file has several).
fn ogg_streams(file: &mut File) -> std::io::Result<usize> {
    file.seek(SeekFrom::Start(0))?;
    Ok(crate::audio::ogg_bos_pages(&mut std::io::BufReader::new(file))?.len())
}

/// What [`detect`] says of a file no tag reader recognises.
pub(crate) const UNRECOGNISED: &str = "unrecognised file format";

/// The lofty file type of an open file, or a reason it cannot be tagged.
pub(crate) fn detect(file: &mut File) -> Result<FileType, String> {
    file.seek(SeekFrom::Start(0)).map_err(|e| e.to_string())?;
    let probe = lofty::probe::Probe::new(&mut *file)
        .options(parse_options())
        .guess_file_type()
        .map_err(|e| e.to_string())?;
    let ft = probe.file_type();
    file.seek(SeekFrom::Start(0)).map_err(|e| e.to_string())?;
    let mut head = [0u8; 4];
    let got = file.read_exact(&mut head).is_ok();
    // Ogg files go to our own reader whatever lofty guessed (it calls a
    // multiplexed or FLAC-in-Ogg file MPEG).
    if got && &head == b"OggS" {
        return Ok(FileType::Vorbis);
    }
    if got && &head == b"RF64" {
        return Err("RF64 (64-bit WAV) files are not written: the tag layout is not verified; tag it with another program".into());
    }
    if matches!(
        ft,
        Some(FileType::Vorbis | FileType::Opus | FileType::Speex)
    ) && ogg_streams(file).map_err(|e| e.to_string())? > 1
    {
        return Err("it is a multiplexed Ogg file (several streams), which earmark does not rewrite; tag it with another program".into());
    }
    // "MPEG" with no ID3 tag in front may be another container lofty
    // mistook (a WebM): refused here as a format, not as a tag problem.
    if ft == Some(FileType::Mpeg) && got && &head[..3] != b"ID3" {
        mpeg_payload(file, 0)?;
    }
    file.seek(SeekFrom::Start(0)).map_err(|e| e.to_string())?;
    match ft {
        Some(
            ft @ (FileType::Mpeg
            | FileType::Flac
            | FileType::Vorbis
            | FileType::Opus
            | FileType::Speex
            | FileType::Mp4
            | FileType::Wav
            | FileType::Aiff),
        ) => Ok(ft),
        Some(other) => Err(unsupported(other)),
        None if mpeg_behind_id3_tags(file).is_some() => Ok(FileType::Mpeg),
        None => Err(id3_past_the_end(file).unwrap_or_else(|| UNRECOGNISED.into())),
    }
}

/// Where MPEG audio begins behind a file's leading ID3v2 tags, where lofty
/// found none: some taggers add a second tag, padded, behind the first
/// (instead of rewriting it), and lofty's probe does not look past it.
/// Consecutive tags and zero padding are skipped (at most 8 tags and 1 MiB
/// of padding), then a plausible MPEG frame header must follow; the write
/// still checks the decoded audio before and after.
fn mpeg_behind_id3_tags(file: &mut File) -> Option<u64> {
    let len = file.metadata().ok()?.len();
    let mut at = 0u64;
    for tags in 0.. {
        let mut head = [0u8; 10];
        file.seek(SeekFrom::Start(at)).ok()?;
        file.read_exact(&mut head).ok()?;
        match crate::audio::id3v2_end(&head) {
            Some(end) if tags < 8 && at + end < len => at += end,
            Some(_) => return None,
            None if tags == 0 => return None,
            None => break,
        }
    }
    let mut buf = vec![0u8; 64 * 1024];
    let mut scanned = 0u64;
    while scanned < 1 << 20 {
        file.seek(SeekFrom::Start(at)).ok()?;
        let n = crate::audio::au::read_up_to(file, &mut buf).ok()?;
        match buf[..n].iter().position(|&b| b != 0) {
            Some(i) if n - i >= 4 => {
                return plausible_mpeg_header(&buf[i..i + 4]).then_some(at + i as u64);
            }
            // a header cut by the buffer's end: read again from its first byte
            Some(i) if n == buf.len() => at += i as u64,
            Some(_) => return None,
            None if n == buf.len() => at += n as u64,
            None => return None,
        }
        scanned += n as u64;
    }
    None
}

/// Frame sync, and no reserved version, layer, bitrate or sample rate.
fn plausible_mpeg_header(h: &[u8]) -> bool {
    h[0] == 0xFF
        && h[1] & 0xE0 == 0xE0
        && (h[1] >> 3) & 3 != 1
        && (h[1] >> 1) & 3 != 0
        && h[2] >> 4 != 15
        && (h[2] >> 2) & 3 != 3
}

/// Why a recognised format is refused, naming it as people do (a file's
/// content decides, whatever its name says: an `.aif` may hold AAC).
fn unsupported(ft: FileType) -> String {
    let name = match ft {
        FileType::Aac => "AAC (ADTS)".to_string(),
        FileType::Ape => "Monkey's Audio (APE)".to_string(),
        FileType::Mpc => "Musepack".to_string(),
        FileType::WavPack => "WavPack".to_string(),
        other => format!("{other:?}"),
    };
    format_not_written(&name)
}

/// Why a file of a format earmark knows, and does not tag, is not written.
pub(crate) fn format_not_written(name: &str) -> String {
    format!(
        "its content reads as {name}, which earmark does not write genres to; tag it with another program"
    )
}

/// "its ID3v2 tag claims 5112 bytes…": why a file that starts as an MP3 is not
/// one lofty recognises, when its tag runs past the end of the file.
fn id3_past_the_end(file: &mut File) -> Option<String> {
    let mut head = [0u8; 10];
    file.seek(SeekFrom::Start(0)).ok()?;
    file.read_exact(&mut head).ok()?;
    if &head[..3] != b"ID3" || head[6..].iter().any(|b| b & 0x80 != 0) {
        return None;
    }
    // A syncsafe size (7 bits a byte) after the 10-byte header.
    let size = head[6..].iter().fold(0u64, |n, &b| (n << 7) | u64::from(b)) + 10;
    let len = file.metadata().ok()?.len();
    (size > len).then(|| {
        format!("its ID3v2 tag claims {size} bytes but the file has {len} (truncated or damaged)")
    })
}

/// What follows the ID3v2 tag must not be another container (lofty calls an
/// Ogg or FLAC file behind an ID3 tag, or with junk in front, MPEG).
fn mpeg_payload(file: &mut File, at: u64) -> Result<(), String> {
    let mut head = [0u8; 64];
    file.seek(SeekFrom::Start(at)).map_err(|e| e.to_string())?;
    let n = file.read(&mut head).map_err(|e| e.to_string())?;
    match crate::audio::sniff(&head[..n]) {
        crate::audio::Sniffed::Audio("MP3" | "MPEG audio") | crate::audio::Sniffed::Unknown => {
            Ok(())
        }
        // Nothing in front: the file simply is that other container.
        crate::audio::Sniffed::Audio(what)
        | crate::audio::Sniffed::Undecodable(what)
        | crate::audio::Sniffed::Other(what)
            if at == 0 =>
        {
            Err(format_not_written(what))
        }
        crate::audio::Sniffed::Audio(what)
        | crate::audio::Sniffed::Undecodable(what)
        | crate::audio::Sniffed::Other(what) => Err(format!(
            "it holds {what} data behind an ID3v2 tag, where MPEG audio should be, so it is not rewritten as an MP3; tag it with another program"
        )),
    }
}

/// A parse of our own, refused when its genre cannot be decoded.
fn read_checked<T>(
    parsed: Result<T, String>,
    genres: impl Fn(&T) -> Result<Vec<String>, String>,
) -> Result<T, String> {
    let t = parsed?;
    genres(&t)?;
    Ok(t)
}

impl Native {
    pub(crate) fn read(file: &mut File, ft: FileType) -> Result<Native, String> {
        file.seek(SeekFrom::Start(0)).map_err(|e| e.to_string())?;
        // lofty can panic on hostile files; that is a parse error here, not a crash.
        let parsed = crate::audio::guard::catch_quietly(|| -> Result<Native, String> {
            Ok(match ft {
                FileType::Mpeg => {
                    let tag = read_checked(Id3Tag::read(file), Id3Tag::genres)?;
                    mpeg_payload(file, tag.len)?;
                    let v1 = super::id3::v1_genre(file).map_err(|e| e.to_string())?;
                    Native::Mpeg(tag, v1)
                }
                FileType::Flac => {
                    Native::Flac(read_checked(FlacMeta::read(file), FlacMeta::genres)?)
                }
                FileType::Vorbis | FileType::Opus | FileType::Speex => {
                    Native::Ogg(OggTags::read(file)?)
                }
                FileType::Mp4 => Native::Mp4(Mp4Meta::read(file)?),
                FileType::Wav | FileType::Aiff => {
                    Native::Chunks(read_checked(ChunkTags::read(file), |t| t.id3.genres())?)
                }
                other => return Err(unsupported(other)),
            })
        });
        let native = parsed.map_err(|_| {
            "the tag reader failed on malformed data; not rewriting it".to_string()
        })??;
        Ok(native)
    }

    /// A Vorbis-comment file's entries in order (empty for other formats).
    pub(crate) fn comment_entries(&self) -> Vec<(String, String)> {
        match self {
            Native::Flac(m) => m.comment_entries(),
            Native::Ogg(t) => t.comment_entries(),
            _ => Vec::new(),
        }
    }

    /// The genre values per slot, as stored.
    pub(crate) fn state(&self) -> GenreState {
        let slot = |slot: Slot, values: Vec<String>| SlotValues { slot, values };
        let slots = match self {
            Native::Mpeg(t, v1) => {
                let v2 = if t.major <= 3 {
                    Slot::Id3v23
                } else {
                    Slot::Id3v2
                };
                let mut v = vec![slot(v2, t.genres().unwrap_or_default())];
                if let Some(code) = v1 {
                    // 255: ID3v1's "no genre"
                    let values = (*code != 255).then(|| code.to_string());
                    v.push(slot(Slot::Id3v1, values.into_iter().collect()));
                }
                v
            }
            Native::Chunks(t) => {
                let id3 = if t.id3.major <= 3 {
                    Slot::Id3v23
                } else {
                    Slot::Id3v2
                };
                let mut v = vec![slot(id3, t.id3.genres().unwrap_or_default())];
                if let Some(info) = t.info_genre() {
                    v.push(slot(Slot::RiffInfo, info));
                }
                v
            }
            Native::Flac(m) => vec![slot(Slot::Vorbis, m.genres().unwrap_or_default())],
            Native::Ogg(t) => vec![slot(Slot::Vorbis, t.genres().unwrap_or_default())],
            Native::Mp4(m) => vec![
                slot(Slot::Mp4Gen, m.values(Slot::Mp4Gen)),
                slot(Slot::Mp4Gnre, m.values(Slot::Mp4Gnre)),
            ],
        };
        GenreState { slots }
    }

    /// The layout a byte-level check covers, if any (see `bytecheck`).
    /// An MPEG file with no ID3v2 tag: only its audio says it is MPEG (lofty
    /// guesses MPEG from a frame sync anywhere in the first bytes).
    pub(crate) fn is_untagged_mpeg(&self) -> bool {
        matches!(self, Native::Mpeg(t, _) if t.len == 0)
    }

    pub(crate) fn layout(&self) -> Option<Layout> {
        match self {
            Native::Mpeg(..) => Some(Layout::Id3Mpeg),
            Native::Flac(_) => Some(Layout::Flac),
            Native::Mp4(_) => Some(Layout::Mp4),
            Native::Chunks(_) => Some(Layout::Chunks),
            Native::Ogg(_) => Some(Layout::Ogg),
        }
    }

    /// Set every slot to its value in `target` (slots the file lacks are created).
    pub(crate) fn apply(&mut self, target: &GenreState) -> Result<(), String> {
        for s in &target.slots {
            let v = s.values.as_slice();
            match (&mut *self, s.slot) {
                (Native::Mpeg(t, _), Slot::Id3v2 | Slot::Id3v23) => t.set_genres(v)?,
                (Native::Mpeg(_, Some(code)), Slot::Id3v1) => {
                    *code = match v {
                        [] => 255,
                        [n] => n
                            .parse()
                            .map_err(|_| format!("not an ID3v1 genre code: {n}"))?,
                        _ => return Err("ID3v1 holds one genre".into()),
                    }
                }
                (Native::Chunks(t), Slot::Id3v2 | Slot::Id3v23) => t.id3.set_genres(v)?,
                (Native::Chunks(t), Slot::RiffInfo) => t.set_info_genre(v)?,
                (Native::Flac(m), Slot::Vorbis) => m.set_genres(v)?,
                (Native::Ogg(t), Slot::Vorbis) => t.set_genres(v)?,
                (Native::Mp4(m), slot @ (Slot::Mp4Gen | Slot::Mp4Gnre)) => m.set(slot, v)?,
                (_, slot) => return Err(format!("this format has no {slot:?} genre field")),
            }
        }
        Ok(())
    }

    /// Write the tags that carry genres into `file` (already holding a copy of
    /// the audio file). Only those tags are rewritten; lofty leaves the rest of
    /// the file (other tags, audio) as it is.
    pub(crate) fn save(&mut self, file: &mut File) -> Result<(), lofty::error::FileEncodingError> {
        match self {
            Native::Mpeg(t, v1) => {
                t.save(file)?;
                if let Some(code) = v1 {
                    super::id3::set_v1_genre(file, *code)?;
                }
            }
            Native::Flac(m) => m.save(file)?,
            Native::Chunks(t) => t.save(file)?,
            Native::Ogg(t) => t.save(file)?,
            Native::Mp4(m) => m.save(file)?,
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_multiplexed_ogg_streams() {
        // Two BOS pages (Theora, then Vorbis), then a data page.
        let page = |bos: bool, serial: u8, body: &[u8]| {
            let mut p = b"OggS\0".to_vec();
            p.push(if bos { 2 } else { 0 });
            p.extend([0; 8]);
            p.extend([serial, 0, 0, 0]);
            p.extend([0; 8]);
            p.push(1);
            p.push(body.len() as u8);
            p.extend(body);
            p
        };
        let bytes = [
            page(true, 0, b"\x80theora"),
            page(true, 1, b"\x01vorbis"),
            page(false, 0, b"data"),
        ]
        .concat();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.ogg");
        std::fs::write(&p, bytes).unwrap();
        let mut f = std::fs::File::open(&p).unwrap();
        assert_eq!(super::ogg_streams(&mut f).unwrap(), 2);
    }

    #[test]
    fn an_id3_tag_longer_than_its_file_is_named_as_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("cut.mp3");
        // ID3v2.4, size 0x27 0x6e (syncsafe: 5102 + 10 bytes), then 30 bytes.
        let mut bytes = b"ID3\x04\0\0\0\0\x27\x6e".to_vec();
        bytes.extend(b"TIT2\0\0\0\x05\0\0\x03Bush".iter().chain([0u8; 15].iter()));
        std::fs::write(&p, &bytes).unwrap();
        let mut f = std::fs::File::open(&p).unwrap();
        assert_eq!(
            super::detect(&mut f).unwrap_err(),
            "its ID3v2 tag claims 5112 bytes but the file has 40 (truncated or damaged)"
        );
        // Not an ID3 start: nothing to say beyond "unrecognised".
        std::fs::write(&p, b"just some text, not audio at all").unwrap();
        let mut f = std::fs::File::open(&p).unwrap();
        assert_eq!(
            super::detect(&mut f).unwrap_err(),
            "unrecognised file format"
        );
    }
}
