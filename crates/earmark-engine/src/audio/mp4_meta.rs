//! MP4 sample-table counts checked before symphonia reads them. Its MP4
//! reader sizes each table by the entry count in the box header, before
//! reading: a `stsc` that claims 4 294 967 295 entries is a 68 GB allocation,
//! which aborts the process (an allocation failure cannot be caught). Here
//! every table's entries must fit in its box, and each box in its parent
//! (the metadata boxes too: `udta`, `meta`, `ilst` and its items); sample
//! sizes, default ones included, in the file; and what a sample entry sizes
//! the decoder's buffer by (ALAC's frame length, QuickTime v2 frames per
//! packet) within what encoders write.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use super::AudioError;
use super::au::read_up_to;
use super::walk::Walk;

/// Boxes whose children are walked: those that lead to a table, and the
/// metadata ones symphonia reads (also `meta`, where it reads one: see
/// [`walk_boxes`]; every child of `ilst` is an item holding boxes).
const CONTAINERS: &[&[u8; 4]] = &[
    b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"dinf", b"moof", b"traf", b"mvex",
    b"udta", b"ilst",
];
/// A decoder buffer's frames that a sample entry may ask for: ALAC encoders
/// write 4096, PCM packets hold one frame.
const MAX_FRAMES_PER_PACKET: u32 = 1 << 16;
/// Deeper than any real file nests the boxes above.
const MAX_DEPTH: usize = 12;

/// A file without `ftyp` that begins with a box QuickTime files begin with.
pub fn starts_like_mp4(head: &[u8]) -> bool {
    head.get(4..8).is_some_and(|k| {
        [b"moov", b"mdat", b"free", b"wide", b"skip"]
            .iter()
            .any(|b| k == *b)
    })
}

/// Walk `[start, file_len)` and check every sample table on the way.
pub fn check<R: Read + Seek>(
    r: &mut R,
    start: u64,
    file_len: u64,
    path: &Path,
) -> Result<(), AudioError> {
    walk(r, start, file_len, 0, file_len).map_err(|e| e.for_file(path))
}

fn walk<R: Read + Seek>(
    r: &mut R,
    start: u64,
    end: u64,
    depth: usize,
    file_len: u64,
) -> Result<(), Walk> {
    walk_boxes(r, start, end, depth, file_len, b"file")
}

/// The boxes in `[start, end)` of a `parent` box.
fn walk_boxes<R: Read + Seek>(
    r: &mut R,
    start: u64,
    end: u64,
    depth: usize,
    file_len: u64,
    parent: &[u8; 4],
) -> Result<(), Walk> {
    let mut pos = start;
    while pos.saturating_add(8) <= end {
        r.seek(SeekFrom::Start(pos))?;
        let mut h = [0u8; 8];
        r.read_exact(&mut h)?;
        let kind = [h[4], h[5], h[6], h[7]];
        let (header, size) = match u32::from_be_bytes([h[0], h[1], h[2], h[3]]) {
            0 => (8, end - pos), // to the end of its parent
            1 => {
                let mut large = [0u8; 8];
                if pos + 16 > end || r.read_exact(&mut large).is_err() {
                    return Ok(()); // symphonia reports the truncation itself
                }
                (16, u64::from_be_bytes(large))
            }
            n => (8, u64::from(n)),
        };
        if size < header {
            return Ok(()); // a size symphonia refuses on its own
        }
        let name = String::from_utf8_lossy(&kind).into_owned();
        // A last top-level box that runs past the end (a cut-short file) is
        // read as far as it goes; inside `moov` or `moof` a box longer than
        // its parent is a lie symphonia would allocate by.
        if depth > 0 && pos.saturating_add(size) > end {
            return Err(Walk::Lie(format!(
                "its MP4 `{name}` box runs past the box that holds it"
            )));
        }
        let box_end = pos.saturating_add(size).min(end);
        let body = pos + header;
        // symphonia reads a `meta` at the top and in `udta` (others, as
        // QuickTime's in `moov`, it skips), and always a version and flags
        // before its children: a QuickTime `meta` without them, whose first
        // child follows at once, it cannot read (its children are checked
        // where they are)
        let meta = &kind == b"meta" && (depth == 0 || parent == b"udta");
        let contains = parent == b"ilst" || meta || CONTAINERS.contains(&&kind);
        if contains && depth < MAX_DEPTH {
            let children = if meta && !box_kind_at(r, body + 4, b"hdlr")? {
                body + 4
            } else {
                body
            };
            walk_boxes(r, children, box_end, depth + 1, file_len, &kind)?;
        } else if !default_sample_size_fits(r, &kind, body, box_end, file_len)? {
            return Err(Walk::Lie(format!(
                "its MP4 `{name}` box gives a sample larger than the file"
            )));
        } else if let Some(need) = table_bytes(r, &kind, box_end - body)? {
            if need > box_end - body {
                return Err(Walk::Lie(format!(
                    "its MP4 `{name}` table claims more entries than its box holds"
                )));
            }
            if !sample_sizes_fit(r, &kind, body, box_end, file_len)? {
                return Err(Walk::Lie(format!(
                    "its MP4 `{name}` table gives a sample larger than the file"
                )));
            }
            if &kind == b"stsd" {
                sample_entries(r, body + 8, box_end)?;
            }
        }
        pos = box_end;
    }
    Ok(())
}

