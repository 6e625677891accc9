//! A narrow ID3v2 genre writer for MPEG files. lofty re-serialises the whole
//! tag and, measured on TagLib's corpus, drops or refuses what it does not
//! understand (a second value in a v2.3 TPE1, malformed POPM/TYER frames,
//! unknown v2.3 frames) and cannot tag an MP3 that starts with an MPEG frame.
//! Here every frame is kept as the bytes it was; only `TCON` (`TCO` in
//! v2.2) is decoded, replaced or inserted, and the tag keeps its own version
//! (v2.2 and v2.3 stay what they are).

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};

use super::state::split_tcon;
use crate::audio::au::read_up_to;

/// Padding given to a tag that has to grow (so later edits fit in place).
const GROW_PADDING: usize = 1024;
/// Largest tag size an ID3v2 header can express (28-bit syncsafe).
const MAX_TAG: usize = (1 << 28) - 1;

/// One frame, header included, exactly as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawFrame {
    pub id: [u8; 4],
    pub bytes: Vec<u8>,
}

/// The file's leading ID3v2 tag (or its absence), parsed only into frames.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Id3Tag {
    /// 2, 3 or 4; a new tag is 4.
    pub major: u8,
    revision: u8,
    flags: u8,
    /// Extended header bytes, kept verbatim.
    pub ext: Vec<u8>,
    pub frames: Vec<RawFrame>,
    /// Non-zero bytes after the last frame (junk some taggers leave): kept.
    pub junk: Vec<u8>,
    /// Bytes the tag occupies at the start of the file (0 when there was none).
    pub len: u64,
    /// Size field of the header (body bytes, without header and footer).
    size: usize,
}

const TCON: [u8; 4] = *b"TCON";

fn syncsafe(b: &[u8]) -> Option<usize> {
    if b.iter().any(|x| x & 0x80 != 0) {
        return None;
    }
    Some(b.iter().fold(0usize, |acc, &x| (acc << 7) | usize::from(x)))
}

fn to_syncsafe(n: usize) -> [u8; 4] {
    [
        ((n >> 21) & 0x7F) as u8,
        ((n >> 14) & 0x7F) as u8,
        ((n >> 7) & 0x7F) as u8,
        (n & 0x7F) as u8,
    ]
}

