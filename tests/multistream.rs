//! Files that hold more than one stream, as yt-dlp, cameras, iTunes and
//! ffmpeg remuxes make them (a helper's review found each case): the same
//! audio is analysed the same beside a video, a subtitle or a second audio
//! track that ends early, and in a fragmented MP4; an Ogg's genre is its
//! audio stream's, not a Theora video's in front of it (mutagen and ffprobe
//! read each stream back); a video alone is not tagged.
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;
mod tags_common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{earmark, ffmpeg, text};
use serde_json::Value;
use tags_common::reader;

/// `src`'s streams copied into a fragmented MP4 (as DASH and yt-dlp give).
fn fragmented(src: &Path, out: &Path) -> PathBuf {
    let movflags = "+frag_keyframe+empty_moov+default_base_moof";
    let args = [
        "-i",
        src.to_str().unwrap(),
        "-c",
        "copy",
        "-movflags",
        movflags,
    ];
    ffmpeg(&args, out).unwrap()
}

/// `seconds` of video (MPEG-4 part 2: ffmpeg's own encoder) as ffmpeg input args.
fn video(seconds: u32) -> Vec<String> {
    ["-f", "lavfi", "-i"]
        .iter()
        .map(|s| s.to_string())
        .chain([format!("testsrc=size=160x120:rate=10:duration={seconds}")])
        .collect()
}

/// A minute of AAC (long enough to be heard in excerpts), a 15-s subtitle
/// file and a 5-s video beside it.
fn sources(dir: &Path) -> Option<(PathBuf, PathBuf)> {
    let aac = ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=220:beep_factor=4:duration=60:sample_rate=44100",
            "-f",
            "lavfi",
            "-i",
            "anoisesrc=duration=60:amplitude=0.05:sample_rate=44100",
            "-filter_complex",
            "[0][1]amix=inputs=2",
            "-c:a",
            "aac",
            "-b:a",
            "128k",
        ],
        &dir.join("plain.m4a"),
    )?;
    let srt = dir.join("subs.srt");
    std::fs::write(&srt, "1\n00:00:01,000 --> 00:00:15,000\nla la la\n").unwrap();
    Some((aac, srt))
}

fn classify(files: &[PathBuf]) -> Vec<Value> {
    let cache = tempfile::tempdir().unwrap();
    let out = earmark()
        .env("EARMARK_CACHE_DIR", cache.path())
        .args(["classify", "--json", "--no-cache", "--model", "fast"])
        .args(files)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn starts(r: &Value) -> Vec<f64> {
    r["prediction"]["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["start_s"].as_f64().unwrap())
        .collect()
}

/// symphonia's MP4 seek moves every track and fails on one that has ended,
/// and earmark's walk to the target then stopped a packet late: the same
/// AAC beside a 15-s subtitle or a 5-s video got excerpts 23 ms later and
/// probabilities up to 0.28 apart. A fragmented MP4 declares no length and
/// was judged by its first 48 s alone. Each now matches the plain file.
#[test]
fn the_same_audio_is_heard_the_same_beside_other_tracks_and_in_fragments() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let Some((aac, srt)) = sources(d) else {
        return;
    };
    let a = aac.to_str().unwrap();
    let v5 = video(5);
    let mut with_video: Vec<&str> = v5.iter().map(String::as_str).collect();
    with_video.extend([
        "-i", a, "-map", "0:v", "-map", "1:a", "-c:v", "mpeg4", "-c:a", "copy",
    ]);
    let variants = [
        ffmpeg(
            &[
                "-i",
                a,
                "-i",
                srt.to_str().unwrap(),
                "-map",
                "0",
                "-map",
                "1",
                "-c:a",
                "copy",
                "-c:s",
                "mov_text",
            ],
            &d.join("subtitled.mp4"),
        )
        .unwrap(),
        ffmpeg(&with_video, &d.join("short-video-first.mp4")).unwrap(),
        fragmented(&aac, &d.join("fragmented.m4a")),
    ];
    let mut files = vec![aac.clone()];
    files.extend(variants.iter().cloned());
    let rows = classify(&files);
    let plain = &rows[0];
    let plain_starts = starts(plain);
    assert!(
        plain_starts.len() >= 16,
        "heard in excerpts: {plain_starts:?}"
    );
    assert!(
        plain_starts.last().unwrap() > &45.0,
        "excerpts spread over the minute: {plain_starts:?}"
    );
    for (r, f) in rows[1..].iter().zip(&variants) {
        let name = f.file_name().unwrap().to_string_lossy();
        assert_eq!(starts(r), plain_starts, "{name}: where its excerpts start");
        let worst = r["prediction"]["probs"]
            .as_array()
            .unwrap()
            .iter()
            .zip(plain["prediction"]["probs"].as_array().unwrap())
            .map(|(x, y)| (x.as_f64().unwrap() - y.as_f64().unwrap()).abs())
            .fold(0.0, f64::max);
        assert!(worst < 1e-6, "{name}: probabilities {worst} apart");
        assert!(
            (r["duration_s"].as_f64().unwrap() - 60.0).abs() < 0.5,
            "{name}"
        );
        assert_ne!(r["partial"], true, "{name}");
    }
}

/// Each stream's tags as ffprobe reads them: `(codec, genre)`.
fn stream_genres(file: &Path) -> Vec<(String, Option<String>)> {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=codec_name:stream_tags",
            "-of",
            "json",
        ])
        .arg(file)
        .output()
        .expect("run ffprobe");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let genre = s["tags"].as_object().and_then(|t| {
                t.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("genre"))
                    .map(|(_, v)| v.as_str().unwrap().to_string())
            });
            (s["codec_name"].as_str().unwrap().to_string(), genre)
        })
        .collect()
}

