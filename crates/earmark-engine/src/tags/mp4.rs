//! A narrow MP4 genre writer. lofty refuses files whose atoms it does not
//! fully understand (a `covr` carrying a `name` atom) and rewrites `ilst`
//! from its own model (dropping an empty `covr`); here only the genre atoms
//! (`©gen`, `gnre`) of `moov/udta/meta/ilst` change, every other atom is kept
//! as the bytes it was. The size difference is taken from a `free` atom right
//! after `ilst` where there is one (the iTunes layout), else the parents grow
//! and, when `moov` comes before the media data, every `stco`/`co64` chunk
//! offset moves with the data. `udta`, `meta` and `ilst` are created when
//! missing.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};

use super::id3::move_tail;
use super::state::Slot;

pub(crate) const GEN: &[u8; 4] = b"\xa9gen";
pub(crate) const GNRE: &[u8; 4] = b"gnre";
/// A `moov` larger than this is not loaded (bounded memory).
const MAX_MOOV: u64 = 256 << 20;
/// The `hdlr` an iTunes-style `meta` starts with, for a `meta` we create.
pub(crate) const MDIR_HDLR: &[u8] = b"\0\0\0\x21hdlr\0\0\0\0\0\0\0\0mdirappl\0\0\0\0\0\0\0\0\0";

/// One atom inside a buffer: where it starts, its header length, its size.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Span {
    pub start: usize,
    pub header: usize,
    pub size: usize,
    pub name: [u8; 4],
}

impl Span {
    pub fn body<'a>(&self, buf: &'a [u8]) -> &'a [u8] {
        &buf[self.start + self.header..self.start + self.size]
    }
    pub fn whole<'a>(&self, buf: &'a [u8]) -> &'a [u8] {
        &buf[self.start..self.start + self.size]
    }
}

/// The atoms a buffer holds, one after another (a size of 0 runs to the end).
pub(crate) fn children(buf: &[u8]) -> Result<Vec<Span>, String> {
    let bad = || "its MP4 atoms are malformed (an atom runs past its parent)".to_string();
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos < buf.len() {
        let h = buf.get(pos..pos + 8).ok_or_else(bad)?;
        let mut size = u32::from_be_bytes([h[0], h[1], h[2], h[3]]) as usize;
        let mut header = 8;
        if size == 1 {
            let b = buf.get(pos + 8..pos + 16).ok_or_else(bad)?;
            let big = u64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
            size = usize::try_from(big).map_err(|_| bad())?;
            header = 16;
        } else if size == 0 {
            size = buf.len() - pos;
        }
        if size < header || pos.checked_add(size).is_none_or(|end| end > buf.len()) {
            return Err(bad());
        }
        out.push(Span {
            start: pos,
            header,
            size,
            name: [h[4], h[5], h[6], h[7]],
        });
        pos += size;
    }
    Ok(out)
}

/// An atom of `body`, with a 64-bit size only where 32 bits cannot hold it.
pub(crate) fn atom(name: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 16);
    match u32::try_from(body.len() + 8) {
        Ok(size) => out.extend(size.to_be_bytes()),
        Err(_) => {
            out.extend(1u32.to_be_bytes());
            out.extend(name);
            out.extend((body.len() as u64 + 16).to_be_bytes());
            out.extend(body);
            return out;
        }
    }
    out.extend(name);
    out.extend(body);
    out
}

/// Where the child atoms of a `meta` body start: `meta` is a full box (4
/// bytes of version and flags) in MP4, a plain container in QuickTime files.
pub(crate) fn meta_children_at(meta: &[u8]) -> usize {
    if meta.get(4..8) == Some(b"hdlr") {
        0
    } else {
        // (a body too short for its version and flags holds no children)
        4.min(meta.len())
    }
}

/// A top-level atom of the file (offsets in the file).
#[derive(Debug, Clone, Copy)]
pub(crate) struct TopAtom {
    pub start: u64,
    pub size: u64,
    pub name: [u8; 4],
}