/// The first codec earmark cannot decode that a track of an MP4 file
/// holds (`ac-3`…), found along `moov/trak/mdia/minf/stbl/stsd` of every
/// track: symphonia drops a track whose codec it does not know, and says
/// "no audio track" of a file whose one audio track is AC-3, behind a video
/// track or not. A bounded walk (boxes and depth), no allocation.
pub fn undecodable_track_codec<R: Read + Seek>(r: &mut R, file_len: u64) -> Option<&'static str> {
    let mut budget = 4096;
    let mut found = None;
    sample_entry_codecs(r, 0, file_len, 0, &mut budget, &mut |fourcc| {
        found = undecodable_codec(&fourcc);
        found.is_some()
    });
    found
}

/// Calls `each` with the fourcc of each track's first sample entry under
/// `[pos, end)` at `depth` of the path to `stsd`, until it returns true.
fn sample_entry_codecs<R: Read + Seek>(
    r: &mut R,
    mut pos: u64,
    end: u64,
    depth: usize,
    budget: &mut u32,
    each: &mut dyn FnMut([u8; 4]) -> bool,
) -> bool {
    const PATH: [&[u8; 4]; 6] = [b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stsd"];
    while pos.saturating_add(8) <= end && *budget > 0 {
        *budget -= 1;
        let mut h = [0u8; 16];
        let got = r
            .seek(SeekFrom::Start(pos))
            .and_then(|_| read_up_to(r, &mut h))
            .unwrap_or(0);
        if got < 8 {
            return false;
        }
        let (header, size) = match u32::from_be_bytes([h[0], h[1], h[2], h[3]]) {
            0 => (8, end - pos),
            1 if got == 16 => (
                16,
                u64::from_be_bytes([h[8], h[9], h[10], h[11], h[12], h[13], h[14], h[15]]),
            ),
            n => (8, u64::from(n)),
        };
        if size < header {
            return false;
        }
        let box_end = pos.saturating_add(size).min(end);
        if h[4..8] == PATH[depth][..] {
            if depth + 1 == PATH.len() {
                // stsd: version and flags, entry count, then the first entry
                let mut entry = [0u8; 8];
                let read = r
                    .seek(SeekFrom::Start(pos + header + 8))
                    .and_then(|_| r.read_exact(&mut entry));
                if read.is_ok() && each([entry[4], entry[5], entry[6], entry[7]]) {
                    return true;
                }
            } else if sample_entry_codecs(r, pos + header, box_end, depth + 1, budget, each) {
                return true;
            }
        }
        pos = pos.saturating_add(size);
    }
    false
}

/// How people name a codec an MP4 sample entry holds and earmark cannot
/// decode.
pub fn undecodable_codec(fourcc: &[u8; 4]) -> Option<&'static str> {
    Some(match fourcc {
        b"ac-3" => "AC-3 (Dolby Digital)",
        b"ec-3" => "E-AC-3 (Dolby Digital Plus)",
        b"ac-4" => "AC-4",
        b"dtsc" | b"dtsh" | b"dtsl" | b"dtse" => "DTS",
        b"mha1" | b"mhm1" => "MPEG-H 3D Audio",
        b"samr" | b"sawb" => "AMR",
        _ => return None,
    })
}

