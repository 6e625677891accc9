//! Matroska/WebM element sizes checked before symphonia reads them. Its
//! reader checks a string or binary element against the end of the element
//! that holds it, but never that element's own size against its parent or
//! the file: a `Tracks` that claims 2^56 bytes lets a `CodecPrivate` inside
//! claim as much, and symphonia allocates it before reading (an allocation
//! failure cannot be caught: a 4 KB file aborted the process). So do lace
//! sizes inside a block, and the Vorbis codebooks in a track's CodecPrivate.
//!
//! symphonia reads a file in several walks, and each is followed here:
//! the EBML header and the Segment's children up to the first Cluster (the
//! header elements read whole), the elements its SeekHead points at, and
//! then everything from the Segment's start, flat (descending into every
//! master element), as packets are read, also from where its Cues point.
//! Elements read whole (`READ_WHOLE`) must fit in the element that holds
//! them, whatever their depth; every other element with a known size must
//! fit in its parent, except where the parent reaches the end of the file:
//! a cut-short file (a Segment or Cluster past the end) is read as far as
//! it goes, as symphonia reads it.

use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use super::AudioError;
use super::au::read_up_to;
use super::vorbis_setup::codebooks_fit;
use super::walk::Walk;

const EBML: u32 = 0x1A45_DFA3;
const SEGMENT: u32 = 0x1853_8067;
const SEEK_HEAD: u32 = 0x114D_9B74;
const SEEK: u32 = 0x4DBB;
const SEEK_ID: u32 = 0x53AB;
const SEEK_POSITION: u32 = 0x53AC;
const INFO: u32 = 0x1549_A966;
const CLUSTER: u32 = 0x1F43_B675;
const BLOCK_GROUP: u32 = 0xA0;
const BLOCK: u32 = 0xA1;
const SIMPLE_BLOCK: u32 = 0xA3;
const TRACKS: u32 = 0x1654_AE6B;
const TRACK_ENTRY: u32 = 0xAE;
const AUDIO: u32 = 0xE1;
const CODEC_ID: u32 = 0x86;
const CODEC_PRIVATE: u32 = 0x63A2;
const CUES: u32 = 0x1C53_BB6B;
const CUE_POINT: u32 = 0xBB;
const CUE_TRACK_POSITIONS: u32 = 0xB7;
const CUE_CLUSTER_POSITION: u32 = 0xF1;
const TAGS: u32 = 0x1254_C367;
const TAG: u32 = 0x7373;
const SIMPLE_TAG: u32 = 0x67C8;

/// Master elements symphonia knows: its flat walk descends into them.
const MASTERS: &[u32] = &[
    EBML,
    SEGMENT,
    SEEK_HEAD,
    SEEK,
    INFO,
    CLUSTER,
    BLOCK_GROUP,
    0x75A1,
    0xA6,
    TRACKS,
    TRACK_ENTRY,
    0xE0,
    AUDIO,
    0x6D80,
    0x6240,
    0x5035,
    0x47E7,
    0x55B0,
    0x55D0,
    CUES,
    CUE_POINT,
    CUE_TRACK_POSITIONS,
    0x1043_A770,
    0x45B9,
    0xB6,
    0x80,
    TAGS,
    TAG,
    0x63C0,
    SIMPLE_TAG,
];
/// Masters symphonia reads whole, their children against their end.
const READ_WHOLE: &[u32] = &[
    EBML,
    SEEK_HEAD,
    SEEK,
    INFO,
    TRACKS,
    TRACK_ENTRY,
    AUDIO,
    CUES,
    CUE_POINT,
    CUE_TRACK_POSITIONS,
    TAGS,
    TAG,
    SIMPLE_TAG,
    BLOCK_GROUP,
];
/// What symphonia looks for past a byte that cannot start an element ID.
const TOP_LEVEL: &[u32] = &[CLUSTER, CUES, INFO, SEEK_HEAD, TAGS, TRACKS];
/// An element read whole may run this far past the end of a cut-short
/// file: symphonia allocates what it claims before finding the end.
const MAX_CUT: u64 = 16 << 20;
/// A CodecPrivate is read (to check Vorbis headers) up to this size.
const MAX_PRIVATE: u64 = 16 << 20;
/// Cues that point where no Cluster starts, each walked from there.
const MAX_STRAY_CUES: usize = 16;
const TOO_LARGE_CODEBOOKS: &str =
    "its Vorbis setup header claims codebooks far larger than any encoder writes";

