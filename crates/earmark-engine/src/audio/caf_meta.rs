//! CAF chunk lengths checked before symphonia reads them. Its CAF reader
//! allocates a magic cookie (`kuki`) of whatever size its chunk header
//! says, a packet table (`pakt`) of as many 32-byte entries as the table
//! claims, and each packet of the size the table gives it, all before
//! reading; and the ALAC decoder sizes its buffers by the frame length in
//! the cookie. A 90-byte file claiming an 8 GB cookie aborted the process
//! (an allocation failure cannot be caught). Here the chunks are walked as
//! symphonia walks them, and each such length must fit in what holds it.

use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use super::AudioError;
use super::au::read_up_to;
use super::walk::Walk;

/// ALAC frame lengths accepted: real encoders write 4096; the decoder
/// allocates `frame_length × channels` samples and more.
const MAX_ALAC_FRAME_LENGTH: u32 = 65_536;
/// Bytes per frame of uncompressed audio: 32 channels of 64-bit samples
/// take 256; symphonia reads 1152 frames a packet, whatever the frame says.
const MAX_PCM_FRAME_BYTES: u32 = 1 << 10;
/// Packet-table entries: 33 M packets (over a week of AAC) are 1 GiB of
/// symphonia's 32-byte entries.
const MAX_PACKETS: i64 = 1 << 25;

/// The `desc` chunk: what the other chunks are read by.
struct Desc {
    format: [u8; 4],
    bytes_per_packet: u32,
    frames_per_packet: u32,
    bits_per_channel: u32,
}

/// Walk the chunks after the `caff` header at `start`.
pub fn check<R: Read + Seek>(
    r: &mut R,
    start: u64,
    file_len: u64,
    path: &Path,
) -> Result<(), AudioError> {
    r.seek(SeekFrom::Start(start))
        .map_err(|e| AudioError::io(path, e))?;
    let mut r = BufReader::with_capacity(64 << 10, r);
    walk(&mut r, start, file_len).map_err(|e| e.for_file(path))
}

fn lie<T>(what: &str) -> Result<T, Walk> {
    Err(Walk::Lie(what.into()))
}

/// Reads exactly `N` bytes, or None at the end of the file (symphonia
/// reports the truncation itself).
fn take<const N: usize, R: Read>(r: &mut R) -> Result<Option<[u8; N]>, Walk> {
    let mut b = [0u8; N];
    Ok((read_up_to(r, &mut b)? == N).then_some(b))
}

fn walk<R: Read + Seek>(r: &mut BufReader<R>, start: u64, file_len: u64) -> Result<(), Walk> {
    let Some(head) = take::<8, _>(r)? else {
        return Ok(());
    };
    if &head[..4] != b"caff" {
        return Ok(());
    }
    let mut desc: Option<Desc> = None;
    let mut largest_packet = 0u64;
    // the audio bytes of the last `data` chunk that the file holds
    let mut data_room = None;
    let mut pos = start + 8;
    // symphonia reads chunks until it is exactly at the end of the file
    while pos < file_len {
        r.seek(SeekFrom::Start(pos))?;
        let Some(h) = take::<12, _>(r)? else {
            break;
        };
        let kind = [h[0], h[1], h[2], h[3]];
        let size = i64::from_be_bytes([h[4], h[5], h[6], h[7], h[8], h[9], h[10], h[11]]);
        let body = pos + 12;
        let room = file_len - body.min(file_len);
        if &kind == b"data" {
            // -1: the audio runs to the end of the file, and symphonia goes
            // on reading chunk headers from its first bytes
            let Some(len) = (if size == -1 {
                Some(room)
            } else {
                u64::try_from(size).ok()
            }) else {
                break;
            };
            if len < 4 {
                break; // symphonia refuses it
            }
            data_room = Some((len - 4).min(room.saturating_sub(4)));
            pos = if size == -1 { body + 4 } else { body + len };
            continue;
        }
        let Ok(size) = u64::try_from(size) else {
            break; // a negative size symphonia refuses
        };
        let name = String::from_utf8_lossy(&kind).into_owned();
        if size > room {
            return Err(Walk::Lie(format!(
                "its CAF `{name}` chunk runs past the end of the file"
            )));
        }
        pos = body + size;
        match &kind {
            b"desc" => {
                let Some(b) = take::<32, _>(r)? else { break };
                if size != 32 || desc.is_some() {
                    break; // symphonia refuses either
                }
                let u32_at =
                    |at: usize| u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
                let d = Desc {
                    format: [b[8], b[9], b[10], b[11]],
                    bytes_per_packet: u32_at(16),
                    frames_per_packet: u32_at(20),
                    bits_per_channel: u32_at(28),
                };
                // uncompressed audio is read 1152 frames a packet
                if d.bits_per_channel != 0 && d.bytes_per_packet > MAX_PCM_FRAME_BYTES {
                    return lie("its CAF description claims frames far larger than any audio's");
                }
                desc = Some(d);
            }
            b"kuki" => {
                let is_alac = desc.as_ref().is_some_and(|d| &d.format == b"alac");
                // the ALAC decoder reads only a 24- or 48-byte cookie
                if is_alac && (size == 24 || size == 48) {
                    let Some(b) = take::<4, _>(r)? else { break };
                    let frame_length = u32::from_be_bytes(b);
                    if !(1..=MAX_ALAC_FRAME_LENGTH).contains(&frame_length) {
                        return lie(
                            "its ALAC configuration claims frames far longer than any encoder writes",
                        );
                    }
                }
            }
            b"chan" => {
                // symphonia reads as many 20-byte descriptions as the count
                // says, and goes on from where they end
                let Some(b) = take::<12, _>(r)? else { break };
                if size < 12 {
                    break;
                }
                let count = u64::from(u32::from_be_bytes([b[8], b[9], b[10], b[11]]));
                pos = body + 12 + 20 * count;
            }
            b"pakt" => {
                let Some(d) = desc.as_ref() else { break };
                let Some(end) = packet_table(r, d, size, body, &mut largest_packet)? else {
                    break;
                };
                pos = end;
            }
            _ => {}
        }
        if desc.is_none() {
            break; // the first chunk must describe the audio
        }
    }
    if largest_packet > data_room.unwrap_or(file_len) {
        return lie("its CAF packet table gives a packet larger than its audio data");
    }
    Ok(())
}