/// Whether the 4 bytes at `at` name a box of this kind.
fn box_kind_at<R: Read + Seek>(r: &mut R, at: u64, kind: &[u8; 4]) -> Result<bool, Walk> {
    r.seek(SeekFrom::Start(at))?;
    let mut k = [0u8; 4];
    Ok(read_up_to(r, &mut k)? == 4 && &k == kind)
}

/// `trex` and `tfhd` give the default size of a fragment's samples (a
/// `trun` without sizes of its own): no larger than the file either.
fn default_sample_size_fits<R: Read + Seek>(
    r: &mut R,
    kind: &[u8; 4],
    body: u64,
    end: u64,
    file_len: u64,
) -> Result<bool, Walk> {
    let mut head = [0u8; 32];
    let at = match kind {
        b"trex" => 16, // version and flags, track, description, duration
        b"tfhd" => {
            r.seek(SeekFrom::Start(body))?;
            let got = read_up_to(r, &mut head[..(end - body).min(32) as usize])?;
            let flags = u32::from_be_bytes([0, head[1], head[2], head[3]]);
            if got < 4 || flags & 0x10 == 0 {
                return Ok(true);
            }
            // after the track: base offset, description, duration if present
            8 + [(0x1, 8), (0x2, 4), (0x8, 4)]
                .iter()
                .filter(|(bit, _)| flags & bit != 0)
                .map(|(_, n)| n)
                .sum::<usize>()
        }
        _ => return Ok(true),
    };
    r.seek(SeekFrom::Start(body))?;
    let got = read_up_to(r, &mut head[..(end - body).min(32) as usize])?;
    Ok(head[..got]
        .get(at..at + 4)
        .is_none_or(|b| u64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]])) <= file_len))
}

/// The sample entries of an `stsd` in `[start, end)`: each must fit in
/// it; an audio entry's frames per packet (QuickTime version 2) and an
/// ALAC configuration's frame length, which size the decoder's buffer,
/// must be within [`MAX_FRAMES_PER_PACKET`].
fn sample_entries<R: Read + Seek>(r: &mut R, start: u64, end: u64) -> Result<(), Walk> {
    let too_long = |what: &str| {
        Walk::Lie(format!(
            "its MP4 {what} claims frames far longer than any encoder writes"
        ))
    };
    let mut pos = start;
    while pos.saturating_add(8) <= end {
        r.seek(SeekFrom::Start(pos))?;
        let mut entry = [0u8; 72];
        let got = read_up_to(r, &mut entry[..(end - pos).min(72) as usize])?;
        let size = u64::from(u32::from_be_bytes([entry[0], entry[1], entry[2], entry[3]]));
        if size < 8 {
            return Ok(()); // symphonia refuses such a size on its own
        }
        if pos.saturating_add(size) > end {
            let name = String::from_utf8_lossy(&entry[4..8]).into_owned();
            return Err(Walk::Lie(format!(
                "its MP4 `{name}` box runs past the box that holds it"
            )));
        }
        let entry = &entry[..got];
        let u32_at = |at: usize| {
            entry
                .get(at..at + 4)
                .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        };
        // after the box header, the sample entry's 8 bytes, then the
        // audio entry's version
        let version = entry.get(16..18).map(|v| u16::from_be_bytes([v[0], v[1]]));
        if version == Some(2) && u32_at(68).is_some_and(|n| n > MAX_FRAMES_PER_PACKET) {
            return Err(too_long("sound description"));
        }
        if &entry[4..8] == b"alac" {
            let children = match version {
                Some(0) => 36,
                Some(1) => 52,
                Some(2) => 72,
                _ => size, // not an audio entry symphonia reads
            };
            if let Some(frames) = alac_frame_length(r, pos + children.min(size), pos + size)?
                && !(1..=MAX_FRAMES_PER_PACKET).contains(&frames)
            {
                return Err(too_long("ALAC configuration"));
            }
        }
        pos += size;
    }
    Ok(())
}

