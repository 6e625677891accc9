//! Per-format genre access through lofty's concrete file types, editing each
//! format's native tag in place (never through the generic `Tag`, which drops
//! frames it has no key for: chapters, private frames, unknown atoms).

use std::borrow::Cow;
use std::fs::File;
use std::io::{Seek, SeekFrom};

use lofty::TextEncoding;
use lofty::config::{ParseOptions, ParsingMode, WriteOptions};
use lofty::file::{AudioFile, FileType};
use lofty::id3::v2::{Frame, FrameId, Id3v2Tag, Id3v2Version, TextInformationFrame};
use lofty::iff::aiff::AiffFile;
use lofty::iff::wav::{RiffInfoList, WavFile};
use lofty::mp4::{Atom, AtomData, AtomIdent, DataType, Ilst, Mp4File};
use lofty::ogg::tag::VorbisComments;
use lofty::ogg::{OpusFile, SpeexFile, VorbisFile};
use lofty::prelude::*;
use sha2::{Digest, Sha256};

use super::bytecheck::Layout;
use super::flac::FlacMeta;
use super::id3::Id3Tag;
use super::state::{GenreState, Slot, SlotValues, split_tcon};

const TCON: FrameId<'static> = FrameId::Valid(Cow::Borrowed("TCON"));
const GEN: AtomIdent<'static> = AtomIdent::Fourcc(*b"\xa9gen");
const GNRE: AtomIdent<'static> = AtomIdent::Fourcc(*b"gnre");

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
    /// Our own ID3v2 writer (see `id3`).
    Mpeg(Id3Tag),
    /// Our own FLAC writer (see `flac`).
    Flac(FlacMeta),
    Vorbis(VorbisFile),
    Opus(OpusFile),
    Speex(SpeexFile),
    Mp4(Mp4File),
    Wav(WavFile),
    Aiff(AiffFile),
}

