//! A narrow FLAC genre writer. lofty refuses (strict parsing) or rewrites
//! blocks it does not fully understand (a picture block whose inner sizes
//! are off, a too-short STREAMINFO block size); here metadata blocks are kept
//! as the bytes they were and only the GENRE entries of the first
//! VORBIS_COMMENT block change, the size difference taken from padding.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};

use super::id3::Id3Tag;

const STREAMINFO: u8 = 0;
const PADDING: u8 = 1;
const VORBIS_COMMENT: u8 = 4;
/// Padding added when the comments grow past what padding there was.
const GROW_PADDING: usize = 1024;
const MAX_BLOCK: usize = (1 << 24) - 1;

/// Bytes around the comments (a FLAC file's prefix; what follows them in an
/// Ogg packet), vendor (None without a comment block), non-GENRE comments.
pub(crate) type VorbisOthers = (Vec<u8>, Option<Vec<u8>>, Vec<Vec<u8>>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Block {
    pub kind: u8,
    pub body: Vec<u8>,
}

/// A FLAC file's metadata: anything before `fLaC` (an ID3v2 tag), the blocks.
#[derive(Debug, Clone)]
pub(crate) struct FlacMeta {
    prefix: Vec<u8>,
    pub blocks: Vec<Block>,
    /// Offset of the first audio frame.
    pub audio_start: u64,
}

/// A Vorbis comment block split into vendor and raw `KEY=value` entries.
struct Comments {
    vendor: Vec<u8>,
    entries: Vec<Vec<u8>>,
}

fn is_genre(entry: &[u8]) -> bool {
    entry.len() >= 6 && entry[..6].eq_ignore_ascii_case(b"GENRE=")
}

impl Comments {
    fn parse(body: &[u8]) -> Result<Comments, String> {
        Self::parse_len(body).map(|(c, _)| c)
    }

    /// The comments and how many bytes of `body` they take (Vorbis and
    /// Opus packets carry more after them: a framing bit, binary data).
    fn parse_len(body: &[u8]) -> Result<(Comments, usize), String> {
        let bad = || "its Vorbis comment block is malformed".to_string();
        let mut pos = 0usize;
        let take_len = |pos: &mut usize| -> Result<usize, String> {
            let b = body.get(*pos..*pos + 4).ok_or_else(bad)?;
            *pos += 4;
            Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
        };
        let n = take_len(&mut pos)?;
        let vendor = body.get(pos..pos + n).ok_or_else(bad)?.to_vec();
        pos += n;
        let count = take_len(&mut pos)?;
        let mut entries = Vec::new();
        for _ in 0..count {
            let n = take_len(&mut pos)?;
            entries.push(body.get(pos..pos + n).ok_or_else(bad)?.to_vec());
            pos += n;
        }
        Ok((Comments { vendor, entries }, pos))
    }

    fn to_bytes(&self) -> Vec<u8> {
        let mut v = (self.vendor.len() as u32).to_le_bytes().to_vec();
        v.extend(&self.vendor);
        v.extend((self.entries.len() as u32).to_le_bytes());
        for e in &self.entries {
            v.extend((e.len() as u32).to_le_bytes());
            v.extend(e);
        }
        v
    }
}

/// The GENRE values of a Vorbis comment structure at the start of `body`.
pub(crate) fn comment_genres(body: &[u8]) -> Result<Vec<String>, String> {
    Comments::parse(body)?
        .entries
        .iter()
        .filter(|e| is_genre(e))
        .map(|e| {
            String::from_utf8(e[6..].to_vec())
                .map_err(|_| "its GENRE comment is not valid UTF-8".to_string())
        })
        .collect()
}

/// Every `KEY=value` entry of a Vorbis comment structure at the start of
/// `body`, in the file's order (keys upper case, values decoded lossily):
/// lofty 0.25 reorders a field's repeated values (`TITLE` ×11 read from the
/// seventh), so what `info` and the app show of them is read here.
pub(crate) fn comment_entries(body: &[u8]) -> Result<Vec<(String, String)>, String> {
    Ok(Comments::parse(body)?
        .entries
        .iter()
        .filter_map(|e| {
            let at = e.iter().position(|&b| b == b'=')?;
            let key = String::from_utf8_lossy(&e[..at]).to_ascii_uppercase();
            Some((key, String::from_utf8_lossy(&e[at + 1..]).into_owned()))
        })
        .collect())
}

/// The bytes after the comments at the start of `body`, the vendor and the
/// non-GENRE entries.
pub(crate) fn comment_others(body: &[u8]) -> Result<VorbisOthers, String> {
    let (c, n) = Comments::parse_len(body)?;
    let others = c.entries.into_iter().filter(|e| !is_genre(e)).collect();
    Ok((body[n..].to_vec(), Some(c.vendor), others))
}

/// `body` (comments, then anything after them) with its GENRE entries
/// replaced: new ones where the first old one was, the key's case kept.
pub(crate) fn replace_genres(body: &[u8], values: &[String]) -> Result<Vec<u8>, String> {
    let (mut c, n) = Comments::parse_len(body)?;
    let key = c
        .entries
        .iter()
        .find(|e| is_genre(e))
        .map_or(b"GENRE".to_vec(), |e| e[..5].to_vec());
    let new: Vec<Vec<u8>> = values
        .iter()
        .map(|v| [key.as_slice(), b"=", v.as_bytes()].concat())
        .collect();
    let mut entries = Vec::with_capacity(c.entries.len() + new.len());
    let mut placed = false;
    for e in c.entries.drain(..) {
        if !is_genre(&e) {
            entries.push(e);
        } else if !placed {
            placed = true;
            entries.extend(new.iter().cloned());
        }
    }
    if !placed {
        entries.extend(new);
    }
    c.entries = entries;
    let mut out = c.to_bytes();
    out.extend(&body[n..]);
    Ok(out)
}

impl FlacMeta {
    pub(crate) fn read(file: &mut File) -> Result<FlacMeta, String> {
        let len = file.metadata().map_err(|e| e.to_string())?.len();
        let id3 = Id3Tag::read(file)?;
        let mut prefix = vec![0u8; id3.len as usize];
        file.seek(SeekFrom::Start(0)).map_err(|e| e.to_string())?;
        file.read_exact(&mut prefix).map_err(|e| e.to_string())?;
        let mut magic = [0u8; 4];
        file.read_exact(&mut magic)
            .map_err(|_| "the file ends before its FLAC header")?;
        if &magic != b"fLaC" {
            return Err("not a FLAC stream".into());
        }
        let mut pos = id3.len + 4;
        let mut blocks = Vec::new();
        loop {
            let mut h = [0u8; 4];
            file.read_exact(&mut h)
                .map_err(|_| "the file ends inside its FLAC metadata")?;
            let size = u32::from_be_bytes([0, h[1], h[2], h[3]]) as u64;
            if pos + 4 + size > len {
                return Err("a FLAC metadata block runs past the end of the file".into());
            }
            let mut body = vec![0u8; size as usize];
            file.read_exact(&mut body).map_err(|e| e.to_string())?;
            blocks.push(Block {
                kind: h[0] & 0x7F,
                body,
            });
            pos += 4 + size;
            if h[0] & 0x80 != 0 {
                break;
            }
        }
        if blocks.first().map(|b| b.kind) != Some(STREAMINFO) {
            return Err("its FLAC metadata does not start with STREAMINFO".into());
        }
        // A genre earmark would leave behind (readers differ on which they
        // show): the write would say done and the old genre would still show.
        if !id3.genres().unwrap_or_default().is_empty() {
            return Err("the ID3v2 tag in front of its FLAC stream holds a genre too, which earmark does not rewrite; tag it with another program".into());
        }
        let more_genres = blocks
            .iter()
            .filter(|b| b.kind == VORBIS_COMMENT)
            .skip(1)
            .any(|b| !comment_genres(&b.body).unwrap_or_default().is_empty());
        if more_genres {
            return Err("a second Vorbis comment block holds a genre too (FLAC allows one block), which earmark does not rewrite; tag it with another program".into());
        }
        Ok(FlacMeta {
            prefix,
            blocks,
            audio_start: pos,
        })
    }

    fn comments_index(&self) -> Option<usize> {
        self.blocks.iter().position(|b| b.kind == VORBIS_COMMENT)
    }

    /// The entries of the first Vorbis comment block, in order.
    pub(crate) fn comment_entries(&self) -> Vec<(String, String)> {
        self.comments_index()
            .and_then(|i| comment_entries(&self.blocks[i].body).ok())
            .unwrap_or_default()
    }

    /// GENRE values of the first Vorbis comment block.
    pub(crate) fn genres(&self) -> Result<Vec<String>, String> {
        match self.comments_index() {
            Some(i) => comment_genres(&self.blocks[i].body),
            None => Ok(Vec::new()),
        }
    }

    /// Everything but the first comment block and padding, for comparison.
    pub(crate) fn others(&self) -> Vec<&Block> {
        let vc = self.comments_index();
        self.blocks
            .iter()
            .enumerate()
            .filter(|(i, b)| Some(*i) != vc && b.kind != PADDING)
            .map(|(_, b)| b)
            .collect()
    }

    /// The prefix, vendor string (None without a comment block, as a new
    /// block brings its own) and the non-GENRE comments, in order.
    pub(crate) fn vorbis_others(&self) -> Result<VorbisOthers, String> {
        let Some(i) = self.comments_index() else {
            return Ok((self.prefix.clone(), None, Vec::new()));
        };
        let c = Comments::parse(&self.blocks[i].body)?;
        let others = c.entries.into_iter().filter(|e| !is_genre(e)).collect();
        Ok((self.prefix.clone(), Some(c.vendor), others))
    }

    /// Replace the GENRE comments (new ones where the first old one was).
    pub(crate) fn set_genres(&mut self, values: &[String]) -> Result<(), String> {
        let i = match self.comments_index() {
            Some(i) => i,
            None => {
                // After STREAMINFO; a new block with lofty's vendor-less form.
                self.blocks.insert(
                    1,
                    Block {
                        kind: VORBIS_COMMENT,
                        body: Comments {
                            vendor: b"earmark".to_vec(),
                            entries: Vec::new(),
                        }
                        .to_bytes(),
                    },
                );
                1
            }
        };
        // FLAC's comment block ends with its last comment (no framing bit):
        // bytes after the counted comments are a count that lies, and
        // readers that parse by content (mutagen) would read past them
        let old = &self.blocks[i].body;
        if Comments::parse_len(old)?.1 != old.len() {
            return Err("its Vorbis comment block holds bytes after the comments it counts".into());
        }
        let body = replace_genres(old, values)?;
        if body.len() > MAX_BLOCK {
            return Err("the Vorbis comment block would grow past FLAC's size limit".into());
        }
        self.blocks[i].body = body;
        Ok(())
    }

    fn meta_len(&self) -> u64 {
        self.prefix.len() as u64
            + 4
            + self
                .blocks
                .iter()
                .map(|b| 4 + b.body.len() as u64)
                .sum::<u64>()
    }

    /// Size the padding so the metadata ends at `audio_start` when it can
    /// (the audio then stays in place), else give it fresh padding.
    fn fit_padding(&mut self) {
        let target = self.audio_start;
        let pad = self.blocks.iter().position(|b| b.kind == PADDING);
        let without_pad = self.meta_len() - pad.map_or(0, |i| 4 + self.blocks[i].body.len() as u64);
        let room = target.checked_sub(without_pad);
        match (pad, room) {
            (Some(i), Some(r)) if r >= 4 && r - 4 <= MAX_BLOCK as u64 => {
                self.blocks[i].body = vec![0; (r - 4) as usize];
            }
            (None, Some(0)) => {}
            (None, Some(r)) if r >= 4 && r - 4 <= MAX_BLOCK as u64 => {
                self.blocks.push(Block {
                    kind: PADDING,
                    body: vec![0; (r - 4) as usize],
                });
            }
            (Some(i), _) => self.blocks[i].body = vec![0; GROW_PADDING],
            (None, _) => self.blocks.push(Block {
                kind: PADDING,
                body: vec![0; GROW_PADDING],
            }),
        }
    }

    /// Write the metadata into `file` (a copy of the original), moving the
    /// audio only when the metadata cannot stay the same length.
    pub(crate) fn save(&mut self, file: &mut File) -> io::Result<()> {
        self.fit_padding();
        let mut out = self.prefix.clone();
        out.extend(b"fLaC");
        let last = self.blocks.len().saturating_sub(1);
        for (i, b) in self.blocks.iter().enumerate() {
            let flag = if i == last { 0x80 } else { 0 };
            let n = (b.body.len() as u32).to_be_bytes();
            out.extend([b.kind | flag, n[1], n[2], n[3]]);
            out.extend(&b.body);
        }
        let new_len = out.len() as u64;
        if new_len != self.audio_start {
            super::id3::move_tail(file, self.audio_start, new_len)?;
        }
        file.seek(SeekFrom::Start(0))?;
        file.write_all(&out)?;
        file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flac_with_comment_block(body: &[u8]) -> (tempfile::TempDir, File) {
        let mut v = b"fLaC".to_vec();
        v.extend([STREAMINFO, 0, 0, 34]);
        v.extend([0u8; 34]);
        v.extend([0x80 | VORBIS_COMMENT, 0, 0, body.len() as u8]);
        v.extend(body);
        v.extend([0xFF, 0xF8, 0, 0]);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.flac");
        std::fs::write(&p, v).unwrap();
        (dir, File::open(&p).unwrap())
    }

    fn comments(entries: &[&[u8]]) -> Vec<u8> {
        Comments {
            vendor: b"v".to_vec(),
            entries: entries.iter().map(|e| e.to_vec()).collect(),
        }
        .to_bytes()
    }

    #[test]
    fn replaces_the_genre_of_an_exact_comment_block() {
        let (_d, mut f) = flac_with_comment_block(&comments(&[b"TITLE=x", b"GENRE=Rock"]));
        let mut m = FlacMeta::read(&mut f).unwrap();
        m.set_genres(&["Jazz".to_string()]).unwrap();
        assert_eq!(m.genres().unwrap(), ["Jazz"]);
    }

    #[test]
    fn refuses_a_comment_block_with_bytes_after_its_comments() {
        let mut body = comments(&[b"TITLE=x", b"GENRE=Rock"]);
        body.extend(b"\x0bARTIST=lost");
        let (_d, mut f) = flac_with_comment_block(&body);
        let mut m = FlacMeta::read(&mut f).unwrap();
        let err = m.set_genres(&["Jazz".to_string()]).unwrap_err();
        assert!(err.contains("bytes after the comments"), "{err}");
    }
}
