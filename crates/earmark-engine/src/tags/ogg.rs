//! A narrow Ogg genre writer (Vorbis, Opus, FLAC in Ogg; in a multiplexed
//! file the first stream's comments, as mutagen and ffmpeg read them, other
//! streams left alone). lofty mistakes a multiplexed or FLAC-in-Ogg
//! file for MPEG and rewrites every page; here only the header packets after
//! the first (comments, and the setup header sharing their pages) are
//! re-paginated: the comment packet's GENRE entries change, every other
//! packet and every audio page keeps its bytes, and later pages of the
//! stream are renumbered (with a fresh CRC) only when the header page count
//! changes. Page CRCs come from `ogg_pager` (lofty's own Ogg pager).

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};

use sha2::{Digest, Sha256};

use super::flac::{comment_entries, comment_genres, comment_others, replace_genres};
use super::id3::move_tail;

/// Header pages loaded at most (bounded memory; pictures in comments count).
const MAX_HEADER_BYTES: u64 = 64 << 20;

/// A page's place and header fields (its body is read only when needed).
#[derive(Debug, Clone)]
struct PageAt {
    start: u64,
    len: u64,
    flags: u8,
    serial: u32,
    seq: u32,
    lacing: Vec<u8>,
}

impl PageAt {
    fn header_len(&self) -> u64 {
        27 + self.lacing.len() as u64
    }
}

fn pages(file: &mut File) -> Result<Vec<PageAt>, String> {
    let len = file.metadata().map_err(|e| e.to_string())?.len();
    let mut out = Vec::new();
    let mut pos = 0u64;
    while pos < len {
        let bad = || "its Ogg pages are malformed or truncated".to_string();
        file.seek(SeekFrom::Start(pos)).map_err(|e| e.to_string())?;
        let mut h = [0u8; 27];
        file.read_exact(&mut h).map_err(|_| bad())?;
        if &h[..4] != b"OggS" || h[4] != 0 {
            return Err(bad());
        }
        let mut lacing = vec![0u8; usize::from(h[26])];
        file.read_exact(&mut lacing).map_err(|_| bad())?;
        let body: u64 = lacing.iter().map(|&b| u64::from(b)).sum();
        let page_len = 27 + lacing.len() as u64 + body;
        if pos + page_len > len {
            return Err(bad());
        }
        out.push(PageAt {
            start: pos,
            len: page_len,
            flags: h[5],
            serial: u32::from_le_bytes([h[14], h[15], h[16], h[17]]),
            seq: u32::from_le_bytes([h[18], h[19], h[20], h[21]]),
            lacing,
        });
        pos += page_len;
    }
    Ok(out)
}

/// Whether a page's stored CRC holds (the field itself counted as zeros).
fn crc_holds(page: &[u8]) -> bool {
    stored_crc(page) == crc_of(page)
}

fn stored_crc(page: &[u8]) -> u32 {
    u32::from_le_bytes([page[22], page[23], page[24], page[25]])
}

fn crc_of(page: &[u8]) -> u32 {
    let mut p = page.to_vec();
    p[22..26].copy_from_slice(&[0; 4]);
    ogg_pager::crc32(&p)
}

/// A header page's bytes, refused when its CRC fails: a rewrite gives
/// header pages fresh checksums, and a damaged one would come back looking
/// whole.
fn header_page(file: &mut File, p: &PageAt) -> Result<Vec<u8>, String> {
    let page = read_at(file, p.start, p.len)?;
    if !crc_holds(&page) {
        return Err(
            "an Ogg header page fails its checksum (the file is damaged); tag it with another program"
                .into(),
        );
    }
    Ok(page)
}

fn read_at(file: &mut File, start: u64, len: u64) -> Result<Vec<u8>, String> {
    let mut b = vec![0u8; usize::try_from(len).map_err(|e| e.to_string())?];
    file.seek(SeekFrom::Start(start))
        .map_err(|e| e.to_string())?;
    file.read_exact(&mut b).map_err(|e| e.to_string())?;
    Ok(b)
}

/// Which codec a stream's first packet announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Codec {
    Vorbis,
    /// Video: never the stream written, but its comments are read to see
    /// whether they name a genre the write would leave behind.
    Theora,
    Opus,
    Flac,
    /// Its comment packet is bare Vorbis comments (no magic, no framing bit).
    Speex,
}

fn codec_of(first: &[u8]) -> Option<Codec> {
    if first.starts_with(b"\x01vorbis") {
        Some(Codec::Vorbis)
    } else if first.starts_with(b"\x80theora") {
        Some(Codec::Theora)
    } else if first.starts_with(b"OpusHead") {
        Some(Codec::Opus)
    } else if first.starts_with(b"\x7fFLAC") {
        Some(Codec::Flac)
    } else if first.starts_with(b"Speex   ") {
        Some(Codec::Speex)
    } else {
        None
    }
}

