//! Helpers for the tagging tests: copies of ../shared/music files in temp dirs,
//! extra tags and cover art added with lofty directly (independent of the code
//! under test), and independent views of tags and audio to compare.
#![allow(dead_code)]

pub mod reader;

use std::fs::File;
use std::path::{Path, PathBuf};

use lofty::config::{ParseOptions, WriteOptions};
use lofty::file::AudioFile;
use lofty::id3::v2::{ChapterFrame, Frame, FrameId, FrameList, Id3v2Tag, TextInformationFrame};
use lofty::iff::aiff::AiffFile;
use lofty::iff::wav::WavFile;
use lofty::mp4::Mp4File;
use lofty::mpeg::MpegFile;
use lofty::ogg::{OggPictureStorage, VorbisFile};
use lofty::picture::{MimeType, Picture, PictureType};
use lofty::prelude::*;
use sha2::{Digest, Sha256};

/// The shared music folder, or None (with a message) when it is absent.
pub fn music_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/music");
    if dir.join("singularity-awakening.mp3").is_file() {
        Some(dir)
    } else {
        let what = format!("{} not found (tests need ../shared/music)", dir.display());
        if std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false") {
            panic!("{what}, and CI=true: this test must run in CI");
        }
        eprintln!("skipping: {what}");
        None
    }
}

/// Copy `name` from shared/music into a fresh temp dir, writable.
pub fn copy_music(name: &str) -> Option<(tempfile::TempDir, PathBuf)> {
    let src = music_dir()?.join(name);
    let dir = tempfile::tempdir().unwrap();
    let dst = dir.path().join(name);
    std::fs::copy(&src, &dst).unwrap();
    set_mode(&dst, 0o644);
    Some((dir, dst))
}

pub fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Are permission bits enforced on us (false when running as root)?
pub fn permissions_enforced() -> bool {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("probe");
    std::fs::write(&p, b"x").unwrap();
    set_mode(&p, 0o000);
    let enforced = File::open(&p).is_err();
    set_mode(&p, 0o644);
    enforced
}

pub fn cover() -> Picture {
    let data =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tags/cover.png"))
            .unwrap();
    Picture::unchecked(data)
        .pic_type(PictureType::CoverFront)
        .mime_type(MimeType::Png)
        .description("earmark test cover")
        .build()
}

fn open_rw(path: &Path) -> File {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap()
}

/// Give a test copy cover art, a comment and (per format) something more
/// exotic, using each format's native tag so nothing else is disturbed.
pub fn enrich(path: &Path) {
    let ext = path
        .extension()
        .unwrap()
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    let opts = ParseOptions::new().implicit_conversions(false);
    match ext.as_str() {
        "mp3" => {
            let f = MpegFile::read_from(&mut File::open(path).unwrap(), opts).unwrap();
            let mut tag = f.id3v2().cloned().unwrap_or_default();
            let v23 = tag.original_version() == lofty::id3::v2::Id3v2Version::V3;
            tag.insert_picture(cover());
            tag.set_comment("earmark test comment".into());
            tag.insert_user_text("EARMARK_TEST".into(), "kept".into());
            // A chapter with a title: generic tag conversions drop these.
            let mut children = FrameList::new();
            children.insert(Frame::Text(TextInformationFrame::new(
                FrameId::Valid("TIT2".into()),
                lofty::TextEncoding::Latin1,
                "Intro".to_string(),
            )));
            tag.insert(Frame::Chapter(ChapterFrame::new(
                "ch0",
                0..5000,
                u32::MAX..u32::MAX,
                children,
            )));
            tag.save_to_path(path, WriteOptions::new().use_id3v23(v23))
                .unwrap();
        }
        "flac" => {
            let mut f =
                lofty::flac::FlacFile::read_from(&mut File::open(path).unwrap(), opts).unwrap();
            f.insert_picture(cover(), None).unwrap();
            f.vorbis_comments_mut()
                .unwrap()
                .push("COMMENT".into(), "earmark test comment".into());
            f.vorbis_comments_mut()
                .unwrap()
                .push("CUSTOM_FIELD".into(), "kept".into());
            f.save_to(&mut open_rw(path), WriteOptions::new()).unwrap();
        }
        "ogg" => {
            let mut f = VorbisFile::read_from(&mut File::open(path).unwrap(), opts).unwrap();
            let vc = f.vorbis_comments_mut();
            vc.insert_picture(cover(), None).unwrap();
            vc.push("COMMENT".into(), "earmark test comment".into());
            vc.push("CUSTOM_FIELD".into(), "kept".into());
            vc.save_to_path(path, WriteOptions::new()).unwrap();
        }
        "m4a" => {
            let f = Mp4File::read_from(&mut File::open(path).unwrap(), opts).unwrap();
            let mut ilst = f.ilst().cloned().unwrap_or_default();
            ilst.insert_picture(cover());
            ilst.set_comment("earmark test comment".into());
            ilst.set_artist("Test Artist".into());
            ilst.save_to_path(path, WriteOptions::new()).unwrap();
        }
        "wav" => {
            let f = WavFile::read_from(&mut File::open(path).unwrap(), opts).unwrap();
            let mut tag = f.id3v2().cloned().unwrap_or_default();
            tag.insert_picture(cover());
            tag.set_comment("earmark test comment".into());
            tag.set_artist("Test Artist".into());
            tag.save_to_path(path, WriteOptions::new()).unwrap();
            let f = WavFile::read_from(&mut File::open(path).unwrap(), opts).unwrap();
            let mut info = f.riff_info().cloned().unwrap_or_default();
            info.insert("ICMT".into(), "earmark test comment".into());
            info.save_to_path(path, WriteOptions::new()).unwrap();
        }
        "aiff" | "aif" => {
            let f = AiffFile::read_from(&mut File::open(path).unwrap(), opts).unwrap();
            let mut tag: Id3v2Tag = f.id3v2().cloned().unwrap_or_default();
            tag.insert_picture(cover());
            tag.set_comment("earmark test comment".into());
            tag.set_artist("Test Artist".into());
            // lofty appends this ID3 chunk after the sound data, as many taggers do.
            tag.save_to_path(path, WriteOptions::new()).unwrap();
        }
        other => panic!("no enrich for {other}"),
    }
}

