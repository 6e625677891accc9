//! A narrow genre writer for WAV (RIFF) and AIFF/AIFC (FORM) files. lofty
//! refuses files with a zero-size or overlong chunk, merges duplicate
//! `INFO` lists and moves chunks; here the file is walked as chunks, only
//! the first ID3 chunk (`ID3 ` or `id3 `) and, in WAV, the `IGNR` entry of
//! the first `LIST/INFO` change, every other chunk is kept as its bytes. A
//! new ID3 chunk goes before `SSND` in AIFF (symphonia 0.5 reads a few bytes
//! past the sound data when something follows it) and at the end in WAV
//! (before a last chunk that claims to run past the end of the file).

use std::fs::File;
use std::io::{self, Cursor, Read, Seek, SeekFrom, Write};

use super::id3::{Id3Tag, move_tail};

/// A chunk larger than this is not loaded (only tag chunks are loaded).
const MAX_TAG_CHUNK: u64 = 64 << 20;
/// More chunks than any real file has (a handful): walking audio taken for
/// chunks (silence reads as empty chunks of 8 bytes) stops here, in bounded
/// time and memory.
const MAX_CHUNKS: usize = 4096;

/// One chunk: where its header starts, its declared body size, where it
/// ends in the file (pad byte included, clamped to the file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Chunk {
    pub id: [u8; 4],
    pub start: u64,
    pub size: u64,
    pub end: u64,
}

impl Chunk {
    fn overruns(&self) -> bool {
        self.start + 8 + self.size > self.end
    }
}

/// A RIFF or FORM file's chunk layout.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    /// AIFF (big-endian sizes) rather than WAV.
    pub aiff: bool,
    pub chunks: Vec<Chunk>,
    pub len: u64,
}

fn is_id3(id: &[u8; 4]) -> bool {
    id == b"ID3 " || id == b"id3 "
}

/// The size field of the chunk header `h` (big-endian in AIFF).
fn chunk_size(h: &[u8; 8], aiff: bool) -> u64 {
    let s = [h[4], h[5], h[6], h[7]];
    u64::from(if aiff {
        u32::from_be_bytes(s)
    } else {
        u32::from_le_bytes(s)
    })
}

/// Whether `h` reads as a chunk header: an id of printable ASCII that does
/// not start with a space, and a size that fits in the `room` left.
fn plausible_chunk(h: &[u8; 8], aiff: bool, room: u64) -> bool {
    let size = chunk_size(h, aiff);
    h[0] != b' ' && h[..4].iter().all(|b| (0x20..0x7f).contains(b)) && 8 + size <= room
}

