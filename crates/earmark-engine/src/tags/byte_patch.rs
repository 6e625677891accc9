//! Byte-exact undo. A genre write changes a few stretches of the file (the
//! tag, a container's size field, page numbers after a grown Ogg header…);
//! the journal keeps the original bytes of each, so an undo can rebuild the
//! file exactly as it was, not just put equal values back (a re-serialised
//! tag can differ in padding, frame order or a terminating NUL, and a created
//! tag would stay behind empty). Used only while the file still is, to the
//! byte, what earmark wrote; otherwise undo restores values as before.
//!
//! The diff is a greedy walk, not a minimal one: at each difference it looks
//! for where the files agree again (same offset, else shifted by an inserted
//! or removed stretch, within a window). Whatever it finds, the rebuilt file
//! must hash to the original's sha256, so a poor diff costs space, never
//! correctness.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

/// More original bytes than this (hunk headers included) are not kept: those
/// undos restore values.
pub(crate) const MAX_PATCH_BYTES: u64 = 1 << 20;

/// Equal bytes that count as "the files agree again".
const SYNC: usize = 32;
/// How far ahead a shifted agreement is looked for.
const WINDOW: usize = 64 * 1024;
/// A same-offset agreement this close is taken without a shifted search.
const NEAR: usize = 256;
/// Stored size of one hunk's header (three u64).
const HUNK_HEADER: u64 = 24;

/// `new[at .. at + new_len]` was `old` before the write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hunk {
    pub at: u64,
    pub new_len: u64,
    pub old: Vec<u8>,
}

/// What one write changed, as the original bytes of each changed stretch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BytePatch {
    /// In file order, not overlapping.
    pub hunks: Vec<Hunk>,
    pub old_len: u64,
    pub new_len: u64,
    pub old_sha256: [u8; 32],
    pub new_sha256: [u8; 32],
}

impl BytePatch {
    /// The patch that takes `new` back to `old`, or `None` when it would keep
    /// more than [`MAX_PATCH_BYTES`].
    pub(crate) fn between(old: &Path, new: &Path) -> io::Result<Option<Self>> {
        let mut w = Walk::new(At::open(old)?, At::open(new)?);
        let (a_len, b_len) = (w.a.len, w.b.len);
        // a common ending of the whole files is common to every remainder
        let tail = w.common_suffix()?;
        let (mut o, mut n) = (0u64, 0u64);
        let (mut hunks, mut kept) = (Vec::new(), 0u64);
        loop {
            let run = w.common_prefix(o, n)?;
            (o, n) = (o + run, n + run);
            if o == a_len && n == b_len {
                break;
            }
            let t = tail.min(a_len - o).min(b_len - n);
            let (a_end, b_end) = (a_len - t, b_len - t);
            let (od, nd) = match w.resync(o, a_end, n, b_end)? {
                Some(d) => d,
                None => (a_end - o, b_end - n),
            };
            kept += HUNK_HEADER + od;
            if kept > MAX_PATCH_BYTES {
                return Ok(None);
            }
            let mut old_bytes = vec![0; od as usize];
            w.a.read_exact_at(o, &mut old_bytes)?;
            hunks.push(Hunk {
                at: n,
                new_len: nd,
                old: old_bytes,
            });
            (o, n) = (o + od, n + nd);
        }
        Ok(Some(BytePatch {
            hunks,
            old_len: a_len,
            new_len: b_len,
            old_sha256: sha256_file(old)?,
            new_sha256: sha256_file(new)?,
        }))
    }

    /// Whether `path` is still exactly the file this patch was taken after.
    pub(crate) fn applies_to(&self, path: &Path) -> io::Result<bool> {
        Ok(path.metadata()?.len() == self.new_len && sha256_file(path)? == self.new_sha256)
    }

    /// Write the original file into `out` (a fresh temporary file, written
    /// through its handle), from `current` (the written file), and prove it:
    /// the result must hash to the original's sha256.
    pub(crate) fn rebuild(&self, current: &Path, out: &File) -> io::Result<()> {
        let mut src = File::open(current)?;
        let mut dst = out;
        dst.set_len(0)?;
        dst.seek(SeekFrom::Start(0))?;
        let mut pos = 0u64;
        for h in &self.hunks {
            src.seek(SeekFrom::Start(pos))?;
            io::copy(&mut (&mut src).take(h.at - pos), &mut dst)?;
            dst.write_all(&h.old)?;
            pos = h.at + h.new_len;
        }
        src.seek(SeekFrom::Start(pos))?;
        io::copy(&mut src.take(self.new_len - pos), &mut dst)?;
        dst.sync_all()?;
        dst.seek(SeekFrom::Start(0))?;
        let mut h = Sha256::new();
        io::copy(&mut BufReader::with_capacity(WINDOW, dst), &mut h)?;
        if <[u8; 32]>::from(h.finalize()) != self.old_sha256 {
            return Err(io::Error::other(
                "the rebuilt file does not match the original's checksum",
            ));
        }
        Ok(())
    }