/// Read a `pakt` chunk (the reader at its body, of `size` bytes) as
/// symphonia does: returns where its reading ends, None where symphonia
/// refuses it, and raises `largest` to its largest packet.
fn packet_table<R: Read>(
    r: &mut R,
    d: &Desc,
    size: u64,
    body: u64,
    largest: &mut u64,
) -> Result<Option<u64>, Walk> {
    let Some(h) = take::<24, _>(r)? else {
        return Ok(None);
    };
    let total = i64::from_be_bytes([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]]);
    let valid_frames = i64::from_be_bytes([h[8], h[9], h[10], h[11], h[12], h[13], h[14], h[15]]);
    if size < 24 || total < 0 || valid_frames < 0 {
        return Ok(None);
    }
    // symphonia reserves an entry per packet before reading them; each
    // takes at least a byte of the table
    if total as u64 > size || total > MAX_PACKETS {
        return lie("its CAF packet table claims more packets than its chunk holds");
    }
    let mut pos = body + 24;
    let (sized, framed) = match (d.bytes_per_packet, d.frames_per_packet) {
        (0, 0) => (true, true),
        (0, _) => (true, false),
        (bytes, 0) => {
            if total > 0 {
                *largest = (*largest).max(u64::from(bytes));
            }
            (false, true)
        }
        _ if total > 0 => return Ok(None), // a table for constant-rate audio
        _ => return Ok(Some(pos)),
    };
    for _ in 0..total {
        if sized {
            let Some((n, len)) = varint(r)? else {
                return Ok(None);
            };
            *largest = (*largest).max(n);
            pos += len;
        }
        if framed {
            let Some((_, len)) = varint(r)? else {
                return Ok(None);
            };
            pos += len;
        }
    }
    Ok(Some(pos))
}