/// Walk the Matroska file whose EBML header is at `start`.
pub fn check<R: Read + Seek>(
    r: &mut R,
    start: u64,
    file_len: u64,
    path: &Path,
) -> Result<(), AudioError> {
    r.seek(SeekFrom::Start(start))
        .map_err(|e| AudioError::io(path, e))?;
    let mut w = Walker {
        r: BufReader::with_capacity(64 << 10, r),
        at: start,
        file_len,
        seeks: Vec::new(),
        cue_clusters: Vec::new(),
        cluster_starts: Vec::new(),
    };
    w.walk(start).map_err(|e| e.for_file(path))
}

fn lie<T>(what: impl Into<String>) -> Result<T, Walk> {
    Err(Walk::Lie(what.into()))
}

fn name(id: u32) -> String {
    let known = [
        (EBML, "EBML"),
        (SEGMENT, "Segment"),
        (SEEK_HEAD, "SeekHead"),
        (SEEK, "Seek"),
        (INFO, "Info"),
        (CLUSTER, "Cluster"),
        (BLOCK_GROUP, "BlockGroup"),
        (BLOCK, "Block"),
        (SIMPLE_BLOCK, "SimpleBlock"),
        (TRACKS, "Tracks"),
        (TRACK_ENTRY, "TrackEntry"),
        (AUDIO, "Audio"),
        (CODEC_ID, "CodecID"),
        (CODEC_PRIVATE, "CodecPrivate"),
        (CUES, "Cues"),
        (CUE_POINT, "CuePoint"),
        (CUE_TRACK_POSITIONS, "CueTrackPositions"),
        (TAGS, "Tags"),
        (TAG, "Tag"),
        (SIMPLE_TAG, "SimpleTag"),
        (0x4282, "DocType"),
        (0x45A3, "TagName"),
        (0x4487, "TagString"),
        (0x4485, "TagBinary"),
    ];
    match known.iter().find(|(k, _)| *k == id) {
        Some((_, n)) => format!("`{n}`"),
        None => format!("{id:#X}"),
    }
}

/// An element header as symphonia reads it.
struct Header {
    id: u32,
    pos: u64,
    data: u64,
    /// None for the one-byte unknown size (symphonia reads it as 0).
    size: Option<u64>,
    /// The size is all ones at any width (unknown, for Segment and Cluster).
    all_ones: bool,
    /// Found by symphonia's search for a top-level ID past a bad byte.
    resynced: bool,
}

impl Header {
    /// The size symphonia goes by.
    fn len(&self) -> u64 {
        self.size.unwrap_or(0)
    }

    fn end(&self) -> u64 {
        self.data.saturating_add(self.len())
    }

    /// No end to go by: symphonia reads its children to the end of the file.
    fn open_ended(&self) -> bool {
        self.len() == 0 || (self.all_ones && matches!(self.id, SEGMENT | CLUSTER))
    }
}

struct Walker<R: Read + Seek> {
    r: BufReader<R>,
    /// Where `r` is.
    at: u64,
    file_len: u64,
    /// (element ID, position) from every SeekHead read whole.
    seeks: Vec<(u32, u64)>,
    /// Cluster positions (from the Segment's start) from every Cues.
    cue_clusters: Vec<u64>,
    /// Where the main flat walk found Clusters (in order).
    cluster_starts: Vec<u64>,
}

impl<R: Read + Seek> Walker<R> {
    fn goto(&mut self, pos: u64) -> std::io::Result<()> {
        if pos != self.at {
            match i64::try_from(i128::from(pos) - i128::from(self.at)) {
                Ok(d) => self.r.seek_relative(d)?,
                Err(_) => {
                    self.r.seek(SeekFrom::Start(pos))?;
                }
            }
            self.at = pos;
        }
        Ok(())
    }

