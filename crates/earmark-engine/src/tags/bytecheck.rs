//! Byte-level proof that a written copy differs from the original only in
//! its genre: the containers are walked again from the files on disk (not
//! from what the writer kept in memory), every other frame or block is
//! compared byte for byte, and so is the audio payload. No decoder is
//! involved, so files symphonia cannot decode are still verified.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use super::flac::FlacMeta;
use super::id3::Id3Tag;

/// Which layout a file was written with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// MPEG audio behind an ID3v2 tag (or none); ID3v1, APE and Lyrics3
    /// trailers count as payload.
    Id3Mpeg,
    /// FLAC metadata blocks, then frames.
    Flac,
}

fn open(p: &Path) -> Result<File, String> {
    File::open(p).map_err(|e| format!("cannot reopen {}: {e}", p.display()))
}

/// Compare `orig` and `copy` outside the genre field.
pub(crate) fn check(layout: Layout, orig: &Path, copy: &Path) -> Result<(), String> {
    let (mut a, mut b) = (open(orig)?, open(copy)?);
    let (start_a, start_b) = match layout {
        Layout::Id3Mpeg => {
            let ta = Id3Tag::read(&mut a)?;
            let tb = Id3Tag::read(&mut b)
                .map_err(|e| format!("the written ID3v2 tag does not read back: {e}"))?;
            if ta.len > 0 && tb.major != ta.major {
                return Err(format!(
                    "the ID3v2 version changed (v2.{} to v2.{})",
                    ta.major, tb.major
                ));
            }
            if tb.ext != ta.ext || tb.junk != ta.junk {
                return Err("the ID3v2 extended header or trailing bytes changed".into());
            }
            let others = |t: &Id3Tag| -> Vec<Vec<u8>> {
                t.frames
                    .iter()
                    .filter(|f| &f.id != b"TCON")
                    .map(|f| f.bytes.clone())
                    .collect()
            };
            if others(&ta) != others(&tb) {
                return Err("another ID3v2 frame changed".into());
            }
            (ta.len, tb.len)
        }
        Layout::Flac => {
            let ma = FlacMeta::read(&mut a)?;
            let mb = FlacMeta::read(&mut b)
                .map_err(|e| format!("the written FLAC metadata does not read back: {e}"))?;
            if ma.others() != mb.others() {
                return Err("another FLAC metadata block changed".into());
            }
            let (pa, va, ca) = ma.vorbis_others()?;
            let (pb, vb, cb) = mb.vorbis_others()?;
            if pa != pb || ca != cb || (va.is_some() && va != vb) {
                return Err("another Vorbis comment changed".into());
            }
            (ma.audio_start, mb.audio_start)
        }
    };
    if !same_tail(&mut a, start_a, &mut b, start_b).map_err(|e| e.to_string())? {
        return Err("the audio data changed".into());
    }
    Ok(())
}

/// Are `a[from_a..]` and `b[from_b..]` the same bytes?
fn same_tail(a: &mut File, from_a: u64, b: &mut File, from_b: u64) -> io::Result<bool> {
    let la = a.metadata()?.len().saturating_sub(from_a);
    let lb = b.metadata()?.len().saturating_sub(from_b);
    if la != lb {
        return Ok(false);
    }
    a.seek(SeekFrom::Start(from_a))?;
    b.seek(SeekFrom::Start(from_b))?;
    let (mut ba, mut bb) = (vec![0u8; 1 << 16], vec![0u8; 1 << 16]);
    let mut left = la;
    while left > 0 {
        let n = left.min(ba.len() as u64) as usize;
        a.read_exact(&mut ba[..n])?;
        b.read_exact(&mut bb[..n])?;
        if ba[..n] != bb[..n] {
            return Ok(false);
        }
        left -= n as u64;
    }
    Ok(true)
}

/// The raw children of an MP4's `moov/udta/meta/ilst`, genre atoms left out,
/// sorted (lofty may reorder them; order carries no meaning in `ilst`).
/// Read from the file, so atoms lofty drops on reading (an empty `covr` or
/// `©cmt`) are seen.
pub(crate) fn mp4_ilst_items(path: &Path) -> Result<Vec<Vec<u8>>, String> {
    let bytes = read_moov(path)?;
    let Some(moov) = bytes else {
        return Ok(Vec::new());
    };
    let find = |data: &[u8], name: &[u8; 4], skip: usize| -> Option<(usize, usize)> {
        let mut pos = skip;
        while pos + 8 <= data.len() {
            let size = u32::from_be_bytes([data[pos], data[pos + 1], data[pos + 2], data[pos + 3]])
                as usize;
            if size < 8 || pos + size > data.len() {
                return None;
            }
            if &data[pos + 4..pos + 8] == name {
                return Some((pos + 8, pos + size));
            }
            pos += size;
        }
        None
    };
    let Some((a, b)) = find(&moov, b"udta", 0) else {
        return Ok(Vec::new());
    };
    let udta = &moov[a..b];
    let Some((a, b)) = find(udta, b"meta", 0) else {
        return Ok(Vec::new());
    };
    let meta = &udta[a..b];
    // `meta` is a full box (4 bytes of version and flags) in the MP4 layout.
    let skip = if meta.get(4..8) == Some(b"hdlr") {
        0
    } else {
        4
    };
    let Some((a, b)) = find(meta, b"ilst", skip) else {
        return Ok(Vec::new());
    };
    let ilst = &meta[a..b];
    let mut items = Vec::new();
    let mut pos = 0;
    while pos + 8 <= ilst.len() {
        let size =
            u32::from_be_bytes([ilst[pos], ilst[pos + 1], ilst[pos + 2], ilst[pos + 3]]) as usize;
        if size < 8 || pos + size > ilst.len() {
            return Err("its MP4 ilst atom is malformed".into());
        }
        let name = &ilst[pos + 4..pos + 8];
        if name != b"\xa9gen" && name != b"gnre" {
            items.push(ilst[pos..pos + size].to_vec());
        }
        pos += size;
    }
    items.sort();
    Ok(items)
}

/// The top-level `moov` atom's body, if any (bounded by the file's size).
fn read_moov(path: &Path) -> Result<Option<Vec<u8>>, String> {
    let mut f = open(path)?;
    let len = f.metadata().map_err(|e| e.to_string())?.len();
    let mut pos = 0u64;
    while pos + 8 <= len {
        f.seek(SeekFrom::Start(pos)).map_err(|e| e.to_string())?;
        let mut h = [0u8; 16];
        f.read_exact(&mut h[..8]).map_err(|e| e.to_string())?;
        let mut size = u64::from(u32::from_be_bytes([h[0], h[1], h[2], h[3]]));
        let mut header = 8;
        if size == 1 {
            f.read_exact(&mut h[8..16]).map_err(|e| e.to_string())?;
            size = u64::from_be_bytes([h[8], h[9], h[10], h[11], h[12], h[13], h[14], h[15]]);
            header = 16;
        } else if size == 0 {
            size = len - pos;
        }
        if size < header || pos + size > len {
            return Err("its MP4 atoms run past the end of the file".into());
        }
        if &h[4..8] == b"moov" {
            let mut body = vec![0u8; (size - header) as usize];
            f.read_exact(&mut body).map_err(|e| e.to_string())?;
            return Ok(Some(body));
        }
        pos += size;
    }
    Ok(None)
}