/// MD5 of one stream's packets as ffmpeg copies them (`0:v`, `0:a`).
fn packets_md5(file: &Path, map: &str) -> String {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(file)
        .args(["-map", map, "-c", "copy", "-f", "md5", "-"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
}

fn tag(file: &Path, genre: &str, data: &Path) -> std::process::Output {
    tag_with(&["--genre", genre], file, data)
}

fn tag_with(args: &[&str], file: &Path, data: &Path) -> std::process::Output {
    earmark()
        .env("EARMARK_DATA_DIR", data)
        .env("EARMARK_CACHE_DIR", data)
        .arg("tag")
        .args(args)
        .arg(file)
        .output()
        .unwrap()
}

/// A minute of Theora video in front of `aac` made Vorbis, each stream
/// with the `-metadata:s:…` arguments given.
fn theora_first(aac: &Path, out: &Path, metadata: &[&str]) -> PathBuf {
    let v = video(60);
    let mut args: Vec<&str> = v.iter().map(String::as_str).collect();
    args.extend(["-i", aac.to_str().unwrap(), "-map", "0:v", "-map", "1:a"]);
    args.extend(["-c:v", "libtheora", "-c:a", "libvorbis", "-t", "60"]);
    args.extend_from_slice(metadata);
    ffmpeg(&args, out).unwrap()
}

/// A Theora video multiplexed in front of Vorbis audio: the genre was read
/// from and written to the video's comments, the audio's own `GENRE` left
/// as it was and never seen. Now the audio stream's comments are the
/// file's (read and written; the video's packets untouched), and a video
/// stream naming a genre of its own is refused, as an MP3's APE genre is.
#[test]
fn an_oggs_genre_is_its_audio_streams_not_a_videos_in_front() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = tempfile::tempdir().unwrap();
    let Some((aac, _)) = sources(d) else {
        return;
    };
    let Some(py) = reader::mutagen_python() else {
        return;
    };
    let audio = [
        "-metadata:s:a",
        "genre=Game",
        "-metadata:s:a",
        "title=Caves",
    ];
    let audio_only = theora_first(&aac, &d.join("audio-genre.ogg"), &audio);
    let both = theora_first(
        &aac,
        &d.join("both-genres.ogg"),
        &[&audio[..], &["-metadata:s:v", "genre=Game"]].concat(),
    );

    let info = earmark()
        .args(["info", "--json"])
        .arg(&audio_only)
        .output()
        .unwrap();
    let r: Vec<Value> = serde_json::from_slice(&info.stdout).unwrap();
    assert_eq!(r[0]["tags"]["genres"][0], "Game", "{}", text(&info.stderr));
    assert_eq!(r[0]["tags"]["title"], "Caves");

    let video_before = packets_md5(&audio_only, "0:v");
    let out = tag(&audio_only, "Jazz", data.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("Game → Jazz"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(
        stream_genres(&audio_only),
        [
            ("theora".into(), None),
            ("vorbis".into(), Some("Jazz".into()))
        ]
    );
    let m = Command::new(&py)
        .args([
            "-c",
            "import sys, mutagen.oggvorbis as o; t = o.OggVorbis(sys.argv[1]).tags; \
             print(t['genre'], t['title'])",
        ])
        .arg(&audio_only)
        .output()
        .unwrap();
    assert_eq!(
        text(&m.stdout).trim(),
        "['Jazz'] ['Caves']",
        "{}",
        text(&m.stderr)
    );
    assert_eq!(
        packets_md5(&audio_only, "0:v"),
        video_before,
        "video packets"
    );

    let before = std::fs::read(&both).unwrap();
    let out = tag(&both, "Jazz", data.path());
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("Theora video stream's comments hold a genre too (Game)"),
        "{err}"
    );
    assert_eq!(std::fs::read(&both).unwrap(), before, "refused: unchanged");
}

/// A video alone (H.264-less: MPEG-4 part 2 in MP4, Theora in Ogg) was
/// given a genre; a video beside AC-3 audio said "no audio track" where
/// AC-3 alone is named. Now a video alone is refused as not music, in one
/// line, and AC-3 behind a video is named and written as AC-3 alone is.
#[test]
fn a_video_alone_is_not_tagged_and_ac3_behind_a_video_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = tempfile::tempdir().unwrap();
    let v = video(3);
    let args = |extra: &[&'static str]| {
        let mut a: Vec<&str> = v.iter().map(String::as_str).collect();
        a.extend_from_slice(extra);
        a
    };
    let Some(mp4) = ffmpeg(&args(&["-c:v", "mpeg4"]), &d.join("video.mp4")) else {
        return;
    };
    let ogg = ffmpeg(&args(&["-c:v", "libtheora"]), &d.join("video.ogg")).unwrap();
    for f in [&mp4, &ogg] {
        let before = std::fs::read(f).unwrap();
        let out = tag(f, "Jazz", data.path());
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains("music only"), "{err}");
        assert!(err.contains("(1 not audio)"), "counted as not audio: {err}");
        assert_eq!(
            err.lines().filter(|l| l.starts_with("earmark:")).count(),
            1,
            "{err}"
        );
        assert_eq!(std::fs::read(f).unwrap(), before, "unchanged");
    }
    let mut with_ac3 = args(&["-f", "lavfi", "-i", "sine=duration=3"]);
    with_ac3.extend(["-map", "0:v", "-map", "1:a", "-c:v", "mpeg4", "-c:a", "ac3"]);
    let ac3 = ffmpeg(&with_ac3, &d.join("video-ac3.mp4")).unwrap();
    let out = earmark().arg("info").arg(&ac3).output().unwrap();
    assert!(text(&out.stderr).contains("AC-3"), "{}", text(&out.stderr));
    let out = tag(&ac3, "Jazz", data.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        reader::ffprobe_tags(&ac3).get("genre").map(String::as_str),
        Some("Jazz")
    );
}

