//! Hostile and odd audio (issue 13), as generated files: NaN/Inf samples,
//! lying sample rates and channel counts, FIFOs, devices and folders named like
//! audio, clips too short or too silent to judge, a damaged AAC packet, control
//! characters in names, out-of-range options. Each: no panic, bounded time and
//! memory, the documented message and exit code.
#![allow(clippy::unwrap_used)] // a test (or bench) that cannot unwrap has failed

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use common::{earmark, text};
use serde_json::Value;

/// A WAV with any header values, `fmt` 1 (PCM) or 3 (float).
fn wav(rate: u32, channels: u16, format: u16, bits: u16, data: &[u8]) -> Vec<u8> {
    let block = channels.wrapping_mul(bits / 8);
    let mut fmt = Vec::new();
    fmt.extend_from_slice(&format.to_le_bytes());
    fmt.extend_from_slice(&channels.to_le_bytes());
    fmt.extend_from_slice(&rate.to_le_bytes());
    fmt.extend_from_slice(&rate.wrapping_mul(u32::from(block)).to_le_bytes());
    fmt.extend_from_slice(&block.to_le_bytes());
    fmt.extend_from_slice(&bits.to_le_bytes());
    let mut body = b"WAVEfmt ".to_vec();
    body.extend_from_slice(&(fmt.len() as u32).to_le_bytes());
    body.extend_from_slice(&fmt);
    body.extend_from_slice(b"data");
    body.extend_from_slice(&(data.len() as u32).to_le_bytes());
    body.extend_from_slice(data);
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

/// An AIFF (16-bit PCM) whose COMM chunk says `rate` (80-bit extended float).
fn aiff(rate: f64, channels: i16, frames: u32) -> Vec<u8> {
    let mut comm = Vec::new();
    comm.extend_from_slice(&channels.to_be_bytes());
    comm.extend_from_slice(&frames.to_be_bytes());
    comm.extend_from_slice(&16i16.to_be_bytes());
    // 80-bit IEEE extended: sign+exponent (bias 16383), explicit integer bit.
    let exp = rate.log2().floor() as i32;
    let mantissa = (rate / 2f64.powi(exp) * 2f64.powi(63)) as u64;
    comm.extend_from_slice(&((exp + 16383) as u16).to_be_bytes());
    comm.extend_from_slice(&mantissa.to_be_bytes());
    let samples = vec![0x10u8; frames as usize * 2 * channels.max(1) as usize];
    let mut ssnd = vec![0u8; 8];
    ssnd.extend_from_slice(&samples);
    let mut body = b"AIFF".to_vec();
    for (id, chunk) in [(b"COMM", &comm), (b"SSND", &ssnd)] {
        body.extend_from_slice(id);
        body.extend_from_slice(&(chunk.len() as u32).to_be_bytes());
        body.extend_from_slice(chunk);
    }
    let mut out = b"FORM".to_vec();
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(&body);
    out
}

fn au(rate: u32, channels: u32, data: &[u8]) -> Vec<u8> {
    let mut out = b".snd".to_vec();
    for v in [24, data.len() as u32, 3, rate, channels] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    out.extend_from_slice(data);
    out
}

/// `seconds` of a 440 Hz tone as 32-bit float, with a NaN every 1000 samples
/// and one infinity of each sign.
fn float_wav_with_nans(rate: u32, seconds: f32) -> Vec<u8> {
    let n = (rate as f32 * seconds) as usize;
    let mut data = Vec::with_capacity(n * 4);
    for i in 0..n {
        let v = match i {
            5 => f32::INFINITY,
            6 => f32::NEG_INFINITY,
            _ if i % 1000 == 0 => f32::NAN,
            _ => 0.3 * (2.0 * std::f32::consts::PI * 440.0 * i as f32 / rate as f32).sin(),
        };
        data.extend_from_slice(&v.to_le_bytes());
    }
    wav(rate, 1, 3, 32, &data)
}

fn pcm16(samples: usize) -> Vec<u8> {
    (0..samples)
        .flat_map(|i| (((i as f32 * 0.07).sin() * 9000.0) as i16).to_le_bytes())
        .collect()
}

/// Run earmark with a hard time limit; a hang fails the test instead of hanging it.
fn run_bounded(args: &[&OsStr], limit: Duration) -> Output {
    let cache = tempfile::tempdir().unwrap();
    let mut child = earmark()
        .env("EARMARK_CACHE_DIR", cache.path())
        .env("XDG_DATA_HOME", cache.path())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("earmark {args:?} ran past {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn run(args: &[&OsStr]) -> Output {
    run_bounded(args, Duration::from_secs(60))
}

fn no_panic(out: &Output) -> String {
    let err = text(&out.stderr);
    assert!(
        !err.contains("panicked") && out.status.code() != Some(101),
        "panicked:\n{err}"
    );
    err
}

/// `earmark classify --no-cache --model fast [EXTRA…] FILES…`
fn classify_fast(extra: &[&str], files: &[&OsStr]) -> Output {
    let mut args = vec![os("classify"), os("--no-cache"), os("--model"), os("fast")];
    args.extend(extra.iter().map(|e| os(e)));
    args.extend_from_slice(files);
    run(&args)
}

fn os(s: &str) -> &OsStr {
    OsStr::new(s)
}

fn put(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn nan_and_inf_samples_are_silenced_with_a_warning_at_any_rate() {
    let dir = tempfile::tempdir().unwrap();
    let good = put(
        dir.path(),
        "good.wav",
        &wav(22_050, 1, 1, 16, &pcm16(22_050 * 4)),
    );
    for rate in [16_000, 22_050] {
        let f = put(
            dir.path(),
            &format!("nan-{rate}.wav"),
            &float_wav_with_nans(rate, 5.0),
        );
        // In one batch with a good file: both get a result.
        let out = classify_fast(&["--json"], &[f.as_os_str(), good.as_os_str()]);
        no_panic(&out);
        assert_eq!(out.status.code(), Some(0));
        let results: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(results.len(), 2);
        let nan = &results[0];
        let expected = (rate as usize * 5).div_ceil(1000) + 2; // NaNs, +inf, -inf
        let w = nan["warnings"][0].as_str().unwrap();
        assert_eq!(
            w,
            format!(
                "{expected} non-finite samples (NaN, infinity or beyond ±1000) read as silence"
            )
        );
        let probs = nan["prediction"]["probs"].as_array().unwrap();
        assert!(probs.iter().all(|p| p.as_f64().unwrap().is_finite()));
        assert!(results[1]["error"].is_null(), "{}", results[1]);

        // `features` writes finite arrays for it.
        let out_dir = dir.path().join(format!("f{rate}"));
        let out = run(&[
            os("features"),
            f.as_os_str(),
            os("--out"),
            out_dir.as_os_str(),
        ]);
        no_panic(&out);
        assert!(out.status.success());
        let (_, data) = earmark::features::npy::read_f32(
            std::fs::File::open(out_dir.join("mels/00000.npy")).unwrap(),
        )
        .unwrap();
        assert!(data.iter().all(|v| v.is_finite()));
    }
}

/// Found by fuzzing (fuzz/corpus keeps both inputs): a float WAV whose samples
/// are huge but finite (7.7e31) overflowed rubato's FFT to NaN and panicked it;
/// a FLAC whose comment length says 4 GB made symphonia allocate 4 GB.
#[test]
fn absurd_float_samples_and_lying_flac_comment_lengths_fail_softly() {
    let dir = tempfile::tempdir().unwrap();
    let rate = 22_050;
    let data: Vec<u8> = (0..rate * 5)
        .flat_map(|i| {
            let v = if i % 500 == 0 {
                7.7e31
            } else {
                0.3 * (i as f32 * 440.0 / rate as f32 * std::f32::consts::TAU).sin()
            };
            f32::to_le_bytes(v)
        })
        .collect();
    let huge = put(dir.path(), "huge.wav", &wav(rate, 1, 3, 32, &data));
    let out = classify_fast(&["--json"], &[huge.as_os_str()]);
    no_panic(&out);
    assert_eq!(out.status.code(), Some(0));
    let r: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        r[0]["warnings"][0],
        format!(
            "{} non-finite samples (NaN, infinity or beyond ±1000) read as silence",
            (rate as usize * 5).div_ceil(500)
        )
    );

    // every sample absurd: silent, and said why (it read as digital silence)
    let all: Vec<u8> = (0..rate)
        .flat_map(|_| f32::INFINITY.to_le_bytes())
        .collect();
    let inf = put(dir.path(), "inf.wav", &wav(rate, 1, 3, 32, &all));
    let out = classify_fast(&[], &[inf.as_os_str()]);
    let err = no_panic(&out);
    assert!(
        err.contains("inf.wav: silent (its samples are NaN, infinite or beyond ±1000 (read as silence), or digital silence)"),
        "{err}"
    );

    let flac = flac_with_lying_comment_length();
    let liar = put(dir.path(), "liar.flac", &flac);
    let out = classify_fast(&[], &[liar.as_os_str()]);
    let err = no_panic(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("liar.flac: corrupt or truncated audio: a length inside a FLAC comment block is larger than the block"),
        "{err}"
    );
}

/// nebula.flac with its first comment's length turned into 4 GB.
fn flac_with_lying_comment_length() -> Vec<u8> {
    let mut flac = std::fs::read(demo("Max McCracken/nebula.flac")).unwrap();
    let mut at = 4;
    loop {
        let (kind, len) = (
            flac[at] & 0x7f,
            u32::from_be_bytes([0, flac[at + 1], flac[at + 2], flac[at + 3]]) as usize,
        );
        if kind == 4 {
            let body = at + 4;
            let vendor = u32::from_le_bytes(flac[body..body + 4].try_into().unwrap()) as usize;
            let first = body + 4 + vendor + 4;
            flac[first..first + 4].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
            return flac;
        }
        assert_eq!(flac[at] & 0x80, 0, "no comment block in nebula.flac");
        at += 4 + len;
    }
}

/// Peak RSS of waited-for children (kB), from getrusage.
fn children_max_rss_kb() -> i64 {
    let mut ru = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given.
    unsafe {
        libc::getrusage(libc::RUSAGE_CHILDREN, ru.as_mut_ptr());
        ru.assume_init().ru_maxrss
    }
}

#[test]
fn lying_headers_are_refused_fast_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let pcm = pcm16(1000);
    let cases: Vec<(PathBuf, &str)> = vec![
        (
            put(dir.path(), "rate-0.wav", &wav(0, 1, 1, 16, &pcm)),
            "rate-0.wav: corrupt",
        ),
        (
            put(dir.path(), "rate-1.wav", &wav(1, 1, 1, 16, &pcm)),
            "implausible sample rate 1 Hz",
        ),
        (
            put(dir.path(), "rate-max.wav", &wav(u32::MAX, 1, 1, 16, &pcm)),
            "implausible sample rate 4294967295 Hz",
        ),
        (
            put(
                dir.path(),
                "rate-100m.wav",
                &wav(100_000_007, 1, 1, 16, &pcm),
            ),
            "implausible sample rate 100000007 Hz",
        ),
        (
            put(dir.path(), "rate-huge.aiff", &aiff(1e12, 1, 1000)),
            "rate-huge.aiff: corrupt",
        ),
        (
            put(dir.path(), "rate-1.aiff", &aiff(1.0, 1, 1000)),
            "implausible sample rate 1 Hz",
        ),
        (
            put(
                dir.path(),
                "channels-2e31.au",
                &au(8000, 1 << 31, &[0u8; 4000]),
            ),
            "AU channel count 2147483648",
        ),
        (
            put(
                dir.path(),
                "channels-huge.wav",
                &wav(8000, u16::MAX, 1, 16, &pcm),
            ),
            "channels-huge.wav: ",
        ),
        (
            // a `moov` claiming 2^62 bytes: the OS refuses the seek (EINVAL),
            // which was said as "cannot read: Invalid argument"
            put(dir.path(), "moov-2e62.m4a", &{
                let mut b = 24u32.to_be_bytes().to_vec();
                b.extend(b"ftypM4A \0\0\0\0M4A mp42");
                b.extend(1u32.to_be_bytes());
                b.extend(b"moov");
                b.extend((1u64 << 62).to_be_bytes());
                b.extend([0u8; 100]);
                b
            }),
            "moov-2e62.m4a: corrupt or truncated audio: a size in its header points far past",
        ),
    ];
    for (path, want) in &cases {
        let start = Instant::now();
        let out = run_bounded(
            &[
                os("classify"),
                os("--no-cache"),
                os("--model"),
                os("fast"),
                path.as_os_str(),
            ],
            Duration::from_secs(20),
        );
        let err = no_panic(&out);
        assert_eq!(out.status.code(), Some(1), "{}: {err}", path.display());
        assert!(
            err.contains(want),
            "{}: want {want:?} in\n{err}",
            path.display()
        );
        assert_eq!(
            // per file as `tag` and `info` say it: `earmark: FILE: why`
            err.lines().filter(|l| l.starts_with("earmark: ")).count(),
            1,
            "{err}"
        );
        assert!(start.elapsed() < Duration::from_secs(20));
    }
    // Every child above stayed small (the 4 GHz WAV used to grow to 1.5 GB).
    let peak_mb = children_max_rss_kb() / 1024;
    eprintln!("peak RSS of the children: {peak_mb} MB");
    assert!(peak_mb < 400, "a child peaked at {peak_mb} MB");
}

#[test]
fn too_short_or_silent_clips_get_no_genre() {
    let dir = tempfile::tempdir().unwrap();
    let one = put(
        dir.path(),
        "one-sample.wav",
        &wav(16_000, 1, 1, 16, &pcm16(1)),
    );
    let au36 = put(dir.path(), "tiny.au", &au(8000, 1, &[0x40u8; 12]));
    assert_eq!(std::fs::metadata(&au36).unwrap().len(), 36);
    let silent = put(
        dir.path(),
        "silent.wav",
        &wav(16_000, 1, 1, 16, &vec![0u8; 16_000 * 20]),
    );
    let half = put(
        dir.path(),
        "half-second.wav",
        &wav(16_000, 1, 1, 16, &pcm16(8_000)),
    );
    let cases = [
        (&one, "one-sample.wav: too short to judge"),
        (&half, "half-second.wav: too short to judge"),
        (&au36, "tiny.au: too short to judge"),
        (&silent, "silent.wav: silent"),
    ];
    for (path, want) in cases {
        let out = classify_fast(&[], &[path.as_os_str()]);
        let err = no_panic(&out);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains(want), "want {want:?} in {err}");
        assert!(!text(&out.stdout).contains('%'), "a genre from nothing");
    }
}

