//! Ogg comment and picture lengths checked before symphonia reads them. Its
//! comment and picture readers allocate whatever a length inside the packet
//! says, before reading: a lying 4 GB length is a 4 GB `vec!`, which aborts
//! the process where memory is short. symphonia reads such packets wherever
//! they are: every `\x03vorbis` packet of a Vorbis stream, every `OpusTags`
//! of an Opus stream, the comment and picture blocks of FLAC in Ogg, in
//! every link of a chained file; and the codebook sizes of every Vorbis
//! setup packet ([`super::vorbis_setup`]). So every page is walked (headers and
//! bodies: the file is read once) and each such packet, put together from
//! its pages, must hold what its lengths say, as [`super::flac_meta`] does
//! for FLAC.

use std::collections::HashMap;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use super::AudioError;
use super::au::read_up_to;
use super::flac_meta::{comment_lengths_fit, picture_lengths_fit};
use super::vorbis_setup::codebooks_fit;

/// How far past a damaged spot the next page is looked for (as symphonia
/// does, it resynchronises on the next `OggS`).
const RESYNC_WINDOW: usize = 64 << 10;
/// Bytes of a packet that tell what it is.
const MAGIC: usize = 8;
const LYING_LENGTH: &str =
    "a length inside an Ogg comment or picture header is larger than the header";
const TOO_LARGE_CODEBOOKS: &str =
    "its Vorbis setup header claims codebooks far larger than any encoder writes";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Codec {
    Vorbis,
    Opus,
    Flac,
    Other,
}

/// One logical stream: its codec (from its first packet) and the packet
/// being put together (whole only where it is one symphonia reads lengths
/// from; else its first bytes).
struct Stream {
    codec: Option<Codec>,
    partial: Vec<u8>,
    whole: bool,
}

impl Stream {
    fn new() -> Stream {
        Stream {
            codec: None,
            partial: Vec::new(),
            whole: false,
        }
    }

    /// Whether a packet starting with `head` is one whose lengths are read.
    fn checked(&self, head: &[u8]) -> bool {
        match self.codec {
            Some(Codec::Vorbis) => {
                head.starts_with(b"\x03vorbis") || head.starts_with(b"\x05vorbis")
            }
            Some(Codec::Opus) => head.starts_with(b"OpusTags"),
            Some(Codec::Flac) => head.first().is_some_and(|b| matches!(b & 0x7f, 4 | 6)),
            _ => false,
        }
    }

    fn add(&mut self, segment: &[u8]) {
        if self.whole {
            self.partial.extend_from_slice(segment);
            return;
        }
        let room = MAGIC.saturating_sub(self.partial.len());
        self.partial
            .extend_from_slice(&segment[..room.min(segment.len())]);
        if self.partial.len() >= MAGIC && self.checked(&self.partial) {
            self.whole = true;
            self.partial
                .extend_from_slice(&segment[room.min(segment.len())..]);
        }
    }

    /// The packet ends: say why not if its lengths do not fit.
    fn end(&mut self) -> Result<(), &'static str> {
        let packet = std::mem::take(&mut self.partial);
        let whole = std::mem::replace(&mut self.whole, false);
        let Some(codec) = self.codec else {
            self.codec = Some(if packet.starts_with(b"\x01vorbis") {
                Codec::Vorbis
            } else if packet.starts_with(b"OpusHead") {
                Codec::Opus
            } else if packet.starts_with(b"\x7fFLAC") {
                Codec::Flac
            } else {
                Codec::Other
            });
            return Ok(());
        };
        // a short packet never reached MAGIC bytes: judge it here
        if !whole && !self.checked(&packet) {
            return Ok(());
        }
        let (fits, why) = match codec {
            Codec::Vorbis if packet[0] == 5 => (codebooks_fit(&packet[7..]), TOO_LARGE_CODEBOOKS),
            Codec::Vorbis => (comment_lengths_fit(&packet[7..]), LYING_LENGTH),
            Codec::Opus => (comment_lengths_fit(&packet[8..]), LYING_LENGTH),
            Codec::Flac if packet[0] & 0x7f == 4 => (
                comment_lengths_fit(&packet[4.min(packet.len())..]),
                LYING_LENGTH,
            ),
            Codec::Flac => (
                picture_lengths_fit(&packet[4.min(packet.len())..]),
                LYING_LENGTH,
            ),
            Codec::Other => (true, ""),
        };
        if fits { Ok(()) } else { Err(why) }
    }
}

