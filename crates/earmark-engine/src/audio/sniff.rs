//! Recognise a container from its first bytes, so that a PNG renamed `.mp3`
//! gets "not an audio file (PNG image)" instead of a cryptic demuxer error.

/// What the magic bytes say a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    Audio(&'static str),
    Other(&'static str),
    Unknown,
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_common_magic() {
        assert_eq!(sniff(b"fLaC\0\0"), Sniffed::Audio("FLAC"));
        assert_eq!(sniff(b"\x89PNG\r\n"), Sniffed::Other("PNG image"));
        assert_eq!(sniff(b"\0\0\0\x20ftypM4A "), Sniffed::Audio("MP4"));
        assert_eq!(sniff(b"hello"), Sniffed::Unknown);
    }
}