pub(crate) fn walk(file: &mut File) -> Result<Layout, String> {
    let len = file.metadata().map_err(|e| e.to_string())?.len();
    file.seek(SeekFrom::Start(0)).map_err(|e| e.to_string())?;
    let mut head = [0u8; 12];
    file.read_exact(&mut head)
        .map_err(|_| "the file ends inside its RIFF/FORM header")?;
    let aiff = match (&head[..4], &head[8..12]) {
        (b"RIFF", b"WAVE") => false,
        (b"FORM", b"AIFF" | b"AIFC") => true,
        _ => return Err("not a WAV or AIFF file".into()),
    };
    // Its 32-bit sizes cannot describe the file: the walk would read audio
    // as chunks, and a write could not grow it (RF64 is WAV's answer).
    if len > u64::from(u32::MAX) {
        return Err(format!(
            "it is larger than 4 GiB, more than {} 32-bit sizes can describe; tag it with another program",
            if aiff {
                "an AIFF file's"
            } else {
                "a WAV file's"
            }
        ));
    }
    let mut chunks = Vec::new();
    let mut pos = 12u64;
    // Chunks are walked to the end of the file, whatever the header's size
    // claims (some writers leave it wrong).
    while pos + 8 <= len {
        file.seek(SeekFrom::Start(pos)).map_err(|e| e.to_string())?;
        let mut h = [0u8; 8];
        file.read_exact(&mut h).map_err(|e| e.to_string())?;
        let size = chunk_size(&h, aiff);
        // An odd chunk is followed by a pad byte; some writers leave it
        // out, and the next chunk starts there: taking its first byte for
        // the pad cut it in two, and a tag went inside it (or zeroed the T
        // of an ID3v1 tag appended after it). A pad byte that is not zero
        // but has a chunk after it is another writer's habit, and harmless.
        if size & 1 == 1 && pos + 8 + size < len {
            let after = pos + 8 + size;
            file.seek(SeekFrom::Start(after))
                .map_err(|e| e.to_string())?;
            let mut h = [0u8; 9];
            let got = crate::audio::au::read_up_to(file, &mut h).map_err(|e| e.to_string())?;
            let chunk_after_pad = got == 1
                || (got == 9
                    && plausible_chunk(
                        &[h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8]],
                        aiff,
                        len - after - 1,
                    ));
            if h[0] != 0 && !chunk_after_pad {
                return Err("a chunk of odd size is not followed by its pad byte; tag it with another program".into());
            }
        }
        let end = if h == [0; 8] {
            // zero bytes read as empty chunks of 8 bytes: one run, one entry
            zero_run_end(file, pos, len)?
        } else {
            (pos + 8 + size + (size & 1)).min(len)
        };
        if chunks.len() == MAX_CHUNKS {
            return Err(format!(
                "it has more than {MAX_CHUNKS} chunks (a real file has a handful); tag it with another program"
            ));
        }
        chunks.push(Chunk {
            id: [h[0], h[1], h[2], h[3]],
            start: pos,
            size,
            end,
        });
        pos = end;
    }
    if pos != len {
        // A few stray bytes after the last chunk: kept, as a chunk of their own.
        chunks.push(Chunk {
            id: *b"    ",
            start: pos,
            size: 0,
            end: len,
        });
    }
    if let Some(i) = chunks.iter().position(Chunk::overruns)
        && i + 1 != chunks.len()
    {
        return Err("a chunk runs past the end of the file".into());
    }
    Ok(Layout { aiff, chunks, len })
}

/// Where a run of all-zero 8-byte "chunk headers" from `pos` ends (the first
/// 8 bytes, on the same 8-byte steps, that are not all zero, or the end of
/// the file), read in blocks: silence after a short `data` chunk would
/// otherwise be millions of empty chunks.
fn zero_run_end(file: &mut File, pos: u64, len: u64) -> Result<u64, String> {
    let mut at = pos;
    let mut buf = vec![0u8; 1 << 16];
    file.seek(SeekFrom::Start(at)).map_err(|e| e.to_string())?;
    while at + 8 <= len {
        let want = usize::try_from((len - at) / 8 * 8)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        file.read_exact(&mut buf[..want])
            .map_err(|e| e.to_string())?;
        if let Some(i) = buf[..want].chunks(8).position(|c| c != [0; 8]) {
            return Ok(at + 8 * i as u64);
        }
        at += want as u64;
    }
    Ok(at)
}

/// A WAV must have its format and sound chunks; a `data` chunk that
/// declares no length is read to the end of the file by players (ffmpeg),
/// so a chunk added after it would play as noise.
fn wav_sound_chunks(layout: &Layout) -> Result<(), String> {
    let has = |id: &[u8; 4], min: u64| layout.chunks.iter().any(|c| &c.id == id && c.size >= min);
    if !has(b"fmt ", 16) || !has(b"data", 0) {
        return Err("it is not a valid WAV file (no usable `fmt ` and `data` chunks); tag it with another program".into());
    }
    if layout
        .chunks
        .iter()
        .any(|c| &c.id == b"data" && c.size == 0)
    {
        return Err("its WAV `data` chunk declares no length (players read it to the end of the file), so a tag cannot be added safely; tag it with another program".into());
    }
    Ok(())
}

fn read_body(file: &mut File, c: &Chunk) -> Result<Vec<u8>, String> {
    let n = (c.end - c.start - 8).min(c.size);
    if n > MAX_TAG_CHUNK {
        return Err("its tag chunk is too large to rewrite safely".into());
    }
    let mut body = vec![0u8; n as usize];
    file.seek(SeekFrom::Start(c.start + 8))
        .map_err(|e| e.to_string())?;
    file.read_exact(&mut body).map_err(|e| e.to_string())?;
    Ok(body)
}

