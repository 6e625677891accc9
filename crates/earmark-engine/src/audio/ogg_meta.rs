//! Ogg Vorbis and Opus comment lengths checked before symphonia reads them.
//! Its comment reader allocates whatever a length inside the comment header
//! says, before reading: a lying 4 GB length is a 4 GB `vec!`, which aborts
//! the process where memory is short. Here the comment header of every
//! Vorbis or Opus stream is put together from its pages and each length in
//! it must fit in it, as [`super::flac_meta`] does for FLAC.

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use super::AudioError;
use super::au::read_up_to;
use super::flac_meta::comment_lengths_fit;

/// How far past a damaged spot the next page is looked for (as symphonia
/// does, it resynchronises on the next `OggS`).
const RESYNC_WINDOW: usize = 64 << 10;

/// One logical stream's first two packets, as far as its pages went.
#[derive(Default)]
struct Stream {
    packets: usize,
    /// The packet being put together (kept only for the first two).
    partial: Vec<u8>,
    /// Bytes that start the comment packet: `\x03vorbis` or `OpusTags`.
    comment_magic: Option<&'static [u8]>,
    done: bool,
}

pub fn check<R: Read + Seek>(r: &mut R, file_len: u64, path: &Path) -> Result<(), AudioError> {
    let io = |e| AudioError::io(path, e);
    let mut streams: HashMap<u32, Stream> = HashMap::new();
    let mut pos = 0u64;
    let mut past_first_pages = false;
    while pos + 27 <= file_len {
        r.seek(SeekFrom::Start(pos)).map_err(io)?;
        let mut h = [0u8; 27];
        r.read_exact(&mut h).map_err(io)?;
        if &h[..4] != b"OggS" {
            match resync(r, pos + 1).map_err(io)? {
                Some(next) => {
                    pos = next;
                    continue;
                }
                None => return Ok(()),
            }
        }
        let bos = h[5] & 0x02 != 0;
        let serial = u32::from_le_bytes([h[14], h[15], h[16], h[17]]);
        let mut lacing = vec![0u8; usize::from(h[26])];
        if r.read_exact(&mut lacing).is_err() {
            return Ok(()); // a cut-short page: symphonia says so itself
        }
        let body_at = pos + 27 + lacing.len() as u64;
        let body_len: u64 = lacing.iter().map(|&l| u64::from(l)).sum();
        past_first_pages |= !bos;
        let s = streams.entry(serial).or_default();
        if !s.done {
            let mut body = vec![0u8; body_len as usize]; // at most 65 025 bytes
            if read_up_to(r, &mut body).map_err(io)? < body.len() {
                return Ok(());
            }
            take_packets(s, &lacing, &body).map_err(|what| AudioError::corrupt(path, what))?;
        }
        if past_first_pages && streams.values().all(|s| s.done) {
            return Ok(());
        }
        pos = body_at + body_len;
    }
    Ok(())
}

/// Add a page's segments to its stream; check the comment packet once whole.
fn take_packets(s: &mut Stream, lacing: &[u8], body: &[u8]) -> Result<(), String> {
    let mut at = 0usize;
    for &l in lacing {
        let segment = &body[at..at + usize::from(l)];
        at += usize::from(l);
        if s.done {
            break;
        }
        s.partial.extend_from_slice(segment);
        if l == 255 {
            continue; // the packet goes on
        }
        let packet = std::mem::take(&mut s.partial);
        match s.packets {
            0 if packet.starts_with(b"\x01vorbis") => s.comment_magic = Some(b"\x03vorbis"),
            0 if packet.starts_with(b"OpusHead") => s.comment_magic = Some(b"OpusTags"),
            0 => s.done = true, // another codec: not read this way
            _ => {
                s.done = true;
                if let Some(magic) = s.comment_magic
                    && let Some(comments) = packet.strip_prefix(magic)
                    && !comment_lengths_fit(comments)
                {
                    return Err(
                        "a length inside an Ogg comment header is larger than the header".into(),
                    );
                }
            }
        }
        s.packets += 1;
    }
    Ok(())
}

