//! WAV and AIFF written to a pipe cannot go back to fill in their sizes:
//! ffmpeg leaves 0xFFFFFFFF in the RIFF and `data` sizes, sox 0x7FFFF000,
//! other tools 0. symphonia takes the placeholder for a length (a 15 s file
//! "lasts" 6:45:48) or refuses the file. Like ffmpeg and sox, we read such a
//! size as "to the end of the file": [`plan`] works out corrected size fields
//! and [`Patched`] shows them to symphonia in place of the file's own bytes,
//! without touching the file.
//!
//! A size that merely runs past the end of the file, consistent with the rest
//! of the header, is left alone: that is a truncated file, reported as such.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};

use symphonia::core::io::MediaSource;

/// Sizes from here up that run past the end of the file are placeholders, not
/// lengths: sox writes 0x7FFFF000, ffmpeg 0xFFFFFFFF; a real file cut short
/// rarely claims 2 GB.
const PLACEHOLDER_MIN: u32 = 0x7FFF_F000;

/// Chunks before the audio walked at most, so a file of tiny chunks costs
/// little time (the 8-byte chunk headers are all that is read).
const MAX_CHUNKS: usize = 256;

/// Four bytes to show at `offset` instead of the file's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Patch {
    pub offset: u64,
    pub bytes: [u8; 4],
}

/// Where a container keeps its audio and in which byte order it writes sizes.
struct Layout {
    big_endian: bool,
    audio_chunk: &'static [u8; 4],
}

impl Layout {
    fn of(head: &[u8]) -> Option<Layout> {
        match (head.get(..4)?, head.get(8..12)?) {
            (b"RIFF", b"WAVE") => Some(Layout {
                big_endian: false,
                audio_chunk: b"data",
            }),
            (b"FORM", b"AIFF" | b"AIFC") => Some(Layout {
                big_endian: true,
                audio_chunk: b"SSND",
            }),
            _ => None,
        }
    }

    fn size(&self, bytes: [u8; 4]) -> u32 {
        if self.big_endian {
            u32::from_be_bytes(bytes)
        } else {
            u32::from_le_bytes(bytes)
        }
    }

    /// A patch writing `len` (clamped to 32 bits) at `offset`.
    fn size_patch(&self, offset: u64, len: u64) -> Patch {
        let len = u32::try_from(len).unwrap_or(u32::MAX);
        let bytes = if self.big_endian {
            len.to_be_bytes()
        } else {
            len.to_le_bytes()
        };
        Patch { offset, bytes }
    }
}

/// The size fields to correct so that a WAV or AIFF whose header gives no
/// true length reads to the end of the file; empty for a sound header, a
/// truncated file, or any other format. `head` is the file's first bytes.
pub fn plan(file: &mut (impl Read + Seek), head: &[u8], file_len: u64) -> io::Result<Vec<Patch>> {
    let Some(layout) = Layout::of(head) else {
        return Ok(Vec::new());
    };
    let form_size = layout.size(head[4..8].try_into().unwrap_or_default());
    let form_unknown = form_size == 0 || is_placeholder(form_size, file_len.saturating_sub(8));
    let form_end = if form_unknown {
        file_len
    } else {
        8 + u64::from(form_size)
    };
    let mut patches = Vec::new();
    if form_unknown {
        patches.push(layout.size_patch(4, file_len.saturating_sub(8)));
    }
    let walk_end = form_end.min(file_len);
    if let Some((at, len)) = find_audio_chunk(file, &layout, walk_end)? {
        let body = at + 8;
        let past_form = u64::from(len) > form_end.saturating_sub(body);
        // An empty audio chunk with audio after it: a writer that never came
        // back to fill in the size (and, unless the form's is 0 too, no chunk follows).
        let empty_but_followed =
            len == 0 && body < walk_end && (form_size == 0 || !starts_a_chunk(file, body)?);
        if past_form || empty_but_followed {
            patches.push(layout.size_patch(at + 4, walk_end - body));
        }
    }
    patches.retain(|p| !already_says(file, p));
    Ok(patches)
}

/// A size past the bytes there, and too big to be a file cut short.
fn is_placeholder(size: u32, room: u64) -> bool {
    size >= PLACEHOLDER_MIN && u64::from(size) > room
}