/// The lofty file type of an open file, or a reason it cannot be tagged.
pub(crate) fn detect(file: &mut File) -> Result<FileType, String> {
    file.seek(SeekFrom::Start(0)).map_err(|e| e.to_string())?;
    let probe = lofty::probe::Probe::new(&mut *file)
        .options(parse_options())
        .guess_file_type()
        .map_err(|e| e.to_string())?;
    let ft = probe.file_type();
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
        Some(other) => Err(format!(
            "writing genres to {other:?} files is not supported"
        )),
        None => Err("unrecognised file format".into()),
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
        let o = parse_options();
        let e = |e: lofty::error::FileParseError| {
            format!("cannot parse the existing tags exactly ({e}); not rewriting them")
        };
        // lofty can panic on hostile files; that is a parse error here, not a crash.
        let parsed = crate::audio::guard::catch_quietly(|| -> Result<Native, String> {
            Ok(match ft {
                FileType::Mpeg => Native::Mpeg(read_checked(Id3Tag::read(file), Id3Tag::genres)?),
                FileType::Flac => {
                    Native::Flac(read_checked(FlacMeta::read(file), FlacMeta::genres)?)
                }
                FileType::Vorbis => Native::Vorbis(VorbisFile::read_from(file, o).map_err(e)?),
                FileType::Opus => Native::Opus(OpusFile::read_from(file, o).map_err(e)?),
                FileType::Speex => Native::Speex(SpeexFile::read_from(file, o).map_err(e)?),
                FileType::Mp4 => Native::Mp4(Mp4File::read_from(file, o).map_err(e)?),
                FileType::Wav => Native::Wav(WavFile::read_from(file, o).map_err(e)?),
                FileType::Aiff => Native::Aiff(AiffFile::read_from(file, o).map_err(e)?),
                other => {
                    return Err(format!(
                        "writing genres to {other:?} files is not supported"
                    ));
                }
            })
        });
        let native = parsed.map_err(|_| {
            "the tag reader failed on malformed data; not rewriting it".to_string()
        })??;
        Ok(native)
    }

    /// The genre values per slot, as stored.
    pub(crate) fn state(&self) -> GenreState {
        let slot = |slot: Slot, values: Vec<String>| SlotValues { slot, values };
        let slots = match self {
            Native::Mpeg(t) => vec![SlotValues {
                slot: if t.major == 3 {
                    Slot::Id3v23
                } else {
                    Slot::Id3v2
                },
                values: t.genres().unwrap_or_default(),
            }],
            Native::Aiff(f) => vec![id3_slot(f.id3v2())],
            Native::Wav(f) => {
                let mut v = vec![id3_slot(f.id3v2())];
                if let Some(info) = f.riff_info() {
                    v.push(slot(
                        Slot::RiffInfo,
                        info.get("IGNR")
                            .map(|s| vec![s.to_string()])
                            .unwrap_or_default(),
                    ));
                }
                v
            }
            Native::Flac(m) => vec![slot(Slot::Vorbis, m.genres().unwrap_or_default())],
            Native::Vorbis(f) => vec![slot(Slot::Vorbis, vc_get(f.vorbis_comments()))],
            Native::Opus(f) => vec![slot(Slot::Vorbis, vc_get(f.vorbis_comments()))],
            Native::Speex(f) => vec![slot(Slot::Vorbis, vc_get(f.vorbis_comments()))],
            Native::Mp4(f) => {
                let ilst = f.ilst();
                vec![
                    slot(Slot::Mp4Gen, ilst.map(mp4_gen).unwrap_or_default()),
                    slot(Slot::Mp4Gnre, ilst.map(mp4_gnre).unwrap_or_default()),
                ]
            }
        };
        GenreState { slots }
    }

    /// The layout a byte-level check covers, if any (see `bytecheck`).
    pub(crate) fn layout(&self) -> Option<Layout> {
        match self {
            Native::Mpeg(_) => Some(Layout::Id3Mpeg),
            Native::Flac(_) => Some(Layout::Flac),
            _ => None,
        }
    }

    /// Set every slot to its value in `target` (slots the file lacks are created).
    pub(crate) fn apply(&mut self, target: &GenreState) -> Result<(), String> {
        for s in &target.slots {
            let v = s.values.as_slice();
            match (&mut *self, s.slot) {
                (Native::Mpeg(t), Slot::Id3v2 | Slot::Id3v23) => t.set_genres(v)?,
                (Native::Aiff(f), Slot::Id3v2 | Slot::Id3v23) => {
                    if f.id3v2().is_none() {
                        f.set_id3v2(Id3v2Tag::new());
                    }
                    id3_set(f.id3v2_mut().expect("just set"), v)
                }
                (Native::Wav(f), Slot::Id3v2 | Slot::Id3v23) => {
                    if f.id3v2().is_none() {
                        f.set_id3v2(Id3v2Tag::new());
                    }
                    id3_set(f.id3v2_mut().expect("just set"), v)
                }
                (Native::Wav(f), Slot::RiffInfo) => {
                    if f.riff_info().is_none() {
                        f.set_riff_info(RiffInfoList::default());
                    }
                    let info = f.riff_info_mut().expect("just set");
                    match v.first() {
                        Some(text) => info.insert("IGNR".into(), text.clone()),
                        None => {
                            info.remove("IGNR");
                        }
                    }
                }
                (Native::Flac(m), Slot::Vorbis) => m.set_genres(v)?,
                (Native::Vorbis(f), Slot::Vorbis) => vc_set(f.vorbis_comments_mut(), v),
                (Native::Opus(f), Slot::Vorbis) => vc_set(f.vorbis_comments_mut(), v),
                (Native::Speex(f), Slot::Vorbis) => vc_set(f.vorbis_comments_mut(), v),
                (Native::Mp4(f), Slot::Mp4Gen | Slot::Mp4Gnre) => {
                    if f.ilst().is_none() {
                        f.set_ilst(Ilst::default());
                    }
                    let ilst = f.ilst_mut().expect("just set");
                    if s.slot == Slot::Mp4Gen {
                        mp4_set_gen(ilst, v);
                    } else {
                        mp4_set_gnre(ilst, v)?;
                    }
                }
                (_, slot) => return Err(format!("this format has no {slot:?} genre field")),
            }
        }
        Ok(())
    }

    /// Write the tags that carry genres into `file` (already holding a copy of
    /// the audio file). Only those tags are rewritten; lofty leaves the rest of
    /// the file (other tags, audio) as it is.
    pub(crate) fn save(&mut self, file: &mut File) -> Result<(), lofty::error::FileEncodingError> {
        let opts = WriteOptions::new().lossy_text_encoding(false);
        let rewind = |file: &mut File| file.seek(SeekFrom::Start(0)).map(|_| ());
        match self {
            Native::Mpeg(t) => t.save(file)?,
            Native::Flac(m) => m.save(file)?,
            Native::Aiff(f) => {
                if let Some(t) = f.id3v2() {
                    rewind(file)?;
                    t.save_to(file, id3_opts(t, opts))?;
                }
                super::iff::aiff_sound_last(file)?;
            }
            Native::Wav(f) => {
                if let Some(t) = f.id3v2() {
                    rewind(file)?;
                    t.save_to(file, id3_opts(t, opts))?;
                }
                if let Some(t) = f.riff_info() {
                    rewind(file)?;
                    t.save_to(file, opts)?;
                }
            }
            Native::Vorbis(f) => {
                rewind(file)?;
                f.vorbis_comments().save_to(file, opts)?;
            }
            Native::Opus(f) => {
                rewind(file)?;
                f.vorbis_comments().save_to(file, opts)?;
            }
            Native::Speex(f) => {
                rewind(file)?;
                f.vorbis_comments().save_to(file, opts)?;
            }
            Native::Mp4(f) => {
                if let Some(t) = f.ilst() {
                    rewind(file)?;
                    t.save_to(file, opts)?;
                }
            }
        }
        Ok(())
    }

    /// A digest of everything in the tags except the genre fields: each tag
    /// with its genre removed, serialised by lofty, then hashed; pictures kept
    /// outside tags (FLAC) hashed with their data. Equal before and after a
    /// write means nothing else changed.
    pub(crate) fn snapshot(&self) -> Vec<(String, String)> {
        let opts = WriteOptions::new().preferred_padding(0);
        let mut out = Vec::new();
        // A tag left empty once the genre is set aside is as good as absent
        // (lofty drops empty tags when writing).
        let mut add_tag = |label: &str, tag: &dyn DumpTag| {
            if !tag.empty() {
                out.push((label.to_string(), tag.digest(opts)));
            }
        };
        match self {
            // Checked byte for byte instead (see `bytecheck`).
            Native::Mpeg(_) | Native::Flac(_) => {}
            Native::Aiff(f) => {
                if let Some(t) = f.id3v2() {
                    add_tag("ID3v2", &without_tcon(t));
                }
                if let Some(t) = f.text_chunks() {
                    add_tag("AIFF text chunks", t);
                }
            }
            Native::Wav(f) => {
                if let Some(t) = f.id3v2() {
                    add_tag("ID3v2", &without_tcon(t));
                }
                if let Some(t) = f.riff_info() {
                    let mut t = t.clone();
                    t.remove("IGNR");
                    add_tag("RIFF INFO", &t);
                }
            }
            Native::Vorbis(f) => add_tag("Vorbis comments", &without_genre(f.vorbis_comments())),
            Native::Opus(f) => add_tag("Vorbis comments", &without_genre(f.vorbis_comments())),
            Native::Speex(f) => add_tag("Vorbis comments", &without_genre(f.vorbis_comments())),
            Native::Mp4(f) => {
                if let Some(t) = f.ilst() {
                    // Atom order is not meaningful in ilst: compare them as a sorted set.
                    let mut atoms: Vec<String> = t
                        .clone()
                        .into_iter()
                        .filter(|a| a.ident() != &GEN && a.ident() != &GNRE)
                        .map(|a| {
                            let mut one = Ilst::default();
                            one.insert(a);
                            one.digest(opts)
                        })
                        .collect();
                    atoms.sort();
                    let mut h = Sha256::new();
                    for a in atoms {
                        h.update(a.as_bytes());
                    }
                    out.push(("MP4 ilst".into(), hex::encode(h.finalize())));
                }
            }
        }
        out
    }
}