fn valid_id(id: &[u8]) -> bool {
    (id.len() == 4 || id.len() == 3)
        && id
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

impl Id3Tag {
    /// A tag for a file that has none (v2.4, no frames).
    pub(crate) fn empty() -> Id3Tag {
        Id3Tag {
            major: 4,
            revision: 0,
            flags: 0,
            ext: Vec::new(),
            frames: Vec::new(),
            junk: Vec::new(),
            len: 0,
            size: 0,
        }
    }

    /// Read the tag at the start of `file`; an empty tag when there is none.
    pub(crate) fn read<R: Read + Seek>(file: &mut R) -> Result<Id3Tag, String> {
        let file_len = file.seek(SeekFrom::End(0)).map_err(|e| e.to_string())?;
        file.seek(SeekFrom::Start(0)).map_err(|e| e.to_string())?;
        let mut h = [0u8; 10];
        let got = read_up_to(file, &mut h).map_err(|e| e.to_string())?;
        if got < 10 || &h[..3] != b"ID3" {
            return Ok(Id3Tag::empty());
        }
        let (major, revision, flags) = (h[3], h[4], h[5]);
        if !(2..=4).contains(&major) {
            return Err(format!(
                "its ID3v2.{major} tag is a version earmark does not rewrite (only v2.2 to v2.4)"
            ));
        }
        if major == 2 && flags & 0x40 != 0 {
            return Err("its ID3v2.2 tag is compressed, which earmark does not rewrite".into());
        }
        let size = syncsafe(&h[6..10]).ok_or("its ID3v2 header has an invalid size")?;
        let footer = if major == 4 && flags & 0x10 != 0 {
            10
        } else {
            0
        };
        let len = 10 + size as u64 + footer;
        if len > file_len {
            return Err("its ID3v2 tag claims to be longer than the file".into());
        }
        // (v2.4 unsynchronises each frame: a frame written plain beside
        // them would read back otherwise)
        if flags & 0x80 != 0 {
            return Err(format!(
                "its ID3v2.{major} tag is unsynchronised, which earmark does not rewrite"
            ));
        }
        let mut body = vec![0u8; size];
        file.read_exact(&mut body).map_err(|e| e.to_string())?;
        let ext_len = if major > 2 && flags & 0x40 != 0 {
            ext_header_len(major, &body)?
        } else {
            0
        };
        let plain_sizes = major == 4 && plain_v24_sizes(body.get(ext_len..).unwrap_or_default());
        let mut frames = Vec::new();
        let mut pos = ext_len;
        let hdr = header_len(major);
        while pos + hdr <= size && body[pos] != 0 {
            let id = &body[pos..pos + if major == 2 { 3 } else { 4 }];
            if !valid_id(id) {
                break;
            }
            let n = frame_size(major, &body, pos, plain_sizes).ok_or_else(|| {
                format!(
                    "its ID3v2 frame {} runs past the end of the tag",
                    String::from_utf8_lossy(id)
                )
            })?;
            frames.push(RawFrame {
                id: [id[0], id[1], id[2], id.get(3).copied().unwrap_or(0)],
                bytes: body[pos..pos + hdr + n].to_vec(),
            });
            pos += hdr + n;
        }
        // Bytes that are neither a frame nor padding: a reader may take
        // them for frames, and a genre written before them would sit inside
        // what it reads.
        if pos < size && body[pos] != 0 {
            return Err("its ID3v2 tag holds bytes earmark cannot read as frames".into());
        }
        let rest = &body[pos.min(size)..];
        let junk = match rest.iter().rposition(|&b| b != 0) {
            Some(last) => rest[..=last].to_vec(),
            None => Vec::new(),
        };
        Ok(Id3Tag {
            major,
            revision,
            flags,
            ext: body[..ext_len].to_vec(),
            frames,
            junk,
            len,
            size,
        })
    }

    /// The genre frame's id: `TCON`, or `TCO` in v2.2 (ids kept as 4 bytes).
    pub(crate) fn genre_id(&self) -> [u8; 4] {
        if self.major == 2 { *b"TCO\0" } else { TCON }
    }

    /// The genre parts of every `TCON` frame, in order.
    pub(crate) fn genres(&self) -> Result<Vec<String>, String> {
        let mut out = Vec::new();
        for f in self.frames.iter().filter(|f| f.id == self.genre_id()) {
            let body = frame_body(self.major, f)?;
            out.extend(split_tcon(&decode_text(body)?));
        }
        Ok(out)
    }

    /// Replace the first `TCON` with `values` (removing any others), or add
    /// one after the last frame; no values removes the genre.
    pub(crate) fn set_genres(&mut self, values: &[String]) -> Result<(), String> {
        let genre_id = self.genre_id();
        let hdr = header_len(self.major);
        let old = self.frames.iter().position(|f| f.id == genre_id);
        let new_frame = if values.is_empty() {
            None
        } else {
            let (old_enc, flags) = match old {
                Some(i) => {
                    let f = &self.frames[i];
                    let flags = if hdr == 10 {
                        [f.bytes[8], f.bytes[9]]
                    } else {
                        [0, 0]
                    };
                    (f.bytes.get(hdr).copied(), flags)
                }
                None => (None, [0, 0]),
            };
            Some(self.tcon_frame(values, old_enc, flags)?)
        };
        let mut frames = Vec::with_capacity(self.frames.len() + 1);
        let mut placed = false;
        for f in self.frames.drain(..) {
            if f.id != genre_id {
                frames.push(f);
            } else if !placed {
                placed = true;
                frames.extend(new_frame.clone());
            }
        }
        if !placed {
            frames.extend(new_frame);
        }
        self.frames = frames;
        Ok(())
    }

    fn tcon_frame(
        &self,
        values: &[String],
        old_enc: Option<u8>,
        flags: [u8; 2],
    ) -> Result<RawFrame, String> {
        let text = if self.major <= 3 {
            v23_text(values)
        } else {
            values.join("\0")
        };
        let latin1 = text.chars().all(|c| u32::from(c) <= 0xFF);
        let enc = match old_enc {
            Some(e @ (1 | 2)) => e,
            Some(3) if self.major == 4 => 3,
            Some(0) if latin1 => 0,
            _ if latin1 => 0,
            _ if self.major == 4 => 3,
            _ => 1,
        };
        let mut body = vec![enc];
        body.extend(encode_text(&text, enc));
        let size = if self.major == 4 {
            to_syncsafe(body.len())
        } else {
            u32::try_from(body.len())
                .map_err(|_| "genre too long")?
                .to_be_bytes()
        };
        if self.major == 2 {
            // v2.2: three-letter id, three-byte size, no flags, no UTF-8.
            let enc = enc.min(1);
            let mut body = vec![enc];
            body.extend(encode_text(&text, enc));
            let n = u32::try_from(body.len())
                .ok()
                .filter(|&n| n < 1 << 24)
                .ok_or("genre too long")?;
            let mut bytes = b"TCO".to_vec();
            bytes.extend(&n.to_be_bytes()[1..]);
            bytes.extend(body);
            return Ok(RawFrame {
                id: self.genre_id(),
                bytes,
            });
        }
        let mut bytes = TCON.to_vec();
        bytes.extend(size);
        bytes.extend(flags);
        bytes.extend(body);
        Ok(RawFrame { id: TCON, bytes })
    }

    /// The whole tag as bytes: in the old tag's space when it fits (so the
    /// rest of the file stays where it is), else grown with fresh padding.
    pub(crate) fn to_bytes(&self) -> Result<Vec<u8>, String> {
        let mut body = self.ext.clone();
        for f in &self.frames {
            body.extend(&f.bytes);
        }
        body.extend(&self.junk);
        let size = if body.len() <= self.size {
            self.size
        } else {
            body.len() + GROW_PADDING
        };
        if size > MAX_TAG {
            return Err("the ID3v2 tag would grow past its format's size limit".into());
        }
        body.resize(size, 0);
        let mut out = b"ID3".to_vec();
        out.extend([self.major, self.revision, self.flags]);
        out.extend(to_syncsafe(size));
        out.extend(body);
        if self.major == 4 && self.flags & 0x10 != 0 {
            out.extend(b"3DI");
            out.extend([self.major, self.revision, self.flags]);
            out.extend(to_syncsafe(size));
        }
        Ok(out)
    }

    /// Write this tag at the start of `file`, which holds a copy of the
    /// original (whose tag took `self.len` bytes), moving the rest if needed.
    pub(crate) fn save(&self, file: &mut File) -> io::Result<()> {
        let bytes = self.to_bytes().map_err(io::Error::other)?;
        let new_len = bytes.len() as u64;
        if new_len != self.len {
            move_tail(file, self.len, new_len)?;
        }
        file.seek(SeekFrom::Start(0))?;
        file.write_all(&bytes)?;
        file.flush()
    }
}

/// The genre a second ID3v2 tag right behind the first holds (some taggers
/// add a tag instead of rewriting the one there), if it holds one and can be
/// read: readers that merge consecutive tags (ffmpeg) show it where the
/// first tag has none. `first` is the first tag (its `len`: where it ends).
pub(crate) fn second_tag_genre<R: Read + Seek>(file: &mut R, first: &Id3Tag) -> Option<String> {
    if first.len == 0 {
        return None;
    }
    let file_len = file.seek(SeekFrom::End(0)).ok()?;
    file.seek(SeekFrom::Start(first.len)).ok()?;
    let mut h = [0u8; 10];
    file.read_exact(&mut h).ok()?;
    if &h[..3] != b"ID3" {
        return None;
    }
    let footer = if h[3] == 4 && h[5] & 0x10 != 0 { 10 } else { 0 };
    let len = 10 + syncsafe(&h[6..10])? as u64 + footer;
    // bounded by the file: a header claiming more is not a tag to read
    if first.len + len > file_len {
        return None;
    }
    let mut bytes = vec![0u8; usize::try_from(len).ok()?];
    file.seek(SeekFrom::Start(first.len)).ok()?;
    file.read_exact(&mut bytes).ok()?;
    let genres = Id3Tag::read(&mut io::Cursor::new(bytes))
        .ok()?
        .genres()
        .ok()?;
    let shown: Vec<&str> = genres
        .iter()
        .map(|g| g.trim())
        .filter(|g| !g.is_empty())
        .collect();
    (!shown.is_empty()).then(|| shown.join("; "))
}

/// The genre byte of the ID3v1 trailer `file` ends with (the last of its
/// 128 bytes, after "TAG"), if it has one.
pub(crate) fn v1_genre<R: Read + Seek>(file: &mut R) -> io::Result<Option<u8>> {
    let len = file.seek(SeekFrom::End(0))?;
    if len < 128 {
        return Ok(None);
    }
    let mut trailer = [0u8; 128];
    file.seek(SeekFrom::End(-128))?;
    file.read_exact(&mut trailer)?;
    Ok((&trailer[..3] == b"TAG").then_some(trailer[127]))
}

/// Set the genre byte of the ID3v1 trailer `file` ends with; nothing else
/// of the trailer changes.
pub(crate) fn set_v1_genre(file: &mut File, code: u8) -> io::Result<()> {
    if v1_genre(file)?.is_none() {
        return Err(io::Error::other("the ID3v1 trailer is gone"));
    }
    file.seek(SeekFrom::End(-1))?;
    file.write_all(&[code])?;
    file.flush()
}

/// Move the file's bytes from `from` to the end so they start at `to`.
pub(crate) fn move_tail(file: &mut File, from: u64, to: u64) -> io::Result<()> {
    let len = file.metadata()?.len();
    let tail = len.saturating_sub(from);
    let mut buf = vec![0u8; 1 << 20];
    if to > from {
        file.set_len(to + tail)?;
        let mut done = 0u64;
        while done < tail {
            let n = (tail - done).min(buf.len() as u64);
            let src = from + tail - done - n;
            file.seek(SeekFrom::Start(src))?;
            file.read_exact(&mut buf[..n as usize])?;
            file.seek(SeekFrom::Start(src + (to - from)))?;
            file.write_all(&buf[..n as usize])?;
            done += n;
        }
    } else {
        let mut done = 0u64;
        while done < tail {
            let n = (tail - done).min(buf.len() as u64);
            file.seek(SeekFrom::Start(from + done))?;
            file.read_exact(&mut buf[..n as usize])?;
            file.seek(SeekFrom::Start(to + done))?;
            file.write_all(&buf[..n as usize])?;
            done += n;
        }
        file.set_len(to + tail)?;
    }
    Ok(())
}

/// Frame header length: 6 bytes in v2.2, 10 after.
fn header_len(major: u8) -> usize {
    if major == 2 { 6 } else { 10 }
}

fn ext_header_len(major: u8, body: &[u8]) -> Result<usize, String> {
    let bad = || "its ID3v2 extended header is malformed".to_string();
    let head = body.get(..6).ok_or_else(bad)?;
    let (len, crc) = if major == 3 {
        let n = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        (n + 4, head[4] & 0x80 != 0)
    } else {
        (syncsafe(&head[..4]).ok_or_else(bad)?, head[5] & 0x20 != 0)
    };
    if crc {
        return Err(
            "its ID3v2 extended header carries a checksum, which earmark does not recompute".into(),
        );
    }
    if len > body.len() || len < 6 {
        return Err(bad());
    }
    Ok(len)
}

/// The body size of the frame at `pos`, when it fits in the tag. v2.4 sizes
/// are syncsafe, but iTunes wrote plain ones: take whichever lands on the
/// next frame, padding or the end (as mutagen does).
fn frame_size(major: u8, body: &[u8], pos: usize, plain_sizes: bool) -> Option<usize> {
    if major == 2 {
        let r = &body[pos + 3..pos + 6];
        let n = u32::from_be_bytes([0, r[0], r[1], r[2]]) as usize;
        return (pos + 6 + n <= body.len()).then_some(n);
    }
    let raw = &body[pos + 4..pos + 8];
    let plain = u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]) as usize;
    let fits = |n: usize| pos + 10 + n <= body.len();
    if major == 3 {
        return fits(plain).then_some(plain);
    }
    match syncsafe(raw) {
        Some(ss) if !plain_sizes => fits(ss).then_some(ss),
        _ => fits(plain).then_some(plain),
    }
}