/// Where the next `OggS` is at or after `from`, if anywhere.
fn resync<R: Read + Seek>(r: &mut R, mut from: u64) -> std::io::Result<Option<u64>> {
    let mut buf = vec![0u8; RESYNC_WINDOW];
    loop {
        r.seek(SeekFrom::Start(from))?;
        let got = read_up_to(r, &mut buf)?;
        if let Some(i) = buf[..got].windows(4).position(|w| w == b"OggS") {
            return Ok(Some(from + i as u64));
        }
        if got < buf.len() {
            return Ok(None);
        }
        from += (got - 3) as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn raw_page(serial: u32, bos: bool, lacing: &[u8], body: &[u8]) -> Vec<u8> {
        let mut out = b"OggS\0".to_vec();
        out.push(if bos { 2 } else { 0 });
        out.extend_from_slice(&[0u8; 8]);
        out.extend_from_slice(&serial.to_le_bytes());
        out.extend_from_slice(&[0u8; 8]); // sequence, CRC (not checked here)
        out.push(lacing.len() as u8);
        out.extend_from_slice(lacing);
        out.extend_from_slice(body);
        out
    }

    /// The lacing values of one whole packet of `n` bytes.
    fn lacing_of(n: usize) -> Vec<u8> {
        let mut l = vec![255u8; n / 255];
        l.push((n % 255) as u8);
        l
    }

    fn page(serial: u32, bos: bool, packet: &[u8]) -> Vec<u8> {
        raw_page(serial, bos, &lacing_of(packet.len()), packet)
    }

    fn comments(vendor: &[u8], lengths: &[u32]) -> Vec<u8> {
        let mut out = b"OpusTags".to_vec();
        out.extend_from_slice(&(vendor.len() as u32).to_le_bytes());
        out.extend_from_slice(vendor);
        out.extend_from_slice(&(lengths.len() as u32).to_le_bytes());
        for &n in lengths {
            out.extend_from_slice(&n.to_le_bytes());
            out.extend(std::iter::repeat_n(b'x', (n as usize).min(300)));
        }
        out
    }

    fn checked(bytes: &[u8]) -> Result<(), String> {
        check(
            &mut Cursor::new(bytes),
            bytes.len() as u64,
            Path::new("x.opus"),
        )
        .map_err(|e| e.to_string())
    }

    /// An Opus stream whose comment packet spans two pages.
    fn opus_file(tags: &[u8]) -> Vec<u8> {
        let mut f = page(7, true, b"OpusHead\x01\x02\0\0\x80\xbb\0\0\0\0\0");
        let split = 255 * (tags.len() / 255 / 2).max(1);
        f.extend(raw_page(
            7,
            false,
            &vec![255u8; split / 255],
            &tags[..split],
        ));
        f.extend(page(7, false, &tags[split..]));
        f.extend(page(7, false, &[0u8; 40]));
        f
    }

    #[test]
    fn comment_lengths_that_fit_pass_even_across_pages() {
        let tags = comments(b"earmark test", &[300, 300, 300]);
        assert_eq!(checked(&opus_file(&tags)), Ok(()));
    }

    #[test]
    fn a_lying_comment_length_is_refused() {
        let tags = comments(b"earmark test", &[300, 0xFFFF_FFF0, 300]);
        let err = checked(&opus_file(&tags)).unwrap_err();
        assert!(
            err.contains("a length inside an Ogg comment header"),
            "{err}"
        );
    }

    #[test]
    fn garbage_between_pages_is_skipped_as_symphonia_does() {
        let mut f = b"junk before the first page".to_vec();
        f.extend(page(7, true, b"OpusHead\x01\x02\0\0\x80\xbb\0\0\0\0\0"));
        f.extend(page(7, false, &comments(b"v", &[0xFFFF_FFF0])));
        assert!(checked(&f).is_err());
    }
}