/// Offset and declared length of the audio chunk's header, walking chunk
/// headers from just after the form type up to `end`.
fn find_audio_chunk(
    file: &mut (impl Read + Seek),
    layout: &Layout,
    end: u64,
) -> io::Result<Option<(u64, u32)>> {
    let mut at = 12u64;
    for _ in 0..MAX_CHUNKS {
        if at + 8 > end {
            break;
        }
        let header: [u8; 8] = read_at(file, at)?;
        let len = layout.size([header[4], header[5], header[6], header[7]]);
        if &header[..4] == layout.audio_chunk {
            return Ok(Some((at, len)));
        }
        // Chunks are padded to an even length.
        at += 8 + u64::from(len) + u64::from(len & 1);
    }
    Ok(None)
}

/// Whether the bytes at `at` look like a chunk id (four ASCII letters, digits
/// or spaces) rather than audio.
fn starts_a_chunk(file: &mut (impl Read + Seek), at: u64) -> io::Result<bool> {
    match read_at::<4>(file, at) {
        Ok(id) => Ok(id.iter().all(|b| b.is_ascii_alphanumeric() || *b == b' ')),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(e),
    }
}

/// Whether the file already holds the patch's bytes (a size that is right).
fn already_says(file: &mut (impl Read + Seek), patch: &Patch) -> bool {
    read_at::<4>(file, patch.offset).is_ok_and(|b| b == patch.bytes)
}

fn read_at<const N: usize>(file: &mut (impl Read + Seek), at: u64) -> io::Result<[u8; N]> {
    let mut buf = [0u8; N];
    file.seek(SeekFrom::Start(at))?;
    file.read_exact(&mut buf)?;
    Ok(buf)
}

/// A file read with some of its bytes replaced by [`Patch`]es.
pub struct Patched {
    file: File,
    pos: u64,
    len: u64,
    patches: Vec<Patch>,
}

impl Patched {
    pub fn new(file: File, len: u64, patches: Vec<Patch>) -> Self {
        Patched {
            file,
            pos: 0,
            len,
            patches,
        }
    }
}

impl Read for Patched {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read(buf)?;
        for patch in &self.patches {
            overlay(&mut buf[..n], self.pos, patch);
        }
        self.pos += n as u64;
        Ok(n)
    }
}

/// Write the part of `patch` that falls inside `buf`, which holds the file's
/// bytes from `buf_at`.
fn overlay(buf: &mut [u8], buf_at: u64, patch: &Patch) {
    for (offset, byte) in (patch.offset..).zip(patch.bytes) {
        let slot = offset
            .checked_sub(buf_at)
            .and_then(|k| usize::try_from(k).ok())
            .and_then(|k| buf.get_mut(k));
        if let Some(slot) = slot {
            *slot = byte;
        }
    }
}

impl Seek for Patched {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.pos = self.file.seek(to)?;
        Ok(self.pos)
    }
}

impl MediaSource for Patched {
    fn is_seekable(&self) -> bool {
        true
    }

    fn byte_len(&self) -> Option<u64> {
        Some(self.len)
    }
}

/// A source read from `start` on, as if the file began there (the
/// decoder is given an MP3 or FLAC past its ID3v2 tags).
pub struct StartingAt {
    inner: Box<dyn MediaSource>,
    start: u64,
    len: u64,
}

impl StartingAt {
    pub fn new(inner: Box<dyn MediaSource>, start: u64, len: u64) -> StartingAt {
        StartingAt {
            inner,
            start: start.min(len),
            len,
        }
    }
}

impl Read for StartingAt {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.inner.stream_position()? < self.start {
            self.inner.seek(SeekFrom::Start(self.start))?;
        }
        self.inner.read(buf)
    }
}

impl Seek for StartingAt {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let at = match to {
            SeekFrom::Start(n) => self
                .inner
                .seek(SeekFrom::Start(self.start.saturating_add(n)))?,
            SeekFrom::End(n) => self.inner.seek(SeekFrom::End(n))?,
            SeekFrom::Current(n) => self.inner.seek(SeekFrom::Current(n))?,
        };
        if at < self.start {
            self.inner.seek(SeekFrom::Start(self.start))?;
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before the start of the audio",
            ));
        }
        Ok(at - self.start)
    }
}

impl MediaSource for StartingAt {
    fn is_seekable(&self) -> bool {
        true
    }