    fn fill(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = read_up_to(&mut self.r, buf)?;
        self.at += n as u64;
        Ok(n)
    }

    fn byte(&mut self) -> std::io::Result<Option<u8>> {
        let mut b = [0u8];
        Ok((self.fill(&mut b)? == 1).then_some(b[0]))
    }

    /// `len` bytes at `pos` (fewer where the file ends).
    fn bytes(&mut self, pos: u64, len: u64) -> std::io::Result<Vec<u8>> {
        self.goto(pos)?;
        let mut b = vec![0u8; usize::try_from(len).unwrap_or(usize::MAX)];
        let n = self.fill(&mut b)?;
        b.truncate(n);
        Ok(b)
    }

    /// The element header at `pos`, None at the end of the file.
    fn header(&mut self, pos: u64) -> Result<Option<Header>, Walk> {
        self.goto(pos)?;
        let Some(first) = self.byte()? else {
            return Ok(None);
        };
        let (id, id_pos, resynced) = if first < 0x10 {
            // no ID starts so: symphonia reads on to the next top-level ID
            let mut tag = 0u32;
            loop {
                let Some(b) = self.byte()? else {
                    return Ok(None);
                };
                tag = (tag << 8) | u32::from(b);
                if TOP_LEVEL.contains(&tag) {
                    break (tag, self.at - 4, true);
                }
            }
        } else {
            let mut id = u32::from(first);
            for _ in 0..first.leading_zeros() {
                let Some(b) = self.byte()? else {
                    return Ok(None);
                };
                id = (id << 8) | u32::from(b);
            }
            (id, pos, false)
        };
        let Some(s) = self.byte()? else {
            return Ok(None);
        };
        if s == 0 {
            return lie("its Matroska element sizes are not valid EBML");
        }
        let width = s.leading_zeros();
        let mut size = u64::from(s) ^ (1 << (7 - width));
        for _ in 0..width {
            let Some(b) = self.byte()? else {
                return Ok(None);
            };
            size = (size << 8) | u64::from(b);
        }
        let all_ones = size == (1u64 << (7 * (width + 1))) - 1;
        Ok(Some(Header {
            id,
            pos: id_pos,
            data: self.at,
            size: (s != 0xFF).then_some(size),
            all_ones,
            resynced,
        }))
    }

    /// An element whose parent ends at `parent_end` must end there too,
    /// unless the parent reaches the end of the file (a cut-short file).
    fn fits(&self, h: &Header, parent_end: u64, whole: bool) -> Result<(), Walk> {
        let end = h.end();
        let cut = parent_end >= self.file_len && (!whole || h.len() <= MAX_CUT);
        if end <= parent_end || cut {
            return Ok(());
        }
        lie(if parent_end >= self.file_len {
            format!(
                "its Matroska {} element runs past the end of the file",
                name(h.id)
            )
        } else {
            format!(
                "its Matroska {} element runs past the element that holds it",
                name(h.id)
            )
        })
    }