/// The audio stream's header packets and the pages holding them.
#[derive(Debug, Clone)]
pub(crate) struct OggTags {
    codec: Codec,
    serial: u32,
    /// Every page of the file, in order.
    pages: Vec<PageAt>,
    /// Indexes (into `pages`) of the stream's pages holding packets 1..=last.
    header_pages: Vec<usize>,
    /// Packets 1..=last (comments and the rest of the headers).
    packets: Vec<Vec<u8>>,
    /// Which of `packets` holds the comments.
    comment: usize,
    /// Audio that shared the last header page (against the specs, which
    /// start audio on a fresh page; 23 of 618 real game tracks do it).
    audio_tail: Option<AudioTail>,
}

/// The audio segments after the last header packet on its page; written
/// back as a page of their own, their bytes and lacing as they were.
#[derive(Debug, Clone, PartialEq, Eq)]
struct AudioTail {
    lacing: Vec<u8>,
    body: Vec<u8>,
    /// The old page's granule when a packet ends among these segments
    /// (the last one to end there is the same); else none (all ones).
    granule: u64,
    /// The old page ended the stream.
    eos: bool,
}

impl AudioTail {
    fn of(page: &[u8], p: &PageAt, from_segment: usize, body_at: usize) -> AudioTail {
        let lacing = p.lacing[from_segment..].to_vec();
        let body = page[p.header_len() as usize + body_at..].to_vec();
        let ends_a_packet = lacing.iter().any(|&l| l < 255);
        let granule = if ends_a_packet {
            u64::from_le_bytes(page[6..14].try_into().unwrap_or([0xFF; 8]))
        } else {
            u64::MAX
        };
        AudioTail {
            lacing,
            body,
            granule,
            eos: p.flags & 0x04 != 0,
        }
    }
}

fn comment_offset(codec: Codec) -> usize {
    match codec {
        Codec::Vorbis | Codec::Theora => 7, // "\x03vorbis", "\x81theora"
        Codec::Opus => 8,                   // "OpusTags"
        Codec::Flac => 4,                   // metadata block header
        Codec::Speex => 0,
    }
}

/// How many header packets follow a stream's first one (its codec's
/// count, or what its identification header says).
fn header_packets_after_first(
    file: &mut File,
    codec: Codec,
    bos: &PageAt,
) -> Result<usize, String> {
    // the identification header's first bytes: where Speex and FLAC count
    let body = bos.len - bos.header_len();
    let head = match codec {
        Codec::Speex | Codec::Flac => read_at(file, bos.start + bos.header_len(), 72.min(body))?,
        _ => Vec::new(),
    };
    Ok(match codec {
        Codec::Vorbis | Codec::Theora => 2,
        Codec::Opus => 1,
        // the comments, then the header's own count of extra headers
        Codec::Speex => {
            let n = head
                .get(68..72)
                .map(|n| u32::from_le_bytes([n[0], n[1], n[2], n[3]]))
                .ok_or("its Speex header is cut short")?;
            if n > 16 {
                return Err(format!("its Speex header announces {n} extra headers"));
            }
            1 + n as usize
        }
        Codec::Flac => {
            let n = head
                .get(7..9)
                .map_or(0, |n| usize::from(u16::from_be_bytes([n[0], n[1]])));
            if n == 0 {
                return Err(
                    "its FLAC-in-Ogg header does not say how many header packets follow".into(),
                );
            }
            n
        }
    })
}

/// Each stream's first page (they all come before any other page), with
/// the codec it announces, for the streams earmark can read comments of.
fn first_pages(file: &mut File, pages: &[PageAt]) -> Result<Vec<(Codec, PageAt)>, String> {
    let mut out = Vec::new();
    for p in pages.iter().take_while(|p| p.flags & 0x02 != 0) {
        let first = read_at(
            file,
            p.start + p.header_len(),
            8.min(p.len - p.header_len()),
        )?;
        if let Some(c) = codec_of(&first) {
            out.push((c, p.clone()));
        }
    }
    Ok(out)
}

impl OggTags {
    pub(crate) fn read(file: &mut File) -> Result<OggTags, String> {
        let pages = pages(file)?;
        let streams = first_pages(file, &pages)?;
        // The audio's comments are the file's genre, what earmark hears and
        // what mutagen's OggVorbis and ffmpeg's audio stream read: a video
        // stream multiplexed in front of it has comments of its own.
        let Some((codec, bos)) = streams.iter().find(|(c, _)| *c != Codec::Theora).cloned() else {
            return Err(if streams.is_empty() {
                "it has no Vorbis, Opus, FLAC or Speex stream earmark can tag".into()
            } else {
                "it holds Theora video and no audio stream; earmark tags music only".into()
            });
        };
        Self::read_stream(file, pages, codec, &bos)
    }