/// The file's top-level atoms (read by seeking: `mdat` is never loaded).
pub(crate) fn top_atoms(file: &mut File) -> Result<Vec<TopAtom>, String> {
    let len = file.metadata().map_err(|e| e.to_string())?.len();
    let mut out = Vec::new();
    let mut pos = 0u64;
    while pos < len {
        let bad = || "its MP4 atoms run past the end of the file".to_string();
        file.seek(SeekFrom::Start(pos)).map_err(|e| e.to_string())?;
        let mut h = [0u8; 16];
        file.read_exact(&mut h[..8]).map_err(|_| bad())?;
        let mut size = u64::from(u32::from_be_bytes([h[0], h[1], h[2], h[3]]));
        let mut header = 8;
        if size == 1 {
            file.read_exact(&mut h[8..16]).map_err(|_| bad())?;
            size = u64::from_be_bytes([h[8], h[9], h[10], h[11], h[12], h[13], h[14], h[15]]);
            header = 16;
        } else if size == 0 {
            size = len - pos;
        }
        // A truncated last atom (not `moov`) is read as running to the end;
        // its bytes are kept as they are.
        // (a 64-bit size may be anything: no sum may wrap)
        let past_the_end = pos.checked_add(size).is_none_or(|end| end > len);
        if past_the_end && &h[4..8] != b"moov" && size >= header {
            size = len - pos;
        } else if size < header || past_the_end {
            return Err(bad());
        }
        out.push(TopAtom {
            start: pos,
            size,
            name: [h[4], h[5], h[6], h[7]],
        });
        pos += size;
    }
    Ok(out)
}

/// The bytes of the first top-level `moov` (whole atom), and where it is.
pub(crate) fn read_moov(file: &mut File, top: &[TopAtom]) -> Result<(TopAtom, Vec<u8>), String> {
    let moov = *top
        .iter()
        .find(|a| &a.name == b"moov")
        .ok_or("it has no MP4 `moov` atom")?;
    if moov.size > MAX_MOOV {
        return Err("its MP4 `moov` atom is too large to rewrite safely".into());
    }
    let mut bytes = vec![0u8; moov.size as usize];
    file.seek(SeekFrom::Start(moov.start))
        .map_err(|e| e.to_string())?;
    file.read_exact(&mut bytes).map_err(|e| e.to_string())?;
    Ok((moov, bytes))
}

/// The first child called `name`.
fn find(buf: &[u8], name: &[u8; 4]) -> Result<Option<Span>, String> {
    Ok(children(buf)?.into_iter().find(|s| &s.name == name))
}

/// An MP4 file's genre atoms, held with its `moov`.
#[derive(Debug, Clone)]
pub(crate) struct Mp4Meta {
    moov_at: TopAtom,
    moov: Vec<u8>,
    /// Top-level atoms after `moov` that hold absolute offsets we do not fix
    /// (fragments): the file may then not change size.
    fragmented: bool,
    names: Vec<String>,
    gnre: Vec<String>,
}

/// The `ilst` body inside a whole `moov` atom, if the path exists.
fn ilst_body(moov: &[u8]) -> Result<Option<&[u8]>, String> {
    let body = &moov[header_len(moov)..];
    let Some(udta) = find(body, b"udta")? else {
        return Ok(None);
    };
    let udta = udta.body(body);
    let Some(meta) = find(udta, b"meta")? else {
        return Ok(None);
    };
    let meta = meta.body(udta);
    let kids = meta.get(meta_children_at(meta)..).unwrap_or(&[]);
    Ok(find(kids, b"ilst")?.map(|s| s.body(kids)))
}

fn header_len(whole: &[u8]) -> usize {
    if whole.get(..4) == Some(&[0, 0, 0, 1]) {
        16
    } else {
        8
    }
}

/// The payloads of an item atom's `data` children: (type, bytes).
fn data_of(item: &[u8]) -> Result<Vec<(u32, &[u8])>, String> {
    let mut out = Vec::new();
    for d in children(item)? {
        if &d.name != b"data" {
            continue;
        }
        let b = d.body(item);
        if b.len() < 8 {
            return Err("an MP4 genre `data` atom is too short".into());
        }
        let kind = u32::from_be_bytes([0, b[1], b[2], b[3]]);
        out.push((kind, &b[8..]));
    }
    Ok(out)
}

fn decode_gen(kind: u32, bytes: &[u8]) -> Result<String, String> {
    match kind {
        1 => String::from_utf8(bytes.to_vec())
            .map_err(|_| "its MP4 genre is not valid UTF-8".to_string()),
        2 => {
            let units: Vec<u16> = bytes
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16(&units).map_err(|_| "its MP4 genre is not valid UTF-16".to_string())
        }
        other => Err(format!(
            "its MP4 `©gen` holds data of type {other}, not text"
        )),
    }
}