/// The tag an ID3 chunk holds. The chunk is rewritten whole, so bytes that
/// are not the tag (another program's data, a damaged tag) would be lost:
/// such a chunk is refused. Zeros after the tag are padding.
fn id3_of_chunk(body: &[u8]) -> Result<Id3Tag, String> {
    if body.is_empty() {
        return Ok(Id3Tag::empty());
    }
    if !body.starts_with(b"ID3") {
        return Err("its ID3 chunk does not hold an ID3v2 tag, so rewriting it would lose what it holds; tag it with another program".into());
    }
    let tag = Id3Tag::read(&mut Cursor::new(body))?;
    let after = body.get(usize::try_from(tag.len).unwrap_or(usize::MAX)..);
    if after.is_some_and(|rest| rest.iter().any(|&b| b != 0)) {
        return Err("its ID3 chunk holds other data after its tag, which rewriting the chunk would lose; tag it with another program".into());
    }
    Ok(tag)
}

/// A RIFF INFO entry: its id and data.
pub(crate) type InfoEntry = ([u8; 4], Vec<u8>);

/// The subchunks of a `LIST` body after its 4-byte type: (id, data).
pub(crate) fn info_entries(body: &[u8]) -> Result<Vec<InfoEntry>, String> {
    let mut out = Vec::new();
    let mut pos = 4usize;
    while pos + 8 <= body.len() {
        let id = [body[pos], body[pos + 1], body[pos + 2], body[pos + 3]];
        let n = u32::from_le_bytes([body[pos + 4], body[pos + 5], body[pos + 6], body[pos + 7]])
            as usize;
        let data = body
            .get(pos + 8..pos + 8 + n)
            .ok_or("its RIFF INFO list is malformed")?;
        // a pad byte that holds something, or bytes after the entries,
        // would be lost when the list is written again
        if n & 1 == 1 && body.get(pos + 8 + n).is_some_and(|&b| b != 0) {
            return Err("its RIFF INFO list has an entry without its zero pad byte".into());
        }
        out.push((id, data.to_vec()));
        pos += 8 + n + (n & 1);
    }
    if body
        .get(pos..)
        .is_some_and(|rest| rest.iter().any(|&b| b != 0))
    {
        return Err("its RIFF INFO list holds bytes after its entries".into());
    }
    Ok(out)
}

fn info_text(data: &[u8]) -> String {
    let end = data.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    let t = &data[..end];
    String::from_utf8(t.to_vec()).unwrap_or_else(|_| t.iter().map(|&b| char::from(b)).collect())
}

/// The tag chunks of a WAV or AIFF file.
#[derive(Debug, Clone)]
pub(crate) struct ChunkTags {
    layout: Layout,
    /// The first ID3 chunk (its index) and tag; a new tag when there is none.
    id3_at: Option<usize>,
    pub id3: Id3Tag,
    /// WAV: the first `LIST/INFO` (its index) and entries.
    info: Option<(usize, Vec<InfoEntry>)>,
}

impl ChunkTags {
    pub(crate) fn read(file: &mut File) -> Result<ChunkTags, String> {
        let layout = walk(file)?;
        if !layout.aiff {
            wav_sound_chunks(&layout)?;
        }
        let id3_at = layout.chunks.iter().position(|c| is_id3(&c.id));
        let id3 = match id3_at {
            Some(i) => id3_of_chunk(&read_body(file, &layout.chunks[i])?)?,
            None => Id3Tag::empty(),
        };
        // A genre in a second ID3 chunk would outlive the write (earmark's
        // own reader, like others, may show it).
        for c in layout.chunks.iter().filter(|c| is_id3(&c.id)).skip(1) {
            let genres = read_body(file, c)
                .ok()
                .and_then(|b| id3_of_chunk(&b).ok())
                .and_then(|t| t.genres().ok())
                .unwrap_or_default();
            if !genres.is_empty() {
                return Err("a second ID3 chunk holds a genre too, which earmark does not rewrite; tag it with another program".into());
            }
        }
        let mut info = None;
        if !layout.aiff {
            for (i, c) in layout.chunks.iter().enumerate() {
                if &c.id == b"LIST" {
                    let body = read_body(file, c)?;
                    if body.get(..4) != Some(b"INFO") {
                        continue;
                    }
                    if info.is_none() {
                        info = Some((i, info_entries(&body)?));
                    } else if info_entries(&body)
                        .unwrap_or_default()
                        .iter()
                        .any(|(id, _)| id == b"IGNR")
                    {
                        // as a second ID3 chunk's: the genre would outlive the write
                        return Err("a second RIFF INFO list holds a genre too, which earmark does not rewrite; tag it with another program".into());
                    }
                }
            }
        }
        // A last chunk that runs past the end is kept as its bytes (a new tag
        // goes before it); one of those rewritten here cannot be whole.
        let rewritten = id3_at.into_iter().chain(info.as_ref().map(|(i, _)| *i));
        for i in rewritten {
            let c = layout.chunks[i];
            if c.overruns() {
                return Err(format!(
                    "its `{}` chunk runs past the end of the file (a cut-short file?); tag it with another program",
                    String::from_utf8_lossy(&c.id).trim_end()
                ));
            }
        }
        Ok(ChunkTags {
            layout,
            id3_at,
            id3,
            info,
        })
    }