    /// The comments of another stream of the file (a video's, a second
    /// audio stream's) that name a genre: `(what it is, its genres)`.
    pub(crate) fn other_stream_genres(&self, file: &mut File) -> Option<(&'static str, String)> {
        let streams = first_pages(file, &self.pages).ok()?;
        streams
            .into_iter()
            .filter(|(_, bos)| bos.serial != self.serial)
            .find_map(|(codec, bos)| {
                let other = Self::read_stream(file, self.pages.clone(), codec, &bos).ok()?;
                let genres = other.genres().ok().filter(|g| !g.is_empty())?;
                let what = match codec {
                    Codec::Theora => "its Theora video stream",
                    _ => "a second audio stream",
                };
                Some((what, genres.join("; ")))
            })
    }

    /// The header packets of the stream whose first page is `bos`.
    fn read_stream(
        file: &mut File,
        pages: Vec<PageAt>,
        codec: Codec,
        bos: &PageAt,
    ) -> Result<OggTags, String> {
        let serial = bos.serial;
        header_page(file, bos)?;
        let extra = header_packets_after_first(file, codec, bos)?;
        if bos.lacing.last() == Some(&255) || bos.lacing.iter().filter(|&&l| l < 255).count() != 1 {
            return Err(
                "its first Ogg page does not hold exactly the identification header".into(),
            );
        }
        let mut packets: Vec<Vec<u8>> = Vec::new();
        let mut cur: Vec<u8> = Vec::new();
        let mut header_pages = Vec::new();
        let mut loaded = 0u64;
        let mut audio_tail = None;
        for (i, p) in pages.iter().enumerate() {
            if p.serial != serial || p.flags & 0x02 != 0 {
                continue;
            }
            if packets.len() == extra {
                break;
            }
            loaded += p.len;
            if loaded > MAX_HEADER_BYTES {
                return Err("its Ogg header packets are too large to rewrite safely".into());
            }
            header_pages.push(i);
            let page = header_page(file, p)?;
            // Speex says itself how many headers follow: a page of them with
            // a granule position holds audio, so the count lies
            if codec == Codec::Speex
                && page
                    .get(6..14)
                    .is_some_and(|g| g != [0; 8] && g != [0xFF; 8])
            {
                return Err(
                    "its Speex header counts audio packets as headers; tag it with another program"
                        .into(),
                );
            }
            let body = &page[p.header_len() as usize..];
            let mut at = 0usize;
            for (k, &l) in p.lacing.iter().enumerate() {
                cur.extend(&body[at..at + usize::from(l)]);
                at += usize::from(l);
                if l < 255 {
                    packets.push(std::mem::take(&mut cur));
                    if packets.len() == extra && k + 1 != p.lacing.len() {
                        audio_tail = Some(AudioTail::of(&page, p, k + 1, at));
                        break;
                    }
                }
            }
        }
        if packets.len() != extra || !cur.is_empty() {
            return Err("its Ogg header packets are incomplete".into());
        }
        let comment = match codec {
            Codec::Vorbis if packets[0].starts_with(b"\x03vorbis") => 0,
            Codec::Theora if packets[0].starts_with(b"\x81theora") => 0,
            Codec::Opus if packets[0].starts_with(b"OpusTags") => 0,
            Codec::Speex => 0,
            Codec::Flac => packets
                .iter()
                .position(|p| p.first().is_some_and(|b| b & 0x7F == 4))
                .ok_or("its FLAC-in-Ogg stream has no comment block")?,
            _ => return Err("its Ogg comment header is missing".into()),
        };
        let t = OggTags {
            codec,
            serial,
            pages,
            header_pages,
            packets,
            comment,
            audio_tail,
        };
        t.genres()?;
        Ok(t)
    }

    fn comment_body(&self) -> &[u8] {
        &self.packets[self.comment][comment_offset(self.codec)..]
    }

    pub(crate) fn genres(&self) -> Result<Vec<String>, String> {
        comment_genres(self.comment_body())
    }

    /// The comment header's entries, in order.
    pub(crate) fn comment_entries(&self) -> Vec<(String, String)> {
        comment_entries(self.comment_body()).unwrap_or_default()
    }

