//! Formats other tools make, made by ffmpeg here: Opus in WebM/Matroska (what
//! yt-dlp saves) and its tags, PCM in Matroska, ffmpeg's ALAC in CAF,
//! Matroska's channel count, and the
//! formats earmark cannot decode (WavPack, WMA, AC-3, TTA, Wave64, RF64,
//! Speex), which must be named as such, not called truncated; a tag write on
//! any of them is refused in one line and leaves the file as it was.
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;
mod tags_common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{earmark, ffmpeg, text};
use tags_common::reader;

/// Eight seconds of a stereo chord with a beat: two different channels.
fn source(dir: &Path) -> Option<PathBuf> {
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=220:duration=8:sample_rate=44100",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=330:duration=8:sample_rate=44100:beep_factor=4",
            "-filter_complex",
            "[0][1]join=inputs=2:channel_layout=stereo",
            "-c:a",
            "pcm_s16le",
        ],
        &dir.join("source.wav"),
    )
}

/// ffmpeg's decode of a file, interleaved f32.
fn ffmpeg_f32(path: &Path) -> Vec<f32> {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-f", "f32le", "-c:a", "pcm_f32le", "-"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ffmpeg could not decode {}",
        path.display()
    );
    out.stdout
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

fn decoded(path: &Path) -> (earmark::audio::SourceInfo, Vec<f32>) {
    earmark::audio::decode_all(path).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn opus_in_webm_and_matroska_decodes_as_in_ogg() {
    let dir = tempfile::tempdir().unwrap();
    let Some(src) = source(dir.path()) else {
        return;
    };
    let s = src.to_str().unwrap();
    let ogg = ffmpeg(
        &["-i", s, "-c:a", "libopus", "-b:a", "96k"],
        &dir.path().join("a.opus"),
    )
    .unwrap();
    let (ogg_info, ogg_pcm) = decoded(&ogg);
    assert_eq!(ogg_info.channels, 2);
    // the encoder's delay (pre-skip, 312 frames) is dropped, as ffmpeg drops
    // it: same length, samples aligned (two Opus decoders differ by ~1e-3;
    // a 6.5-ms shift of these tones differs by a tenth of full scale)
    let reference = ffmpeg_f32(&ogg);
    assert_eq!(
        ogg_pcm.len(),
        reference.len(),
        "Ogg Opus length against ffmpeg's"
    );
    let worst = ogg_pcm
        .iter()
        .zip(&reference)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(worst < 0.02, "Ogg Opus against ffmpeg's decode: {worst}");
    // a seek back to the start drops the warm-up again (a helper's review:
    // the decoder's reset after any seek had forgotten it)
    let mut stream = earmark::audio::AudioStream::open(&ogg).unwrap();
    for _ in 0..20 {
        stream.read().unwrap();
    }
    stream.seek(0.0).unwrap();
    let mut again = Vec::new();
    while let Some(chunk) = stream.read().unwrap() {
        again.extend_from_slice(&chunk);
    }
    assert_eq!(again.len(), ogg_pcm.len(), "after a seek to 0");
    assert!(again == ogg_pcm, "after a seek to 0: other samples");
    // the same Opus packets, only the container changes (-c copy)
    // (MP4's dOps box holds the pre-skip big-endian: read as Ogg's, 0.3 s was lost)
    for name in ["a.webm", "a.mka", "a.mp4"] {
        let o = ogg.to_str().unwrap();
        let remuxed = ffmpeg(&["-i", o, "-c", "copy"], &dir.path().join(name)).unwrap();
        let (info, pcm) = decoded(&remuxed);
        assert_eq!((info.codec.as_str(), info.channels), ("opus", 2), "{name}");
        assert_eq!(info.sample_rate, 48_000, "{name}");
        // Ogg trims the end by its last granule, Matroska does not: the
        // start (pre-skip dropped in both) and every sample before the end match
        assert!(
            pcm.len() >= ogg_pcm.len() && pcm.len() - ogg_pcm.len() < 2 * 960 * 2,
            "{name}: {} samples against Ogg's {}",
            pcm.len(),
            ogg_pcm.len()
        );
        let first = pcm.iter().zip(&ogg_pcm).position(|(a, b)| a != b);
        assert_eq!(first, None, "{name}: first sample that differs from Ogg's");
    }
    // and the app's headless commands take it: info says stereo Opus
    let out = earmark()
        .arg("info")
        .arg(dir.path().join("a.webm"))
        .output()
        .unwrap();
    let said = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        said.contains("opus") && said.contains("channels    2"),
        "{said}"
    );
}