    /// The journal's stored form: lengths, checksums, hunk headers, then the
    /// hunks' original bytes.
    pub fn to_blob(&self) -> Vec<u8> {
        let mut b = Vec::new();
        for n in [self.old_len, self.new_len, self.hunks.len() as u64] {
            b.extend_from_slice(&n.to_le_bytes());
        }
        b.extend_from_slice(&self.old_sha256);
        b.extend_from_slice(&self.new_sha256);
        for h in &self.hunks {
            for n in [h.at, h.new_len, h.old.len() as u64] {
                b.extend_from_slice(&n.to_le_bytes());
            }
        }
        for h in &self.hunks {
            b.extend_from_slice(&h.old);
        }
        b
    }

    /// Read back [`Self::to_blob`]; `None` for anything inconsistent.
    pub fn from_blob(b: &[u8]) -> Option<Self> {
        let u = |i: usize| Some(u64::from_le_bytes(b.get(i..i + 8)?.try_into().ok()?));
        let (old_len, new_len, count) = (u(0)?, u(8)?, usize::try_from(u(16)?).ok()?);
        let old_sha256 = b.get(24..56)?.try_into().ok()?;
        let new_sha256 = b.get(56..88)?.try_into().ok()?;
        let mut bytes_at = 88usize.checked_add(count.checked_mul(24)?)?;
        let (mut hunks, mut pos, mut rebuilt) = (Vec::new(), 0u64, 0u64);
        for k in 0..count {
            let (at, len, old) = (u(88 + k * 24)?, u(96 + k * 24)?, u(104 + k * 24)?);
            let end = bytes_at.checked_add(usize::try_from(old).ok()?)?;
            if at < pos || at.checked_add(len)? > new_len {
                return None;
            }
            rebuilt += at - pos + old;
            pos = at + len;
            hunks.push(Hunk {
                at,
                new_len: len,
                old: b.get(bytes_at..end)?.to_vec(),
            });
            bytes_at = end;
        }
        let consistent = bytes_at == b.len() && rebuilt + (new_len - pos) == old_len;
        consistent.then_some(BytePatch {
            hunks,
            old_len,
            new_len,
            old_sha256,
            new_sha256,
        })
    }
}

pub(crate) fn sha256_file(path: &Path) -> io::Result<[u8; 32]> {
    let mut f = BufReader::with_capacity(WINDOW, File::open(path)?);
    let mut h = Sha256::new();
    io::copy(&mut f, &mut h)?;
    Ok(h.finalize().into())
}

/// A file read at offsets.
struct At {
    f: File,
    len: u64,
}

impl At {
    fn open(p: &Path) -> io::Result<Self> {
        let f = File::open(p)?;
        let len = f.metadata()?.len();
        Ok(At { f, len })
    }

    /// Up to `buf.len()` bytes from `off` (fewer at the end of the file).
    fn read_at(&mut self, off: u64, buf: &mut [u8]) -> io::Result<usize> {
        let want = buf
            .len()
            .min(usize::try_from(self.len.saturating_sub(off)).unwrap_or(usize::MAX));
        self.read_exact_at(off, &mut buf[..want])?;
        Ok(want)
    }

    fn read_exact_at(&mut self, off: u64, buf: &mut [u8]) -> io::Result<()> {
        self.f.seek(SeekFrom::Start(off))?;
        self.f.read_exact(buf)
    }
}

/// The diff walk over two files, with one pair of [`WINDOW`]-sized buffers
/// for all its reads (an Ogg with renumbered pages takes one step per page).
struct Walk {
    a: At,
    b: At,
    ba: Vec<u8>,
    bb: Vec<u8>,
}

impl Walk {
    fn new(a: At, b: At) -> Self {
        Walk {
            a,
            b,
            ba: vec![0; WINDOW],
            bb: vec![0; WINDOW],
        }
    }

