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
            if ma.vorbis_others()? != mb.vorbis_others()? {
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