/// Gives the Ogg stream numbered `from` the serial `to`, each page's
/// checksum made right again.
fn renumber_ogg_stream(bytes: &[u8], from: u32, to: u32) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let mut at = 0;
    while at + 27 <= out.len() && &out[at..at + 4] == b"OggS" {
        if out[at + 14..at + 18] == from.to_le_bytes() {
            out[at + 14..at + 18].copy_from_slice(&to.to_le_bytes());
        }
        // resealing an untouched page leaves its checksum as it was
        at = common::reseal_ogg_page(&mut out, at);
    }
    out
}

/// An Ogg of two audio streams: symphonia lists them by serial number, so
/// earmark heard the second (Vorbis) while `tag` wrote the first's (Opus)
/// comments whenever the first had the higher serial (ffmpeg draws them at
/// random: half such files). Both now take the first in the file, as
/// mutagen's audio classes and ffmpeg's `0:a:0` do.
#[test]
fn an_ogg_of_two_audio_streams_is_heard_and_tagged_by_its_first() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = tempfile::tempdir().unwrap();
    let Some((aac, _)) = sources(d) else {
        return;
    };
    let a = aac.to_str().unwrap();
    let made = ffmpeg(
        &[
            "-i",
            a,
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=880:duration=60",
            "-map",
            "0:a",
            "-map",
            "1:a",
            "-c:a:0",
            "libopus",
            "-c:a:1",
            "libvorbis",
            "-fflags",
            "+bitexact",
        ],
        &d.join("made.ogg"),
    )
    .unwrap();
    // serials 0 (Opus, first) and 1 (Vorbis): the first gets the higher one
    let two = d.join("two.ogg");
    let bytes = std::fs::read(&made).unwrap();
    std::fs::write(&two, renumber_ogg_stream(&bytes, 0, 0xFFFF_FF00)).unwrap();
    let first = ffmpeg(
        &["-i", two.to_str().unwrap(), "-map", "0:0", "-c", "copy"],
        &d.join("first.ogg"),
    )
    .unwrap();
    let rows = classify(&[two.clone(), first]);
    assert_eq!(starts(&rows[0]), starts(&rows[1]));
    assert_eq!(
        rows[0]["prediction"]["probs"], rows[1]["prediction"]["probs"],
        "the first stream is heard"
    );

    let out = tag(&two, "Jazz", data.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        stream_genres(&two),
        [
            ("opus".into(), Some("Jazz".into())),
            ("vorbis".into(), None)
        ]
    );
}