#[test]
fn matroska_says_how_many_channels_it_holds() {
    let dir = tempfile::tempdir().unwrap();
    let Some(src) = source(dir.path()) else {
        return;
    };
    for (name, codec) in [
        ("v.mka", "libvorbis"),
        ("f.mka", "flac"),
        ("m.mka", "libmp3lame"),
    ] {
        let f = ffmpeg(
            &["-i", src.to_str().unwrap(), "-c:a", codec],
            &dir.path().join(name),
        )
        .unwrap();
        assert_eq!(decoded(&f).0.channels, 2, "{name}");
    }
    // four channels, for which symphonia's reader gives no layout: the
    // stream's own header says (FLAC's decoder, Vorbis's identification header)
    let quad = ffmpeg(
        &[
            "-i",
            src.to_str().unwrap(),
            "-filter_complex",
            "[0]pan=quad|c0=c0|c1=c1|c2=c0|c3=c1",
            "-c:a",
            "flac",
        ],
        &dir.path().join("q.mkv"),
    )
    .unwrap();
    assert_eq!(decoded(&quad).0.channels, 4, "FLAC, four channels");
    let quad_vorbis = ffmpeg(
        &["-i", quad.to_str().unwrap(), "-c:a", "libvorbis"],
        &dir.path().join("q.mka"),
    )
    .unwrap();
    assert_eq!(decoded(&quad_vorbis).0.channels, 4, "Vorbis, four channels");
}

/// Opus from a low-rate source in WebM (ffmpeg, and yt-dlp's conversions,
/// store the encoder's input rate, 16 kHz here, in Matroska's header): read
/// at 48 kHz as Opus always decodes, as the same stream in Ogg is. It was
/// read at 16 kHz: three times the length, heard slowed down.
#[test]
fn low_rate_opus_in_webm_is_read_at_48_khz() {
    let dir = tempfile::tempdir().unwrap();
    let Some(src) = source(dir.path()) else {
        return;
    };
    let s = src.to_str().unwrap();
    let low = ffmpeg(
        &["-i", s, "-ar", "16000", "-c:a", "pcm_s16le"],
        &dir.path().join("low.wav"),
    )
    .unwrap();
    let l = low.to_str().unwrap();
    let webm = ffmpeg(&["-i", l, "-c:a", "libopus"], &dir.path().join("low.webm")).unwrap();
    let ogg = ffmpeg(&["-i", l, "-c:a", "libopus"], &dir.path().join("low.opus")).unwrap();
    let (info, pcm) = decoded(&webm);
    let (ogg_info, ogg_pcm) = decoded(&ogg);
    assert_eq!((info.sample_rate, ogg_info.sample_rate), (48_000, 48_000));
    let seconds = pcm.len() as f64 / info.channels as f64 / 48_000.0;
    assert!((seconds - 8.0).abs() < 0.1, "{seconds} s of an 8-s source");
    assert!(
        (pcm.len() as f64 - ogg_pcm.len() as f64).abs() < 2.0 * 960.0 * 2.0,
        "WebM {} samples against Ogg's {}",
        pcm.len(),
        ogg_pcm.len()
    );
    let d = info.duration_s.unwrap_or_default();
    assert!((d - 8.0).abs() < 0.1, "declared duration {d}");
    assert_eq!(
        info.bits_per_sample, None,
        "a lossy stream has no bit depth"
    );
}

/// A fragmented MP4 (ffmpeg's `+frag_keyframe+empty_moov`, streamed
/// recordings) declares 0 frames up front: its length is unknown, not 0:00
/// (the app's Track pane and player said 0:00 / 0:00). A genre write is
/// refused as unsupported (it was counted as an I/O failure), file untouched.
#[test]
fn a_fragmented_mp4_has_no_zero_length() {
    let dir = tempfile::tempdir().unwrap();
    let Some(src) = source(dir.path()) else {
        return;
    };
    let frag = ffmpeg(
        &[
            "-i",
            src.to_str().unwrap(),
            "-c:a",
            "aac",
            "-movflags",
            "+frag_keyframe+empty_moov+default_base_moof",
        ],
        &dir.path().join("frag.m4a"),
    )
    .unwrap();
    let (info, pcm) = decoded(&frag);
    assert!(pcm.len() > 44_100 * 2 * 7, "the audio is all there");
    assert_ne!(info.duration_s, Some(0.0));
    let before = std::fs::read(&frag).unwrap();
    let out = earmark()
        .args(["tag", "--genre", "Rock"])
        .arg(&frag)
        .output()
        .unwrap();
    let said = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("(1 unsupported)"), "{said}");
    assert_eq!(std::fs::read(&frag).unwrap(), before, "left as it was");
}