/// Walk every page: the lengths symphonia allocates by must fit (an error
/// if not). Also whether the file is cut short: it ends inside a page, or a
/// stream it begins never gets its end-of-stream page (every encoder writes
/// one; 1 134 of 1 135 real files here end with it, the other is a fuzzed
/// one). symphonia reads such a file to where it ends and calls that its
/// length, so the analysis would not know it heard only a part.
pub fn check<R: Read + Seek>(r: &mut R, file_len: u64, path: &Path) -> Result<bool, AudioError> {
    let io = |e| AudioError::io(path, e);
    r.seek(SeekFrom::Start(0)).map_err(io)?;
    let mut r = BufReader::with_capacity(64 << 10, r);
    let mut streams: HashMap<u32, Stream> = HashMap::new();
    let mut pos = 0u64;
    let mut body = Vec::new();
    // streams begun and not yet ended (serial numbers)
    let mut open: Vec<u32> = Vec::new();
    while pos + 27 <= file_len {
        let mut h = [0u8; 27];
        if read_up_to(&mut r, &mut h).map_err(io)? < h.len() {
            return Ok(true);
        }
        if &h[..4] != b"OggS" {
            match resync(r.get_mut(), pos + 1).map_err(io)? {
                Some(next) => {
                    r.seek(SeekFrom::Start(next)).map_err(io)?;
                    pos = next;
                    continue;
                }
                None => return Ok(!open.is_empty()),
            }
        }
        let serial = u32::from_le_bytes([h[14], h[15], h[16], h[17]]);
        let mut lacing = vec![0u8; usize::from(h[26])];
        if read_up_to(&mut r, &mut lacing).map_err(io)? < lacing.len() {
            return Ok(true); // a cut-short page
        }
        body.resize(lacing.iter().map(|&l| usize::from(l)).sum(), 0);
        if read_up_to(&mut r, &mut body).map_err(io)? < body.len() {
            return Ok(true);
        }
        // a stream's first page (also a later link of a chained file, even
        // under a serial used before) starts it afresh
        if h[5] & 0x02 != 0 {
            streams.insert(serial, Stream::new());
            if !open.contains(&serial) && open.len() < 64 {
                open.push(serial);
            }
        }
        if h[5] & 0x04 != 0 {
            open.retain(|&s| s != serial);
        }
        let s = streams.entry(serial).or_insert_with(Stream::new);
        let mut at = 0usize;
        for &l in &lacing {
            s.add(&body[at..at + usize::from(l)]);
            at += usize::from(l);
            if l < 255 {
                s.end().map_err(|why| AudioError::corrupt(path, why))?;
            }
        }
        pos += 27 + lacing.len() as u64 + body.len() as u64;
    }
    Ok(!open.is_empty())
}

/// The first packets of an Ogg file's logical streams: the bodies of its
/// beginning-of-stream pages, which Ogg puts before any other page (a
/// multiplexed file has several). Read up to 64 of them; stops at the first
/// other page, or where the file ends inside one.
pub(crate) fn bos_pages<R: Read>(r: &mut R) -> std::io::Result<Vec<Vec<u8>>> {
    Ok(bos_pages_with_serials(r)?
        .into_iter()
        .map(|(_, b)| b)
        .collect())
}

/// [`bos_pages`] with each stream's serial number.
fn bos_pages_with_serials<R: Read>(r: &mut R) -> std::io::Result<Vec<(u32, Vec<u8>)>> {
    let mut pages = Vec::new();
    for _ in 0..64 {
        let mut h = [0u8; 27];
        if read_up_to(r, &mut h)? < h.len() || &h[..4] != b"OggS" || h[5] & 0x02 == 0 {
            break;
        }
        let mut lacing = vec![0u8; usize::from(h[26])];
        // at most 255 × 255 bytes: a page's size is bounded by its header
        let mut body = Vec::new();
        if read_up_to(r, &mut lacing)? < lacing.len() {
            break;
        }
        body.resize(lacing.iter().map(|&l| usize::from(l)).sum(), 0);
        if read_up_to(r, &mut body)? < body.len() {
            break;
        }
        pages.push((u32::from_le_bytes([h[14], h[15], h[16], h[17]]), body));
    }
    Ok(pages)
}

/// The serial number of an Ogg file's first audio stream in file order
/// (Vorbis, Opus or FLAC), the one `tag` reads and writes and mutagen's
/// audio classes find: symphonia lists streams by serial number, so its
/// first track of a two-stream file is the first stream half the time.
pub(crate) fn first_audio_serial(path: &Path) -> Option<u32> {
    let pages =
        bos_pages_with_serials(&mut BufReader::new(std::fs::File::open(path).ok()?)).ok()?;
    pages
        .iter()
        .find(|(_, body)| decodable(body))
        .map(|&(serial, _)| serial)
}

/// Whether a stream's first packet announces a codec earmark decodes.
fn decodable(first_packet: &[u8]) -> bool {
    [b"\x01vorbis".as_slice(), b"OpusHead", b"\x7fFLAC"]
        .iter()
        .any(|m| first_packet.starts_with(m))
}