/// Write ID3v2.3 tags back as v2.3 (lofty defaults to v2.4).
fn id3_opts(tag: &Id3v2Tag, mut opts: WriteOptions) -> WriteOptions {
    opts.use_id3v23(tag.original_version() == Id3v2Version::V3)
}

/// The ID3v2 genre slot: v2.3 tags stay v2.3 and get their own slot kind.
fn id3_slot(tag: Option<&Id3v2Tag>) -> SlotValues {
    match tag {
        Some(t) if t.original_version() == Id3v2Version::V3 => SlotValues {
            slot: Slot::Id3v23,
            values: id3_get(t),
        },
        _ => SlotValues {
            slot: Slot::Id3v2,
            values: tag.map(id3_get).unwrap_or_default(),
        },
    }
}

fn id3_get(tag: &Id3v2Tag) -> Vec<String> {
    match tag.get(&TCON) {
        Some(Frame::Text(f)) => split_tcon(&f.value),
        _ => Vec::new(),
    }
}

/// Set TCON in place (keeping its position, flags and encoding where the
/// encoding can hold the new text), or add it; empty removes it.
fn id3_set(tag: &mut Id3v2Tag, values: &[String]) {
    if values.is_empty() {
        tag.retain(|f| f.id() != &TCON);
        return;
    }
    let joined = values.join("\0");
    let latin1 = joined.chars().all(|c| u32::from(c) <= 0xFF);
    let mut done = false;
    tag.retain_mut(|frame| {
        if frame.id() != &TCON {
            return true;
        }
        if done {
            return false; // a second TCON: drop it
        }
        if let Frame::Text(t) = frame {
            t.value = Cow::Owned(joined.clone());
            if t.encoding == TextEncoding::Latin1 && !latin1 {
                t.encoding = TextEncoding::UTF16;
            }
            done = true;
            true
        } else {
            false
        }
    });
    if !done {
        let encoding = if latin1 {
            TextEncoding::Latin1
        } else {
            TextEncoding::UTF16
        };
        tag.insert(Frame::Text(TextInformationFrame::new(
            TCON, encoding, joined,
        )));
    }
}