/// PCM in Matroska (OBS, some recorders) decodes to the source's samples:
/// symphonia's PCM decoder wants a block size the container does not give
/// ("maximum frames per packet is required" said unsupported codec).
#[test]
fn pcm_in_matroska_decodes_to_the_source_samples() {
    let dir = tempfile::tempdir().unwrap();
    let Some(src) = source(dir.path()) else {
        return;
    };
    let (_, wav) = decoded(&src);
    for (name, codec) in [("s16.mka", "pcm_s16le"), ("f32.mkv", "pcm_f32le")] {
        let f = ffmpeg(
            &["-i", src.to_str().unwrap(), "-c:a", codec],
            &dir.path().join(name),
        )
        .unwrap();
        let (info, pcm) = decoded(&f);
        assert_eq!((info.channels, info.sample_rate), (2, 44_100), "{name}");
        assert!(pcm == wav, "{name}: other samples than the WAV's");
    }
}

/// Matroska's own tags (yt-dlp's WebM downloads) show: lofty cannot read
/// them, and guessing from the content took PCM samples for AAC ("cannot
/// read tags: failed to parse Aac file"). A genre write is still refused.
#[test]
fn matroska_tags_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let Some(src) = source(dir.path()) else {
        return;
    };
    let s = src.to_str().unwrap();
    let tagged = ffmpeg(
        &[
            "-i",
            s,
            "-c:a",
            "libopus",
            "-metadata",
            "genre=Jazz",
            "-metadata",
            "artist=Somebody",
            "-metadata",
            "album=Live",
            "-metadata",
            "title=A Song",
        ],
        &dir.path().join("t.webm"),
    )
    .unwrap();
    let tags = earmark::tags::read_tags(&tagged).unwrap();
    assert_eq!(tags.genres, ["Jazz"]);
    assert_eq!(tags.artist.as_deref(), Some("Somebody"));
    assert_eq!(tags.album.as_deref(), Some("Live"));
    // (ffmpeg puts the title in the Segment Info, not among the tags)
    assert_eq!(tags.title.as_deref(), Some("A Song"));
    let pcm = ffmpeg(&["-i", s, "-c:a", "pcm_s16le"], &dir.path().join("p.mka")).unwrap();
    let out = earmark().arg("info").arg(&pcm).output().unwrap();
    let said = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!said.contains("warning"), "{said}");
    let before = std::fs::read(&tagged).unwrap();
    let out = earmark()
        .args(["tag", "--genre", "Rock"])
        .arg(&tagged)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(std::fs::read(&tagged).unwrap(), before, "left as it was");
}

#[test]
fn ffmpegs_alac_in_caf_decodes_to_the_source_samples() {
    let dir = tempfile::tempdir().unwrap();
    let Some(src) = source(dir.path()) else {
        return;
    };
    // ffmpeg wraps ALAC's config in `frma` and `alac` atoms in CAF's cookie
    let caf = ffmpeg(
        &["-i", src.to_str().unwrap(), "-c:a", "alac"],
        &dir.path().join("a.caf"),
    )
    .unwrap();
    let (info, pcm) = decoded(&caf);
    assert_eq!((info.codec.as_str(), info.channels), ("alac", 2));
    assert_eq!(
        pcm,
        decoded(&src).1,
        "ALAC is lossless: the samples must match"
    );
}

/// Files ffmpeg makes that earmark cannot decode: (name, ffmpeg arguments,
/// what `info` says).
const UNDECODABLE: &[(&str, &[&str], &str)] = &[
    ("a.wv", &["-c:a", "wavpack"], "unsupported format: WavPack"),
    (
        "a.wma",
        &["-c:a", "wmav2"],
        "unsupported format: Windows Media",
    ),
    ("a.ac3", &["-c:a", "ac3"], "unsupported format: AC-3"),
    // symphonia drops the track it has no decoder for ("no audio track")
    (
        "ac3.m4a",
        &["-c:a", "ac3"],
        "unsupported codec: AC-3 (Dolby Digital) in MP4",
    ),
    ("a.tta", &["-c:a", "tta"], "unsupported format: TTA"),
    (
        "a.w64",
        &["-c:a", "pcm_s16le"],
        "unsupported format: Wave64",
    ),
    (
        "rf64.wav",
        &["-c:a", "pcm_s16le", "-rf64", "always"],
        "unsupported format: RF64",
    ),
    (
        "a.spx",
        &["-ar", "16000", "-ac", "1", "-c:a", "libspeex"],
        "unsupported codec: Speex in Ogg",
    ),
    (
        "mp3.wav",
        &["-c:a", "libmp3lame"],
        "unsupported: wav: unsupported wave format",
    ),
];