/// The frame length in the `alac` box among the boxes in `[start, end)`
/// (an ALAC sample entry's children), if there is one.
fn alac_frame_length<R: Read + Seek>(r: &mut R, start: u64, end: u64) -> Result<Option<u32>, Walk> {
    let mut pos = start;
    while pos.saturating_add(16) <= end {
        r.seek(SeekFrom::Start(pos))?;
        let mut h = [0u8; 16];
        if read_up_to(r, &mut h)? < 16 {
            return Ok(None);
        }
        let size = u64::from(u32::from_be_bytes([h[0], h[1], h[2], h[3]]));
        if &h[4..8] == b"alac" {
            // version and flags, then the magic cookie: its frame length first
            return Ok(Some(u32::from_be_bytes([h[12], h[13], h[14], h[15]])));
        }
        if size < 8 {
            return Ok(None);
        }
        pos = pos.saturating_add(size);
    }
    Ok(None)
}

/// `stsz` and `trun` give each sample's size, by which symphonia allocates
/// when it reads the sample: none may be larger than the file.
fn sample_sizes_fit<R: Read + Seek>(
    r: &mut R,
    kind: &[u8; 4],
    body: u64,
    end: u64,
    file_len: u64,
) -> Result<bool, Walk> {
    if !matches!(kind, b"stsz" | b"trun") {
        return Ok(true);
    }
    // the box, clamped to the file: no larger than what is there
    let mut table = vec![0u8; usize::try_from(end - body).unwrap_or(usize::MAX)];
    r.seek(SeekFrom::Start(body))?;
    let got = read_up_to(r, &mut table)?;
    let table = &table[..got];
    let u32_at = |at: usize| {
        table
            .get(at..at + 4)
            .map(|b| u64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]])))
    };
    let too_big = |size: Option<u64>| size.is_some_and(|n| n > file_len);
    if kind == b"stsz" {
        if too_big(u32_at(4)) {
            return Ok(false); // one size for every sample
        }
        return Ok(!(12..table.len()).step_by(4).any(|at| too_big(u32_at(at))));
    }
    let flags = u32_at(0).unwrap_or(0) & 0x00FF_FFFF;
    if flags & 0x200 == 0 {
        return Ok(true); // sizes from the track's defaults
    }
    let before = 8 + 4 * ((flags & 0x1 != 0) as usize + (flags & 0x4 != 0) as usize);
    let per_sample = 4 * (flags & 0xF00).count_ones() as usize;
    let size_at = if flags & 0x100 != 0 { 4 } else { 0 };
    Ok(!(before..table.len())
        .step_by(per_sample)
        .any(|at| too_big(u32_at(at + size_at))))
}