/// What an Ogg file's streams are, by their first packets, when none is one
/// earmark decodes: "Speex", "Theora video", or "an unknown codec". None
/// when a stream is Vorbis, Opus or FLAC, or the first pages cannot be read.
pub fn first_codec_undecodable(path: &Path) -> Option<&'static str> {
    const KNOWN: &[(&[u8], &str)] = &[
        (b"Speex   ", "Speex"),
        (b"\x80theora", "Theora video"),
        (b"CELT    ", "CELT"),
        (b"PCM     ", "Ogg PCM"),
        (b"BBCD", "Dirac video"),
        (b"\x80daala", "Daala video"),
        (b"OggMIDI", "MIDI"),
    ];
    let pages = bos_pages(&mut BufReader::new(std::fs::File::open(path).ok()?)).ok()?;
    if pages.iter().any(|body| decodable(body)) {
        return None;
    }
    // a Skeleton stream describes the others: not a codec of its own
    let first = pages.iter().find(|body| !body.starts_with(b"fishead\0"))?;
    Some(
        KNOWN
            .iter()
            .find(|(magic, _)| first.starts_with(magic))
            .map_or("an unknown codec", |&(_, name)| name),
    )
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
        .map(|_cut_short| ())
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
    fn a_file_without_its_end_of_stream_page_is_cut_short() {
        let cut_short = |bytes: &[u8]| {
            check(
                &mut Cursor::new(bytes),
                bytes.len() as u64,
                Path::new("x.opus"),
            )
            .unwrap()
        };
        let tags = comments(b"earmark test", &[300, 300]);
        // opus_file's pages: no end-of-stream flag anywhere
        let mut whole = opus_file(&tags);
        assert!(cut_short(&whole));
        // the last page flagged end-of-stream, as every encoder writes it
        let mut last = page(7, false, &[0u8; 40]);
        last[5] |= 0x04;
        whole.extend(&last);
        assert!(!cut_short(&whole));
        // cut inside that last page
        assert!(cut_short(&whole[..whole.len() - 10]));
        // a second stream begun and never ended
        whole.extend(page(9, true, b"OpusHead\x01\x02\0\0\x80\xbb\0\0\0\0\0"));
        assert!(cut_short(&whole));
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
            err.contains("a length inside an Ogg comment or picture header"),
            "{err}"
        );
    }

    /// symphonia reads an OpusTags packet wherever it is, every link of a
    /// chained file, and pictures inside comments: so is each checked.
    #[test]
    fn later_comment_packets_chained_links_and_pictures_are_checked() {
        let head: &[u8] = b"OpusHead\x01\x02\0\0\x80\xbb\0\0\0\0\0";
        let lie = comments(b"v", &[0xFFFF_FFF0]);
        let good = comments(b"v", &[3]);
        // a junk packet before the tags
        let mut late = page(7, true, head);
        late.extend(page(7, false, b"junk packet"));
        late.extend(page(7, false, &lie));
        assert!(checked(&late).is_err());
        // a second link under the same serial
        let mut chained = page(7, true, head);
        chained.extend(page(7, false, &good));
        chained.extend(page(7, true, head));
        chained.extend(page(7, false, &lie));
        assert!(checked(&chained).is_err());
        // a picture block whose MIME length lies, as a comment
        use base64::Engine;
        let mut block = 3u32.to_be_bytes().to_vec();
        block.extend_from_slice(&0xFFFF_FFF0u32.to_be_bytes());
        let mut comment = b"METADATA_BLOCK_PICTURE=".to_vec();
        comment.extend(
            base64::engine::general_purpose::STANDARD
                .encode(&block)
                .bytes(),
        );
        let mut tags = b"OpusTags".to_vec();
        tags.extend_from_slice(&1u32.to_le_bytes());
        tags.push(b'v');
        tags.extend_from_slice(&1u32.to_le_bytes());
        tags.extend_from_slice(&(comment.len() as u32).to_le_bytes());
        tags.extend(comment);
        let mut pictured = page(7, true, head);
        pictured.extend(page(7, false, &tags));
        assert!(checked(&pictured).is_err());
        let mut fine = page(7, true, head);
        fine.extend(page(7, false, &good));
        assert_eq!(checked(&fine), Ok(()));
    }

    #[test]
    fn garbage_between_pages_is_skipped_as_symphonia_does() {
        let mut f = b"junk before the first page".to_vec();
        f.extend(page(7, true, b"OpusHead\x01\x02\0\0\x80\xbb\0\0\0\0\0"));
        f.extend(page(7, false, &comments(b"v", &[0xFFFF_FFF0])));
        assert!(checked(&f).is_err());
    }
}