/// Every tag item of every tag, as lofty's generic view sees it, pictures
/// included (with a hash of their data); optionally without genres. Sorted,
/// so item order does not matter.
pub fn tag_dump(path: &Path, with_genre: bool) -> Vec<String> {
    let tf = lofty::read_from_path(path).unwrap();
    let mut out = Vec::new();
    for tag in tf.tags() {
        for item in tag.items() {
            if !with_genre && item.key() == ItemKey::Genre {
                continue;
            }
            out.push(format!(
                "{:?} {:?} {:?}",
                tag.tag_type(),
                item.key(),
                item.value()
            ));
        }
        for p in tag.pictures() {
            out.push(format!(
                "{:?} picture {:?} {:?} {:?} {}",
                tag.tag_type(),
                p.pic_type(),
                p.mime_type(),
                p.description(),
                hex::encode(Sha256::digest(p.data()))
            ));
        }
    }
    out.sort();
    out
}

pub fn picture_count(path: &Path) -> usize {
    earmark::tags::read_tags(path).unwrap().pictures
}

pub fn genres(path: &Path) -> Vec<String> {
    earmark::tags::read_tags(path).unwrap().genres
}

/// The decoded audio: stream parameters and a hash of every sample's bits.
pub fn audio_hash(path: &Path) -> String {
    audio_hash_upto(path, None)
}

/// Like [`audio_hash`], but for an AIFF only the samples its COMM chunk
/// declares: symphonia 0.5 decodes 8 bytes past the sound data when another
/// chunk (e.g. an ID3 tag) follows it, which is not audio.
pub fn audio_hash_declared(path: &Path) -> String {
    audio_hash_upto(path, aiff_declared_samples(path))
}

fn audio_hash_upto(path: &Path, cap: Option<usize>) -> String {
    let (info, mut samples) = earmark::audio::decode_all(path).unwrap();
    if let Some(cap) = cap {
        samples.truncate(cap);
    }
    let mut h = Sha256::new();
    for s in &samples {
        h.update(s.to_bits().to_le_bytes());
    }
    format!(
        "{} {} {} ch {:?} bits, {} samples, {}",
        info.codec,
        info.sample_rate,
        info.channels,
        info.bits_per_sample,
        samples.len(),
        hex::encode(h.finalize())
    )
}

fn aiff_declared_samples(path: &Path) -> Option<usize> {
    let d = std::fs::read(path).ok()?;
    if &d[..4] != b"FORM" {
        return None;
    }
    let mut i = 12;
    while i + 8 <= d.len() {
        let size = u32::from_be_bytes(d[i + 4..i + 8].try_into().ok()?) as usize;
        if &d[i..i + 4] == b"COMM" {
            let ch = u16::from_be_bytes(d[i + 8..i + 10].try_into().ok()?) as usize;
            let frames = u32::from_be_bytes(d[i + 10..i + 14].try_into().ok()?) as usize;
            return Some(ch * frames);
        }
        i += 8 + size + (size & 1);
    }
    None
}

/// The mp3's CHAP frames, as Debug text.
pub fn mp3_chapters(path: &Path) -> Vec<String> {
    let f = MpegFile::read_from(
        &mut File::open(path).unwrap(),
        ParseOptions::new().implicit_conversions(false),
    )
    .unwrap();
    f.id3v2()
        .map(|t| {
            t.into_iter()
                .filter(|fr| fr.id_str() == "CHAP")
                .map(|fr| format!("{fr:?}"))
                .collect()
        })
        .unwrap_or_default()
}

/// Leftover temp files in a folder.
pub fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("earmark-tmp"))
        .collect()
}

/// A cache in its own temp dir.
pub fn temp_cache() -> (tempfile::TempDir, earmark::cache::Cache) {
    let dir = tempfile::tempdir().unwrap();
    let cache = earmark::cache::Cache::open(&dir.path().join("earmark.sqlite")).unwrap();
    (dir, cache)
}

pub fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}