impl Mp4Meta {
    pub(crate) fn read(file: &mut File) -> Result<Mp4Meta, String> {
        let top = top_atoms(file)?;
        let (moov_at, moov) = read_moov(file, &top)?;
        let fragmented = top
            .iter()
            .any(|a| matches!(&a.name, b"moof" | b"mfra" | b"sidx"));
        let (mut names, mut gnre) = (Vec::new(), Vec::new());
        if let Some(ilst) = ilst_body(&moov)? {
            for item in children(ilst)? {
                match &item.name {
                    GEN => {
                        for (kind, b) in data_of(item.body(ilst))? {
                            names.push(decode_gen(kind, b)?);
                        }
                    }
                    GNRE => {
                        for (_, b) in data_of(item.body(ilst))? {
                            let n = b.get(..2).ok_or("its MP4 `gnre` atom is too short")?;
                            gnre.push(u16::from_be_bytes([n[0], n[1]]).to_string());
                        }
                    }
                    _ => {}
                }
            }
        }
        Ok(Mp4Meta {
            moov_at,
            moov,
            fragmented,
            names,
            gnre,
        })
    }

    pub(crate) fn values(&self, slot: Slot) -> Vec<String> {
        match slot {
            Slot::Mp4Gnre => self.gnre.clone(),
            _ => self.names.clone(),
        }
    }

    pub(crate) fn set(&mut self, slot: Slot, values: &[String]) -> Result<(), String> {
        match slot {
            Slot::Mp4Gen => self.names = values.to_vec(),
            Slot::Mp4Gnre => {
                for v in values {
                    v.parse::<u16>()
                        .map_err(|_| format!("bad gnre value {v:?}"))?;
                }
                self.gnre = values.to_vec();
            }
            other => return Err(format!("this format has no {other:?} genre field")),
        }
        Ok(())
    }