    fn walk(&mut self, start: u64) -> Result<(), Walk> {
        let Some(ebml) = self.header(start)? else {
            return Ok(());
        };
        if ebml.id != EBML {
            return Ok(()); // symphonia refuses it
        }
        self.fits(&ebml, self.file_len, true)?;
        self.read_whole(&ebml, self.file_len)?;
        let Some(segment) = self.header(ebml.end())? else {
            return Ok(());
        };
        if segment.id != SEGMENT {
            return Ok(());
        }
        let segment_end = if segment.open_ended() {
            self.file_len
        } else {
            segment.end()
        };
        // the Segment's children up to the first Cluster
        let mut pos = segment.data;
        while pos < self.file_len {
            let Some(h) = self.header(pos)? else { break };
            match h.id {
                CLUSTER => break,
                SEEK_HEAD | TRACKS | INFO | CUES | TAGS => {
                    self.fits(&h, segment_end, true)?;
                    self.read_whole(&h, segment_end)?;
                }
                _ => {}
            }
            pos = h.end();
        }
        // where its SeekHead points: each read whole if it is what it says
        for (id, at) in std::mem::take(&mut self.seeks) {
            let Some(at) = segment.data.checked_add(at) else {
                continue;
            };
            if !matches!(id, TRACKS | INFO | TAGS | CUES) || at >= self.file_len {
                continue;
            }
            if let Some(h) = self.header(at)?
                && h.id == id
            {
                self.fits(&h, self.file_len, true)?;
                self.read_whole(&h, self.file_len)?;
            }
        }
        // as packets are read: from the Segment's start, flat
        let mut ends = Vec::new();
        if !segment.open_ended() {
            ends.push(segment.end());
        }
        self.flat(segment.data, ends, true)?;
        // and from where its Cues point (as a seek does)
        let mut cues = std::mem::take(&mut self.cue_clusters);
        cues.sort_unstable();
        cues.dedup();
        let mut stray = 0;
        for at in cues.into_iter().filter_map(|c| segment.data.checked_add(c)) {
            if at >= self.file_len || self.cluster_starts.binary_search(&at).is_ok() {
                continue;
            }
            stray += 1;
            if stray > MAX_STRAY_CUES {
                return lie(format!(
                    "more than {MAX_STRAY_CUES} of its Matroska Cues point where no Cluster starts"
                ));
            }
            self.flat(at, Vec::new(), false)?;
        }
        Ok(())
    }

    /// symphonia's packet walk from `pos`: into every master element,
    /// reading Tags and BlockGroups whole and SimpleBlocks' lacing. `ends`:
    /// the ends of the masters it is in. The main walk records where
    /// Clusters start; a walk from a Cue stops at one (the rest is walked).
    fn flat(&mut self, mut pos: u64, mut ends: Vec<u64>, main: bool) -> Result<(), Walk> {
        while pos < self.file_len {
            if !main && self.cluster_starts.binary_search(&pos).is_ok() {
                break;
            }
            let Some(h) = self.header(pos)? else { break };
            while ends.last().is_some_and(|&e| e <= h.pos) {
                ends.pop();
            }
            if main && h.id == CLUSTER {
                self.cluster_starts.push(h.pos);
            }
            let parent_end = ends.last().copied().unwrap_or(self.file_len);
            let whole = matches!(h.id, TAGS | BLOCK_GROUP);
            if !h.open_ended() {
                self.fits(&h, parent_end, whole)?;
            }
            if whole {
                self.read_whole(&h, parent_end)?;
                pos = h.end();
            } else if MASTERS.contains(&h.id) {
                if !h.open_ended() {
                    ends.push(h.end());
                }
                pos = h.data;
            } else {
                if h.id == SIMPLE_BLOCK && h.end() <= self.file_len {
                    self.lacing_fits(&h)?; // (past the end symphonia refuses it)
                }
                pos = h.end();
            }
        }
        Ok(())
    }

    /// An element symphonia reads whole, its children against its end (or,
    /// with no size, against the file's). A child may not run past it, nor
    /// be damaged (symphonia's search for the next top-level element would
    /// read from elsewhere than this walk).
    fn read_whole(&mut self, h: &Header, parent_end: u64) -> Result<(), Walk> {
        self.read_whole_at(h, parent_end, 0)
    }