/// GTZAN's thin-genre excerpts run 2-3 s, under one 3-s segment: they are
/// repeat-padded and judged (the held-out evaluation includes them).
#[test]
fn a_two_second_clip_is_judged() {
    let dir = tempfile::tempdir().unwrap();
    let two = put(
        dir.path(),
        "two-seconds.wav",
        &wav(22_050, 1, 1, 16, &pcm16(44_100)),
    );
    let out = classify_fast(&[], &[two.as_os_str()]);
    let err = no_panic(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(text(&out.stdout).contains('%'), "{}", text(&out.stdout));
}

fn mkfifo(p: &Path) {
    let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

#[test]
fn only_regular_files_are_opened() {
    let dir = tempfile::tempdir().unwrap();
    let good = put(
        dir.path(),
        "good.wav",
        &wav(22_050, 1, 1, 16, &pcm16(22_050 * 4)),
    );
    let fifo = dir.path().join("fifo.mp3");
    mkfifo(&fifo);
    let folder = dir.path().join("x.mp3");
    std::fs::create_dir(&folder).unwrap();
    let zero = Path::new("/dev/zero");

    // info returns at once (it used to block on the FIFO for ever).
    for (p, what) in [
        (&fifo, "a FIFO"),
        (&folder, "a directory"),
        (&zero.to_path_buf(), "a character device"),
    ] {
        let out = run_bounded(&[os("info"), p.as_os_str()], Duration::from_secs(10));
        let err = no_panic(&out);
        assert_eq!(out.status.code(), Some(1));
        assert!(
            err.contains(&format!("not a regular file ({what}")),
            "{err}"
        );
    }
    // classify of the FIFO alone: one line, as info says it
    let out = classify_fast(&[], &[fifo.as_os_str()]);
    let err = no_panic(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("not a regular file (a FIFO)"), "{err}");
    // classify and features: counted failures beside the good file.
    let named = [
        fifo.as_os_str(),
        folder.as_os_str(),
        zero.as_os_str(),
        good.as_os_str(),
    ];
    let out = classify_fast(&[], &named);
    let err = no_panic(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(err.matches("not a regular file").count(), 3, "{err}");
    assert!(text(&out.stdout).contains("good.wav"));
    let out_dir = dir.path().join("feat");
    let mut args = vec![os("features"), os("--out"), out_dir.as_os_str()];
    args.extend(named);
    let out = run(&args);
    let err = no_panic(&out);
    assert!(
        err.contains("1 file →") && err.contains("(3 skipped)"),
        "{err}"
    );
    // tag: the failures count and the exit code says so.
    let mut args = vec![os("tag"), os("--dry-run"), os("--genre"), os("Jazz")];
    args.extend(named);
    let out = run(&args);
    let err = no_panic(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("3 failed"), "{err}");
}

#[test]
fn a_damaged_aac_packet_is_skipped_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/HyperRogue/caribbean.m4a"))
            .unwrap();
    let at = bytes.windows(4).position(|w| w == b"mdat").unwrap();
    let size = u32::from_be_bytes(bytes[at - 4..at].try_into().unwrap()) as usize;
    let mid = at + size / 2;
    bytes[mid..mid + 64].iter_mut().for_each(|b| *b ^= 0xff);
    let f = put(dir.path(), "damaged.m4a", &bytes);
    let out = classify_fast(&["--json"], &[f.as_os_str()]);
    no_panic(&out);
    assert_eq!(out.status.code(), Some(0));
    let r: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let w = r[0]["warnings"].to_string();
    assert!(w.contains("damaged packet"), "{}", r[0]);
    assert_eq!(r[0]["prediction"]["probs"].as_array().unwrap().len(), 10);
}

#[test]
fn mp4_channels_and_bit_depth_come_from_the_container() {
    let Some(music) = common::shared_music() else {
        return;
    };
    let out = run(&[
        os("info"),
        os("--json"),
        music.join("singularity-enemy-unknown-alac.m4a").as_os_str(),
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("demo/HyperRogue/caribbean.m4a")
            .as_os_str(),
    ]);
    let r: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    // ffprobe: ALAC 2 channels, 24-bit; AAC 2 channels.
    assert_eq!(r[0]["audio"]["codec"], "alac");
    assert_eq!(r[0]["audio"]["channels"], 2);
    assert_eq!(r[0]["audio"]["bits_per_sample"], 24);
    assert_eq!(r[1]["audio"]["codec"], "aac");
    assert_eq!(r[1]["audio"]["channels"], 2);
}

#[test]
fn an_ogg_without_a_declared_length_is_heard_over_its_length_and_not_called_partial() {
    let Some(music) = common::shared_music() else {
        return;
    };
    let f = music.join("hyperrogue-caribbean.ogg");
    let out = run(&[os("info"), os("--json"), f.as_os_str()]);
    let r: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let d = r[0]["audio"]["duration_s"].as_f64().unwrap();
    assert!(
        (61.5..63.0).contains(&d),
        "sox and libvorbis: 1:02, got {d}"
    );
    // Its length comes from its packets, measured before decoding, so it is
    // heard in excerpts spread over it like any long file (it was heard by
    // its first 48 s): by plan, so not "partial" (libvorbis plays it to the
    // end), and the last excerpt lies in its last quarter.
    for (windows, analysed) in [("8", 48.0), ("2", 12.0)] {
        let out = classify_fast(&["--json", "--windows", windows], &[f.as_os_str()]);
        let r: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
        let partial = &r[0]["partial"];
        assert_ne!(partial, true, "{windows} windows: {partial}");
        assert_eq!(r[0]["analysed_s"].as_f64().unwrap().round(), analysed);
        assert!((61.5..63.0).contains(&r[0]["duration_s"].as_f64().unwrap()));
        let last = r[0]["prediction"]["segments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["start_s"].as_f64().unwrap())
            .fold(0.0, f64::max);
        assert!(last > 40.0, "{windows} windows: the last patch at {last} s");
        let err = text(&out.stderr);
        assert!(!err.contains("analysed"), "no warning: {err}");
    }
    let out = classify_fast(&[], &[f.as_os_str()]);
    let table = text(&out.stdout);
    assert!(
        table.contains("1:02") && !table.contains("analysed"),
        "{table}"
    );
}

/// The same Ogg's granule positions make symphonia call every seek target
/// out of range: the player's seeks (forward and back) walk its packets
/// instead of stopping playback with "cannot seek", and land where asked.
#[test]
fn an_ogg_whose_seek_table_fails_is_sought_by_walking_its_packets() {
    let Some(music) = common::shared_music() else {
        return;
    };
    let f = music.join("hyperrogue-caribbean.ogg");
    let mut stream = earmark::audio::AudioStream::open(&f).unwrap();
    stream.read().unwrap().expect("audio at the start");
    for target in [45.0, 10.0, 30.5] {
        let at = stream
            .seek(target)
            .unwrap_or_else(|e| panic!("seek to {target}: {e}"));
        assert!((at - target).abs() < 0.5, "asked {target}, at {at}");
        let chunk = stream.read().unwrap().expect("audio after the seek");
        assert!(!chunk.is_empty());
    }
    // past the end: at the end, nothing more to play
    let at = stream.seek(600.0).unwrap();
    assert!((61.5..63.0).contains(&at), "{at}");
    assert!(stream.read().unwrap().is_none());
}

#[test]
fn control_characters_in_names_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let name = "clear\u{1b}[2J\nsplit.wav";
    let f = put(dir.path(), name, &wav(22_050, 1, 1, 16, &pcm16(22_050 * 4)));
    for fmt in [None, Some("--csv")] {
        let out = classify_fast(fmt.as_slice(), &[f.as_os_str()]);
        no_panic(&out);
        let stdout = text(&out.stdout);
        assert!(!stdout.contains('\u{1b}'), "{stdout:?}");
        assert!(stdout.contains("clear\\u{1b}[2J\\nsplit.wav"), "{stdout:?}");
        // Header + one row (table) or header + 3 ranks (CSV): no split rows.
        assert_eq!(
            stdout.lines().count(),
            if fmt.is_some() { 4 } else { 2 },
            "{stdout:?}"
        );
    }
    let out = run(&[os("info"), f.as_os_str()]);
    assert!(!text(&out.stdout).contains('\u{1b}'));
    // eval's misclassified list and similar's neighbours name files too
    let genre = dir.path().join("set/jazz");
    std::fs::create_dir_all(&genre).unwrap();
    std::fs::rename(&f, genre.join(name)).unwrap();
    let set = dir.path().join("set");
    let eval = run(&[os("eval"), os("--model"), os("fast"), set.as_os_str()]);
    let similar = run(&[
        os("similar"),
        os("--model"),
        os("fast"),
        genre.join(name).as_os_str(),
        os("--each"),
    ]);
    for out in [&eval, &similar] {
        let all = text(&out.stdout) + &text(&out.stderr);
        assert!(!all.contains('\u{1b}'), "{all:?}");
        assert!(!all.contains("\nsplit"), "{all:?}");
    }
    assert!(text(&eval.stdout).contains("clear\\u{1b}[2J\\nsplit.wav"));
    std::fs::rename(genre.join(name), &f).unwrap();
    // JSON keeps the real name (serde escapes it).
    let out = classify_fast(&["--json"], &[f.as_os_str()]);
    let r: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(r[0]["path"].as_str().unwrap().ends_with(name));
}

#[test]
fn out_of_range_options_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let f = put(dir.path(), "a.wav", &wav(22_050, 1, 1, 16, &pcm16(22_050)));
    for (flag, value) in [
        ("--windows", "0"),
        ("--windows", "65"),
        ("--windows", "99999999999"),
        ("--top", "0"),
        ("--top", "11"),
        ("--jobs", "0"),
        ("--jobs", "257"),
    ] {
        let out = run(&[os("classify"), os(flag), os(value), f.as_os_str()]);
        let err = no_panic(&out);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}: {err}");
        assert!(err.contains(flag), "{err}");
    }
    let out = run(&[
        os("features"),
        os("--windows"),
        os("100000"),
        os("--out"),
        dir.path().as_os_str(),
        f.as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(2)); // Every command that analyses takes the same bounds.
    for (cmd, flag, value) in [
        ("learn", "--windows", "65"),
        ("learn", "--jobs", "0"),
        ("similar", "--windows", "0"),
        ("similar", "--jobs", "257"),
        ("similar", "--top", "0"),
    ] {
        let mut args = vec![os(cmd), os(flag), os(value)];
        if cmd == "similar" {
            args.push(f.as_os_str());
        }
        args.push(dir.path().as_os_str());
        let out = run(&args);
        let err = no_panic(&out);
        assert_eq!(out.status.code(), Some(2), "{cmd} {flag} {value}: {err}");
        assert!(err.contains(flag), "{err}");
    }
}

/// A WAV from `wav` with its RIFF and data sizes set to `riff` and `data`.
fn with_sizes(mut bytes: Vec<u8>, riff: u32, data: u32) -> Vec<u8> {
    bytes[4..8].copy_from_slice(&riff.to_le_bytes());
    bytes[40..44].copy_from_slice(&data.to_le_bytes());
    bytes
}

#[test]
fn a_wav_written_to_a_pipe_is_read_to_its_end() {
    // A writer that cannot seek back leaves placeholder sizes: ffmpeg
    // 0xFFFFFFFF, others 0; these once gave "duration 6:45:48" and "no
    // excerpt could be decoded".
    let dir = tempfile::tempdir().unwrap();
    let sound = wav(16_000, 1, 1, 16, &pcm16(16_000 * 50));
    let true_riff = sound.len() as u32 - 8;
    for (name, riff, data) in [
        ("ffmpeg-pipe.wav", u32::MAX, u32::MAX),
        ("zero-sizes.wav", 0, 0),
        ("data-claims-4gb.wav", true_riff, u32::MAX - 7),
    ] {
        let f = put(dir.path(), name, &with_sizes(sound.clone(), riff, data));
        let out = run(&[os("info"), os("--json"), f.as_os_str()]);
        assert!(out.status.success(), "{name}: {}", no_panic(&out));
        let r: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(r[0]["audio"]["duration_s"].as_f64(), Some(50.0), "{name}");
        let out = classify_fast(&["--json"], &[f.as_os_str()]);
        let err = no_panic(&out);
        assert_eq!(out.status.code(), Some(0), "{name}: {err}");
        let r: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
        assert!(
            r[0]["warnings"].to_string().contains("no true length"),
            "{name}: {}",
            r[0]
        );
        assert_ne!(r[0]["partial"], true, "{name}: {}", r[0]); // absent when false
        assert_eq!(r[0]["prediction"]["probs"].as_array().unwrap().len(), 10);
    }
    // ffmpeg writes 0 for the FORM and SSND sizes of an AIFF to a pipe: it
    // reads as long as the same file with its sizes filled in.
    let sound = aiff(8000.0, 1, 8000 * 3);
    let mut piped = sound.clone();
    for size_at in [4, 42] {
        piped[size_at..size_at + 4].fill(0);
    }
    let [sound, piped] =
        [("sound.aiff", sound), ("ffmpeg-pipe.aiff", piped)].map(|(name, bytes)| {
            let out = run(&[
                os("info"),
                os("--json"),
                put(dir.path(), name, &bytes).as_os_str(),
            ]);
            assert!(out.status.success(), "{name}: {}", no_panic(&out));
            let r: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
            r[0]["audio"]["duration_s"].as_f64().unwrap()
        });
    assert_eq!(piped, sound);
    assert!((sound - 3.0).abs() < 0.001, "{sound}");
}

/// Where the first `kind` box starts in MP4 bytes (walking the boxes that
/// lead to sample tables).
fn mp4_box(bytes: &[u8], kind: &[u8; 4]) -> Option<usize> {
    let mut stack = vec![(0usize, bytes.len())];
    while let Some((mut at, end)) = stack.pop() {
        while at + 8 <= end {
            let size = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
            let name = &bytes[at + 4..at + 8];
            if name == kind {
                return Some(at);
            }
            if [&b"moov"[..], b"trak", b"mdia", b"minf", b"stbl"].contains(&name) {
                stack.push((at + 8, at + size));
            }
            at += size.max(8);
        }
    }
    None
}

/// The demo Vorbis file with its comment header's vendor length made 4 GB
/// (the page's checksum made right again, so only the length lies).
fn ogg_with_lying_comment_length() -> Vec<u8> {
    let mut ogg = std::fs::read(demo("hell-reprise.ogg")).unwrap();
    let at = ogg.windows(7).position(|w| w == b"\x03vorbis").unwrap() + 7;
    ogg[at..at + 4].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    let page = ogg[..at].windows(4).rposition(|w| w == b"OggS").unwrap();
    common::reseal_ogg_page(&mut ogg, page);
    ogg
}

/// The demo Vorbis file's identification header, then a setup header of
/// under a kilobyte whose eight codebooks claim 8 M entries of 16
/// dimensions each, with complete codes (symphonia built them: 512 MB
/// apiece, past 4 GB at the eighth).
fn vorbis_with_huge_codebooks() -> Vec<u8> {
    let demo = std::fs::read(demo("hell-reprise.ogg")).unwrap();
    let id_len = usize::from(demo[27]);
    let id = &demo[28..28 + id_len];
    let mut bits = Bits::default();
    bits.put(8 - 1, 8);
    let entries: u32 = (1 << 23) + 1;
    for _ in 0..8 {
        bits.put(0x56_4342, 24).put(16, 16).put(entries, 24);
        bits.put(1, 1).put(0, 5); // lengths ordered, from 1
        // one entry of length 1, none of 2-23, 2^23 of length 24
        let mut at = 0;
        for run in std::iter::once(1).chain([0; 22]).chain([entries - 1]) {
            bits.put(run, 32 - (entries - at).leading_zeros());
            at += run;
        }
        bits.put(1, 4)
            .put(0, 32)
            .put(0, 32)
            .put(0, 4)
            .put(0, 1)
            .put(0, 2);
    }
    let mut setup = b"\x05vorbis".to_vec();
    setup.extend(bits.bytes);
    let mut ogg = common::ogg_page(id, 0x02, 0, 5, 0);
    ogg.extend(common::ogg_page(
        b"\x03vorbis\0\0\0\0\0\0\0\0\x01",
        0,
        0,
        5,
        1,
    ));
    ogg.extend(common::ogg_page(&setup, 0, 0, 5, 2));
    ogg
}

/// A CAF of ALAC audio: its description, a `kuki` chunk of `cookie`
/// claiming `cookie_size` bytes, a one-packet table, 64 bytes of audio.
fn caf_alac(cookie_size: i64, cookie: &[u8]) -> Vec<u8> {
    let chunk = |kind: &[u8], size: i64, body: &[u8]| [kind, &size.to_be_bytes(), body].concat();
    let mut desc = 44_100f64.to_be_bytes().to_vec();
    desc.extend_from_slice(b"alac");
    for n in [1u32, 0, 4096, 2, 0] {
        desc.extend_from_slice(&n.to_be_bytes());
    }
    let mut pakt = [1i64.to_be_bytes(), 4096i64.to_be_bytes(), [0; 8]].concat();
    pakt.push(10);
    [
        b"caff\0\x01\0\0".to_vec(),
        chunk(b"desc", 32, &desc),
        chunk(b"kuki", cookie_size, cookie),
        chunk(b"pakt", pakt.len() as i64, &pakt),
        chunk(b"data", 68, &[0; 68]),
    ]
    .concat()
}

/// A Matroska element: its ID, an 8-byte size (`size`, else the body's),
/// its body.
fn mkv_el(id: u32, size: Option<u64>, body: &[u8]) -> Vec<u8> {
    let id = id.to_be_bytes();
    let id = &id[id.iter().position(|&b| b != 0).unwrap()..];
    let size = size.unwrap_or(body.len() as u64) | 1 << 56;
    [id, &size.to_be_bytes(), body].concat()
}

/// A WebM file: `tracks`, then a Cluster holding `block`.
fn matroska(tracks: Vec<u8>, block: Vec<u8>) -> Vec<u8> {
    let el = |id: u32, body: &[u8]| mkv_el(id, None, body);
    let header = el(0x1A45_DFA3, &el(0x4282, b"webm"));
    let info = el(0x1549_A966, &el(0x2A_D7B1, &[0x0F, 0x42, 0x40]));
    let cluster = el(0x1F43_B675, &[el(0xE7, &[0]), block].concat());
    [header, el(0x1853_8067, &[info, tracks, cluster].concat())].concat()
}

/// Bits written least-significant first, as Vorbis packs them.
#[derive(Default)]
struct Bits {
    bytes: Vec<u8>,
    used: usize,
}

impl Bits {
    fn put(&mut self, value: u32, width: u32) -> &mut Self {
        for i in 0..width {
            if self.used.is_multiple_of(8) {
                self.bytes.push(0);
            }
            *self.bytes.last_mut().unwrap() |= (((value >> i) & 1) as u8) << (self.used % 8);
            self.used += 1;
        }
        self
    }
}

fn demo(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("demo")
        .join(name)
}

/// `earmark info FILE` with its address space capped at 4 GB: a lying
/// header that makes a decoder allocate what it claims aborts the process.
fn info_in_4_gb(file: &Path) -> Output {
    use std::os::unix::process::CommandExt;
    let mut cmd = earmark();
    cmd.arg("info").arg(file).stdin(Stdio::null());
    // SAFETY: setrlimit is async-signal-safe; nothing else runs before exec.
    unsafe {
        cmd.pre_exec(|| {
            let cap = libc::rlimit {
                rlim_cur: 4 << 30,
                rlim_max: 4 << 30,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &cap) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
    cmd.output().unwrap()
}

/// Entry counts and lengths inside MP4 sample tables, Ogg comment headers,
/// Vorbis codebooks, FLAC metadata (behind thousands of empty blocks, or
/// junk in front of the container), ID3v2 frames (also past junk), CAF chunks and ALAC cookies, Matroska
/// elements and lacing that claim gigabytes:
/// each file is refused in one line, within 4 GB of address space (before,
/// the decoder's allocation of what they claimed aborted the process).
#[cfg(unix)]
#[test]
fn lying_container_lengths_are_refused_within_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let m4a = std::fs::read(demo("HyperRogue/caribbean.m4a")).unwrap();
    let mut cases = Vec::new();
    for (table, count_at) in [(b"stsc", 12), (b"stco", 12), (b"stsz", 16)] {
        let mut bytes = m4a.clone();
        let at = mp4_box(&bytes, table).unwrap() + count_at;
        bytes[at..at + 4].copy_from_slice(&u32::MAX.to_be_bytes());
        let name = format!("{}.m4a", String::from_utf8_lossy(table));
        let why = format!(
            "its MP4 `{}` table claims more entries than its box holds",
            String::from_utf8_lossy(table)
        );
        cases.push((put(dir.path(), &name, &bytes), why));
    }
    cases.push((
        put(dir.path(), "comment.ogg", &ogg_with_lying_comment_length()),
        "a length inside an Ogg comment or picture header is larger than the header".into(),
    ));
    // 5000 empty PADDING blocks after STREAMINFO, then a comment block
    // whose first comment claims 4 GB.
    let flac = flac_with_lying_comment_length();
    let first_end = 8 + u32::from_be_bytes([0, flac[5], flac[6], flac[7]]) as usize;
    let mut padded = flac[..first_end].to_vec();
    for _ in 0..5000 {
        padded.extend_from_slice(&[1, 0, 0, 0]);
    }
    padded.extend_from_slice(&flac[first_end..]);
    cases.push((
        put(dir.path(), "blocks.flac", &padded),
        "more than 4096 FLAC metadata blocks".into(),
    ));
    // the same lies behind junk: symphonia's probe finds the container past
    // it, so must the checks
    let junk_before = |name: &str, bytes: &[u8]| {
        let mut junked = vec![0u8; 100];
        junked.extend_from_slice(bytes);
        put(dir.path(), name, &junked)
    };
    let (stsc, stsc_why) = (std::fs::read(&cases[0].0).unwrap(), cases[0].1.clone());
    cases.push((junk_before("junk-stsc.m4a", &stsc), stsc_why));
    let (comment, comment_why) = (std::fs::read(&cases[3].0).unwrap(), cases[3].1.clone());
    cases.push((junk_before("junk-comment.ogg", &comment), comment_why));
    // an ID3v2.3 tag whose frame claims 4 GB past junk: the probe reads a
    // tag wherever it meets one (in front, the decoder starts past it: below)
    cases.push((
        junk_before("junk-frame.mp3", &mp3_behind_a_lying_id3_frame()),
        "its ID3v2 tag holds a frame larger than the tag".into(),
    ));
    cases.push((
        put(dir.path(), "codebooks.ogg", &vorbis_with_huge_codebooks()),
        "its Vorbis setup header claims codebooks far larger than any encoder writes".into(),
    ));
    // a CAF cookie chunk claiming 8 GB; an ALAC cookie whose frame length
    // sizes 34 GB of decoder buffers
    cases.push((
        put(dir.path(), "kuki.caf", &caf_alac(8 << 30, &[0; 24])),
        "its CAF `kuki` chunk runs past the end of the file".into(),
    ));
    let mut cookie = u32::MAX.to_be_bytes().to_vec();
    cookie.extend_from_slice(&[0, 16, 40, 10, 14, 2, 0, 255]);
    cookie.extend_from_slice(&[0; 12]);
    cases.push((
        put(dir.path(), "frame-length.caf", &caf_alac(24, &cookie)),
        "its ALAC configuration claims frames far longer than any encoder writes".into(),
    ));
    // Matroska: a Tracks (and TrackEntry) claiming more than the file, so
    // that the 1 TB CodecPrivate inside fits them; an EBML-laced frame of 2^50
    let el = |id: u32, body: &[u8]| mkv_el(id, None, body);
    let entry = [
        el(0xD7, &[1]),
        el(0x73C5, &[1]),
        el(0x86, b"A_MPEG/L3"),
        el(0xE1, &el(0xB5, &44_100f64.to_be_bytes())),
    ]
    .concat();
    let private = mkv_el(0x63A2, Some(1 << 40), &[0; 16]);
    let entry_big = mkv_el(0xAE, Some(1 << 49), &[entry.clone(), private].concat());
    let plain_block = el(0xA3, &[&[0x81, 0, 0, 0x80][..], &[0; 100]].concat());
    cases.push((
        put(
            dir.path(),
            "tracks.mka",
            &matroska(mkv_el(0x1654_AE6B, Some(1 << 50), &entry_big), plain_block),
        ),
        "its Matroska `Tracks` element runs past the end of the file".into(),
    ));
    let mut laced = vec![0x81, 0, 0, 0x86, 1]; // EBML lacing, 2 frames
    laced.extend_from_slice(&(1u64 << 56 | 1 << 50).to_be_bytes());
    laced.extend_from_slice(&[0; 100]);
    cases.push((
        put(
            dir.path(),
            "lacing.mka",
            &matroska(el(0x1654_AE6B, &el(0xAE, &entry)), el(0xA3, &laced)),
        ),
        "its Matroska block's lace sizes are larger than the block".into(),
    ));
    for (path, why) in &cases {
        let out = info_in_4_gb(path);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{}: {err}", path.display());
        assert!(err.contains(why.as_str()), "{}: {err}", path.display());
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}

/// A declared length the file cannot hold (a Xing header claiming 2^32
/// frames, a FLAC total of 2^36 samples; ffmpeg plays both) is no length:
/// the file is read as one that declares none, and judged as its twin with
/// an honest header is; both were "no excerpt could be decoded".
#[test]
fn a_length_the_file_cannot_hold_is_read_as_no_length() {
    let dir = tempfile::tempdir().unwrap();
    let mut mp3 = std::fs::read(demo("Max McCracken/awakening.mp3")).unwrap();
    let xing = mp3.windows(4).position(|w| w == b"Xing").unwrap();
    assert_eq!(mp3[xing + 7] & 1, 1, "the frame count is present");
    mp3[xing + 8..xing + 12].copy_from_slice(&[0xFF; 4]);
    let mut flac = std::fs::read(demo("Max McCracken/nebula.flac")).unwrap();
    // STREAMINFO's total samples: the low 4 bits of byte 21, bytes 22-25
    flac[21] |= 0x0F;
    flac[22..26].copy_from_slice(&[0xFF; 4]);
    for (name, bytes, twin) in [
        ("xing.mp3", mp3, "Max McCracken/awakening.mp3"),
        ("total.flac", flac, "Max McCracken/nebula.flac"),
    ] {
        let lying = put(dir.path(), name, &bytes);
        let honest = demo(twin);
        let out = classify_fast(&["--json"], &[lying.as_os_str(), honest.as_os_str()]);
        assert!(out.status.success(), "{name}: {}", text(&out.stderr));
        let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(got[0]["top"], got[1]["top"], "{name}: {got}");
        let (d0, d1) = (
            got[0]["duration_s"].as_f64().unwrap(),
            got[1]["duration_s"].as_f64().unwrap(),
        );
        assert!((d0 - d1).abs() < 0.5, "{name}: {d0} against {d1}");
    }
    // Sun .au: a size of 4 GB over 3 s of audio is judged as the 3 s; a
    // file cut to 1 s of a declared 3 s says so, as a WAV does (it was
    // classified from its second without a word)
    let tone: Vec<u8> = (0..24_000u32)
        .flat_map(|i| (((i as f32 * 0.07).sin() * 9000.0) as i16).to_be_bytes())
        .collect();
    let mut lying = au(8000, 1, &tone);
    lying[8..12].copy_from_slice(&0xFFFF_FFF0u32.to_be_bytes());
    let mut cut = au(8000, 1, &tone);
    cut.truncate(24 + 16_000);
    let (lying, cut) = (
        put(dir.path(), "lying.au", &lying),
        put(dir.path(), "cut.au", &cut),
    );
    let out = classify_fast(&["--json"], &[lying.as_os_str()]);
    let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(got[0]["top"][0]["genre"].is_string(), "{got}");
    assert!(
        (got[0]["duration_s"].as_f64().unwrap() - 3.0).abs() < 0.1,
        "{got}"
    );
    let out = classify_fast(&[], &[cut.as_os_str()]);
    let err = text(&out.stderr);
    assert!(err.contains("decoded 1.0 s of a declared 3.0 s"), "{err}");
}

/// The demo MP3 behind an ID3v2.3 tag whose frame claims 4 GB.
fn mp3_behind_a_lying_id3_frame() -> Vec<u8> {
    let mut id3 = b"ID3\x03\0\0\0\0\0\x20APIC".to_vec();
    id3.extend_from_slice(&0xFFFF_FFF0u32.to_be_bytes());
    id3.extend_from_slice(&[0; 22]);
    id3.extend(std::fs::read(demo("Max McCracken/awakening.mp3")).unwrap());
    id3
}

/// The ID3v2 tags in front of the audio are not the audio's: the decoder
/// starts past them, so a damaged frame (ffmpeg plays such files) neither
/// stops the file nor costs memory; it was refused as corrupt audio.
#[test]
fn a_damaged_id3_tag_in_front_does_not_stop_the_audio() {
    let dir = tempfile::tempdir().unwrap();
    let frame_in_front = put(dir.path(), "frame.mp3", &mp3_behind_a_lying_id3_frame());
    let out = info_in_4_gb(&frame_in_front);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("duration    0:15"),
        "{}",
        text(&out.stdout)
    );
    let out = classify_fast(&["--json"], &[frame_in_front.as_os_str()]);
    let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(got[0]["top"][0]["genre"].is_string(), "{got}");
}

/// A FLAC whose CD-DA cue sheet has a track offset that is not a multiple of
/// 588 samples (some rippers write them): symphonia refused the whole file
/// over it ("cuesheet track sample offset is not a multiple of 588") where
/// ffmpeg plays it; earmark uses no cue points and shows the block to
/// symphonia as padding, so the audio decodes and is judged.
#[test]
fn a_flac_cue_sheet_symphonia_rejects_does_not_stop_the_audio() {
    let demo =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/Max McCracken/nebula.flac"))
            .unwrap();
    assert_eq!(&demo[..4], b"fLaC");
    let streaminfo_end = 4 + 4 + 34;
    let mut cue = vec![0u8; 128]; // catalog number
    cue.extend(88_200u64.to_be_bytes()); // lead-in samples
    cue.push(0x80); // CD-DA
    cue.extend([0u8; 258]);
    cue.push(1); // one track
    cue.extend(1_000u64.to_be_bytes()); // not a multiple of 588
    cue.push(1); // track number
    cue.extend([0u8; 12 + 14]); // ISRC, flags and reserved
    cue.push(1); // one index point
    cue.extend(0u64.to_be_bytes());
    cue.extend([1, 0, 0, 0]);
    let last = demo[4] & 0x80; // the cue sheet takes STREAMINFO's "last" flag
    let mut file = demo[..4].to_vec();
    file.push(demo[4] & 0x7f);
    file.extend(&demo[5..streaminfo_end]);
    file.push(last | 5);
    file.extend(&(cue.len() as u32).to_be_bytes()[1..]);
    file.extend(&cue);
    file.extend(&demo[streaminfo_end..]);
    let dir = tempfile::tempdir().unwrap();
    let flac = put(dir.path(), "cue.flac", &file);
    let before = std::fs::read(&flac).unwrap();
    let out = classify_fast(&[], &[flac.as_os_str()]);
    let err = no_panic(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(text(&out.stdout).contains('%'), "{}", text(&out.stdout));
    assert!(std::fs::read(&flac).unwrap() == before, "the file changed");
}

/// A WAV of more than 4 GiB with placeholder sizes (a long recording piped
/// out of ffmpeg): its 32-bit sizes cannot describe it, and the tag reader
/// walked its silence as millions of empty chunks (4 bytes of memory per
/// byte past 4 GiB, a 20 GiB file past 10 GB). `info` and `tag` answer at
/// once now, the write refused in one line. (A sparse file: no disk used.)
#[test]
fn a_wav_past_4_gib_is_read_and_refused_in_bounded_time_and_memory() {
    let dir = tempfile::tempdir().unwrap();
    let mut head = wav(44_100, 2, 1, 16, &[]);
    head[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    let data = head.len() - 4;
    head[data..].copy_from_slice(&u32::MAX.to_le_bytes());
    let p = put(dir.path(), "long.wav", &head);
    std::fs::OpenOptions::new()
        .write(true)
        .open(&p)
        .unwrap()
        .set_len((1 << 32) + (256 << 20))
        .unwrap();
    let start = Instant::now();
    let info = run_bounded(&[os("info"), p.as_os_str()], Duration::from_secs(30));
    let err = no_panic(&info);
    assert_eq!(info.status.code(), Some(0), "{err}");
    let tag = run_bounded(
        &[
            os("tag"),
            os("--dry-run"),
            os("--genre"),
            os("Rock"),
            p.as_os_str(),
        ],
        Duration::from_secs(30),
    );
    let err = no_panic(&tag);
    assert_eq!(tag.status.code(), Some(1), "{err}");
    assert!(err.contains("larger than 4 GiB"), "{err}");
    assert!(start.elapsed() < Duration::from_secs(30));
    let peak_mb = children_max_rss_kb() / 1024;
    assert!(peak_mb < 400, "a child peaked at {peak_mb} MB");
}

/// An Ogg file cut short (an interrupted download): symphonia reads it to
/// where it ends and calls that its length, so it was judged as whole. It
/// has no end-of-stream page: the result is partial, with a warning; the
/// whole file is not.
#[test]
fn an_ogg_cut_short_is_judged_as_partial() {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/hell-reprise.ogg");
    let whole = std::fs::read(&demo).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cut = put(dir.path(), "cut.ogg", &whole[..whole.len() * 3 / 10]);
    let out = classify_fast(&["--json"], &[demo.as_os_str(), cut.as_os_str()]);
    let err = no_panic(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let r: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_ne!(r[0]["partial"], true, "{}", r[0]["path"]);
    assert_eq!(r[1]["partial"], true, "{}", r[1]);
    let warning = r[1]["warnings"][0].as_str().unwrap_or_default();
    assert!(
        warning.starts_with("the file ends before its audio stream does"),
        "{}",
        r[1]
    );
}
