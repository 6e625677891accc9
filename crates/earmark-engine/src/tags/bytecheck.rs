//! Byte-level proof that a written copy differs from the original only in
//! its genre: the containers are walked again from the files on disk (not
//! from what the writer kept in memory), every other frame or block is
//! compared byte for byte, and so is the audio payload. No decoder is
//! involved, so files symphonia cannot decode are still verified.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use sha2::{Digest, Sha256};

use super::flac::FlacMeta;
use super::id3::Id3Tag;
use super::mp4;

/// Which layout a file was written with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// MPEG audio behind an ID3v2 tag (or none); APE and Lyrics3 trailers
    /// count as payload, and an ID3v1 trailer all but its genre byte.
    Id3Mpeg,
    /// FLAC metadata blocks, then frames.
    Flac,
    /// MP4 atoms: every atom outside `ilst`'s genre items identical, chunk
    /// offsets pointing at the same bytes of the same (identical) `mdat`.
    Mp4,
    /// WAV or AIFF chunks (see `chunks`).
    Chunks,
    /// Ogg pages and packets (see `ogg`).
    Ogg,
}

/// Every ID3v2 frame but `TCON` the same bytes in the same order, same
/// version (a new tag may be created where there was none).
pub(crate) fn same_id3_frames(ta: &Id3Tag, tb: &Id3Tag) -> Result<(), String> {
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
            .filter(|f| f.id != t.genre_id())
            .map(|f| f.bytes.clone())
            .collect()
    };
    if others(ta) != others(tb) {
        return Err("another ID3v2 frame changed".into());
    }
    Ok(())
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
            same_id3_frames(&ta, &tb)?;
            // The ID3v1 trailer's genre byte may change (the last byte of
            // both files); everything before it is compared.
            let v1 = |f: &mut File| super::id3::v1_genre(f).map_err(|e| e.to_string());
            if let (Some(_), Some(_)) = (v1(&mut a)?, v1(&mut b)?) {
                let ends = |f: &File| f.metadata().map(|m| m.len() - 1).map_err(|e| e.to_string());
                let (end_a, end_b) = (ends(&a)?, ends(&b)?);
                let same = same_span(&mut a, ta.len, end_a, &mut b, tb.len, end_b);
                return match same.map_err(|e| e.to_string())? {
                    true => Ok(()),
                    false => Err("the audio data changed".into()),
                };
            }
            (ta.len, tb.len)
        }
        Layout::Mp4 => return mp4_check(&mut a, &mut b),
        Layout::Chunks => return super::chunks::check(&mut a, &mut b),
        Layout::Ogg => return super::ogg::check(&mut a, &mut b),
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
    let (end_a, end_b) = (a.metadata()?.len(), b.metadata()?.len());
    same_span(a, from_a, end_a, b, from_b, end_b)
}

/// Are `a[from_a..end_a]` and `b[from_b..end_b]` the same bytes?
fn same_span(
    a: &mut File,
    from_a: u64,
    end_a: u64,
    b: &mut File,
    from_b: u64,
    end_b: u64,
) -> io::Result<bool> {
    let la = end_a.saturating_sub(from_a);
    let lb = end_b.saturating_sub(from_b);
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

/// An MP4 file seen without its genre: each top-level atom but `moov` as a
/// digest of its bytes, and each leaf atom of `moov` by path.
struct Mp4View {
    top: Vec<([u8; 4], String)>,
    leaves: Vec<(String, Vec<u8>)>,
}

fn mp4_view(file: &mut File) -> Result<Mp4View, String> {
    let tops = mp4::top_atoms(file)?;
    let (_, moov) = mp4::read_moov(file, &tops)?;
    let mut top = Vec::new();
    for t in tops.iter().filter(|t| &t.name != b"moov") {
        file.seek(SeekFrom::Start(t.start))
            .map_err(|e| e.to_string())?;
        let mut h = Sha256::new();
        io::copy(&mut (&mut *file).take(t.size), &mut h).map_err(|e| e.to_string())?;
        top.push((t.name, hex::encode(h.finalize())));
    }
    // A chunk offset as (which top-level atom, where in it): the same data
    // wherever `moov` growing has moved it.
    let locate = |off: u64| -> String {
        tops.iter()
            .enumerate()
            .find(|(_, t)| off >= t.start && off < t.start + t.size)
            .map_or_else(
                || format!("outside:{off}"),
                |(i, t)| format!("{i}+{}", off - t.start),
            )
    };
    let mut leaves = Vec::new();
    flatten(&moov, "", &locate, &mut leaves)?;
    Ok(Mp4View { top, leaves })
}

/// The leaves under `whole` (an atom with its header), by path.
fn flatten(
    whole: &[u8],
    parent: &str,
    locate: &dyn Fn(u64) -> String,
    out: &mut Vec<(String, Vec<u8>)>,
) -> Result<(), String> {
    let spans = mp4::children(whole)?;
    let Some(s) = spans.first() else {
        return Ok(());
    };
    let name = String::from_utf8_lossy(&s.name).to_string();
    let path = format!("{parent}/{name}");
    let body = s.body(whole);
    match &s.name {
        b"moov" | b"trak" | b"mdia" | b"minf" | b"stbl" | b"udta" | b"meta" => {
            let at = if &s.name == b"meta" {
                mp4::meta_children_at(body)
            } else {
                0
            };
            out.push((format!("{path}#head"), body[..at].to_vec()));
            for c in mp4::children(&body[at..])? {
                // Padding inside `meta` gives or takes what `ilst` needs.
                if &s.name == b"meta" && &c.name == b"free" {
                    continue;
                }
                flatten(c.whole(&body[at..]), &path, locate, out)?;
            }
        }
        b"ilst" => {
            for c in mp4::children(body)? {
                if &c.name != mp4::GEN && &c.name != mp4::GNRE {
                    out.push((format!("{path}/item"), c.whole(body).to_vec()));
                }
            }
        }
        b"stco" | b"co64" => {
            let offsets = mp4::chunk_offsets(&s.name, body)?;
            let mut v = body.get(..8).unwrap_or(body).to_vec();
            for o in offsets {
                v.extend(locate(o).into_bytes());
                v.push(b',');
            }
            out.push((path, v));
        }
        _ => out.push((path, whole.to_vec())),
    }
    Ok(())
}

fn mp4_check(a: &mut File, b: &mut File) -> Result<(), String> {
    let va = mp4_view(a)?;
    let mut vb = mp4_view(b).map_err(|e| format!("the written MP4 does not read back: {e}"))?;
    if va.top != vb.top {
        return Err("another top-level MP4 atom or the audio data changed".into());
    }
    // A `meta` earmark created brings its standard header and handler.
    if !va
        .leaves
        .iter()
        .any(|(p, _)| p.starts_with("/moov/udta/meta"))
    {
        vb.leaves.retain(|(p, v)| {
            !(p == "/moov/udta/meta#head" && v == &[0u8; 4]
                || p == "/moov/udta/meta/hdlr" && v == mp4::MDIR_HDLR)
        });
    }
    if !va.leaves.iter().any(|(p, _)| p.starts_with("/moov/udta")) {
        vb.leaves
            .retain(|(p, v)| !(p == "/moov/udta#head" && v.is_empty()));
    }
    if va.leaves != vb.leaves {
        let first = va
            .leaves
            .iter()
            .zip(&vb.leaves)
            .find(|(x, y)| x != y)
            .map_or("an atom was added or dropped".to_string(), |(x, _)| {
                format!("atom {} changed", x.0)
            });
        return Err(format!("another MP4 atom would change ({first})"));
    }
    Ok(())
}
