//! ID3v2.3 frame sizes checked before symphonia reads them. Its probe reads
//! every ID3v2 tag in front of the audio (MP3, and FLAC, WAV or anything
//! else that carries one) and allocates each v2.3 frame's size, a plain
//! 32-bit number, before reading it: a 24 KB file whose frame claims 4 GB
//! aborted the process. Here each frame must fit in the rest of its tag.
//! (v2.2 sizes are 24-bit and v2.4 sizes syncsafe, so their frames are
//! bounded by the format itself.)

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use super::AudioError;
use super::au::read_up_to;

const HEADER: usize = 10;
/// More tags in a row than any real file holds (one, rarely two).
const MAX_TAGS: usize = 16;

/// Where the ID3v2 tags at the start of the file end (0: none), walked by
/// their headers alone. The decoder is given the file from there: symphonia
/// need not read a tag earmark reads with its own tag reader, so a damaged
/// frame (ffmpeg plays such files) or a 200 MB cover does not stop or
/// weigh on the audio.
pub fn end_of_leading_tags<R: Read + Seek>(
    r: &mut R,
    file_len: u64,
    path: &Path,
) -> Result<u64, AudioError> {
    let io = |e| AudioError::io(path, e);
    let mut at = 0u64;
    for _ in 0..MAX_TAGS {
        r.seek(SeekFrom::Start(at)).map_err(io)?;
        let mut head = [0u8; HEADER];
        if read_up_to(r, &mut head).map_err(io)? < HEADER || !is_tag_header(&head) {
            return Ok(at.min(file_len));
        }
        at += tag_len(&head);
    }
    Err(AudioError::corrupt(
        path,
        format!("more than {MAX_TAGS} ID3v2 tags in a row"),
    ))
}

/// An ID3v2 header symphonia would read as one: version 2-4, syncsafe size.
fn is_tag_header(head: &[u8; HEADER]) -> bool {
    head.starts_with(b"ID3")
        && (2..=4).contains(&head[3])
        && head[6..10].iter().all(|b| b & 0x80 == 0)
}

/// The tag's body length, as its header's syncsafe size says.
fn body_len(head: &[u8; HEADER]) -> u64 {
    head[6..10]
        .iter()
        .fold(0u64, |n, b| (n << 7) | u64::from(b & 0x7f))
}

/// The whole tag's length: header, body and a v2.4 footer.
fn tag_len(head: &[u8; HEADER]) -> u64 {
    let footer = if head[3] == 4 && head[5] & 0x10 != 0 {
        10
    } else {
        0
    };
    HEADER as u64 + body_len(head) + footer
}

/// The same from `at` (where its probe found an `ID3` marker past junk);
/// where the tags in a row end.
pub fn check_from<R: Read + Seek>(
    r: &mut R,
    mut at: u64,
    file_len: u64,
    path: &Path,
) -> Result<u64, AudioError> {
    let io = |e| AudioError::io(path, e);
    for _ in 0..MAX_TAGS {
        r.seek(SeekFrom::Start(at)).map_err(io)?;
        let mut head = [0u8; HEADER];
        if read_up_to(r, &mut head).map_err(io)? < HEADER || !head.starts_with(b"ID3") {
            return Ok(at);
        }
        let (version, flags) = (head[3], head[5]);
        if version == 3 {
            let take = body_len(&head).min(file_len.saturating_sub(at + HEADER as u64));
            let mut body = Vec::new();
            r.take(take).read_to_end(&mut body).map_err(io)?;
            if flags & 0x80 != 0 {
                body = resynchronised(&body);
            }
            if !v23_frames_fit(&body, flags & 0x40 != 0) {
                return Err(AudioError::corrupt(
                    path,
                    "its ID3v2 tag holds a frame larger than the tag",
                ));
            }
        }
        at += tag_len(&head);
    }
    Err(AudioError::corrupt(
        path,
        format!("more than {MAX_TAGS} ID3v2 tags in a row"),
    ))
}

/// The tag's bytes with unsynchronisation undone (each 0xFF 0x00 read as
/// 0xFF), as symphonia reads an unsynchronised v2.3 tag.
fn resynchronised(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut after_ff = false;
    for &b in raw {
        if !(after_ff && b == 0) {
            out.push(b);
        }
        after_ff = b == 0xFF;
    }
    out
}

