//! FLAC metadata lengths checked before symphonia reads them. Its
//! Vorbis-comment and picture readers allocate whatever a length field inside
//! the block says, before reading: a lying 4 GB comment length (found by
//! fuzzing) is a 4 GB `vec!`, which aborts the process where memory is short.
//! Here each such length must fit in its block, and each block in the file.
//!
//! symphonia also refuses a whole file over a CUESHEET block it finds
//! imperfect (a CD-DA track offset not a multiple of 588 samples, as some
//! rippers write them), where ffmpeg plays the audio: earmark uses no cue
//! points, so each CUESHEET block is shown to symphonia as PADDING, which it
//! skips (a [`Patch`] of the block's header, the file untouched).

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use super::AudioError;
use super::open_ended::Patch;

const PADDING: u8 = 1;
const VORBIS_COMMENT: u8 = 4;
const CUESHEET: u8 = 5;
const PICTURE: u8 = 6;
/// More metadata blocks than any real file has (a handful): a file of more is
/// refused, so that a lie cannot hide behind thousands of empty ones.
const MAX_BLOCKS: usize = 4096;

/// Walk the metadata blocks after the `fLaC` at `start`; the patches that
/// show each CUESHEET block as PADDING.
pub fn check<R: Read + Seek>(
    r: &mut R,
    start: u64,
    file_len: u64,
    path: &Path,
) -> Result<Vec<Patch>, AudioError> {
    let lie = |what: String| AudioError::corrupt(path, what);
    let mut pos = start + 4;
    let mut patches = Vec::new();
    for _ in 0..MAX_BLOCKS {
        r.seek(SeekFrom::Start(pos))
            .map_err(|e| AudioError::io(path, e))?;
        let mut head = [0u8; 4];
        if r.read_exact(&mut head).is_err() {
            return Ok(patches); // symphonia reports the truncation itself
        }
        let last = head[0] & 0x80 != 0;
        let kind = head[0] & 0x7f;
        let len = u64::from(u32::from_be_bytes([0, head[1], head[2], head[3]]));
        if kind == CUESHEET {
            let bytes = [(head[0] & 0x80) | PADDING, head[1], head[2], head[3]];
            patches.push(Patch { offset: pos, bytes });
        }
        pos += 4;
        if pos + len > file_len {
            return Err(lie(format!(
                "FLAC metadata block of {len} bytes runs past the end of the file"
            )));
        }
        if kind == VORBIS_COMMENT || kind == PICTURE {
            let mut body = vec![0u8; len as usize]; // at most 16 MiB, and within the file
            r.read_exact(&mut body)
                .map_err(|e| AudioError::io(path, e))?;
            let fits = if kind == VORBIS_COMMENT {
                comment_lengths_fit(&body)
            } else {
                picture_lengths_fit(&body)
            };
            if !fits {
                return Err(lie(format!(
                    "a length inside a FLAC {} block is larger than the block",
                    if kind == VORBIS_COMMENT {
                        "comment"
                    } else {
                        "picture"
                    }
                )));
            }
        }
        pos += len;
        if last {
            return Ok(patches);
        }
    }
    Err(lie(format!(
        "more than {MAX_BLOCKS} FLAC metadata blocks (a real file has a handful)"
    )))
}

/// Vendor string, count, then length-prefixed comments (little-endian).
pub(super) fn comment_lengths_fit(b: &[u8]) -> bool {
    let u32_le = |at: usize| {
        b.get(at..at + 4)
            .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize)
    };
    // Past `at`, a length-prefixed string: where it ends, if inside the block.
    let skip = |at: usize, n: usize| (at + 4).checked_add(n).filter(|&end| end <= b.len());
    let Some(vendor) = u32_le(0) else {
        return true; // too short to hold a length: nothing to allocate
    };
    let Some(mut at) = skip(0, vendor) else {
        return false;
    };
    let Some(count) = u32_le(at) else {
        return true;
    };
    at += 4;
    for _ in 0..count {
        let Some(n) = u32_le(at) else {
            return true; // symphonia stops at the block's end
        };
        match skip(at, n) {
            Some(end) if embedded_picture_fits(&b[at + 4..end]) => at = end,
            _ => return false,
        }
    }
    true
}

/// A `METADATA_BLOCK_PICTURE=` comment is a base64 picture block, which
/// symphonia decodes and reads with the same allocating reader as a FLAC
/// picture block: its lengths must fit too. Other comments always fit.
fn embedded_picture_fits(comment: &[u8]) -> bool {
    use base64::Engine;
    const KEY: &[u8] = b"METADATA_BLOCK_PICTURE=";
    let Some(value) = comment
        .get(..KEY.len())
        .filter(|k| k.eq_ignore_ascii_case(KEY))
        .map(|_| &comment[KEY.len()..])
    else {
        return true;
    };
    let lenient = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    // what does not decode, symphonia does not read either
    lenient
        .decode(value)
        .map_or(true, |block| picture_lengths_fit(&block))
}

/// Type, MIME, description, four numbers, data (big-endian lengths).
pub(super) fn picture_lengths_fit(b: &[u8]) -> bool {
    let u32_be = |at: usize| {
        b.get(at..at + 4)
            .map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]) as usize)
    };
    let mut at = 4; // picture type
    for _ in 0..2 {
        // MIME type, then description
        let Some(n) = u32_be(at) else { return true };
        at = match (at + 4).checked_add(n) {
            Some(end) if end <= b.len() => end,
            _ => return false,
        };
    }
    at += 16; // width, height, depth, colours
    match u32_be(at) {
        Some(n) => (at + 4).checked_add(n).is_some_and(|end| end <= b.len()),
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comment(vendor: &[u8], comments: &[&[u8]], lie: Option<u32>) -> Vec<u8> {
        let mut b = (vendor.len() as u32).to_le_bytes().to_vec();
        b.extend_from_slice(vendor);
        b.extend_from_slice(&(comments.len() as u32).to_le_bytes());
        for c in comments {
            b.extend_from_slice(&lie.unwrap_or(c.len() as u32).to_le_bytes());
            b.extend_from_slice(c);
        }
        b
    }

    #[test]
    fn comment_lengths_must_fit_their_block() {
        assert!(comment_lengths_fit(&comment(
            b"earmark",
            &[b"GENRE=Jazz"],
            None
        )));
        assert!(!comment_lengths_fit(&comment(
            b"x",
            &[b"GENRE=Jazz"],
            Some(u32::MAX - 7)
        )));
        assert!(comment_lengths_fit(&[]));
    }

    #[test]
    fn a_lying_comment_length_is_refused_before_symphonia_allocates_it() {
        let body = comment(b"x", &[b"GENRE=Jazz"], Some(0xFFFF_FFF0));
        let mut file = b"fLaC".to_vec();
        file.push(0x80 | VORBIS_COMMENT);
        file.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        file.extend_from_slice(&body);
        let len = file.len() as u64;
        let r = check(&mut std::io::Cursor::new(file), 0, len, Path::new("x.flac"));
        let e = r.unwrap_err().to_string();
        assert!(e.contains("larger than the block"), "{e}");
    }

    #[test]
    fn the_demo_flac_passes() {
        let p = crate::repo_root().join("demo/Max McCracken/nebula.flac");
        let mut f = std::fs::File::open(&p).unwrap();
        let len = f.metadata().unwrap().len();
        check(&mut f, 0, len, &p).unwrap();
    }
}