    fn read_whole_at(&mut self, h: &Header, parent_end: u64, depth: usize) -> Result<(), Walk> {
        let end = if h.open_ended() {
            parent_end.max(self.file_len)
        } else {
            h.end()
        };
        let mut codec_id = Vec::new();
        let mut private: Option<Vec<u8>> = None;
        let mut private_too_big = false;
        let (mut seek_id, mut seek_pos) = (None, None);
        let mut pos = h.data;
        while pos < end {
            let Some(c) = self.header(pos)? else { break };
            if c.resynced {
                return lie(format!("its Matroska {} element is damaged", name(h.id)));
            }
            if c.end() > end {
                return lie(format!(
                    "its Matroska {} element runs past the element that holds it",
                    name(c.id)
                ));
            }
            let small = || c.len() <= 8;
            match (h.id, c.id) {
                (_, id) if READ_WHOLE.contains(&id) && depth < 16 => {
                    self.read_whole_at(&c, end, depth + 1)?;
                }
                (TRACK_ENTRY, CODEC_ID) if c.len() <= 64 => {
                    codec_id = self.bytes(c.data, c.len())?
                }
                (TRACK_ENTRY, CODEC_PRIVATE) if c.len() <= MAX_PRIVATE => {
                    private = Some(self.bytes(c.data, c.len())?);
                }
                (TRACK_ENTRY, CODEC_PRIVATE) => private_too_big = true,
                (SEEK, SEEK_ID) if small() => seek_id = Some(self.uint(&c)?),
                (SEEK, SEEK_POSITION) if small() => seek_pos = Some(self.uint(&c)?),
                (CUE_TRACK_POSITIONS, CUE_CLUSTER_POSITION) if small() => {
                    let at = self.uint(&c)?;
                    self.cue_clusters.push(at);
                }
                (BLOCK_GROUP, BLOCK) => self.lacing_fits(&c)?,
                _ => {}
            }
            pos = c.end();
        }
        if let (Some(id), Some(at)) = (seek_id, seek_pos) {
            self.seeks.push((id as u32, at));
        }
        let codec = codec_id.split(|&b| b == 0).next().unwrap_or(&[]);
        if codec == b"A_VORBIS" {
            if private_too_big {
                return lie("its Matroska Vorbis CodecPrivate is larger than any Vorbis header");
            }
            if let Some(p) = private {
                vorbis_private_fits(&p)?;
            }
        }
        Ok(())
    }

    fn uint(&mut self, h: &Header) -> std::io::Result<u64> {
        let b = self.bytes(h.data, h.len())?;
        Ok(b.iter().fold(0u64, |n, &b| (n << 8) | u64::from(b)))
    }

    /// A block's lace sizes: symphonia allocates each frame as its size
    /// says, before reading it from the block, so together they must fit.
    fn lacing_fits(&mut self, h: &Header) -> Result<(), Walk> {
        let len = h.len();
        // track number (a vint of up to 9 bytes), timecode, flags
        let head = self.bytes(h.data, len.min(12))?;
        let Some(&first) = head.first() else {
            return Ok(());
        };
        let flags_at = first.leading_zeros() as usize + 3;
        let Some(&flags) = head.get(flags_at) else {
            return Ok(());
        };
        let ebml = match (flags >> 1) & 3 {
            0b01 => false,
            0b11 => true,
            _ => return Ok(()), // no lacing, or fixed sizes symphonia checks
        };
        // Xiph sizes grow 255 a byte: past this many they exceed the block
        let need = (len / 255).saturating_add(4096).min(len);
        let b = self.bytes(h.data, need)?;
        if lace_sizes_fit(&b, flags_at + 1, len, ebml) {
            Ok(())
        } else {
            lie("its Matroska block's lace sizes are larger than the block")
        }
    }
}

/// The lace sizes from `b[at..]` (`at` the frame count) as symphonia reads
/// them, against a block of `len` bytes; true where they run out of the
/// bytes first (symphonia refuses the block itself).
fn lace_sizes_fit(b: &[u8], at: usize, len: u64, ebml: bool) -> bool {
    let Some(&frames) = b.get(at) else {
        return true;
    };
    let mut i = at + 1;
    let mut sum = 0u64;
    let mut last: Option<u64> = None;
    for _ in 0..frames {
        let size = if ebml {
            let Some((v, width)) = vint(&b[i.min(b.len())..]) else {
                return true;
            };
            i += width;
            match last {
                None => v,
                // a signed difference from the size before
                Some(prev) => {
                    let half = (1i64 << (7 * width - 1).min(62)) - 1;
                    (prev as i64).wrapping_add((v as i64).wrapping_sub(half)) as u64
                }
            }
        } else {
            let mut size = 0u64;
            loop {
                let Some(&x) = b.get(i) else {
                    return true;
                };
                i += 1;
                size += u64::from(x);
                if x != 255 {
                    break;
                }
            }
            size
        };
        last = Some(size);
        sum = sum.saturating_add(size);
        if sum > len.saturating_sub(i as u64) {
            return false;
        }
    }
    true
}

