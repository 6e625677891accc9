//! Helpers shared by integration tests: generated audio and the earmark binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn earmark() -> Command {
    Command::new(env!("CARGO_BIN_EXE_earmark"))
}

pub fn run(args: &[&std::ffi::OsStr]) -> Output {
    earmark().args(args).output().expect("earmark runs")
}

/// Copy `demo/NAME` to `to`, creating its folder.
pub fn copy_demo(name: &str, to: &Path) {
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("demo")
            .join(name),
        to,
    )
    .unwrap();
}

/// Copies of the demo tracks in `lib` as a library of two genres, two albums
/// each: `game/{one,two}/` (HyperRogue) and `synth/{one,two}/` (Max McCracken).
pub fn demo_two_genre_library(lib: &Path) {
    for (from, to) in [
        ("HyperRogue/hell.wav", "game/one/hell.wav"),
        ("HyperRogue/desert.ogg", "game/one/desert.ogg"),
        ("HyperRogue/caribbean.m4a", "game/two/caribbean.m4a"),
        ("hell-reprise.ogg", "game/two/hell-reprise.ogg"),
        ("Max McCracken/nebula.flac", "synth/one/nebula.flac"),
        ("Max McCracken/awakening.mp3", "synth/one/awakening.mp3"),
        (
            "Max McCracken/enemy-unknown.m4a",
            "synth/two/enemy-unknown.m4a",
        ),
    ] {
        copy_demo(from, &lib.join(to));
    }
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A 16-bit PCM mono WAV of a few tones.
pub fn wav_bytes(seconds: f32, rate: u32) -> Vec<u8> {
    let n = (seconds * rate as f32) as u32;
    let mut data = Vec::with_capacity(n as usize * 2);
    for i in 0..n {
        let t = i as f32 / rate as f32;
        let v = 0.3 * (2.0 * std::f32::consts::PI * 220.0 * t).sin()
            + 0.2 * (2.0 * std::f32::consts::PI * 1375.0 * t).sin();
        data.extend_from_slice(&((v * 32767.0) as i16).to_le_bytes());
    }
    pcm_mono_wav(rate, 16, &data)
}

/// A mono PCM WAV holding `data` (`bits` 8 unsigned or 16 little-endian).
pub fn pcm_mono_wav(rate: u32, bits: u16, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(44 + data.len());
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * u32::from(bits / 8)).to_le_bytes());
    out.extend_from_slice(&(bits / 8).to_le_bytes());
    out.extend_from_slice(&bits.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(data);
    out
}

/// One Ogg page holding one packet (CRC included), as libogg writes it.
pub fn ogg_page(packet: &[u8], header_type: u8, granule: u64, serial: u32, seq: u32) -> Vec<u8> {
    assert!(packet.len() < 255 * 255);
    let mut lacing = vec![255u8; packet.len() / 255];
    lacing.push((packet.len() % 255) as u8);
    let mut page = Vec::new();
    page.extend_from_slice(b"OggS");
    page.push(0);
    page.push(header_type);
    page.extend_from_slice(&granule.to_le_bytes());
    page.extend_from_slice(&serial.to_le_bytes());
    page.extend_from_slice(&seq.to_le_bytes());
    page.extend_from_slice(&[0, 0, 0, 0]);
    page.push(lacing.len() as u8);
    page.extend_from_slice(&lacing);
    page.extend_from_slice(packet);
    reseal_ogg_page(&mut page, 0);
    page
}

/// Makes the checksum of the Ogg page starting at `at` right again after
/// its bytes were edited; returns where the page ends (its lacing says).
pub fn reseal_ogg_page(bytes: &mut [u8], at: usize) -> usize {
    let segments = usize::from(bytes[at + 26]);
    let body: usize = bytes[at + 27..at + 27 + segments]
        .iter()
        .map(|&l| usize::from(l))
        .sum();
    let end = at + 27 + segments + body;
    bytes[at + 22..at + 26].fill(0);
    let crc = ogg_crc(&bytes[at..end]);
    bytes[at + 22..at + 26].copy_from_slice(&crc.to_le_bytes());
    end
}

/// The Ogg page checksum (CRC-32, polynomial 0x04C11DB7, not reflected).
pub fn ogg_crc(data: &[u8]) -> u32 {
    let mut crc = 0u32;
    for &b in data {
        crc ^= (b as u32) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ 0x04C1_1DB7
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// An Ogg Opus stream's header pages: enough for any demuxer to say "Opus".
pub fn opus_bytes() -> Vec<u8> {
    let mut head = b"OpusHead".to_vec();
    head.push(1); // version
    head.push(2); // channels
    head.extend_from_slice(&312u16.to_le_bytes());
    head.extend_from_slice(&48_000u32.to_le_bytes());
    head.extend_from_slice(&0i16.to_le_bytes());
    head.push(0); // mapping family
    let mut tags = b"OpusTags".to_vec();
    tags.extend_from_slice(&7u32.to_le_bytes());
    tags.extend_from_slice(b"earmark");
    tags.extend_from_slice(&0u32.to_le_bytes());
    let mut out = ogg_page(&head, 0x02, 0, 7, 0);
    out.extend(ogg_page(&tags, 0x00, 0, 7, 1));
    // One audio packet (a silent CELT frame), last page.
    out.extend(ogg_page(&[0xF8, 0xFF, 0xFE], 0x04, 960, 7, 2));
    out
}

pub fn shared_music() -> Option<PathBuf> {
    shared("music")
}

pub fn shared_gtzan() -> Option<PathBuf> {
    shared("gtzan")
}

pub fn shared_tagcorpus() -> Option<PathBuf> {
    shared("tagcorpus/taglib")
}

/// `../shared/<name>` beside the repository, when it is there. When it is not,
/// the test fails under CI (`CI=true`) and skips with a message locally.
fn shared(name: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared")
        .join(name);
    if dir.is_dir() {
        Some(dir)
    } else {
        missing(&format!("{} not found", dir.display()));
        None
    }
}

/// Test data or a tool is missing: a failure under CI, a skip message locally,
/// so that no test passes green in CI without having run.
pub fn missing(what: &str) {
    if in_ci() {
        panic!("{what}, and CI=true: this test must run in CI");
    }
    eprintln!("skipped: {what}");
}

pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    std::fs::metadata("/proc/self")
        .map(|m| {
            use std::os::unix::fs::MetadataExt;
            m.uid() == 0
        })
        .unwrap_or(false)
}

/// Run ffmpeg to make `out`; None (a skip locally, a failure under CI) when
/// it is absent.
pub fn ffmpeg(args: &[&str], out: &Path) -> Option<PathBuf> {
    let Ok(status) = Command::new("ffmpeg")
        .args(["-v", "error", "-y"])
        .args(args)
        .arg(out)
        .status()
    else {
        missing("ffmpeg not found (it makes this test's files)");
        return None;
    };
    assert!(status.success(), "ffmpeg failed making {}", out.display());
    Some(out.to_path_buf())
}