    /// The genre item atoms for the current values.
    fn genre_atoms(&self) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
        let data = |kind: u32, payload: &[u8]| {
            let mut b = kind.to_be_bytes().to_vec();
            b.extend([0u8; 4]);
            b.extend(payload);
            atom(b"data", &b)
        };
        let names = (!self.names.is_empty()).then(|| {
            let body: Vec<u8> = self
                .names
                .iter()
                .flat_map(|g| data(1, g.as_bytes()))
                .collect();
            atom(GEN, &body)
        });
        let gnre = (!self.gnre.is_empty()).then(|| {
            let body: Vec<u8> = self
                .gnre
                .iter()
                .filter_map(|n| n.parse::<u16>().ok())
                .flat_map(|n| data(0, &n.to_be_bytes()))
                .collect();
            atom(GNRE, &body)
        });
        (names, gnre)
    }

    /// The new `ilst` body: genre atoms where the first old ones were (or at
    /// the end), every other item as it was.
    fn new_ilst(&self, old: &[u8]) -> Result<Vec<u8>, String> {
        let (mut names, mut gnre) = self.genre_atoms();
        let mut out = Vec::with_capacity(old.len() + 64);
        for item in children(old)? {
            match &item.name {
                GEN => out.extend(names.take().unwrap_or_default()),
                GNRE => out.extend(gnre.take().unwrap_or_default()),
                _ => out.extend(item.whole(old)),
            }
        }
        out.extend(names.unwrap_or_default());
        out.extend(gnre.unwrap_or_default());
        Ok(out)
    }

    /// The new `meta` body (children after any version/flags).
    fn new_meta(&self, old: &[u8]) -> Result<Vec<u8>, String> {
        if old.len() < 4 {
            return Err("its MP4 `meta` atom is too short to hold its version".into());
        }
        let at = meta_children_at(old);
        let kids_buf = &old[at..];
        let kids = children(kids_buf)?;
        let mut out = old[..at].to_vec();
        let Some(i) = kids.iter().position(|s| &s.name == b"ilst") else {
            out.extend(kids_buf);
            out.extend(atom(b"ilst", &self.new_ilst(&[])?));
            return Ok(out);
        };
        let ilst = kids[i];
        let new_ilst = atom(b"ilst", &self.new_ilst(ilst.body(kids_buf))?);
        out.extend(&kids_buf[..ilst.start]);
        out.extend(&new_ilst);
        let mut rest = &kids_buf[ilst.start + ilst.size..];
        // Take the difference from padding right after `ilst`.
        if let Some(free) = kids.get(i + 1).filter(|s| &s.name == b"free") {
            let room = (ilst.size + free.size) as i64 - new_ilst.len() as i64;
            if room == 0 || room >= 8 {
                if let Ok(n) = usize::try_from(room)
                    && n >= 8
                {
                    out.extend(atom(b"free", &vec![0u8; n - 8]));
                }
                rest = &kids_buf[free.start + free.size..];
            }
        }
        out.extend(rest);
        Ok(out)
    }

    /// The new `udta` body.
    fn new_udta(&self, old: &[u8]) -> Result<Vec<u8>, String> {
        let kids = children(old)?;
        let Some(meta) = kids.iter().find(|s| &s.name == b"meta") else {
            let mut body = vec![0u8; 4];
            body.extend(MDIR_HDLR);
            body.extend(atom(b"ilst", &self.new_ilst(&[])?));
            let mut out = old.to_vec();
            out.extend(atom(b"meta", &body));
            return Ok(out);
        };
        let mut out = old[..meta.start].to_vec();
        out.extend(atom(b"meta", &self.new_meta(meta.body(old))?));
        out.extend(&old[meta.start + meta.size..]);
        Ok(out)
    }

    /// The new whole `moov` atom, chunk offsets not yet moved.
    fn new_moov(&self) -> Result<Vec<u8>, String> {
        let body = &self.moov[header_len(&self.moov)..];
        let kids = children(body)?;
        let new_body = match kids.iter().find(|s| &s.name == b"udta") {
            Some(u) => {
                let mut out = body[..u.start].to_vec();
                out.extend(atom(b"udta", &self.new_udta(u.body(body))?));
                out.extend(&body[u.start + u.size..]);
                out
            }
            None => {
                // Right after `mvhd`: mutagen stops looking for `udta` at a
                // QuickTime `meta` it cannot parse, which may come later.
                let at = kids
                    .iter()
                    .find(|s| &s.name == b"mvhd")
                    .map_or(0, |s| s.start + s.size);
                let mut out = body[..at].to_vec();
                out.extend(atom(b"udta", &self.new_udta(&[])?));
                out.extend(&body[at..]);
                out
            }
        };
        Ok(atom(b"moov", &new_body))
    }

    /// Write the genre into `file` (a copy of the original).
    pub(crate) fn save(&self, file: &mut File) -> io::Result<()> {
        let mut moov = self.new_moov().map_err(io::Error::other)?;
        let old_end = self.moov_at.start + self.moov_at.size;
        let file_len = file.metadata()?.len();
        let delta = moov.len() as i64 - self.moov_at.size as i64;
        if delta != 0 && old_end < file_len {
            if self.fragmented {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "it is a fragmented MP4 whose metadata would change size, which earmark does not rewrite",
                ));
            }
            shift_chunk_offsets(&mut moov, old_end..file_len, delta).map_err(io::Error::other)?;
        }
        let new_end = self.moov_at.start + moov.len() as u64;
        if new_end != old_end {
            move_tail(file, old_end, new_end)?;
        }
        file.seek(SeekFrom::Start(self.moov_at.start))?;
        file.write_all(&moov)?;
        file.flush()
    }
}

/// Containers on the way to the chunk offset tables.
const TABLE_PATH: [&[u8; 4]; 4] = [b"trak", b"mdia", b"minf", b"stbl"];

/// Visit every `stco`/`co64` body (with its name) of a whole `moov`.
pub(crate) fn chunk_tables(moov: &[u8]) -> Result<Vec<(usize, Span)>, String> {
    fn walk(
        buf: &[u8],
        base: usize,
        depth: usize,
        out: &mut Vec<(usize, Span)>,
    ) -> Result<(), String> {
        for s in children(buf)? {
            if depth < TABLE_PATH.len() && &s.name == TABLE_PATH[depth] {
                walk(s.body(buf), base + s.start + s.header, depth + 1, out)?;
            } else if depth == TABLE_PATH.len() && matches!(&s.name, b"stco" | b"co64") {
                out.push((base, s));
            }
        }
        Ok(())
    }
    let h = header_len(moov);
    let mut out = Vec::new();
    walk(&moov[h..], h, 0, &mut out)?;
    Ok(out)
}