/// The Segment Info's `Title` (where ffmpeg, and so yt-dlp, put a track's
/// title; symphonia does not read it) from the file's first bytes: the EBML
/// header, then the Segment's children up to the first Cluster. None when
/// there is none, or `head` ends before it.
pub fn segment_title(head: &[u8]) -> Option<String> {
    const TITLE: u32 = 0x7BA9;
    let (id, size, data) = element(head, 0)?;
    if id != EBML {
        return None;
    }
    let (id, size, data) = element(head, data.checked_add(size)?)?;
    if id != SEGMENT {
        return None;
    }
    let segment_end = data.saturating_add(size).min(head.len());
    let mut at = data;
    while at < segment_end {
        let (id, size, data) = element(head, at)?;
        match id {
            INFO => {
                let end = data.saturating_add(size).min(head.len());
                let mut i = data;
                while i < end {
                    let (id, size, data) = element(head, i)?;
                    if id == TITLE {
                        let text = head.get(data..data.saturating_add(size).min(end))?;
                        let title = String::from_utf8_lossy(text);
                        let title = title.trim_end_matches('\0').trim();
                        return (!title.is_empty()).then(|| title.to_string());
                    }
                    i = data.checked_add(size)?;
                }
                return None;
            }
            CLUSTER => return None,
            _ => at = data.checked_add(size)?,
        }
    }
    None
}

/// An element at `at`: its ID (marker bits kept, as the spec names IDs),
/// its size (an unknown size reads as "to the end") and where its data starts.
fn element(b: &[u8], at: usize) -> Option<(u32, usize, usize)> {
    let first = *b.get(at)?;
    let id_len = first.leading_zeros() as usize + 1;
    if id_len > 4 {
        return None;
    }
    let id = b
        .get(at..at + id_len)?
        .iter()
        .fold(0u32, |id, &x| (id << 8) | u32::from(x));
    let (size, size_len) = vint(b.get(at + id_len..)?)?;
    let data = at + id_len + size_len;
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    Some((id, size, data))
}

/// An EBML variable-length integer as symphonia reads it (`0xFF`: all ones;
/// a first byte of 0, in a release build: the 8 bytes after it) and its
/// width.
fn vint(b: &[u8]) -> Option<(u64, usize)> {
    let &first = b.first()?;
    if first == 0xFF {
        return Some((u64::MAX, 1));
    }
    let width = first.leading_zeros() as usize;
    let mut v = u64::from(first) ^ (1 << (7 - width.min(7)));
    for &x in b.get(1..=width)? {
        v = (v << 8) | u64::from(x);
    }
    Some((v, width + 1))
}

/// A Vorbis track's CodecPrivate: a count byte, Xiph-laced sizes, then the
/// packets (the last takes the rest). symphonia allocates each packet as
/// its size says, and the decoder builds the setup packet's codebooks.
fn vorbis_private_fits(p: &[u8]) -> Result<(), Walk> {
    let Some(&count) = p.first() else {
        return Ok(());
    };
    let mut i = 1;
    let mut sizes = Vec::new();
    while sizes.len() < usize::from(count) {
        let mut size = 0usize;
        loop {
            let Some(&x) = p.get(i) else {
                return Ok(()); // symphonia refuses it
            };
            i += 1;
            size += usize::from(x);
            if x != 255 {
                break;
            }
        }
        sizes.push(size);
    }
    if sizes.iter().sum::<usize>() > p.len() - i {
        return lie("its Matroska Vorbis CodecPrivate gives packets larger than itself");
    }
    let mut packets = Vec::new();
    for size in sizes {
        packets.push(&p[i..i + size]);
        i += size;
    }
    packets.push(&p[i..]);
    for packet in packets.into_iter().filter(|p| p.first() == Some(&5)) {
        if !codebooks_fit(&packet[packet.len().min(7)..]) {
            return lie(TOO_LARGE_CODEBOOKS);
        }
    }
    Ok(())
}

#[cfg(test)]
mod title_tests {
    use super::segment_title;

