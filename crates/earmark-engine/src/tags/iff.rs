//! AIFF chunk layout fix-up. lofty appends a new `ID3 ` chunk after the sound
//! data; symphonia 0.5's AIFF reader then decodes 8 bytes past the end of the
//! `SSND` data (it counts the chunk's offset/block-size header as audio), so a
//! tagged file would grow a few junk samples. Keeping `SSND` the last chunk
//! avoids that and is valid AIFF.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};

/// Most bytes of chunks that may follow the sound data and be moved before it.
const MAX_TRAILING: u64 = 64 << 20;

/// Move every chunk that follows `SSND` to just before it, in place, keeping
/// their order. Returns whether anything moved. The FORM size is unchanged.
pub(crate) fn aiff_sound_last(file: &mut File) -> io::Result<bool> {
    let len = file.metadata()?.len();
    file.seek(SeekFrom::Start(0))?;
    let mut head = [0u8; 12];
    file.read_exact(&mut head)?;
    if &head[..4] != b"FORM" || !(&head[8..12] == b"AIFF" || &head[8..12] == b"AIFC") {
        return Ok(false);
    }
    let form_end =
        (8 + u64::from(u32::from_be_bytes([head[4], head[5], head[6], head[7]]))).min(len);
    // Walk the chunks: (id, start, end including the pad byte).
    let mut chunks: Vec<([u8; 4], u64, u64)> = Vec::new();
    let mut pos = 12u64;
    while pos + 8 <= form_end {
        file.seek(SeekFrom::Start(pos))?;
        let mut h = [0u8; 8];
        file.read_exact(&mut h)?;
        let size = u64::from(u32::from_be_bytes([h[4], h[5], h[6], h[7]]));
        let end = pos + 8 + size + (size & 1);
        chunks.push(([h[0], h[1], h[2], h[3]], pos, end.min(form_end)));
        pos = end;
    }
    let Some(i) = chunks.iter().position(|c| &c.0 == b"SSND") else {
        return Ok(false);
    };
    if i + 1 == chunks.len() {
        return Ok(false);
    }
    let (ssnd_start, ssnd_end) = (chunks[i].1, chunks[i].2);
    let trailing_end = chunks.last().map_or(ssnd_end, |c| c.2);
    let t = trailing_end - ssnd_end;
    if t > MAX_TRAILING {
        return Err(io::Error::other(
            "too much data after the AIFF sound chunk to reorder",
        ));
    }
    let mut trailing = vec![0u8; t as usize];
    file.seek(SeekFrom::Start(ssnd_end))?;
    file.read_exact(&mut trailing)?;
    // Shift the sound chunk towards the end by `t`, copying backwards.
    let mut buf = vec![0u8; 1 << 20];
    let mut hi = ssnd_end;
    while hi > ssnd_start {
        let n = (hi - ssnd_start).min(buf.len() as u64);
        let lo = hi - n;
        file.seek(SeekFrom::Start(lo))?;
        file.read_exact(&mut buf[..n as usize])?;
        file.seek(SeekFrom::Start(lo + t))?;
        file.write_all(&buf[..n as usize])?;
        hi = lo;
    }
    file.seek(SeekFrom::Start(ssnd_start))?;
    file.write_all(&trailing)?;
    file.flush()?;
    Ok(true)
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(id: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut v = id.to_vec();
        v.extend((data.len() as u32).to_be_bytes());
        v.extend(data);
        if data.len() % 2 == 1 {
            v.push(0);
        }
        v
    }

    #[test]
    fn moves_trailing_chunks_before_sound() {
        let comm = chunk(b"COMM", &[1; 18]);
        let ssnd = chunk(b"SSND", &(0..=250u8).collect::<Vec<_>>());
        let id3 = chunk(b"ID3 ", b"abc");
        let name = chunk(b"NAME", b"xy");
        let body: Vec<u8> = [
            b"AIFF".to_vec(),
            comm.clone(),
            ssnd.clone(),
            id3.clone(),
            name.clone(),
        ]
        .concat();
        let mut file_bytes = b"FORM".to_vec();
        file_bytes.extend((body.len() as u32).to_be_bytes());
        file_bytes.extend(&body);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.aiff");
        std::fs::write(&p, &file_bytes).unwrap();
        let mut f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&p)
            .unwrap();
        assert!(aiff_sound_last(&mut f).unwrap());
        drop(f);
        let got = std::fs::read(&p).unwrap();
        let want_body: Vec<u8> = [b"AIFF".to_vec(), comm, id3, name, ssnd].concat();
        assert_eq!(&got[8..], &want_body[..]);
        assert_eq!(&got[..8], &file_bytes[..8]);
        let mut f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&p)
            .unwrap();
        assert!(!aiff_sound_last(&mut f).unwrap(), "already in order");
    }
}