/// Whether a v2.4 tag's frame sizes are plain 32-bit numbers, as iTunes
/// wrote them, rather than syncsafe: decided once for the whole tag by
/// mutagen's rule (`determine_bpi`), so that earmark rewrites the frames
/// mutagen reads. Each reading walks the frames from the start to ten zero
/// bytes; plain wins if it meets more frame ids, or as many while the
/// syncsafe walk runs past the end and the plain one does not. (Deciding
/// frame by frame, by where the next one lands, once took a picture's
/// inner zero byte for padding, and once the padding for a frame.)
fn plain_v24_sizes(frames: &[u8]) -> bool {
    let walk = |plain: bool| -> (usize, i64) {
        let len = frames.len();
        let (mut at, mut found) = (0usize, 0usize);
        while at + 10 < len {
            let head = &frames[at..at + 10];
            if head.iter().all(|&b| b == 0) {
                return (found, -(((len - at) % 10) as i64));
            }
            let raw = &head[4..8];
            let size = if plain {
                u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]) as usize
            } else {
                raw.iter()
                    .fold(0usize, |n, &b| (n << 7) | usize::from(b & 0x7F))
            };
            at = at.saturating_add(10 + size);
            found += usize::from(valid_id(&head[..4]));
        }
        // how far past the end the walk ran (negative: short of it)
        let past = i64::try_from(at.abs_diff(len)).unwrap_or(i64::MAX);
        (found, if at >= len { past } else { -past })
    };
    let (syncsafe_found, syncsafe_past) = walk(false);
    let (plain_found, plain_past) = walk(true);
    plain_found > syncsafe_found
        || (plain_found == syncsafe_found && syncsafe_past >= 1 && plain_past <= 1)
}