    pub(crate) fn set_genres(&mut self, values: &[String]) -> Result<(), String> {
        let off = comment_offset(self.codec);
        let body = replace_genres(self.comment_body(), values)?;
        let mut packet = self.packets[self.comment][..off].to_vec();
        if self.codec == Codec::Flac {
            let n = u32::try_from(body.len())
                .ok()
                .filter(|&n| n < 1 << 24)
                .ok_or("the FLAC comment block would grow past its size limit")?;
            packet[1..4].copy_from_slice(&n.to_be_bytes()[1..]);
        }
        packet.extend(body);
        self.packets[self.comment] = packet;
        Ok(())
    }

    /// The header packets as fresh pages, numbered from the first old one.
    fn new_header_pages(&self) -> Vec<Vec<u8>> {
        let first_seq = self.pages[self.header_pages[0]].seq;
        let mut out: Vec<Vec<u8>> = Vec::new();
        let (mut lacing, mut body) = (Vec::<u8>::new(), Vec::<u8>::new());
        // Does the page being filled start inside a packet / end one?
        let (mut continued, mut ends) = (false, false);
        let mut flush = |lacing: &mut Vec<u8>, body: &mut Vec<u8>, continued: bool, ends: bool| {
            let seq = first_seq.wrapping_add(out.len() as u32);
            let granule: u64 = if ends { 0 } else { u64::MAX };
            let mut page = b"OggS\0".to_vec();
            page.push(u8::from(continued));
            page.extend(granule.to_le_bytes());
            page.extend(self.serial.to_le_bytes());
            page.extend(seq.to_le_bytes());
            page.extend([0u8; 4]);
            page.push(lacing.len() as u8);
            page.append(lacing);
            page.append(body);
            let crc = ogg_pager::crc32(&page);
            page[22..26].copy_from_slice(&crc.to_le_bytes());
            out.push(page);
        };
        for p in &self.packets {
            let mut rest: &[u8] = p;
            let mut first_segment = true;
            loop {
                if lacing.len() == 255 {
                    flush(&mut lacing, &mut body, continued, ends);
                    continued = !first_segment;
                    ends = false;
                }
                let n = rest.len().min(255);
                lacing.push(n as u8);
                body.extend(&rest[..n]);
                rest = &rest[n..];
                first_segment = false;
                if n < 255 {
                    ends = true;
                    break;
                }
            }
        }
        if !lacing.is_empty() {
            flush(&mut lacing, &mut body, continued, ends);
        }
        // audio that shared the last header page starts a page of its own
        if let Some(tail) = &self.audio_tail {
            let seq = first_seq.wrapping_add(out.len() as u32);
            let mut page = b"OggS\0\0".to_vec();
            page.extend(tail.granule.to_le_bytes());
            page.extend(self.serial.to_le_bytes());
            page.extend(seq.to_le_bytes());
            page.extend([0u8; 4]);
            page.push(tail.lacing.len() as u8);
            page.extend(&tail.lacing);
            page.extend(&tail.body);
            let crc = crc_of(&page);
            page[22..26].copy_from_slice(&crc.to_le_bytes());
            out.push(page);
        }
        // a stream of headers only ends on its last header page (and one
        // whose audio shared it, on that audio's page)
        let last_old = &self.pages[*self.header_pages.last().unwrap_or(&0)];
        if let Some(last) = out.last_mut().filter(|_| last_old.flags & 0x04 != 0) {
            last[5] |= 0x04;
            let crc = crc_of(last);
            last[22..26].copy_from_slice(&crc.to_le_bytes());
        }
        out
    }

    /// The index of the page after the headers, which must hold exactly
    /// `tail` (the audio that shared the original's last header page).
    fn page_holding(&self, file: &mut File, tail: &AudioTail) -> Result<usize, String> {
        let changed = || "the audio on the last Ogg header page changed".to_string();
        let last = *self.header_pages.last().ok_or_else(changed)?;
        let i = (last + 1..self.pages.len())
            .find(|&i| self.pages[i].serial == self.serial)
            .ok_or_else(changed)?;
        let p = &self.pages[i];
        let page = read_at(file, p.start, p.len)?;
        let held = AudioTail::of(&page, p, 0, 0);
        let granule = u64::from_le_bytes(page[6..14].try_into().unwrap_or([0; 8]));
        if p.flags & 0x01 != 0 || held != *tail || granule != tail.granule {
            return Err(changed());
        }
        Ok(i)
    }