    /// EBML header, Segment (unknown size), Info with a Title: found; a
    /// Cluster before any Info: none; a cut head: none, no panic.
    #[test]
    fn the_segment_title_is_found_before_the_first_cluster() {
        let mut f = vec![0x1A, 0x45, 0xDF, 0xA3, 0x81, 0x00];
        f.extend([
            0x18, 0x53, 0x80, 0x67, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        ]);
        let title = "Hell — Shawn";
        let mut info = vec![0x7B, 0xA9, 0x80 | title.len() as u8];
        info.extend(title.as_bytes());
        f.extend([0x15, 0x49, 0xA9, 0x66, 0x80 | info.len() as u8]);
        f.extend(&info);
        assert_eq!(segment_title(&f).as_deref(), Some(title));
        for cut in 0..f.len() {
            let _ = segment_title(&f[..cut]);
        }
        let mut clustered = f[..18].to_vec();
        clustered.extend([0x1F, 0x43, 0xB6, 0x75, 0x80]);
        clustered.extend(&f[18..]);
        assert_eq!(segment_title(&clustered), None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// An element: its ID's bytes, an 8-byte size, its body.
    fn el(id: u32, body: &[u8]) -> Vec<u8> {
        sized(id, body.len() as u64, body)
    }

    fn sized(id: u32, size: u64, body: &[u8]) -> Vec<u8> {
        let mut out: Vec<u8> = id
            .to_be_bytes()
            .into_iter()
            .skip_while(|&b| b == 0)
            .collect();
        out.push(0x01);
        out.extend_from_slice(&size.to_be_bytes()[1..]);
        out.extend_from_slice(body);
        out
    }

    fn cat(parts: &[Vec<u8>]) -> Vec<u8> {
        parts.concat()
    }

    /// EBML header, then a Segment of Info, Tracks (one track, `private`)
    /// and a Cluster of `block`.
    fn file(codec: &[u8], private: &[u8], block: Vec<u8>) -> Vec<u8> {
        let header = el(EBML, &el(0x4282, b"matroska"));
        let track = el(
            TRACK_ENTRY,
            &cat(&[
                el(0xD7, &[1]),
                el(CODEC_ID, codec),
                el(CODEC_PRIVATE, private),
            ]),
        );
        let cluster = el(CLUSTER, &cat(&[el(0xE7, &[0]), block]));
        let segment = el(
            SEGMENT,
            &cat(&[
                el(INFO, &el(0x2AD7B1, &[0x0F, 0x42, 0x40])),
                el(TRACKS, &track),
                cluster,
            ]),
        );
        cat(&[header, segment])
    }

    /// A SimpleBlock of track 1 with `lacing` (flag bits) and `rest`.
    fn block(lacing: u8, rest: &[u8]) -> Vec<u8> {
        let mut b = vec![0x81, 0, 0, 0x80 | lacing << 1];
        b.extend_from_slice(rest);
        el(SIMPLE_BLOCK, &b)
    }

    fn checked(bytes: &[u8]) -> Result<(), String> {
        check(
            &mut Cursor::new(bytes),
            0,
            bytes.len() as u64,
            Path::new("x.mka"),
        )
        .map_err(|e| e.to_string())
    }

    #[test]
    fn a_sound_file_passes() {
        // Xiph lacing: 2 frames, the first of 3 bytes
        let laced = block(0b01, &[1, 3, 0, 0, 0, 0, 0]);
        assert_eq!(checked(&file(b"A_OPUS", b"OpusHead", laced)), Ok(()));
        // EBML lacing: 3 frames, 2 then 2 + 1
        let laced = block(0b11, &[2, 0x82, 0xC0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(checked(&file(b"A_OPUS", b"OpusHead", laced)), Ok(()));
        // a Vorbis track: two sized packets and the setup packet after them
        let mut private = vec![2, 3, 2, 1, 1, 1, 3, 3];
        private.extend_from_slice(b"\x05vorbis\0");
        assert_eq!(
            checked(&file(b"A_VORBIS", &private, block(0, &[0; 8]))),
            Ok(())
        );
    }

    #[test]
    fn a_cut_short_file_passes() {
        let mut bytes = file(b"A_OPUS", b"OpusHead", block(0, &[0; 64]));
        bytes.truncate(bytes.len() - 20);
        assert_eq!(checked(&bytes), Ok(()));
        // Segment and Cluster of unknown size
        let header = el(EBML, &el(0x4282, b"webm"));
        let cluster = cat(&[
            vec![0x1F, 0x43, 0xB6, 0x75, 0xFF],
            el(0xE7, &[0]),
            block(0, &[0; 8]),
        ]);
        let segment = cat(&[vec![0x18, 0x53, 0x80, 0x67, 0xFF], cluster.clone(), cluster]);
        assert_eq!(checked(&cat(&[header, segment])), Ok(()));
    }

    #[test]
    fn an_element_larger_than_its_parent_is_refused() {
        // the header's DocType inside a header that claims 2^40 bytes
        let mut bytes = sized(EBML, 1 << 40, &sized(0x4282, 1 << 39, b"matroska"));
        bytes.extend(el(SEGMENT, &[]));
        let err = checked(&bytes).unwrap_err();
        assert!(
            err.contains("`EBML` element runs past the end of the file"),
            "{err}"
        );
        // a CodecPrivate inside a Tracks that claims more than the file
        let ok = file(b"A_OPUS", b"OpusHead", block(0, &[0; 8]));
        let tracks = ok
            .windows(4)
            .position(|w| w == TRACKS.to_be_bytes())
            .unwrap();
        let mut bytes = ok.clone();
        bytes[tracks + 5..tracks + 12].copy_from_slice(&(1u64 << 50).to_be_bytes()[1..]);
        let err = checked(&bytes).unwrap_err();
        assert!(err.contains("`Tracks` element runs past"), "{err}");
        // a TrackEntry past its Tracks
        let entry = tracks + 12;
        let mut bytes = ok;
        bytes[entry + 2..entry + 9].copy_from_slice(&(1u64 << 50).to_be_bytes()[1..]);
        let err = checked(&bytes).unwrap_err();
        assert!(
            err.contains("`TrackEntry` element runs past the element"),
            "{err}"
        );
    }

    #[test]
    fn lace_sizes_larger_than_the_block_are_refused() {
        // EBML lacing: one frame of 2^40 bytes
        let laced = block(0b11, &[1, 0x08, 0x10, 0, 0, 0, 0, 0, 0, 0]);
        let err = checked(&file(b"A_OPUS", b"OpusHead", laced)).unwrap_err();
        assert!(
            err.contains("lace sizes are larger than the block"),
            "{err}"
        );
        // a negative difference makes a huge size
        let laced = block(0b11, &[2, 0x82, 0x80, 0, 0, 0, 0]);
        assert!(checked(&file(b"A_OPUS", b"OpusHead", laced)).is_err());
        // Xiph: 255 + 255 + 10 in a block of 20
        let laced = block(0b01, &[1, 255, 255, 10, 0, 0, 0, 0, 0]);
        assert!(checked(&file(b"A_OPUS", b"OpusHead", laced)).is_err());
    }

    #[test]
    fn a_vorbis_private_that_lies_is_refused() {
        // packet sizes larger than the CodecPrivate
        let private = [2, 255, 255, 255, 10, 3, 1, 1, 1];
        let err = checked(&file(b"A_VORBIS", &private, block(0, &[0; 8]))).unwrap_err();
        assert!(err.contains("gives packets larger than itself"), "{err}");
        // a setup packet of one codebook of 2^24 entries of 2^16 dimensions
        let mut setup = b"\x05vorbis".to_vec();
        setup.extend_from_slice(&[
            0, 0x42, 0x43, 0x56, 0xFF, 0xFF, 0, 0xFF, 0xFF, 0xFF, 0, 0, 0,
        ]);
        let mut private = vec![2, 1, 1, 1, 3];
        private.extend(setup);
        let err = checked(&file(b"A_VORBIS", &private, block(0, &[0; 8]))).unwrap_err();
        assert!(err.contains("codebooks far larger"), "{err}");
        // not a Vorbis track: symphonia passes its CodecPrivate on as is
        assert_eq!(
            checked(&file(b"A_OPUS", &private, block(0, &[0; 8]))),
            Ok(())
        );
    }
}