    /// Equal bytes from `a[o..]` and `b[n..]` on. Reads grow from 4 KiB, so
    /// the many short runs of a renumbered Ogg stay cheap.
    fn common_prefix(&mut self, o: u64, n: u64) -> io::Result<u64> {
        let (mut same, mut chunk) = (0u64, 4096usize);
        loop {
            let na = self.a.read_at(o + same, &mut self.ba[..chunk])?;
            let nb = self.b.read_at(n + same, &mut self.bb[..chunk])?;
            let k = na.min(nb);
            let run = self.ba[..k]
                .iter()
                .zip(&self.bb[..k])
                .take_while(|(x, y)| x == y)
                .count();
            same += run as u64;
            if run < chunk {
                return Ok(same);
            }
            chunk = (chunk * 2).min(WINDOW);
        }
    }

    /// Equal bytes at the two files' ends.
    fn common_suffix(&mut self) -> io::Result<u64> {
        let (a_len, b_len) = (self.a.len, self.b.len);
        let limit = a_len.min(b_len);
        let mut same = 0u64;
        while same < limit {
            let k = (limit - same).min(WINDOW as u64) as usize;
            self.a
                .read_exact_at(a_len - same - k as u64, &mut self.ba[..k])?;
            self.b
                .read_exact_at(b_len - same - k as u64, &mut self.bb[..k])?;
            let run = self.ba[..k]
                .iter()
                .rev()
                .zip(self.bb[..k].iter().rev())
                .take_while(|(x, y)| x == y)
                .count();
            same += run as u64;
            if run < k {
                break;
            }
        }
        Ok(same)
    }

