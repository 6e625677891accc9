//! Recognise a container from its first bytes, so that a PNG renamed `.mp3`
//! gets "not an audio file (PNG image)" instead of a cryptic demuxer error;
//! and find where symphonia's probe will start reading, so that the
//! pre-checks of lengths it trusts look at the same bytes.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use super::AudioError;
use super::au::read_up_to;

/// How far symphonia's probe searches for a format's marker.
const PROBE_SEARCH: u64 = 1 << 20;

/// What the magic bytes say a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    Audio(&'static str),
    /// Audio in a format earmark has no decoder for (WavPack, WMA…): said by
    /// name, where symphonia's probe would search the whole file in vain and
    /// call it truncated.
    Undecodable(&'static str),
    Other(&'static str),
    Unknown,
}

/// Magic bytes of audio formats symphonia cannot open, at the file's start.
const UNDECODABLE: &[(&[u8], &str)] = &[
    (b"wvpk", "WavPack"),
    (b"MAC ", "Monkey's Audio (APE)"),
    (b"MPCK", "Musepack"),
    (b"MP+", "Musepack"),
    (b"TTA1", "TTA"),
    (b"ajkg", "Shorten"),
    (b"OFR ", "OptimFROG"),
    // the ASF header object's GUID
    (
        b"\x30\x26\xB2\x75\x8E\x66\xCF\x11",
        "Windows Media (WMA/ASF)",
    ),
    (b"riff\x2E\x91\xCF\x11", "Wave64"),
    (b"RF64", "RF64 (64-bit WAV)"),
    (b"BW64", "BW64 (64-bit WAV)"),
    (b"DSD ", "DSD (DSF)"),
    (b"FRM8", "DSD (DSDIFF)"),
    (b"\x7F\xFE\x80\x01", "DTS"),
    (b"#!AMR", "AMR"),
    (b".RMF", "RealMedia"),
    (b".ra\xFD", "RealAudio"),
    (b"MThd", "MIDI (notes, not recorded sound)"),
];

pub fn sniff(head: &[u8]) -> Sniffed {
    let starts = |m: &[u8]| head.starts_with(m);
    let at = |off: usize, m: &[u8]| head.len() >= off + m.len() && &head[off..off + m.len()] == m;
    if starts(b".snd") {
        Sniffed::Audio("Sun/NeXT AU")
    } else if starts(b"fLaC") {
        Sniffed::Audio("FLAC")
    } else if starts(b"OggS") {
        Sniffed::Audio("Ogg")
    } else if starts(b"RIFF") && at(8, b"WAVE") {
        Sniffed::Audio("WAV")
    } else if starts(b"FORM") && (at(8, b"AIFF") || at(8, b"AIFC")) {
        Sniffed::Audio("AIFF")
    } else if at(4, b"ftyp") {
        Sniffed::Audio("MP4")
    } else if starts(b"ID3") {
        Sniffed::Audio("MP3")
    } else if head.len() >= 2 && head[0] == 0xFF && head[1] & 0xE0 == 0xE0 {
        Sniffed::Audio("MPEG audio")
    } else if starts(&[0x1A, 0x45, 0xDF, 0xA3]) {
        Sniffed::Audio("Matroska/WebM")
    } else if starts(b"caff") {
        Sniffed::Audio("CAF")
    } else if let Some(&(_, name)) = UNDECODABLE.iter().find(|(magic, _)| starts(magic)) {
        Sniffed::Undecodable(name)
    } else if starts(&[0x0B, 0x77]) && head.len() >= 6 && head[4] >> 6 != 3 {
        // AC-3's sync word, then a sample-rate code that is not "reserved"
        Sniffed::Undecodable("AC-3 (Dolby Digital)")
    } else if starts(b"\x89PNG") {
        Sniffed::Other("PNG image")
    } else if starts(&[0xFF, 0xD8, 0xFF]) {
        Sniffed::Other("JPEG image")
    } else if starts(b"GIF8") {
        Sniffed::Other("GIF image")
    } else if starts(b"%PDF") {
        Sniffed::Other("PDF document")
    } else if starts(b"PK\x03\x04") {
        Sniffed::Other("ZIP archive")
    } else if starts(b"\x7fELF") {
        Sniffed::Other("ELF executable")
    } else if starts(&[0x1F, 0x8B]) {
        Sniffed::Other("gzip archive")
    } else {
        Sniffed::Unknown
    }
}

/// Where a leading ID3v2 tag ends (symphonia's probe skips it to find the
/// container behind it).
pub fn id3v2_end(head: &[u8]) -> Option<u64> {
    if !head.starts_with(b"ID3") || head.len() < 10 {
        return None;
    }
    let size = head[6..10]
        .iter()
        .fold(0u64, |n, b| (n << 7) | u64::from(b & 0x7f));
    Some(10 + size + if head[5] & 0x10 != 0 { 10 } else { 0 })
}

/// The container symphonia will open in a file of `len` bytes beginning with
/// `head` (whose magic said `sniffed`), and where it starts: at the start,
/// behind a leading ID3v2 tag, or, where those bytes begin with nothing
/// known, at the first FLAC, Ogg, MP4, CAF or Matroska marker within the bytes its probe
/// searches (it skips junk in front as far as that). Unknown where no such
/// marker is found: no container whose lengths are pre-checked. An ID3v2
/// tag met in that search is read by the probe, which then searches on
/// from its end: its frames are checked as at the start of a file.
pub fn container_start<R: Read + Seek>(
    r: &mut R,
    head: &[u8],
    sniffed: Sniffed,
    len: u64,
    path: &Path,
) -> Result<(Sniffed, u64), AudioError> {
    let io = |e| AudioError::io(path, e);
    let (kind, at) = match id3v2_end(head) {
        Some(end) if end < len => {
            let mut behind = [0u8; 16];
            r.seek(SeekFrom::Start(end)).map_err(io)?;
            let got = read_up_to(r, &mut behind).map_err(io)?;
            (sniff(&behind[..got]), end)
        }
        _ => (sniffed, 0),
    };
    if kind != Sniffed::Unknown {
        return Ok((kind, at));
    }
    r.seek(SeekFrom::Start(at)).map_err(io)?;
    let mut bytes = Vec::new();
    (&mut *r)
        .take(PROBE_SEARCH + 4)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    let mut i = 0usize;
    while i + 4 <= bytes.len() {
        let w = &bytes[i..i + 4];
        let pos = at + i as u64;
        let found = match w {
            b"fLaC" => Some((Sniffed::Audio("FLAC"), pos)),
            b"OggS" => Some((Sniffed::Audio("Ogg"), pos)),
            // the marker is the box's type: the box starts 4 bytes before
            b"ftyp" if i >= 4 => Some((Sniffed::Audio("MP4"), pos - 4)),
            b"caff" => Some((Sniffed::Audio("CAF"), pos)),
            [0x1A, 0x45, 0xDF, 0xA3] => Some((Sniffed::Audio("Matroska/WebM"), pos)),
            [b'I', b'D', b'3', 2..=4] => {
                let end = super::id3_meta::check_from(r, pos, len, path)?;
                i = usize::try_from(end - at).unwrap_or(usize::MAX).max(i + 1);
                continue;
            }
            _ => None,
        };
        if let Some(found) = found {
            return Ok(found);
        }
        i += 1;
    }
    Ok((Sniffed::Unknown, at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn start(bytes: &[u8]) -> (Sniffed, u64) {
        let head = &bytes[..bytes.len().min(64)];
        container_start(
            &mut Cursor::new(bytes),
            head,
            sniff(head),
            bytes.len() as u64,
            Path::new("x"),
        )
        .unwrap()
    }

    /// At the start, behind an ID3v2 tag, or past junk at the first marker
    /// (as symphonia's probe finds it).
    #[test]
    fn the_container_is_found_where_symphonia_looks() {
        assert_eq!(start(b"fLaC\0\0\0\x22"), (Sniffed::Audio("FLAC"), 0));
        let mut id3 = b"ID3\x04\0\0\0\0\0\x05".to_vec();
        id3.extend_from_slice(b"12345fLaC\0\0\0\x22");
        assert_eq!(start(&id3), (Sniffed::Audio("FLAC"), 15));
        assert_eq!(start(b"junk..fLaC"), (Sniffed::Audio("FLAC"), 6));
        assert_eq!(start(b"\0\0\0junkOggS\0\x02"), (Sniffed::Audio("Ogg"), 7));
        assert_eq!(
            start(b"junk\0\0\0\x20ftypM4A \0\0\0\0"),
            (Sniffed::Audio("MP4"), 4)
        );
        // junk behind a tag is searched from the tag's end
        let mut tagged = b"ID3\x04\0\0\0\0\0\x05OggS\0".to_vec();
        tagged.extend_from_slice(b"..OggS\0\x02");
        assert_eq!(start(&tagged), (Sniffed::Audio("Ogg"), 17));
        assert_eq!(start(b"junk\0caff\0\x01\0\0"), (Sniffed::Audio("CAF"), 5));
        assert_eq!(
            start(b"junk\x1A\x45\xDF\xA3\x9F"),
            (Sniffed::Audio("Matroska/WebM"), 4)
        );
        assert_eq!(start(b"no marker at all"), (Sniffed::Unknown, 0));
        // an ID3v2 tag met past junk is walked over, as the probe reads it
        let mut junk_tag = b"junk-ID3\x03\0\0\0\0\0\x0aOggS ahead".to_vec();
        junk_tag.extend_from_slice(b"..OggS\0\x02");
        assert_eq!(start(&junk_tag), (Sniffed::Audio("Ogg"), 27));
        // and its frames are checked: one claiming 4 GB is refused
        let mut lie = b"junk-ID3\x03\0\0\0\0\0\x14TIT2\xff\xff\xff\xf0\0\0abcdefghij".to_vec();
        lie.extend_from_slice(b"OggS\0\x02");
        let refused = container_start(
            &mut Cursor::new(&lie),
            &lie,
            sniff(&lie),
            lie.len() as u64,
            Path::new("x"),
        );
        assert!(refused.is_err());
    }

    #[test]
    fn recognises_common_magic() {
        assert_eq!(sniff(b"fLaC\0\0"), Sniffed::Audio("FLAC"));
        assert_eq!(sniff(b"\x89PNG\r\n"), Sniffed::Other("PNG image"));
        assert_eq!(sniff(b"\0\0\0\x20ftypM4A "), Sniffed::Audio("MP4"));
        assert_eq!(sniff(b"hello"), Sniffed::Unknown);
        // audio with no decoder here is named, not left to the probe
        assert_eq!(sniff(b"wvpk\x00\x10"), Sniffed::Undecodable("WavPack"));
        assert_eq!(
            sniff(b"RF64\xff\xff\xff\xffWAVE"),
            Sniffed::Undecodable("RF64 (64-bit WAV)")
        );
        assert_eq!(
            sniff(b"\x0B\x77\x12\x34\x14\x40"),
            Sniffed::Undecodable("AC-3 (Dolby Digital)")
        );
        // two bytes alone are no AC-3 frame: its sample-rate code 3 is reserved
        assert_eq!(sniff(b"\x0B\x77\x12\x34\xC0\x40"), Sniffed::Unknown);
    }
}