    /// `IGNR` of the first INFO list: None without a list, empty without IGNR.
    pub(crate) fn info_genre(&self) -> Option<Vec<String>> {
        self.info.as_ref().map(|(_, entries)| {
            entries
                .iter()
                .find(|(id, _)| id == b"IGNR")
                .map(|(_, d)| info_text(d))
                .filter(|t| !t.is_empty())
                .into_iter()
                .collect()
        })
    }

    /// Set (or remove, with no value) `IGNR` in the first INFO list.
    pub(crate) fn set_info_genre(&mut self, values: &[String]) -> Result<(), String> {
        let Some((_, entries)) = self.info.as_mut() else {
            return Err("this file has no RIFF INFO list".into());
        };
        let new = values.first().map(|v| {
            let mut d = v.as_bytes().to_vec();
            d.push(0);
            d
        });
        match (entries.iter().position(|(id, _)| id == b"IGNR"), new) {
            (Some(i), Some(d)) => entries[i].1 = d,
            (Some(i), None) => {
                entries.remove(i);
            }
            (None, Some(d)) => entries.push((*b"IGNR", d)),
            (None, None) => {}
        }
        Ok(())
    }

    fn chunk_bytes(&self, id: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let n = body.len() as u32;
        let mut out = id.to_vec();
        out.extend(if self.layout.aiff {
            n.to_be_bytes()
        } else {
            n.to_le_bytes()
        });
        out.extend(body);
        if body.len() % 2 == 1 {
            out.push(0);
        }
        out
    }

    /// Rewrite `file` (a copy of the original) with the new tag chunks.
    pub(crate) fn save(&self, file: &mut File) -> io::Result<()> {
        let err = |e: String| io::Error::other(e);
        let id3 = self.id3.to_bytes().map_err(err)?;
        // (where, how many old bytes, new bytes), applied from the end.
        let mut edits: Vec<(u64, u64, Vec<u8>)> = Vec::new();
        let chunks = &self.layout.chunks;
        match self.id3_at {
            // clearing the genre of a file without an ID3 chunk adds none
            None if self.id3.frames.is_empty() => {}
            Some(i) => {
                let c = chunks[i];
                edits.push((c.start, c.end - c.start, self.chunk_bytes(&c.id, &id3)));
            }
            None => {
                let at = if self.layout.aiff {
                    chunks.iter().find(|c| &c.id == b"SSND").map(|c| c.start)
                } else {
                    chunks.last().filter(|c| c.overruns()).map(|c| c.start)
                };
                let mut bytes = self.chunk_bytes(b"ID3 ", &id3);
                let at = at.unwrap_or_else(|| {
                    // After a last chunk that lacks its pad byte, add it first.
                    if let Some(c) = chunks.last()
                        && (c.end - c.start) % 2 == 1
                    {
                        bytes.insert(0, 0);
                    }
                    self.layout.len
                });
                edits.push((at, 0, bytes));
            }
        }
        if let Some((i, entries)) = &self.info {
            let c = chunks[*i];
            let mut body = b"INFO".to_vec();
            for (id, d) in entries {
                body.extend(id);
                body.extend((d.len() as u32).to_le_bytes());
                body.extend(d);
                if d.len() % 2 == 1 {
                    body.push(0);
                }
            }
            edits.push((c.start, c.end - c.start, self.chunk_bytes(b"LIST", &body)));
        }
        edits.sort_by_key(|e| std::cmp::Reverse(e.0));
        for (at, old, new) in edits {
            let new_len = new.len() as u64;
            if new_len != old {
                move_tail(file, at + old, at + new_len)?;
            }
            file.seek(SeekFrom::Start(at))?;
            file.write_all(&new)?;
        }
        // The container size covers every chunk.
        let len = file.metadata()?.len();
        let size = u32::try_from(len - 8)
            .map_err(|_| io::Error::other("the file would grow past 4 GiB"))?;
        file.seek(SeekFrom::Start(4))?;
        file.write_all(&if self.layout.aiff {
            size.to_be_bytes()
        } else {
            size.to_le_bytes()
        })?;
        file.flush()
    }
}