/// A text frame's body, refusing the frame flags that change its bytes.
fn frame_body(major: u8, f: &RawFrame) -> Result<&[u8], String> {
    if major == 2 {
        return Ok(&f.bytes[6..]);
    }
    let fmt = f.bytes[9];
    let altered = if major == 3 {
        fmt & 0xE0 != 0
    } else {
        fmt & 0x4F != 0
    };
    if altered {
        return Err(
            "its genre frame is compressed, encrypted or grouped, which earmark does not rewrite"
                .into(),
        );
    }
    Ok(&f.bytes[10..])
}

/// ID3v2 text: encoding byte, then strings separated by NUL.
fn decode_text(body: &[u8]) -> Result<String, String> {
    let Some((&enc, data)) = body.split_first() else {
        return Ok(String::new());
    };
    let text = match enc {
        0 => data.iter().map(|&b| char::from(b)).collect(),
        3 => String::from_utf8(data.to_vec()).map_err(|_| "its genre is not valid UTF-8")?,
        1 | 2 => {
            let mut units: Vec<u16> = data
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            // Each string may carry its own byte-order mark.
            let mut out = String::new();
            let mut little = false;
            for part in units.split_mut(|&u| u == 0) {
                let mut part: Vec<u16> = part.to_vec();
                if enc == 1 {
                    match part.first() {
                        Some(0xFFFE) => {
                            little = true;
                            part.remove(0);
                        }
                        Some(0xFEFF) => {
                            little = false;
                            part.remove(0);
                        }
                        _ => {}
                    }
                }
                if little {
                    part.iter_mut().for_each(|u| *u = u.swap_bytes());
                }
                if !out.is_empty() || !part.is_empty() {
                    out.push_str(&String::from_utf16_lossy(&part));
                    out.push('\0');
                }
            }
            out
        }
        _ => return Err(format!("its genre has an unknown text encoding ({enc})")),
    };
    Ok(text.trim_end_matches('\0').to_string())
}