#[test]
fn formats_earmark_cannot_decode_are_named_and_never_written() {
    let dir = tempfile::tempdir().unwrap();
    let Some(src) = source(dir.path()) else {
        return;
    };
    let s = src.to_str().unwrap();
    let cases = UNDECODABLE;
    for &(name, args, says) in cases {
        let mut all = vec!["-i", s];
        all.extend_from_slice(args);
        let f = ffmpeg(&all, &dir.path().join(name)).unwrap();
        let out = earmark().arg("info").arg(&f).output().unwrap();
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{name}: one line: {err}");
        assert!(err.contains(says), "{name}: {err}");
        assert!(!err.contains("truncated"), "{name}: {err}");
    }
    // a tag write refuses each it cannot decode (so cannot verify) in one
    // line and changes nothing; Matroska, which earmark decodes, is refused
    // by name too
    let mka = ffmpeg(&["-i", s, "-c:a", "flac"], &dir.path().join("a.mka")).unwrap();
    let data = tempfile::tempdir().unwrap();
    let tag = |f: &Path| {
        earmark()
            .env("EARMARK_DATA_DIR", data.path())
            .env("EARMARK_CACHE_DIR", data.path())
            .args(["tag", "--genre", "Jazz"])
            .arg(f)
            .output()
            .unwrap()
    };
    let refused = cases
        .iter()
        // (AC-3 in MP4 is written: its atoms are checked as bytes; Speex
        // too, by the Ogg writer: every page but the comments' as bytes)
        .filter(|c| !["mp3.wav", "ac3.m4a", "a.spx"].contains(&c.0))
        .map(|c| dir.path().join(c.0))
        .chain([mka.clone()]);
    for f in refused {
        let before = std::fs::read(&f).unwrap();
        let out = tag(&f);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{}: {err}", f.display());
        let first = err.lines().next().unwrap_or_default();
        assert!(
            first.contains("it") && !first.contains("unrecognised file format"),
            "{}: says what it is: {first}",
            f.display()
        );
        assert_eq!(
            std::fs::read(&f).unwrap(),
            before,
            "{} changed",
            f.display()
        );
    }
    let err = text(&tag(&mka).stderr);
    assert!(
        err.contains("Matroska/WebM") && err.contains("which earmark does not write genres to"),
        "{err}"
    );
    // Speex: written, the genre and the rest as mutagen reads them
    let spx = dir.path().join("a.spx");
    if let Some(py) = reader::mutagen_python() {
        let before = reader::dump(&py, std::slice::from_ref(&spx));
        let out = tag(&spx);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let after = reader::dump(&py, std::slice::from_ref(&spx));
        let key = spx.to_str().unwrap();
        assert_eq!(after[key]["genre"], serde_json::json!(["Jazz"]), "{after}");
        assert_eq!(after[key]["others"], before[key]["others"], "{after}");
        assert_eq!(after[key]["length"], before[key]["length"], "{after}");
    }
    // MP3 in WAV: the WAV's own chunks take the genre, the MP3 data is
    // untouched (ffmpeg decodes the same audio and reads the genre)
    let mp3_wav = dir.path().join("mp3.wav");
    let md5 = reader::ffmpeg_md5(&mp3_wav).unwrap();
    let out = tag(&mp3_wav);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        reader::ffmpeg_md5(&mp3_wav).unwrap(),
        md5,
        "the MP3 data changed"
    );
    assert_eq!(
        reader::ffprobe_tags(&mp3_wav)
            .get("genre")
            .map(String::as_str),
        Some("Jazz")
    );
}

/// An Ogg Opus file whose pre-skip is long (RFC 7845 allows up to 65 535
/// samples, 1.4 s): its last granule counts the pre-skip, so the length heard
/// is shorter by it, as mutagen and ffmpeg's decode say. Read as declared,
/// earmark called it cut short: `tag` refused it and `classify` marked it
/// partial.
#[test]
fn a_long_opus_pre_skip_is_not_a_file_cut_short() {
    let dir = tempfile::tempdir().unwrap();
    let Some(src) = source(dir.path()) else {
        return;
    };
    let Some(opus) = ffmpeg(
        &[
            "-i",
            src.to_str().unwrap(),
            "-c:a",
            "libopus",
            "-b:a",
            "48k",
        ],
        &dir.path().join("long-pre-skip.opus"),
    ) else {
        return;
    };
    let mut bytes = std::fs::read(&opus).unwrap();
    let head = bytes.windows(8).position(|w| w == b"OpusHead").unwrap();
    bytes[head + 10..head + 12].copy_from_slice(&65_535u16.to_le_bytes());
    common::reseal_ogg_page(&mut bytes, 0);
    std::fs::write(&opus, &bytes).unwrap();
    let cache = dir.path().join("cache");
    let out = earmark()
        .env("EARMARK_CACHE_DIR", &cache)
        .args(["tag", "-g", "Jazz"])
        .arg(&opus)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = earmark()
        .env("EARMARK_CACHE_DIR", &cache)
        .args(["classify", "--model", "fast", "--json"])
        .arg(&opus)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v[0].get("partial").is_none(), "{v}");
    let duration = v[0]["duration_s"].as_f64().unwrap();
    assert!(
        (duration - (8.0 - 65_535.0 / 48_000.0)).abs() < 0.1,
        "{duration}"
    );
}