/// Byte-level check of a written WAV/AIFF copy: the same chunks in the same
/// order with the same bytes, apart from the first ID3 chunk (whose other
/// frames must be identical) and the first INFO list (whose other entries
/// must be), an ID3 chunk that was added, and the container size.
pub(crate) fn check(orig: &mut File, copy: &mut File) -> Result<(), String> {
    let a = ChunkTags::read(orig)?;
    let b =
        ChunkTags::read(copy).map_err(|e| format!("the written copy does not read back: {e}"))?;
    let mut head = ([0u8; 4], [0u8; 4]);
    for (f, h) in [(&mut *orig, &mut head.0), (&mut *copy, &mut head.1)] {
        f.seek(SeekFrom::Start(8)).map_err(|e| e.to_string())?;
        f.read_exact(h).map_err(|e| e.to_string())?;
    }
    if head.0 != head.1 {
        return Err("the file type changed".into());
    }
    super::bytecheck::same_id3_frames(&a.id3, &b.id3)?;
    let info_others = |t: &ChunkTags| {
        t.info.as_ref().map(|(_, e)| {
            e.iter()
                .filter(|(id, _)| id != b"IGNR")
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    if info_others(&a) != info_others(&b) {
        return Err("another RIFF INFO entry changed".into());
    }
    let skip = |t: &ChunkTags| -> Vec<usize> {
        t.id3_at
            .into_iter()
            .chain(t.info.as_ref().map(|(i, _)| *i))
            .collect()
    };
    let others = |t: &ChunkTags, f: &mut File| -> Result<Vec<([u8; 4], String)>, String> {
        let skip = skip(t);
        let mut out = Vec::new();
        for (i, c) in t.layout.chunks.iter().enumerate() {
            if skip.contains(&i) {
                continue;
            }
            // Header and declared body; a missing pad byte may be added.
            let n = (c.end - c.start).min(8 + c.size);
            f.seek(SeekFrom::Start(c.start))
                .map_err(|e| e.to_string())?;
            let mut h = sha2::Sha256::new();
            io::copy(&mut (&mut *f).take(n), &mut h).map_err(|e| e.to_string())?;
            out.push((c.id, hex::encode(sha2::Digest::finalize(h))));
        }
        Ok(out)
    };
    use sha2::Digest;
    let (oa, ob) = (others(&a, orig)?, others(&b, copy)?);
    if oa != ob {
        return Err("another chunk or the audio data changed".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(id: &[u8; 4], data: &[u8], aiff: bool) -> Vec<u8> {
        let n = data.len() as u32;
        let mut v = id.to_vec();
        v.extend(if aiff {
            n.to_be_bytes()
        } else {
            n.to_le_bytes()
        });
        v.extend(data);
        if data.len() % 2 == 1 {
            v.push(0);
        }
        v
    }

    fn write_genre(bytes: &[u8]) -> (Vec<u8>, Result<(), String>) {
        write_with(bytes, |t| t.id3.set_genres(&["Jazz".to_string()]).unwrap())
    }

    fn write_with(
        bytes: &[u8],
        edit: impl FnOnce(&mut ChunkTags),
    ) -> (Vec<u8>, Result<(), String>) {
        let dir = tempfile::tempdir().unwrap();
        let (p, q) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::write(&p, bytes).unwrap();
        std::fs::write(&q, bytes).unwrap();
        let open = |p: &std::path::Path| {
            std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(p)
                .unwrap()
        };
        let mut f = open(&q);
        let mut t = ChunkTags::read(&mut f).unwrap();
        edit(&mut t);
        t.save(&mut f).unwrap();
        drop(f);
        let checked = check(&mut open(&p), &mut open(&q));
        (std::fs::read(&q).unwrap(), checked)
    }

    #[test]
    fn aiff_gets_its_id3_chunk_before_the_sound() {
        let comm = chunk(b"COMM", &[1; 18], true);
        let ssnd = chunk(b"SSND", &(0..=250u8).collect::<Vec<_>>(), true);
        let name = chunk(b"NAME", b"xyz", true);
        let body = [b"AIFF".to_vec(), comm.clone(), name.clone(), ssnd.clone()].concat();
        let mut file = b"FORM".to_vec();
        file.extend((body.len() as u32).to_be_bytes());
        file.extend(&body);
        let (got, checked) = write_genre(&file);
        checked.unwrap();
        let l = walk_bytes(&got);
        let ids: Vec<&[u8; 4]> = l.chunks.iter().map(|c| &c.id).collect();
        assert_eq!(ids, [b"COMM", b"NAME", b"ID3 ", b"SSND"]);
        assert!(got.ends_with(&ssnd));
        assert_eq!(
            u32::from_be_bytes([got[4], got[5], got[6], got[7]]) as usize,
            got.len() - 8
        );
    }

    #[test]
    fn wav_with_zero_size_chunks_and_a_bad_riff_size_is_written_exactly() {
        let fmt = chunk(b"fmt ", &[2; 16], false);
        let data = chunk(b"data", &[7; 100], false);
        let mut file = b"RIFF\x08\0\0\0WAVE".to_vec();
        file.extend(&fmt);
        file.extend(&data);
        file.extend([0u8; 24]); // three empty chunks named "\0\0\0\0"
        let (got, checked) = write_genre(&file);
        checked.unwrap();
        assert_eq!(
            &got[..8 + 4],
            [
                &b"RIFF"[..],
                &((got.len() - 8) as u32).to_le_bytes(),
                b"WAVE"
            ]
            .concat()
        );
        assert_eq!(&got[12..file.len()], &file[12..]);
        assert_eq!(&got[file.len()..file.len() + 4], b"ID3 ");
    }

    /// `tag --clear` on a WAV whose genre is only in RIFF INFO: IGNR goes,
    /// nothing else changes, and no empty ID3 chunk is left behind.
    #[test]
    fn clearing_an_info_only_genre_adds_no_id3_chunk() {
        let info = [
            &b"INFO"[..],
            &chunk(b"INAM", b"x\0", false),
            &chunk(b"IGNR", b"Rock\0", false),
        ]
        .concat();
        let fmt = chunk(b"fmt ", &[2; 16], false);
        let data = chunk(b"data", &[7; 100], false);
        let body = [
            b"WAVE".to_vec(),
            fmt.clone(),
            chunk(b"LIST", &info, false),
            data.clone(),
        ]
        .concat();
        let mut file = b"RIFF".to_vec();
        file.extend((body.len() as u32).to_le_bytes());
        file.extend(&body);
        let (got, checked) = write_with(&file, |t| {
            assert_eq!(t.info_genre(), Some(vec!["Rock".to_string()]));
            t.id3.set_genres(&[]).unwrap();
            t.set_info_genre(&[]).unwrap();
        });
        checked.unwrap();
        let info = [&b"INFO"[..], &chunk(b"INAM", b"x\0", false)].concat();
        let body = [b"WAVE".to_vec(), fmt, chunk(b"LIST", &info, false), data].concat();
        let mut want = b"RIFF".to_vec();
        want.extend((body.len() as u32).to_le_bytes());
        want.extend(&body);
        assert_eq!(got, want);
    }

    fn read_err(bytes: &[u8]) -> String {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.wav");
        std::fs::write(&p, bytes).unwrap();
        match ChunkTags::read(&mut File::open(&p).unwrap()) {
            Err(e) => e,
            Ok(_) => panic!("read a file it should refuse"),
        }
    }

    fn wav(chunks: &[Vec<u8>]) -> Vec<u8> {
        let body = [b"WAVE".to_vec(), chunks.concat()].concat();
        [
            b"RIFF".to_vec(),
            (body.len() as u32).to_le_bytes().to_vec(),
            body,
        ]
        .concat()
    }

    #[test]
    fn refuses_an_odd_chunk_without_its_pad_byte() {
        let mut odd = chunk(b"junk", b"abc", false);
        odd.pop(); // the writer left out the pad: "data" starts right after
        let file = wav(&[
            chunk(b"fmt ", &[1; 16], false),
            odd,
            chunk(b"data", &[7; 10], false),
        ]);
        assert!(read_err(&file).contains("pad byte"));
        // a pad byte that is there but not zero (0xFF, a space) is read past
        let mut padded = chunk(b"junk", b"abc", false);
        *padded.last_mut().unwrap() = 0xFF;
        let file = wav(&[
            chunk(b"fmt ", &[1; 16], false),
            padded,
            chunk(b"data", &[7; 10], false),
        ]);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("b.wav");
        std::fs::write(&p, &file).unwrap();
        let ids: Vec<[u8; 4]> = walk(&mut File::open(&p).unwrap())
            .unwrap()
            .chunks
            .iter()
            .map(|c| c.id)
            .collect();
        assert_eq!(ids, [*b"fmt ", *b"junk", *b"data"]);
        // an ID3v1 tag appended right after an odd last chunk: its T is no pad
        let mut v1 = wav(&[
            chunk(b"fmt ", &[1; 16], false),
            chunk(b"data", &[7; 9], false),
        ]);
        v1.pop();
        v1.extend(b"TAGTitle");
        v1.extend([0u8; 120]);
        assert!(read_err(&v1).contains("pad byte"));
    }

    #[test]
    fn refuses_info_entries_it_would_lose_bytes_of() {
        let mut unpadded = b"INFO".to_vec();
        unpadded.extend(chunk(b"INAM", b"abc", false));
        *unpadded.last_mut().unwrap() = b'x';
        assert!(info_entries(&unpadded).unwrap_err().contains("pad byte"));
        let mut trailing = [&b"INFO"[..], &chunk(b"INAM", b"ab", false)].concat();
        trailing.extend(b"xyz");
        assert!(
            info_entries(&trailing)
                .unwrap_err()
                .contains("after its entries")
        );
        let mut padded = [&b"INFO"[..], &chunk(b"INAM", b"abc", false)].concat();
        padded.extend([0, 0]);
        assert_eq!(
            info_entries(&padded).unwrap(),
            [(*b"INAM", b"abc".to_vec())]
        );
    }

    #[test]
    fn check_sees_a_changed_sound_byte() {
        let body = [
            b"WAVE".to_vec(),
            chunk(b"fmt ", &[1; 16], false),
            chunk(b"data", &[7; 10], false),
        ]
        .concat();
        let mut a = b"RIFF".to_vec();
        a.extend((body.len() as u32).to_le_bytes());
        a.extend(&body);
        let mut b = a.clone();
        *b.last_mut().unwrap() = 8;
        let dir = tempfile::tempdir().unwrap();
        let (p, q) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::write(&p, &a).unwrap();
        std::fs::write(&q, &b).unwrap();
        let e = check(&mut File::open(&p).unwrap(), &mut File::open(&q).unwrap());
        assert_eq!(e.unwrap_err(), "another chunk or the audio data changed");
    }

    #[test]
    fn silence_after_a_short_data_chunk_is_one_run_and_garbage_is_bounded() {
        // 1 MB of zeros behind a 10-byte `data` chunk: 131 072 empty "chunks"
        // on the old walk (32 bytes of memory each), one entry now
        let mut silent = wav(&[
            chunk(b"fmt ", &[1; 16], false),
            chunk(b"data", &[7; 10], false),
        ]);
        silent.extend(vec![0u8; 1 << 20]);
        silent.extend(chunk(b"LIST", b"INFO", false));
        silent.extend([0u8; 5]); // stray bytes shorter than a header
        let layout = walk_bytes(&silent);
        let ids: Vec<[u8; 4]> = layout.chunks.iter().map(|c| c.id).collect();
        assert_eq!(ids, [*b"fmt ", *b"data", [0; 4], *b"LIST", *b"    "]);
        assert_eq!(layout.chunks[2].end - layout.chunks[2].start, 1 << 20);
        // non-zero chunks past any real file's count: refused, not walked on
        let many: Vec<Vec<u8>> = (0..=MAX_CHUNKS)
            .map(|_| chunk(b"junk", &[1; 2], false))
            .collect();
        let e = read_err(&wav(&many));
        assert!(e.contains("more than 4096 chunks"), "{e}");
    }

    fn walk_bytes(bytes: &[u8]) -> Layout {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("w");
        std::fs::write(&p, bytes).unwrap();
        walk(&mut File::open(&p).unwrap()).unwrap()
    }
}