/// Whether every v2.3 frame in `body` (the tag after its header) fits in
/// the bytes after it; the walk stops where symphonia's does: at padding,
/// at an error it would stop on, or with too few bytes left for a frame.
fn v23_frames_fit(body: &[u8], extended_header: bool) -> bool {
    let be32 = |at: usize| {
        body.get(at..at + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
    };
    let mut pos = 0;
    if extended_header {
        // size (6 or 10), flags, padding size, and a CRC if size 10 says so
        let (Some(size), Some(flags)) = (be32(0), body.get(4..6)) else {
            return true;
        };
        if size != 6 && size != 10 {
            return true;
        }
        pos = if size == 10 && flags[0] & 0x80 != 0 {
            14
        } else {
            10
        };
    }
    loop {
        let Some(id) = body.get(pos..pos + 4) else {
            return true;
        };
        if !id
            .iter()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
        {
            return true; // padding
        }
        let (Some(size), Some(flags)) = (be32(pos + 4), body.get(pos + 8..pos + 10)) else {
            return true;
        };
        if flags[0] & 0x1f != 0 || flags[1] & 0x1f != 0 {
            return true; // symphonia refuses the tag here
        }
        pos += HEADER;
        if size > body.len() - pos {
            return false;
        }
        pos += size;
        if body.len() - pos < HEADER {
            return true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn frame(id: &[u8; 4], size: u32, data: &[u8]) -> Vec<u8> {
        let mut f = id.to_vec();
        f.extend_from_slice(&size.to_be_bytes());
        f.extend_from_slice(&[0, 0]);
        f.extend_from_slice(data);
        f
    }

    fn tag(version: u8, flags: u8, body: &[u8]) -> Vec<u8> {
        let n = body.len() as u32;
        let mut t = vec![b'I', b'D', b'3', version, 0, flags];
        t.extend((0..4).rev().map(|i| ((n >> (7 * i)) & 0x7f) as u8));
        t.extend_from_slice(body);
        t
    }

    fn checked(bytes: &[u8]) -> Result<(), String> {
        check_from(
            &mut Cursor::new(bytes),
            0,
            bytes.len() as u64,
            Path::new("x.mp3"),
        )
        .map(|_| ())
        .map_err(|e| e.to_string())
    }

    /// The tags in front end where their headers say, whatever their frames
    /// hold (the decoder starts there); a v2.4 footer counts.
    #[test]
    fn the_leading_tags_end_where_their_headers_say() {
        let end = |bytes: &[u8]| {
            end_of_leading_tags(
                &mut Cursor::new(bytes),
                bytes.len() as u64,
                Path::new("x.mp3"),
            )
            .unwrap()
        };
        let bad = tag(3, 0, &frame(b"APIC", 0xFFFF_FFF0, b"\0image/png\0"));
        let mut file = bad.clone();
        file.extend(tag(4, 0x10, &[0u8; 20]));
        file.extend([0u8; 10]); // the footer
        let tags = file.len() as u64;
        file.extend_from_slice(&[0xFF, 0xFB, 0x90, 0x00]);
        assert_eq!(end(&file), tags);
        assert_eq!(end(&[0xFF, 0xFB, 0x90, 0x00]), 0, "no tag");
        assert_eq!(
            end(b"ID3\x03\0\0\0\0\x7f"),
            0,
            "cut inside the header: no tag"
        );
        // a size that is not syncsafe is no tag symphonia would read
        assert_eq!(end(b"ID3\x03\0\0\x80\0\0\x10rest"), 0);
    }

    #[test]
    fn frames_that_fit_pass_and_padding_ends_the_walk() {
        let mut body = frame(b"TIT2", 5, b"\0Song");
        body.extend(frame(b"TCON", 5, b"\0Jazz"));
        body.extend([0u8; 64]);
        let mut file = tag(3, 0, &body);
        file.extend_from_slice(&[0xFF, 0xFB, 0x90, 0x00]);
        assert_eq!(checked(&file), Ok(()));
    }

    #[test]
    fn a_frame_larger_than_its_tag_is_refused_in_every_tag_in_a_row() {
        let mut body = frame(b"TIT2", 5, b"\0Song");
        body.extend(frame(b"APIC", 0xFFFF_FFF0, b"\0image/png\0"));
        let err = checked(&tag(3, 0, &body)).unwrap_err();
        assert!(err.contains("a frame larger than the tag"), "{err}");
        // behind a first, good tag
        let mut two = tag(3, 0, &frame(b"TIT2", 5, b"\0Song"));
        two.extend(tag(3, 0, &body));
        assert!(checked(&two).is_err());
        // v2.4 sizes are syncsafe (at most 256 MB): not this check's
        assert_eq!(checked(&tag(4, 0, &body)), Ok(()));
    }

    #[test]
    fn unsynchronisation_and_the_extended_header_are_read_as_symphonia_reads_them() {
        // 0xFF 0x00 in the raw tag is one byte: the frame of 3 fits
        let mut body = frame(b"TXXX", 3, &[0xFF, 0x00, 0x01, 0x02]);
        body.extend([0u8; 12]);
        assert_eq!(checked(&tag(3, 0x80, &body)), Ok(()));
        let mut ext = vec![0, 0, 0, 6, 0, 0, 0, 0, 0, 0];
        ext.extend(frame(b"TIT2", 0x7FFF_FFFF, b"\0x"));
        assert!(checked(&tag(3, 0x40, &ext)).is_err());
    }

    #[test]
    fn resynchronised_drops_the_zero_after_each_ff() {
        assert_eq!(
            resynchronised(&[1, 0xFF, 0, 2, 0xFF, 0xFF, 0, 0]),
            vec![1, 0xFF, 2, 0xFF, 0xFF, 0]
        );
    }
}