fn vc_get(vc: &VorbisComments) -> Vec<String> {
    vc.get_all("GENRE").map(str::to_string).collect()
}

/// Replace the GENRE fields, putting the new ones where the first old one was.
fn vc_set(vc: &mut VorbisComments, values: &[String]) {
    let items: Vec<(String, String)> = vc.take_items().collect();
    let key = items
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("GENRE"))
        .map_or_else(|| "GENRE".to_string(), |(k, _)| k.clone());
    let mut placed = false;
    for (k, v) in items {
        if k.eq_ignore_ascii_case("GENRE") {
            if !placed {
                for g in values {
                    vc.push(key.clone(), g.clone());
                }
                placed = true;
            }
        } else {
            vc.push(k, v);
        }
    }
    if !placed {
        for g in values {
            vc.push(key.clone(), g.clone());
        }
    }
}

fn mp4_gen(ilst: &Ilst) -> Vec<String> {
    ilst.get(&GEN)
        .map(|a| {
            a.data()
                .filter_map(|d| match d {
                    AtomData::UTF8(s) | AtomData::UTF16(s) => Some(s.clone()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

fn mp4_gnre(ilst: &Ilst) -> Vec<String> {
    ilst.get(&GNRE)
        .map(|a| {
            a.data()
                .filter_map(|d| match d {
                    AtomData::Unknown { data, .. } if data.len() >= 2 => {
                        Some(u16::from_be_bytes([data[0], data[1]]).to_string())
                    }
                    AtomData::SignedInteger(n) => Some(n.to_string()),
                    AtomData::UnsignedInteger(n) => Some(n.to_string()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

fn mp4_set_gen(ilst: &mut Ilst, values: &[String]) {
    ilst.retain(|a| a.ident() != &GEN);
    let data: Vec<AtomData> = values.iter().map(|v| AtomData::UTF8(v.clone())).collect();
    if let Some(atom) = Atom::from_collection(GEN, data) {
        ilst.insert(atom);
    }
}

fn mp4_set_gnre(ilst: &mut Ilst, values: &[String]) -> Result<(), String> {
    ilst.retain(|a| a.ident() != &GNRE);
    let mut data = Vec::new();
    for v in values {
        let n: u16 = v.parse().map_err(|_| format!("bad gnre value {v:?}"))?;
        data.push(AtomData::Unknown {
            code: DataType::Reserved,
            data: n.to_be_bytes().to_vec(),
        });
    }
    if let Some(atom) = Atom::from_collection(GNRE, data) {
        ilst.insert(atom);
    }
    Ok(())
}

// Note: lofty's `remove` methods reorder the remaining items; `retain` and
// rebuilding keep the order, which the snapshot and the written file rely on.
fn without_tcon(tag: &Id3v2Tag) -> Id3v2Tag {
    let mut t = tag.clone();
    t.retain(|f| f.id() != &TCON);
    t
}

fn without_genre(vc: &VorbisComments) -> VorbisComments {
    let mut t = vc.clone();
    vc_set(&mut t, &[]);
    t
}

/// Hash of a tag as lofty serialises it.
trait DumpTag {
    fn digest(&self, opts: WriteOptions) -> String;
    fn empty(&self) -> bool;
}

impl<T: TagExt> DumpTag for T {
    fn empty(&self) -> bool {
        self.is_empty()
    }

    fn digest(&self, opts: WriteOptions) -> String {
        let mut bytes = Vec::new();
        let mut h = Sha256::new();
        match self.dump_to(&mut bytes, opts) {
            Ok(()) => h.update(&bytes),
            // Not serialisable on its own: fall back to its item count.
            Err(e) => h.update(format!("unserialisable: {e}; {} items", self.len()).as_bytes()),
        }
        hex::encode(h.finalize())
    }
}