    /// Write the new header pages into `file` (a copy of the original).
    pub(crate) fn save(&self, file: &mut File) -> io::Result<()> {
        let err = |e: String| io::Error::other(e);
        let new_pages = self.new_header_pages();
        let first = &self.pages[self.header_pages[0]];
        let last = &self.pages[*self.header_pages.last().unwrap_or(&0)];
        let (r0, r1) = (first.start, last.start + last.len);
        // The region keeps other streams' pages, in order, after ours; the
        // audio that shared our last header page comes last, where that
        // page was (before another stream's header page, a demuxer takes
        // that stream's headers for audio).
        let (headers, tail) =
            new_pages.split_at(new_pages.len() - usize::from(self.audio_tail.is_some()));
        let mut region: Vec<u8> = headers.concat();
        let last_i = *self.header_pages.last().unwrap_or(&0);
        for i in self.header_pages[0]..=last_i {
            if !self.header_pages.contains(&i) {
                let p = &self.pages[i];
                region.extend(read_at(file, p.start, p.len).map_err(err)?);
            }
        }
        region.extend(tail.concat());
        let new_r1 = r0 + region.len() as u64;
        if new_r1 != r1 {
            move_tail(file, r1, new_r1)?;
        }
        file.seek(SeekFrom::Start(r0))?;
        file.write_all(&region)?;
        let shift = new_pages.len() as i64 - self.header_pages.len() as i64;
        if shift != 0 {
            let moved = new_r1 as i64 - r1 as i64;
            // (a chained link that reuses the serial numbers its pages
            // afresh from its own first page: it is another stream)
            for p in self.pages[last_i + 1..]
                .iter()
                .filter(|p| p.serial == self.serial)
                .take_while(|p| p.flags & 0x02 == 0)
            {
                let at = (p.start as i64 + moved) as u64;
                let mut page = read_at(file, at, p.len).map_err(err)?;
                // A page whose checksum did not hold keeps one that does
                // not, by the same difference (the CRC is linear): a write
                // neither damages a page nor hides its damage.
                let syndrome = stored_crc(&page) ^ crc_of(&page);
                let seq = (i64::from(p.seq) + shift) as u32;
                page[18..22].copy_from_slice(&seq.to_le_bytes());
                let crc = crc_of(&page) ^ syndrome;
                page[22..26].copy_from_slice(&crc.to_le_bytes());
                file.seek(SeekFrom::Start(at))?;
                file.write_all(&page)?;
            }
        }
        file.flush()
    }
}