fn encode_text(text: &str, enc: u8) -> Vec<u8> {
    match enc {
        0 => text.chars().map(|c| c as u8).collect(),
        3 => text.as_bytes().to_vec(),
        2 => text.encode_utf16().flat_map(u16::to_be_bytes).collect(),
        _ => text
            .split('\0')
            .enumerate()
            .flat_map(|(i, part)| {
                let mut v: Vec<u8> = if i > 0 { vec![0, 0] } else { Vec::new() };
                v.extend([0xFF, 0xFE]);
                v.extend(part.encode_utf16().flat_map(u16::to_le_bytes));
                v
            })
            .collect(),
    }
}

/// v2.3 `TCON` text for genre parts: ID3v1 numbers and RX/CR as `(n)`
/// references, names as text (several names kept apart by NUL, as read).
fn v23_text(values: &[String]) -> String {
    let mut refs = String::new();
    let mut names: Vec<&str> = Vec::new();
    for v in values {
        let is_ref = v == "RX" || v == "CR" || (v.len() <= 3 && v.parse::<u8>().is_ok());
        if is_ref {
            refs.push_str(&format!("({v})"));
        } else {
            names.push(v);
        }
    }
    refs + &names.join("\0")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(id: &[u8; 4], body: &[u8], major: u8) -> Vec<u8> {
        let mut v = id.to_vec();
        if major == 4 {
            v.extend(to_syncsafe(body.len()));
        } else {
            v.extend((body.len() as u32).to_be_bytes());
        }
        v.extend([0, 0]);
        v.extend(body);
        v
    }

    fn tag(major: u8, frames: &[Vec<u8>], padding: usize) -> Vec<u8> {
        let body: Vec<u8> = frames.concat();
        let mut v = b"ID3".to_vec();
        v.extend([major, 0, 0]);
        v.extend(to_syncsafe(body.len() + padding));
        v.extend(body);
        v.extend(vec![0; padding]);
        v
    }

    fn file_with(bytes: &[u8]) -> (tempfile::TempDir, File) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.mp3");
        std::fs::write(&p, bytes).unwrap();
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&p)
            .unwrap();
        (dir, f)
    }

    #[test]
    fn keeps_multi_value_v23_frames_and_version() {
        let tpe1 = frame(b"TPE1", b"\0piman\0jzig", 3);
        let popm = frame(b"POPM", b"\xff\xff", 3); // malformed: kept as bytes
        let tcon = frame(b"TCON", b"\0(17)", 3);
        let audio = [0xFFu8, 0xFB, 0x90, 0x00, 1, 2, 3];
        let bytes = [
            tag(3, &[tpe1.clone(), tcon, popm.clone()], 4),
            audio.to_vec(),
        ]
        .concat();
        let (_d, mut f) = file_with(&bytes);
        let mut t = Id3Tag::read(&mut f).unwrap();
        assert_eq!(t.genres().unwrap(), vec!["17".to_string()]);
        t.set_genres(&["Jazz".into()]).unwrap();
        t.save(&mut f).unwrap();
        let t2 = Id3Tag::read(&mut f).unwrap();
        assert_eq!(t2.major, 3);
        assert_eq!(t2.genres().unwrap(), vec!["Jazz".to_string()]);
        assert_eq!(t2.frames[0].bytes, tpe1);
        assert_eq!(t2.frames[2].bytes, popm);
        let mut all = Vec::new();
        f.seek(SeekFrom::Start(0)).unwrap();
        f.read_to_end(&mut all).unwrap();
        assert_eq!(&all[t2.len as usize..], &audio);
    }

    #[test]
    fn rewrites_v22_tco_and_keeps_its_three_letter_frames() {
        let v22 = |id: &[u8; 3], body: &[u8]| {
            let mut v = id.to_vec();
            v.extend(&(body.len() as u32).to_be_bytes()[1..]);
            v.extend(body);
            v
        };
        let tt2 = v22(b"TT2", b"\0Title");
        let pic = v22(b"PIC", b"\0PNG\x03\0junk");
        let tco = v22(b"TCO", b"\0(17)");
        let audio = [0xFFu8, 0xFB, 0x90, 0x00, 5, 5];
        let bytes = [tag(2, &[tt2.clone(), tco, pic.clone()], 2), audio.to_vec()].concat();
        let (_d, mut f) = file_with(&bytes);
        let mut t = Id3Tag::read(&mut f).unwrap();
        assert_eq!(t.genres().unwrap(), vec!["17".to_string()]);
        t.set_genres(&["Классика".into()]).unwrap();
        t.save(&mut f).unwrap();
        let t2 = Id3Tag::read(&mut f).unwrap();
        assert_eq!(t2.major, 2);
        assert_eq!(t2.genres().unwrap(), vec!["Классика".to_string()]);
        assert_eq!(t2.frames[0].bytes, tt2);
        assert_eq!(t2.frames[1].bytes[..3], *b"TCO");
        assert_eq!(t2.frames[1].bytes[6], 1, "UTF-16: v2.2 has no UTF-8");
        assert_eq!(t2.frames[2].bytes, pic);
        crate::tags::bytecheck::same_id3_frames(&t, &t2).unwrap();
    }

    #[test]
    fn prepends_a_tag_to_a_bare_mpeg_stream() {
        let audio = [0xFFu8, 0xFB, 0x90, 0x00, 9, 9, 9, 9];
        let (_d, mut f) = file_with(&audio);
        let mut t = Id3Tag::read(&mut f).unwrap();
        assert_eq!(t.len, 0);
        t.set_genres(&["Rock".into(), "Pop".into()]).unwrap();
        t.save(&mut f).unwrap();
        let t2 = Id3Tag::read(&mut f).unwrap();
        assert_eq!(t2.major, 4);
        assert_eq!(t2.genres().unwrap(), vec!["Rock", "Pop"]);
        let mut all = Vec::new();
        f.seek(SeekFrom::Start(0)).unwrap();
        f.read_to_end(&mut all).unwrap();
        assert_eq!(&all[t2.len as usize..], &audio);
        // Removing the genre again shrinks nothing: the tag keeps its space.
        let mut t3 = t2.clone();
        t3.set_genres(&[]).unwrap();
        t3.save(&mut f).unwrap();
        assert!(Id3Tag::read(&mut f).unwrap().genres().unwrap().is_empty());
    }

    #[test]
    fn utf16_and_v23_references_round_trip() {
        assert_eq!(
            decode_text(&[1, 0xFF, 0xFE, b'R', 0, b'o', 0, 0, 0, 0xFF, 0xFE, b'P', 0]).unwrap(),
            "Ro\0P"
        );
        let enc = encode_text("Ro\0P", 1);
        let mut body = vec![1];
        body.extend(enc);
        assert_eq!(decode_text(&body).unwrap(), "Ro\0P");
        assert_eq!(
            v23_text(&["24".into(), "Soundtrack".into()]),
            "(24)Soundtrack"
        );
    }

    #[test]
    fn refuses_frames_past_the_end() {
        let mut bad = tag(3, &[frame(b"TIT2", b"\0abc", 3)], 0);
        bad[17] = 200; // TIT2 size now runs past the tag
        let (_d, mut f) = file_with(&[bad, vec![0xFF, 0xFB, 0, 0]].concat());
        assert!(Id3Tag::read(&mut f).unwrap_err().contains("runs past"));
    }

    #[test]
    fn refuses_an_unsynchronised_v24_tag() {
        let mut t = tag(4, &[frame(b"TIT2", b"\0abc", 4)], 4);
        t[5] = 0x80;
        let (_d, mut f) = file_with(&[t, vec![0xFF, 0xFB, 0, 0]].concat());
        assert!(Id3Tag::read(&mut f).unwrap_err().contains("unsynchronised"));
    }

    #[test]
    fn refuses_bytes_that_are_neither_frames_nor_padding() {
        let mut garbage = b"\x01\x02not a frame".to_vec();
        garbage.extend([0; 8]);
        let t = tag(3, &[frame(b"TIT2", b"\0abc", 3), garbage], 0);
        let (_d, mut f) = file_with(&[t, vec![0xFF, 0xFB, 0, 0]].concat());
        assert!(
            Id3Tag::read(&mut f)
                .unwrap_err()
                .contains("cannot read as frames")
        );
    }

    /// A syncsafe tag whose padding holds another program's words: the
    /// last frame keeps its syncsafe size (the plain reading of it lands in
    /// the zeros after the words, and swallowed them into a picture).
    #[test]
    fn words_in_the_padding_do_not_make_syncsafe_sizes_plain() {
        let mut padding = vec![0u8; 40];
        padding.extend(b"MP3ext V3.3.19(ansi)");
        padding.extend([0u8; 400]);
        let apic = frame(b"APIC", &[7u8; 510], 4);
        let t = tag(
            4,
            &[
                frame(b"TIT2", b"\0t", 4),
                frame(b"TPE1", b"\0a", 4),
                apic,
                padding,
            ],
            0,
        );
        let (_d, mut f) = file_with(&[t, vec![0xFF, 0xFB, 0, 0]].concat());
        let read = Id3Tag::read(&mut f).unwrap();
        let ids: Vec<_> = read.frames.iter().map(|f| &f.id).collect();
        assert_eq!(ids, [b"TIT2", b"TPE1", b"APIC"]);
        assert_eq!(read.frames[2].bytes.len(), 10 + 510);
    }

    /// iTunes' plain sizes in a picture that is the last frame.
    #[test]
    fn a_plain_sized_last_picture_is_read_whole() {
        let mut pic = vec![7u8; 256];
        pic[128] = 0;
        let mut apic = b"APIC".to_vec();
        apic.extend(256u32.to_be_bytes());
        apic.extend([0, 0]);
        apic.extend(&pic);
        let t = tag(4, &[apic], 64);
        let (_d, mut f) = file_with(&[t, vec![0xFF, 0xFB, 0, 0]].concat());
        let read = Id3Tag::read(&mut f).unwrap();
        assert_eq!(read.frames.len(), 1);
        assert_eq!(read.frames[0].bytes.len(), 10 + 256);
    }

    #[test]
    fn a_plain_v24_size_is_not_taken_for_a_syncsafe_one_landing_on_a_zero() {
        // iTunes writes v2.4 frame sizes plain: 256 reads as syncsafe 128,
        // and byte 128 of this picture is a zero (as in most pictures)
        let mut pic = vec![7u8; 256];
        pic[128] = 0;
        let mut apic = b"APIC".to_vec();
        apic.extend(256u32.to_be_bytes());
        apic.extend([0, 0]);
        apic.extend(&pic);
        let t = tag(4, &[apic, frame(b"TPE1", b"\0artist", 4)], 16);
        let (_d, mut f) = file_with(&[t, vec![0xFF, 0xFB, 0, 0]].concat());
        let read = Id3Tag::read(&mut f).unwrap();
        let ids: Vec<_> = read.frames.iter().map(|f| &f.id).collect();
        assert_eq!(ids, [b"APIC", b"TPE1"]);
    }
}