/// The entries of a chunk offset table body.
pub(crate) fn chunk_offsets(name: &[u8; 4], body: &[u8]) -> Result<Vec<u64>, String> {
    let bad = || "its MP4 chunk offset table is malformed".to_string();
    let n = body.get(4..8).ok_or_else(bad)?;
    let n = u32::from_be_bytes([n[0], n[1], n[2], n[3]]) as usize;
    let width = if name == b"co64" { 8 } else { 4 };
    let entries = body
        .get(8..8 + n.checked_mul(width).ok_or_else(bad)?)
        .ok_or_else(bad)?;
    Ok(entries
        .chunks_exact(width)
        .map(|c| c.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
        .collect())
}

/// Move every chunk offset within `moved` (the data after `moov`) by
/// `delta` bytes; offsets elsewhere (before `moov`, or past the end of a
/// truncated file) stay as they are.
fn shift_chunk_offsets(
    moov: &mut [u8],
    moved: std::ops::Range<u64>,
    delta: i64,
) -> Result<(), String> {
    for (base, s) in chunk_tables(moov)? {
        let body_at = base + s.start + s.header;
        let body = &moov[body_at..base + s.start + s.size];
        let offsets = chunk_offsets(&s.name, body)?;
        let wide = &s.name == b"co64";
        for (i, off) in offsets.into_iter().enumerate() {
            if !moved.contains(&off) {
                continue;
            }
            let moved = off
                .checked_add_signed(delta)
                .ok_or("a chunk offset would leave the file")?;
            let at = body_at + 8 + i * if wide { 8 } else { 4 };
            if wide {
                moov[at..at + 8].copy_from_slice(&moved.to_be_bytes());
            } else {
                let moved = u32::try_from(moved).map_err(|_| {
                    "a 32-bit chunk offset would overflow once the tags grow".to_string()
                })?;
                moov[at..at + 4].copy_from_slice(&moved.to_be_bytes());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A last atom whose 64-bit size would wrap the position to 0 (a walk
    /// that never ends in a release build) is read as running to the end.
    #[test]
    fn a_64_bit_size_that_would_wrap_ends_at_the_end_of_the_file() {
        let mut bytes = [atom(b"ftyp", b"M4A \0\0\0\0"), atom(b"moov", b"")].concat();
        let pos = bytes.len() as u64;
        bytes.extend_from_slice(&1u32.to_be_bytes());
        bytes.extend_from_slice(b"free");
        bytes.extend_from_slice(&(u64::MAX - pos + 1).to_be_bytes());
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(&bytes).unwrap();
        let top = top_atoms(&mut f).unwrap();
        assert_eq!(top.len(), 3);
        assert_eq!(top[2].start + top[2].size, bytes.len() as u64);
    }

    /// A `meta` too short for its version and flags (a 2-byte body) is
    /// refused in words; it once panicked on a slice.
    #[test]
    fn a_meta_too_short_for_its_version_is_refused() {
        let moov = atom(
            b"moov",
            &[
                atom(b"mvhd", &[0; 100]),
                atom(b"udta", &atom(b"meta", &[0, 0])),
            ]
            .concat(),
        );
        let bytes = [atom(b"ftyp", b"M4A \0\0\0\0"), moov, atom(b"mdat", &[1; 8])].concat();
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(&bytes).unwrap();
        let mut m = Mp4Meta::read(&mut f).unwrap();
        m.set(Slot::Mp4Gen, &["Jazz".to_string()]).unwrap();
        let err = m.new_moov().unwrap_err();
        assert!(err.contains("too short to hold its version"), "{err}");
    }

    #[test]
    fn atoms_round_trip_and_reject_overruns() {
        let a = [atom(b"free", b"xy"), atom(b"abcd", b"")].concat();
        let kids = children(&a).unwrap();
        assert_eq!(kids.len(), 2);
        assert_eq!(kids[0].body(&a), b"xy");
        let mut bad = a.clone();
        bad[3] = 200;
        assert!(children(&bad).is_err());
    }

    #[test]
    fn chunk_offsets_past_moov_move() {
        let mut stco = vec![0u8; 4];
        stco.extend(2u32.to_be_bytes());
        stco.extend(10u32.to_be_bytes());
        stco.extend(500u32.to_be_bytes());
        let stbl = atom(b"stbl", &atom(b"stco", &stco));
        let moov = atom(
            b"moov",
            &atom(b"trak", &atom(b"mdia", &atom(b"minf", &stbl))),
        );
        let mut m = moov.clone();
        shift_chunk_offsets(&mut m, 100..1000, 24).unwrap();
        let t = chunk_tables(&m).unwrap();
        let (base, s) = t[0];
        let body = &m[base + s.start + s.header..base + s.start + s.size];
        assert_eq!(chunk_offsets(b"stco", body).unwrap(), vec![10, 524]);
    }
}