/// Byte-level check of a written Ogg copy: the same streams; the stream's
/// header packets identical but for the comment packet's GENRE entries;
/// every other page identical outside its sequence number and CRC.
pub(crate) fn check(orig: &mut File, copy: &mut File) -> Result<(), String> {
    let a = OggTags::read(orig)?;
    let b = OggTags::read(copy).map_err(|e| format!("the written copy does not read back: {e}"))?;
    if a.serial != b.serial || a.codec != b.codec || a.packets.len() != b.packets.len() {
        return Err("the Ogg streams changed".into());
    }
    for (i, (pa, pb)) in a.packets.iter().zip(&b.packets).enumerate() {
        if i == a.comment {
            let off = comment_offset(a.codec);
            // The packet's prefix; a FLAC block header's length may change.
            let fixed = if a.codec == Codec::Flac { 1 } else { off };
            if pa.get(..fixed) != pb.get(..fixed) {
                return Err("the Ogg comment header changed".into());
            }
            if comment_others(&pa[off..])? != comment_others(&pb[off..])? {
                return Err("another Vorbis comment changed".into());
            }
        } else if pa != pb {
            return Err("another Ogg header packet changed".into());
        }
    }
    // audio that shared the original's last header page is on a page of
    // its own in the copy, its segments and granule as they were
    let moved_tail = match (&a.audio_tail, &b.audio_tail) {
        (None, None) => None,
        (Some(x), Some(y)) if x == y => None,
        (Some(tail), None) => Some(b.page_holding(copy, tail)?),
        _ => return Err("the audio on the last Ogg header page changed".into()),
    };
    let rest = |t: &OggTags, f: &mut File, skip: Option<usize>| -> Result<Vec<String>, String> {
        let mut out = Vec::new();
        for (i, p) in t.pages.iter().enumerate() {
            if t.header_pages.contains(&i) || skip == Some(i) {
                continue;
            }
            let mut page = read_at(f, p.start, p.len)?;
            if p.serial == t.serial {
                page[18..26].copy_from_slice(&[0; 8]);
            }
            out.push(hex::encode(Sha256::digest(&page)));
        }
        Ok(out)
    };
    if rest(&a, orig, None)? != rest(&b, copy, moved_tail)? {
        return Err("an Ogg audio page changed".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One page holding whole `packets` (each under 255 × 255 bytes).
    fn page(flags: u8, granule: u64, seq: u32, packets: &[&[u8]]) -> Vec<u8> {
        let mut lacing = Vec::new();
        for p in packets {
            lacing.extend(std::iter::repeat_n(255u8, p.len() / 255));
            lacing.push((p.len() % 255) as u8);
        }
        let mut v = b"OggS\0".to_vec();
        v.push(flags);
        v.extend(granule.to_le_bytes());
        v.extend(7u32.to_le_bytes());
        v.extend(seq.to_le_bytes());
        v.extend([0; 4]);
        v.push(lacing.len() as u8);
        v.extend(lacing);
        for p in packets {
            v.extend(*p);
        }
        let crc = ogg_pager::crc32(&v);
        v[22..26].copy_from_slice(&crc.to_le_bytes());
        v
    }

    fn comments(entries: &[&str]) -> Vec<u8> {
        let mut v = b"\x03vorbis".to_vec();
        v.extend(3u32.to_le_bytes());
        v.extend(b"ven");
        v.extend((entries.len() as u32).to_le_bytes());
        for e in entries {
            v.extend((e.len() as u32).to_le_bytes());
            v.extend(e.as_bytes());
        }
        v.push(1);
        v
    }

    /// Speex: the comments (bare, no magic) written; a header whose count
    /// of extra headers takes audio pages for headers is refused.
    #[test]
    fn speex_comments_are_written_and_a_lying_header_count_refused() {
        let speex = |extra: u32| {
            let mut id = b"Speex   ".to_vec();
            id.resize(68, 0);
            id.extend(extra.to_le_bytes());
            id.resize(80, 0);
            id
        };
        let mut bare = comments(&["TITLE=t", "GENRE=Rock"]);
        bare.drain(..7); // no "\x03vorbis"
        bare.pop(); // no framing bit
        let file = |extra: u32| {
            [
                page(2, 0, 0, &[&speex(extra)]),
                page(0, 0, 1, &[&bare]),
                page(0, 320, 2, &[b"audio one"]),
                page(4, 640, 3, &[b"audio two"]),
            ]
            .concat()
        };
        let out = write_copy(&file(0), &["Jazz".to_string()]).unwrap();
        assert!(crc_ok(&out));
        let dir = tempfile::tempdir().unwrap();
        let q = dir.path().join("s.spx");
        std::fs::write(&q, &out).unwrap();
        let t = OggTags::read(&mut File::open(&q).unwrap()).unwrap();
        assert_eq!(t.genres().unwrap(), ["Jazz"]);
        assert!(out.windows(7).any(|w| w == b"TITLE=t"));
        assert!(out.ends_with(b"audio two"), "the audio pages as they were");
        let err = write_copy(&file(1), &["Jazz".to_string()]).unwrap_err();
        assert!(err.contains("counts audio packets as headers"), "{err}");
    }

    fn crc_ok(bytes: &[u8]) -> bool {
        page_spans(bytes)
            .into_iter()
            .all(|(at, len)| crc_holds(&bytes[at..at + len]))
    }

    /// Write `genres` into a copy of `bytes`; the copy's bytes.
    fn write_copy(bytes: &[u8], genres: &[String]) -> Result<Vec<u8>, String> {
        let dir = tempfile::tempdir().unwrap();
        let q = dir.path().join("b.ogg");
        std::fs::write(&q, bytes).unwrap();
        let mut f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&q)
            .unwrap();
        let mut t = OggTags::read(&mut f)?;
        t.set_genres(genres)?;
        t.save(&mut f).map_err(|e| e.to_string())?;
        drop(f);
        Ok(std::fs::read(&q).unwrap())
    }

    /// The pages of `bytes`: (start, length).
    fn page_spans(bytes: &[u8]) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut pos = 0;
        while pos < bytes.len() {
            let n = usize::from(bytes[pos + 26]);
            let body: usize = bytes[pos + 27..pos + 27 + n]
                .iter()
                .map(|&b| usize::from(b))
                .sum();
            out.push((pos, 27 + n + body));
            pos += 27 + n + body;
        }
        out
    }

    #[test]
    fn refuses_a_header_page_whose_checksum_fails() {
        let id = b"\x01vorbis-identification-header".to_vec();
        let mut comment_page = page(0, 0, 1, &[&comments(&["genre=Rock"]), &[5u8; 60]]);
        let n = comment_page.len();
        comment_page[n - 1] ^= 0x10;
        let bytes = [
            page(2, 0, 0, &[&id]),
            comment_page,
            page(4, 9, 2, &[&[9u8; 30]]),
        ]
        .concat();
        let err = write_copy(&bytes, &["Jazz".into()]).unwrap_err();
        assert!(err.contains("fails its checksum"), "{err}");
    }

    /// Pages renumbered after a grown header: a damaged one stays damaged
    /// (by the same CRC difference), and a chained link reusing the serial
    /// keeps its own numbers.
    #[test]
    fn renumbering_keeps_damage_and_stops_at_a_chained_link() {
        let id = b"\x01vorbis-identification-header".to_vec();
        let c = comments(&["genre=Rock"]);
        let setup = vec![5u8; 60];
        let mut damaged = page(0, 4096, 2, &[&[9u8; 30]]);
        damaged[40] ^= 1;
        let bytes = [
            page(2, 0, 0, &[&id]),
            page(0, 0, 1, &[&c, &setup]),
            damaged,
            page(4, 8192, 3, &[&[8u8; 30]]),
            page(2, 0, 0, &[&id]),
            page(0, 0, 1, &[&c, &setup]),
            page(4, 4096, 2, &[&[7u8; 30]]),
        ]
        .concat();
        let old = page_spans(&bytes);
        let got = write_copy(&bytes, &["Jazz".into(), "x".repeat(70_000)]).unwrap();
        let spans = page_spans(&got);
        assert_eq!(spans.len(), old.len() + 1, "one more header page");
        let seq = |b: &[u8], (at, _): (usize, usize)| {
            u32::from_le_bytes(b[at + 18..at + 22].try_into().unwrap())
        };
        let seqs: Vec<u32> = spans.iter().map(|&s| seq(&got, s)).collect();
        assert_eq!(seqs, [0, 1, 2, 3, 4, 0, 1, 2]);
        let syndrome = |b: &[u8], (at, len): (usize, usize)| {
            let p = &b[at..at + len];
            stored_crc(p) ^ crc_of(p)
        };
        assert_eq!(syndrome(&got, spans[3]), syndrome(&bytes, old[2]));
        assert_ne!(syndrome(&got, spans[3]), 0);
        for i in [0, 1, 2, 4, 5, 6, 7] {
            assert_eq!(syndrome(&got, spans[i]), 0, "page {i}");
        }
        // the second link is byte for byte what it was
        assert_eq!(&got[spans[5].0..], &bytes[old[4].0..]);
    }

    /// Audio on the last header page (as some encoders write it) goes to a
    /// page of its own, its bytes and granule as they were; the check holds.
    #[test]
    fn audio_sharing_the_last_header_page_gets_a_page_of_its_own() {
        let id = b"\x01vorbis-identification-header".to_vec();
        let (c, setup) = (comments(&["genre=Rock", "TITLE=t"]), vec![5u8; 60]);
        let (audio1, audio2) = (vec![9u8; 300], vec![8u8; 40]);
        let bytes = [
            page(2, 0, 0, &[&id]),
            page(0, 128, 1, &[&c, &setup, &audio1]),
            page(4, 8192, 2, &[&audio2]),
        ]
        .concat();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.ogg");
        std::fs::write(&p, &bytes).unwrap();
        let got = write_copy(&bytes, &["Jazz".into()]).unwrap();
        let q = dir.path().join("b.ogg");
        std::fs::write(&q, &got).unwrap();
        assert!(crc_ok(&got));
        let spans = page_spans(&got);
        assert_eq!(spans.len(), 4);
        let (at, len) = spans[2];
        let tail = &got[at..at + len];
        assert_eq!(u64::from_le_bytes(tail[6..14].try_into().unwrap()), 128);
        assert_eq!(tail[5], 0, "a fresh page, not continued, not the end");
        assert!(tail.ends_with(&audio1));
        let t2 = OggTags::read(&mut File::open(&q).unwrap()).unwrap();
        assert_eq!(t2.genres().unwrap(), ["Jazz"]);
        assert!(t2.audio_tail.is_none());
        let seqs: Vec<u32> = t2.pages.iter().map(|p| p.seq).collect();
        assert_eq!(seqs, [0, 1, 2, 3]);
        check(&mut File::open(&p).unwrap(), &mut File::open(&q).unwrap()).unwrap();
        // a changed audio byte on that page is seen
        let mut bad = got.clone();
        bad[at + len - 1] ^= 1;
        let crc = crc_of(&bad[at..at + len]);
        bad[at + 22..at + 26].copy_from_slice(&crc.to_le_bytes());
        std::fs::write(&q, &bad).unwrap();
        assert!(check(&mut File::open(&p).unwrap(), &mut File::open(&q).unwrap()).is_err());
    }

    /// In a multiplexed file whose other stream's header page sits between
    /// ours, the audio that shared our last header page stays after it
    /// (before it, ffmpeg read that stream's headers as audio).
    #[test]
    fn moved_audio_stays_after_another_streams_header_page() {
        let other = |flags: u8, seq: u32, packets: &[&[u8]]| {
            let mut p = page(flags, 0, seq, packets);
            p[14..18].copy_from_slice(&9u32.to_le_bytes());
            p[22..26].copy_from_slice(&[0; 4]);
            let crc = crc_of(&p);
            p[22..26].copy_from_slice(&crc.to_le_bytes());
            p
        };
        let id = b"\x01vorbis-identification-header".to_vec();
        let bytes = [
            page(2, 0, 0, &[&id]),
            other(2, 0, &[b"\x01vorbis-other-stream"]),
            page(0, 0, 1, &[&comments(&["genre=Rock"])]),
            other(
                0,
                1,
                &[b"\x03vorbis-other-comments", b"\x05vorbis-other-setup"],
            ),
            page(0, 128, 2, &[&[5u8; 60], &[9u8; 40]]),
            page(4, 4096, 3, &[&[8u8; 40]]),
        ]
        .concat();
        let got = write_copy(&bytes, &["Jazz".into()]).unwrap();
        let serials: Vec<(u32, u32)> = page_spans(&got)
            .iter()
            .map(|&(at, _)| {
                let b = &got[at..];
                (
                    u32::from_le_bytes(b[14..18].try_into().unwrap()),
                    u32::from_le_bytes(b[18..22].try_into().unwrap()),
                )
            })
            .collect();
        assert_eq!(serials, [(7, 0), (9, 0), (7, 1), (9, 1), (7, 2), (7, 3)]);
        let (at, len) = page_spans(&got)[4];
        assert!(got[at..at + len].ends_with(&[9u8; 40]));
        assert!(crc_ok(&got));
    }

    #[test]
    fn a_stream_of_headers_only_keeps_its_end_of_stream_flag() {
        let id = b"\x01vorbis-identification-header".to_vec();
        let bytes = [
            page(2, 0, 0, &[&id]),
            page(4, 0, 1, &[&comments(&["genre=Rock"]), &[5u8; 60]]),
        ]
        .concat();
        let got = write_copy(&bytes, &["Jazz".into()]).unwrap();
        let spans = page_spans(&got);
        let (at, len) = *spans.last().unwrap();
        assert_eq!(got[at + 5], 4, "EOS on the last header page");
        assert!(crc_holds(&got[at..at + len]));
    }

    #[test]
    fn a_growing_comment_adds_pages_and_renumbers_the_audio() {
        let id = b"\x01vorbis-identification-header".to_vec();
        let setup = vec![5u8; 600];
        let c = comments(&["TITLE=t", "genre=Rock", "ARTIST=a"]);
        let audio1 = vec![9u8; 300];
        let audio2 = vec![8u8; 40];
        let bytes = [
            page(2, 0, 0, &[&id]),
            page(0, 0, 1, &[&c, &setup]),
            page(0, 4096, 2, &[&audio1]),
            page(4, 8192, 3, &[&audio2]),
        ]
        .concat();
        let dir = tempfile::tempdir().unwrap();
        let (p, q) = (dir.path().join("a.ogg"), dir.path().join("b.ogg"));
        std::fs::write(&p, &bytes).unwrap();
        std::fs::write(&q, &bytes).unwrap();
        let mut f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&q)
            .unwrap();
        let mut t = OggTags::read(&mut f).unwrap();
        assert_eq!(t.genres().unwrap(), ["Rock"]);
        // Past 255 lacing values: the headers need a second page.
        let big = "x".repeat(70_000);
        t.set_genres(&["Jazz".into(), big.clone()]).unwrap();
        t.save(&mut f).unwrap();
        drop(f);
        let got = std::fs::read(&q).unwrap();
        assert!(crc_ok(&got), "every page's CRC holds");
        let mut f = File::open(&q).unwrap();
        let t2 = OggTags::read(&mut f).unwrap();
        assert_eq!(t2.genres().unwrap(), vec!["Jazz".to_string(), big]);
        assert!(t2.header_pages.len() > 1);
        assert_eq!(t2.packets[1], setup);
        let seqs: Vec<u32> = t2.pages.iter().map(|p| p.seq).collect();
        assert_eq!(seqs, (0..seqs.len() as u32).collect::<Vec<_>>());
        check(&mut File::open(&p).unwrap(), &mut File::open(&q).unwrap()).unwrap();
        // And the check sees an audio byte changed.
        let mut bad = got.clone();
        let n = bad.len();
        bad[n - 1] ^= 1;
        std::fs::write(&q, &bad).unwrap();
        assert!(check(&mut File::open(&p).unwrap(), &mut File::open(&q).unwrap()).is_err());
    }
}