/// For a sample table (the reader at its body), the bytes its header says
/// its entries take, header included; None for other boxes.
fn table_bytes<R: Read>(r: &mut R, kind: &[u8; 4], len: u64) -> Result<Option<u64>, Walk> {
    const TABLES: &[&[u8; 4]] = &[
        b"stts", b"ctts", b"stss", b"stps", b"stsc", b"stco", b"co64", b"stsd", b"dref", b"elst",
        b"stsz", b"stz2", b"sbgp", b"trun",
    ];
    if !TABLES.contains(&kind) {
        return Ok(None);
    }
    let mut head = [0u8; 16];
    let got = read_up_to(r, &mut head[..len.min(16) as usize])?;
    let head = &head[..got];
    let u32_at = |at: usize| {
        head.get(at..at + 4)
            .map(|b| u64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]])))
    };
    let (Some(&version), Some(flags)) = (head.first(), u32_at(0).map(|f| f & 0x00FF_FFFF)) else {
        return Ok(None); // too short to claim anything
    };
    // Every table starts with a version and flags (4 bytes): then
    // (where the entry count is, bytes per entry).
    let (count_at, width) = match kind {
        b"stts" | b"ctts" | b"co64" => (4, 8),
        b"stss" | b"stps" | b"stco" => (4, 4),
        b"stsc" => (4, 12),
        b"stsd" | b"dref" => (4, 8), // each entry a box of at least 8 bytes
        b"elst" => (4, if version == 1 { 20 } else { 12 }),
        // a constant sample size keeps no table
        b"stsz" => (8, if u32_at(4) == Some(0) { 4 } else { 0 }),
        b"stz2" => (
            8,
            head.get(7).map_or(0, |&bits| u64::from(bits).div_ceil(8)),
        ),
        b"sbgp" => (if version == 1 { 12 } else { 8 }, 8),
        _ => {
            // trun: an optional data offset and first-sample flags, then
            // per sample the fields its flags name
            let before = 8 + 4 * u64::from((flags & 0x1 != 0) as u8 + (flags & 0x4 != 0) as u8);
            let per_sample = 4 * u64::from((flags & 0xF00).count_ones());
            return Ok(u32_at(4).map(|count| before + count * per_sample));
        }
    };
    Ok(u32_at(count_at).map(|count| count_at as u64 + 4 + count * width))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn bx(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(body);
        out
    }

    /// moov/trak/mdia/minf/stbl holding `table`.
    fn file_with(table: Vec<u8>) -> Vec<u8> {
        let mut inner = table;
        for kind in [b"stbl", b"minf", b"mdia", b"trak", b"moov"] {
            inner = bx(kind, &inner);
        }
        let mut out = bx(b"ftyp", b"M4A \0\0\0\0");
        out.extend(inner);
        out.extend(bx(b"mdat", &[0u8; 64]));
        out
    }

    fn checked(bytes: &[u8]) -> Result<(), String> {
        check(
            &mut Cursor::new(bytes),
            0,
            bytes.len() as u64,
            Path::new("x.m4a"),
        )
        .map_err(|e| e.to_string())
    }

    fn full_box(count: u32, entries: &[u8]) -> Vec<u8> {
        let mut b = vec![0u8; 4];
        b.extend_from_slice(&count.to_be_bytes());
        b.extend_from_slice(entries);
        b
    }

    #[test]
    fn tables_whose_entries_fit_pass() {
        let stsc = bx(b"stsc", &full_box(2, &[1u8; 24]));
        assert_eq!(checked(&file_with(stsc)), Ok(()));
        let mut stsz = vec![0u8; 4];
        stsz.extend_from_slice(&16u32.to_be_bytes()); // constant size: no table
        stsz.extend_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(checked(&file_with(bx(b"stsz", &stsz))), Ok(()));
    }

    #[test]
    fn a_count_larger_than_the_box_is_refused() {
        for (kind, width) in [(b"stsc", 12), (b"stco", 4), (b"co64", 8), (b"stts", 8)] {
            let table = bx(kind, &full_box(u32::MAX, &vec![0u8; width * 2]));
            let err = checked(&file_with(table)).unwrap_err();
            assert!(
                err.contains("claims more entries than its box holds"),
                "{err}"
            );
        }
        let mut stsz = vec![0u8; 8]; // sample size 0: a table follows
        stsz.extend_from_slice(&u32::MAX.to_be_bytes());
        let err = checked(&file_with(bx(b"stsz", &stsz))).unwrap_err();
        assert!(err.contains("`stsz`"), "{err}");
    }

    #[test]
    fn a_box_longer_than_its_parent_or_a_sample_larger_than_the_file_is_refused() {
        let mut hdlr = bx(b"hdlr", &[0u8; 24]);
        hdlr[..4].copy_from_slice(&0xFFFF_FFF0u32.to_be_bytes());
        let err = checked(&file_with(hdlr)).unwrap_err();
        assert!(
            err.contains("`hdlr` box runs past the box that holds it"),
            "{err}"
        );
        let mut stsz = vec![0u8; 8]; // sample size 0: a table follows
        stsz.extend_from_slice(&2u32.to_be_bytes());
        stsz.extend_from_slice(&100u32.to_be_bytes());
        stsz.extend_from_slice(&0xFFFF_FFF0u32.to_be_bytes());
        let err = checked(&file_with(bx(b"stsz", &stsz))).unwrap_err();
        assert!(err.contains("gives a sample larger than the file"), "{err}");
    }

    /// Metadata boxes symphonia reads (a `data` in an `ilst` item in a
    /// `meta` in `udta`) must fit their parents; a QuickTime `meta` in
    /// `moov`, which symphonia skips, is not walked.
    #[test]
    fn metadata_boxes_must_fit_where_symphonia_reads_them() {
        let meta_with = |data_size: u32| {
            let mut data = bx(b"data", &[0u8; 12]);
            data[..4].copy_from_slice(&data_size.to_be_bytes());
            let mut body = vec![0u8; 4]; // version and flags
            body.extend(bx(b"ilst", &bx(b"\xa9nam", &data)));
            bx(b"meta", &body)
        };
        let moov = |child: Vec<u8>| {
            let mut out = bx(b"ftyp", b"M4A \0\0\0\0");
            out.extend(bx(b"moov", &child));
            out
        };
        assert_eq!(checked(&moov(bx(b"udta", &meta_with(20)))), Ok(()));
        let err = checked(&moov(bx(b"udta", &meta_with(0xFFFF_FFF0)))).unwrap_err();
        assert!(err.contains("`data` box runs past"), "{err}");
        assert_eq!(checked(&moov(meta_with(0xFFFF_FFF0))), Ok(()));
    }

    /// Default sample sizes of fragments, and what a sample entry sizes the
    /// decoder's buffer by.
    #[test]
    fn default_sizes_and_frames_per_packet_are_bounded() {
        let mut trex = vec![0u8; 24];
        trex[16..20].copy_from_slice(&0xFFFF_FFF0u32.to_be_bytes());
        let mut file = bx(b"ftyp", b"M4A \0\0\0\0");
        file.extend(bx(b"moov", &bx(b"mvex", &bx(b"trex", &trex))));
        let err = checked(&file).unwrap_err();
        assert!(err.contains("`trex` box gives a sample larger"), "{err}");

        // an ALAC entry (version 0: its children 28 bytes into it)
        let alac_entry = |frames: u32| {
            let mut cookie = vec![0u8; 4];
            cookie.extend_from_slice(&frames.to_be_bytes());
            cookie.extend_from_slice(&[0u8; 20]);
            let mut entry = vec![0u8; 28];
            entry.extend(bx(b"alac", &cookie));
            bx(b"stsd", &full_box(1, &bx(b"alac", &entry)))
        };
        assert_eq!(checked(&file_with(alac_entry(4096))), Ok(()));
        let err = checked(&file_with(alac_entry(u32::MAX))).unwrap_err();
        assert!(err.contains("ALAC configuration claims frames"), "{err}");
        // a version-2 sound description's frames per packet
        let mut v2 = vec![0u8; 64];
        v2[8..10].copy_from_slice(&2u16.to_be_bytes());
        v2[60..64].copy_from_slice(&u32::MAX.to_be_bytes());
        let stsd = bx(b"stsd", &full_box(1, &bx(b"lpcm", &v2)));
        let err = checked(&file_with(stsd)).unwrap_err();
        assert!(err.contains("sound description claims frames"), "{err}");
    }

    #[test]
    fn a_box_size_near_u64_max_ends_the_walk() {
        let mut bytes = file_with(bx(b"stsc", &full_box(0, &[])));
        let pos = bytes.len() as u64;
        bytes.extend_from_slice(&1u32.to_be_bytes());
        bytes.extend_from_slice(b"free");
        bytes.extend_from_slice(&(u64::MAX - pos + 1).to_be_bytes());
        assert_eq!(checked(&bytes), Ok(()));
    }
}