/// Raw AAC (ADTS) declares no length; symphonia's estimate from three
/// samples of frames was taken as one (a healthy file the app's check
/// called cut short, music after a silent start judged silent). It is now
/// measured by its packets, and heard as the same packets in MP4 are.
#[test]
fn raw_aac_is_measured_and_heard_as_in_mp4() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let Some((aac, _)) = sources(d) else {
        return;
    };
    // a minute of silence, then the minute of music
    let adts = ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "anullsrc=r=44100:cl=mono:d=60",
            "-i",
            aac.to_str().unwrap(),
            "-filter_complex",
            "[0:a][1:a]concat=n=2:v=0:a=1",
            "-c:a",
            "aac",
            "-f",
            "adts",
        ],
        &d.join("late.aac"),
    )
    .unwrap();
    let mp4 = ffmpeg(
        &["-i", adts.to_str().unwrap(), "-c", "copy"],
        &d.join("late.m4a"),
    )
    .unwrap();
    let rows = classify(&[adts, mp4]);
    assert_eq!(starts(&rows[0]), starts(&rows[1]));
    assert_eq!(
        rows[0]["prediction"]["probs"],
        rows[1]["prediction"]["probs"]
    );
    let length = rows[0]["duration_s"].as_f64().unwrap();
    assert!((length - 120.0).abs() < 0.5, "{length}");
    assert_ne!(rows[0]["partial"], true);
}

/// Clearing where only a Theora video's comments name a genre: refused by
/// name (it said "(none) (unchanged)", and mutagen's File, which reads a
/// Theora-first file's video comments, went on showing it).
#[test]
fn clearing_beside_a_videos_genre_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = tempfile::tempdir().unwrap();
    let Some((aac, _)) = sources(d) else {
        return;
    };
    let file = theora_first(
        &aac,
        &d.join("video-genre.ogg"),
        &["-metadata:s:v", "genre=VidPop"],
    );
    assert_eq!(stream_genres(&file)[1].1, None, "the audio holds none");
    let before = std::fs::read(&file).unwrap();
    let out = tag_with(&["--clear"], &file, data.path());
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("(VidPop)"), "{err}");
    assert_eq!(std::fs::read(&file).unwrap(), before);
}

/// A fragmented MP4 cut in its audio data (a download stopped) was called
/// "file ends inside its header", as were random bytes named `.aac`: the
/// first is said to be cut short, the second not audio, in one line each.
#[test]
fn a_cut_mp4_and_random_bytes_are_named_for_what_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let Some((aac, _)) = sources(d) else {
        return;
    };
    let frag = fragmented(&aac, &d.join("frag.m4a"));
    let bytes = std::fs::read(&frag).unwrap();
    let cut = d.join("cut.m4a");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).unwrap();
    // pseudo-random bytes, as `head -c … /dev/urandom` gives: sync words
    // turn up by chance, so the probe scans them all to the end
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let noise: Vec<u8> = (0..1_000_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 32) as u8
        })
        .collect();
    let random = d.join("random.aac");
    std::fs::write(&random, noise).unwrap();
    for (f, says) in [(&cut, "cut short"), (&random, "not an audio file")] {
        let out = earmark().arg("info").arg(f).output().unwrap();
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains(says) && err.lines().count() == 1, "{err}");
        assert!(!err.contains("inside its header"), "{err}");
    }
}