/// A CAF variable-length integer (7 bits a byte, high bit set on all but the
/// last, at most 9 bytes) and its length; None where symphonia refuses it.
fn varint<R: Read>(r: &mut R) -> Result<Option<(u64, u64)>, Walk> {
    let mut n = 0u64;
    for len in 1..=9 {
        let Some([byte]) = take::<1, _>(r)? else {
            return Ok(None);
        };
        n |= u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            return Ok(Some((n, len)));
        }
        n <<= 7;
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn chunk(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        sized_chunk(kind, body.len() as i64, body)
    }

    fn sized_chunk(kind: &[u8; 4], size: i64, body: &[u8]) -> Vec<u8> {
        let mut out = kind.to_vec();
        out.extend_from_slice(&size.to_be_bytes());
        out.extend_from_slice(body);
        out
    }

    fn desc(format: &[u8; 4], bytes_per_packet: u32, frames_per_packet: u32, bits: u32) -> Vec<u8> {
        let mut b = 44_100f64.to_be_bytes().to_vec();
        b.extend_from_slice(format);
        for n in [0, bytes_per_packet, frames_per_packet, 2, bits] {
            b.extend_from_slice(&n.to_be_bytes());
        }
        chunk(b"desc", &b)
    }

    /// A packet table of `count` packets, each of the sizes given.
    fn pakt(count: i64, sizes: &[u8]) -> Vec<u8> {
        let mut b = count.to_be_bytes().to_vec();
        b.extend_from_slice(&4096i64.to_be_bytes());
        b.extend_from_slice(&[0u8; 8]);
        b.extend_from_slice(sizes);
        chunk(b"pakt", &b)
    }

    fn alac_cookie(frame_length: u32) -> Vec<u8> {
        let mut b = frame_length.to_be_bytes().to_vec();
        b.extend_from_slice(&[0, 16, 40, 10, 14, 2, 0, 255]);
        b.extend_from_slice(&[0u8; 12]);
        chunk(b"kuki", &b)
    }

    /// An ALAC file: description, `cookie`, `table`, 64 bytes of audio.
    fn alac(cookie: Vec<u8>, table: Vec<u8>) -> Vec<u8> {
        let mut out = b"caff\0\x01\0\0".to_vec();
        out.extend(desc(b"alac", 0, 4096, 0));
        out.extend(cookie);
        out.extend(table);
        out.extend(chunk(b"data", &[0u8; 68]));
        out
    }

    fn checked(bytes: &[u8]) -> Result<(), String> {
        check(
            &mut Cursor::new(bytes),
            0,
            bytes.len() as u64,
            Path::new("x.caf"),
        )
        .map_err(|e| e.to_string())
    }

    #[test]
    fn a_sound_file_passes() {
        // two packets of 30 and 34 bytes
        assert_eq!(
            checked(&alac(alac_cookie(4096), pakt(2, &[30, 34]))),
            Ok(())
        );
        // PCM: no table, its data to the end of the file
        let mut pcm = b"caff\0\x01\0\0".to_vec();
        pcm.extend(desc(b"lpcm", 4, 1, 16));
        pcm.extend(chunk(b"chan", &[0u8; 12]));
        pcm.extend(chunk(b"free", &[0u8; 16]));
        pcm.extend(sized_chunk(b"data", -1, &[0u8; 68]));
        assert_eq!(checked(&pcm), Ok(()));
    }

    #[test]
    fn a_chunk_past_the_end_of_the_file_is_refused() {
        for size in [8 << 30, 1 << 62] {
            let mut bytes = b"caff\0\x01\0\0".to_vec();
            bytes.extend(desc(b"alac", 0, 4096, 0));
            bytes.extend(sized_chunk(b"kuki", size, &[0u8; 24]));
            let err = checked(&bytes).unwrap_err();
            assert!(err.contains("`kuki` chunk runs past the end"), "{err}");
        }
        // even before the description, where symphonia reads it first
        let mut bytes = b"caff\0\x01\0\0".to_vec();
        bytes.extend(sized_chunk(b"kuki", 8 << 30, &[0u8; 24]));
        assert!(checked(&bytes).is_err());
    }

    #[test]
    fn a_packet_table_that_lies_is_refused() {
        let err = checked(&alac(alac_cookie(4096), pakt(1 << 40, &[10]))).unwrap_err();
        assert!(
            err.contains("claims more packets than its chunk holds"),
            "{err}"
        );
        // one packet of 2^40 bytes in a file of 200
        let huge = [0xA0, 0x80, 0x80, 0x80, 0x80, 0x00];
        let err = checked(&alac(alac_cookie(4096), pakt(1, &huge))).unwrap_err();
        assert!(err.contains("a packet larger than its audio data"), "{err}");
        assert!(checked(&alac(alac_cookie(4096), pakt(1, &[69]))).is_err());
        assert_eq!(checked(&alac(alac_cookie(4096), pakt(1, &[64]))), Ok(()));
    }

    #[test]
    fn an_alac_frame_length_beyond_any_encoder_is_refused() {
        for frame_length in [0, 65_537, 1 << 28, u32::MAX] {
            let err = checked(&alac(alac_cookie(frame_length), pakt(1, &[10]))).unwrap_err();
            assert!(err.contains("claims frames far longer"), "{err}");
        }
        assert_eq!(checked(&alac(alac_cookie(65_536), pakt(1, &[10]))), Ok(()));
    }

    #[test]
    fn pcm_frames_larger_than_any_audio_are_refused() {
        let mut pcm = b"caff\0\x01\0\0".to_vec();
        pcm.extend(desc(b"lpcm", u32::MAX, 1, 16));
        pcm.extend(sized_chunk(b"data", -1, &[0u8; 68]));
        let err = checked(&pcm).unwrap_err();
        assert!(err.contains("frames far larger"), "{err}");
    }
}