    fn byte_len(&self) -> Option<u64> {
        Some(self.len - self.start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// A 16-bit mono WAV of `frames` frames whose RIFF and `data` sizes are
    /// `riff` and `data`, with a LIST chunk before the audio as ffmpeg writes.
    fn wav_with_sizes(frames: usize, riff: u32, data: u32) -> Vec<u8> {
        let mut out = b"RIFF".to_vec();
        out.extend_from_slice(&riff.to_le_bytes());
        out.extend_from_slice(b"WAVEfmt ");
        out.extend_from_slice(&16u32.to_le_bytes());
        for v in [1u16, 1] {
            out.extend_from_slice(&v.to_le_bytes()); // PCM, mono
        }
        out.extend_from_slice(&8000u32.to_le_bytes());
        out.extend_from_slice(&16_000u32.to_le_bytes());
        for v in [2u16, 16] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(b"LIST\x05\0\0\0INFOx\0"); // odd length, padded
        out.extend_from_slice(b"data");
        out.extend_from_slice(&data.to_le_bytes());
        out.extend((0..frames).flat_map(|i| ((i % 200) as i16 * 100).to_le_bytes()));
        out
    }

    fn plan_for(bytes: &[u8]) -> Vec<Patch> {
        plan(&mut Cursor::new(bytes), bytes, bytes.len() as u64).unwrap()
    }

    fn patched(bytes: &[u8]) -> Vec<u8> {
        let mut out = bytes.to_vec();
        for p in plan_for(bytes) {
            overlay(&mut out, 0, &p);
        }
        out
    }

    fn sizes(bytes: &[u8]) -> (u32, u32) {
        let data_at = bytes.windows(4).position(|w| w == b"data").unwrap();
        let le = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
        (le(4), le(data_at + 4))
    }

    #[test]
    fn placeholder_sizes_are_read_as_the_end_of_the_file() {
        let len = wav_with_sizes(1000, 0, 0).len() as u32;
        for (riff, data) in [(u32::MAX, u32::MAX), (0, 0), (0x7FFF_F024, 0x7FFF_F000)] {
            let fixed = patched(&wav_with_sizes(1000, riff, data));
            assert_eq!(sizes(&fixed), (len - 8, 2000), "{riff:#x} {data:#x}");
        }
        // A data chunk claiming 4 GB inside a RIFF that gives the true size.
        let fixed = patched(&wav_with_sizes(1000, len - 8, u32::MAX - 100));
        assert_eq!(sizes(&fixed), (len - 8, 2000));
    }

    #[test]
    fn sound_and_truncated_headers_are_left_alone() {
        let len = wav_with_sizes(1000, 0, 0).len() as u32;
        assert!(plan_for(&wav_with_sizes(1000, len - 8, 2000)).is_empty());
        // Cut short: the sizes agree with each other, so it stays "truncated".
        assert!(plan_for(&wav_with_sizes(1000, len - 8 + 6000, 8000)).is_empty());
        // An empty data chunk followed by another chunk is just empty.
        let mut empty = wav_with_sizes(0, 0, 0);
        empty.extend_from_slice(b"junk\x04\0\0\0abcd");
        let riff = (empty.len() as u32 - 8).to_le_bytes();
        empty[4..8].copy_from_slice(&riff);
        assert!(plan_for(&empty).is_empty());
        assert!(plan_for(b"OggS\0\0\0\0\0\0\0\0\0\0").is_empty());
    }

    #[test]
    fn aiff_sizes_are_repaired_big_endian() {
        let mut aiff = b"FORM\xff\xff\xff\xffAIFFSSND\xff\xff\xff\xff".to_vec();
        aiff.extend_from_slice(&[0u8; 8 + 100]);
        let fixed = patched(&aiff);
        assert_eq!(&fixed[4..8], &(aiff.len() as u32 - 8).to_be_bytes());
        assert_eq!(&fixed[16..20], &108u32.to_be_bytes());
    }

    #[test]
    fn a_patch_lands_whatever_the_read_boundaries() {
        let patch = Patch {
            offset: 4,
            bytes: *b"abcd",
        };
        let mut head = *b"0123456";
        overlay(&mut head, 0, &patch);
        assert_eq!(&head, b"0123abc");
        let mut tail = *b"xyz";
        overlay(&mut tail, 7, &patch);
        assert_eq!(&tail, b"dyz");
        let mut far = *b"xyz";
        overlay(&mut far, 100, &patch);
        assert_eq!(&far, b"xyz");
    }
}