    /// Where `a[o..a_end]` and `b[n..b_end]`, which differ at their first
    /// byte, agree again for [`SYNC`] bytes: `(bytes of a, bytes of b)`
    /// before that, or `None` within [`WINDOW`].
    fn resync(&mut self, o: u64, a_end: u64, n: u64, b_end: u64) -> io::Result<Option<(u64, u64)>> {
        let span = |from: u64, end: u64| (end - from).min(WINDOW as u64) as usize;
        let (wa, wb) = (
            &mut self.ba[..span(o, a_end)],
            &mut self.bb[..span(n, b_end)],
        );
        self.a.read_exact_at(o, wa)?;
        self.b.read_exact_at(n, wb)?;
        let (wa, wb) = (&*wa, &*wb);
        let aligned = (0..wa.len().min(wb.len()).saturating_sub(SYNC - 1))
            .find(|&d| wa[d..d + SYNC] == wb[d..d + SYNC]);
        if let Some(d) = aligned.filter(|&d| d <= NEAR) {
            return Ok(Some((d as u64, d as u64)));
        }
        // an inserted or removed stretch: the first of a's grams found in
        // b, looked for near first (a re-paginated Ogg header differs in
        // thousands of short stretches: a map of the whole window for each
        // made a write of a 10-MB cover take 11 s)
        let shifted = [NEAR * 16, WINDOW].into_iter().find_map(|reach| {
            let (wa, wb) = (&wa[..wa.len().min(reach)], &wb[..wb.len().min(reach)]);
            let mut grams: HashMap<&[u8], usize> = HashMap::new();
            for j in 0..wb.len().saturating_sub(SYNC - 1) {
                grams.entry(&wb[j..j + SYNC]).or_insert(j);
            }
            (0..wa.len().saturating_sub(SYNC - 1))
                .find_map(|i| grams.get(&wa[i..i + SYNC]).map(|&j| (i, j)))
        });
        let best = match (aligned, shifted) {
            (Some(d), Some((i, j))) if 2 * d <= i + j => Some((d, d)),
            (_, Some(s)) => Some(s),
            (Some(d), None) => Some((d, d)),
            (None, None) => None,
        };
        Ok(best.map(|(i, j)| (i as u64, j as u64)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patch_of(old: &[u8], new: &[u8]) -> (tempfile::TempDir, Option<BytePatch>) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("old"), old).unwrap();
        std::fs::write(dir.path().join("new"), new).unwrap();
        let p = BytePatch::between(&dir.path().join("old"), &dir.path().join("new")).unwrap();
        (dir, p)
    }

    fn round_trip(old: &[u8], new: &[u8]) -> BytePatch {
        let (dir, p) = patch_of(old, new);
        let p = p.expect("small change kept");
        assert_eq!(BytePatch::from_blob(&p.to_blob()).as_ref(), Some(&p));
        let (new_path, out) = (dir.path().join("new"), dir.path().join("out"));
        assert!(p.applies_to(&new_path).unwrap());
        std::fs::write(&out, b"stale contents longer than some").unwrap();
        let handle = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&out)
            .unwrap();
        p.rebuild(&new_path, &handle).unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), old);
        p
    }

    #[test]
    fn rebuilds_the_original_for_every_shape_of_change() {
        let audio: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let tag = |g: &[u8]| [b"ID3hdr".as_slice(), g, &audio].concat();
        // grown, shrunk, same length, created from nothing, only an ending changed
        let p = round_trip(&tag(b"Soundtrack\0"), &tag(b"Jazz"));
        assert_eq!(p.hunks.len(), 1);
        assert_eq!((p.hunks[0].at, p.hunks[0].old.len()), (6, 11));
        round_trip(&tag(b"Jazz"), &tag(b"Soundtrack\0"));
        round_trip(&tag(b"Rock"), &tag(b"Jazz"));
        round_trip(&audio, &[b"RIFFchunk".as_slice(), &audio].concat());
        round_trip(&audio, &[&audio[..], b"ID3 chunk"].concat());
        round_trip(b"", b"x");
        // a repeated byte at the seam: prefix and suffix must not overlap
        round_trip(b"aaaa", b"aaaaaa");
        round_trip(b"aaaaaa", b"aaaa");
    }

    /// WAV/AIFF: the container's size field and a chunk added at the end.
    #[test]
    fn a_size_field_and_an_added_chunk_are_two_hunks() {
        let audio: Vec<u8> = (0..300_000u32).map(|i| (i * 13 % 241) as u8).collect();
        let old = [b"RIFF\x10\x00\x00\x00WAVE".as_slice(), &audio].concat();
        let new = [b"RIFF\x20\x04\x00\x00WAVE".as_slice(), &audio, &[7u8; 1049]].concat();
        let p = round_trip(&old, &new);
        assert_eq!(
            p.hunks.len(),
            2,
            "{:?}",
            p.hunks
                .iter()
                .map(|h| (h.at, h.new_len))
                .collect::<Vec<_>>()
        );
        assert_eq!(p.hunks.iter().map(|h| h.old.len()).sum::<usize>(), 2);
    }

    /// Ogg: a grown header shifts every later page, each renumbered (its
    /// sequence number and checksum differ): one small hunk per page.
    #[test]
    fn shifted_and_renumbered_pages_stay_small() {
        let page = |seq: u8, body: u8| {
            let mut p = b"OggS".to_vec();
            p.extend([seq, seq ^ 0x5A, 0, 0]);
            p.extend((0..4000u32).map(|i| (i * 31 % 253) as u8 ^ body));
            p
        };
        let old: Vec<u8> = (0..50u8).flat_map(|k| page(k + 2, k)).collect();
        let new: Vec<u8> = [vec![9u8; 300]]
            .into_iter()
            .chain((0..50u8).map(|k| page(k + 3, k)))
            .flatten()
            .collect();
        let p = round_trip(&old, &new);
        let kept: usize = p.hunks.iter().map(|h| h.old.len()).sum();
        assert!(kept <= 50 * 8, "{kept} bytes kept");
    }

    /// An inserted stretch beyond the near reach (a grown 10-kB comment)
    /// is still found by the whole window: one hunk keeping no old bytes.
    #[test]
    fn an_insertion_beyond_the_near_reach_is_one_hunk() {
        let audio: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let inserted: Vec<u8> = (0..10_000u32).map(|i| (i * 5 % 239) as u8 ^ 0xA5).collect();
        let new = [&audio[..1000], &inserted, &audio[1000..]].concat();
        let p = round_trip(&audio, &new);
        let shape: Vec<(u64, u64, usize)> = p
            .hunks
            .iter()
            .map(|h| (h.at, h.new_len, h.old.len()))
            .collect();
        assert_eq!(shape, [(1000, 10_000, 0)]);
    }

    #[test]
    fn large_changes_are_not_kept() {
        let old = vec![1u8; (MAX_PATCH_BYTES + 10) as usize];
        let new = vec![2u8; old.len()];
        assert!(patch_of(&old, &new).1.is_none());
    }

    #[test]
    fn a_changed_file_is_not_patched() {
        let (dir, p) = patch_of(b"old tag + audio", b"new tag + audio");
        let new_path = dir.path().join("new");
        std::fs::write(&new_path, b"NEW tag + audio").unwrap();
        assert!(!p.unwrap().applies_to(&new_path).unwrap());
    }

    #[test]
    fn damaged_blobs_read_as_none() {
        let (_dir, p) = patch_of(b"abc", b"abd");
        let blob = p.unwrap().to_blob();
        assert!(BytePatch::from_blob(&blob[..40]).is_none());
        let mut longer = blob.clone();
        longer.push(0);
        assert!(BytePatch::from_blob(&longer).is_none());
    }
}
