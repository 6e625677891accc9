//! AIFF sample count: what a decoded-audio comparison is bounded by.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};

/// For an AIFF/AIFC file: the number of samples (frames × channels) its COMM
/// chunk declares. None for other files. Decoding is compared only up to this
/// count, because symphonia 0.5 reads 8 bytes past the sound data when another
/// chunk follows `SSND` (a decoder artefact, not audio).
pub(crate) fn aiff_declared_samples(path: &std::path::Path) -> io::Result<Option<u64>> {
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    let mut head = [0u8; 12];
    if file.read(&mut head)? < 12
        || &head[..4] != b"FORM"
        || !(&head[8..12] == b"AIFF" || &head[8..12] == b"AIFC")
    {
        return Ok(None);
    }
    let mut pos = 12u64;
    while pos + 8 <= len {
        file.seek(SeekFrom::Start(pos))?;
        let mut h = [0u8; 8];
        file.read_exact(&mut h)?;
        let size = u64::from(u32::from_be_bytes([h[4], h[5], h[6], h[7]]));
        if &h[..4] == b"COMM" {
            let mut c = [0u8; 6];
            file.read_exact(&mut c)?;
            let channels = u64::from(u16::from_be_bytes([c[0], c[1]]));
            let frames = u64::from(u32::from_be_bytes([c[2], c[3], c[4], c[5]]));
            return Ok(Some(frames * channels));
        }
        pos += 8 + size + (size & 1);
    }
    Ok(None)
}
