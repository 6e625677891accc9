//! A decoded stream of interleaved f32 frames from any supported file, with
//! seeking: symphonia for the common containers, our own reader for `.au`.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde::Serialize;
use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{
    CODEC_TYPE_AAC, CODEC_TYPE_ALAC, CODEC_TYPE_NULL, CODEC_TYPE_OPUS, Decoder, DecoderOptions,
};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::{FormatOptions, FormatReader, SeekMode, SeekTo};
use symphonia::core::io::{MediaSource, MediaSourceStream};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;
use symphonia::core::units::Time;

use super::AudioError;
use super::au::{self, AuHeader};
use super::open_ended;
use super::sniff::{Sniffed, sniff};

/// What a file holds, as far as decoding is concerned.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SourceInfo {
    pub container: String,
    pub codec: String,
    pub sample_rate: u32,
    pub channels: usize,
    pub bits_per_sample: Option<u32>,
    /// None when the container does not say (some streams); decoding still works.
    pub duration_s: Option<f64>,
}

/// Streaming decoder: `read` yields interleaved frames until it returns None.
pub struct AudioStream {
    path: PathBuf,
    info: SourceInfo,
    inner: Inner,
    /// Position of the next frame `read` will return, in seconds.
    position_s: f64,
    trouble: DecodeTrouble,
}

enum Inner {
    Au {
        file: File,
        header: AuHeader,
        next_frame: u64,
    },
    Sym {
        format: Box<dyn FormatReader>,
        decoder: Box<dyn Decoder>,
        track_id: u32,
        buf: Option<SampleBuffer<f32>>,
        /// Decode errors in a row; many in a row means the file is broken.
        bad_packets: usize,
        good_packets: usize,
        /// The packet a seek by walking stopped at, read before the next
        /// one: it holds the target, so the stream resumes at or before it
        /// as the container's own seek does.
        pending: Option<symphonia::core::formats::Packet>,
    },
}

/// What went wrong along the way without stopping the stream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DecodeTrouble {
    /// Damaged packets skipped (like ffmpeg, which warns and goes on).
    pub skipped_packets: usize,
    /// The stream ended on an error rather than at the end of the file.
    pub ended_early: bool,
    /// The header's sizes were placeholders (a WAV or AIFF written to a
    /// pipe), so the audio was read to the end of the file.
    pub placeholder_sizes: bool,
    /// The file ends before its stream does (an Ogg file without its
    /// end-of-stream page, or cut inside a page): what was heard is a part.
    pub cut_short: bool,
}

/// Frames `read` returns at most for `.au` (symphonia returns one packet).
const AU_CHUNK_FRAMES: u64 = 32_768;
const MAX_CONSECUTIVE_BAD_PACKETS: usize = 64;
/// Packets in a row that hold no audio of the track (empty, or another
/// track's) before the stream counts as ended: a fragmented MP4 can claim
/// four billion empty samples in a few bytes, and walking them spun for
/// ever. Far more than any real file has (an hour of video frames beside
/// an audio track that has ended is about 100 000).
const MAX_PACKETS_WITHOUT_AUDIO: usize = 1_000_000;

impl AudioStream {
    pub fn open(path: &Path) -> Result<Self, AudioError> {
        // Before opening: opening a FIFO blocks for ever, a device never ends.
        let len = super::regular_file_len(path)?;
        let mut file = File::open(path).map_err(|e| AudioError::io(path, e))?;
        if len == 0 {
            return Err(AudioError::Empty {
                path: path.to_path_buf(),
            });
        }
        let mut head = [0u8; 64];
        let n = file.read(&mut head).map_err(|e| AudioError::io(path, e))?;
        let sniffed = sniff(&head[..n]);
        file.seek(SeekFrom::Start(0))
            .map_err(|e| AudioError::io(path, e))?;
        if let Sniffed::Other(what) = sniffed {
            return Err(AudioError::NotAudio {
                path: path.to_path_buf(),
                what: what.into(),
            });
        }
        if sniffed == Sniffed::Audio("Sun/NeXT AU") {
            let header = au::parse_header(&head[..n], len, path)?;
            let info = SourceInfo {
                container: "Sun/NeXT AU".into(),
                codec: header.encoding.name().into(),
                sample_rate: header.sample_rate,
                channels: header.channels,
                bits_per_sample: Some(header.encoding.bits()),
                duration_s: possible_duration(Some(header.declared_s()), len),
            };
            return Ok(AudioStream {
                path: path.to_path_buf(),
                info,
                inner: Inner::Au {
                    file,
                    header,
                    next_frame: 0,
                },
                position_s: 0.0,
                trouble: DecodeTrouble::default(),
            });
        }
        // The decoder starts past the ID3v2 tags in front (the tag reader
        // reads them); then the container it will open, and where: its
        // lengths are checked there first (also behind junk in front).
        let audio_from = super::id3_meta::end_of_leading_tags(&mut file, len, path)?;
        let (container, at) =
            super::sniff::container_start(&mut file, &head[..n], sniffed, len, path)?;
        let mut shown_as_padding = Vec::new();
        let mut cut_short = false;
        match container {
            Sniffed::Undecodable(what) => {
                return Err(AudioError::UnsupportedFormat {
                    path: path.to_path_buf(),
                    what,
                });
            }
            Sniffed::Audio("FLAC") => {
                shown_as_padding = super::flac_meta::check(&mut file, at, len, path)?;
            }
            Sniffed::Audio("MP4") => super::mp4_meta::check(&mut file, at, len, path)?,
            // QuickTime files may start with another box than `ftyp`
            Sniffed::Unknown if at == 0 && super::mp4_meta::starts_like_mp4(&head[..n]) => {
                super::mp4_meta::check(&mut file, 0, len, path)?;
            }
            // (pages are found past anything in front, as symphonia finds them)
            Sniffed::Audio("Ogg") => cut_short = super::ogg_meta::check(&mut file, len, path)?,
            Sniffed::Audio("CAF") => super::caf_meta::check(&mut file, at, len, path)?,
            Sniffed::Audio("Matroska/WebM") => super::mkv_meta::check(&mut file, at, len, path)?,
            _ => {}
        }
        let patches =
            open_ended::plan(&mut file, &head[..n], len).map_err(|e| AudioError::io(path, e))?;
        file.seek(SeekFrom::Start(0))
            .map_err(|e| AudioError::io(path, e))?;
        let placeholder_sizes = !patches.is_empty();
        let patches = [patches, shown_as_padding].concat();
        let source: Box<dyn MediaSource> = if !patches.is_empty() {
            Box::new(open_ended::Patched::new(file, len, patches))
        } else {
            Box::new(file)
        };
        let source: Box<dyn MediaSource> = if audio_from > 0 {
            Box::new(open_ended::StartingAt::new(source, audio_from, len))
        } else {
            source
        };
        // symphonia may panic on hostile input; a bad file must never take the app down.
        let mut stream =
            crate::audio::guard::catch_quietly(|| open_symphonia(path, source, sniffed))
                .map_err(|_| AudioError::corrupt(path, "the demuxer failed on malformed data"))??;
        stream.trouble.placeholder_sizes = placeholder_sizes;
        stream.trouble.cut_short = cut_short;
        stream.info.duration_s = possible_duration(stream.info.duration_s, len);
        Ok(stream)
    }

    pub fn info(&self) -> &SourceInfo {
        &self.info
    }

    /// The text tags the container itself holds, as (name, value) in file
    /// order (Matroska's SimpleTags: `TITLE`, `ARTIST`, `GENRE`…), for the
    /// formats lofty cannot read; empty for the others.
    pub fn container_tags(&mut self) -> Vec<(String, String)> {
        let Inner::Sym { format, .. } = &mut self.inner else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut metadata = format.metadata();
        while !metadata.is_latest() {
            metadata.pop();
        }
        if let Some(rev) = metadata.current() {
            for tag in rev.tags() {
                if let symphonia::core::meta::Value::String(v) = &tag.value {
                    out.push((tag.key.clone(), v.clone()));
                }
            }
        }
        out
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn position_s(&self) -> f64 {
        self.position_s
    }

    /// The stream's length: where it is now plus the remaining packets'
    /// durations, walked without
    /// decoding them (cheap: demuxing only), for containers that do not
    /// declare it; `cancel` is checked between packets. Consumes the stream.
    pub fn length_by_demuxing(&mut self, cancel: &std::sync::atomic::AtomicBool) -> Option<f64> {
        let Inner::Sym {
            format,
            track_id,
            pending,
            ..
        } = &mut self.inner
        else {
            return None;
        };
        let tb = format
            .tracks()
            .iter()
            .find(|t| t.id == *track_id)
            .and_then(|t| t.codec_params.time_base)?;
        let mut rest = pending.take().map_or(0, |p| p.dur());
        let walked = crate::audio::guard::catch_quietly(|| {
            let mut empty = 0;
            while !cancel.load(std::sync::atomic::Ordering::Relaxed) {
                match format.next_packet() {
                    // Durations, not timestamps: some encoders write odd granule
                    // positions (ffmpeg rejects such an Ogg; libvorbis plays it).
                    Ok(p) => {
                        let audio = p.track_id() == *track_id;
                        if audio {
                            rest = rest.saturating_add(p.dur());
                        }
                        empty = if audio && !p.buf().is_empty() {
                            0
                        } else {
                            empty + 1
                        };
                        if empty > MAX_PACKETS_WITHOUT_AUDIO {
                            return true;
                        }
                    }
                    Err(_) => return true,
                }
            }
            false
        });
        if !matches!(walked, Ok(true)) || rest == 0 {
            return None;
        }
        let t = tb.calc_time(rest);
        Some(self.position_s + t.seconds as f64 + t.frac)
    }

    /// Packets skipped and whether the stream ended early, so far.
    pub fn trouble(&self) -> DecodeTrouble {
        self.trouble
    }

    /// Seek near `seconds`; returns where decoding actually resumes.
    pub fn seek(&mut self, seconds: f64) -> Result<f64, AudioError> {
        let seconds = seconds.max(0.0);
        match &mut self.inner {
            Inner::Au {
                header, next_frame, ..
            } => {
                let frame =
                    ((seconds * f64::from(header.sample_rate)) as u64).min(header.n_frames());
                *next_frame = frame;
                self.position_s = frame as f64 / f64::from(header.sample_rate);
            }
            Inner::Sym {
                format,
                decoder,
                track_id,
                pending,
                ..
            } => {
                *pending = None;
                let to = SeekTo::Time {
                    time: Time::from(seconds),
                    track_id: Some(*track_id),
                };
                let sought =
                    crate::audio::guard::catch_quietly(|| format.seek(SeekMode::Coarse, to))
                        .map_err(|_| {
                            AudioError::corrupt(&self.path, "seek failed on malformed data")
                        })?;
                match sought {
                    Ok(s) => {
                        decoder.reset();
                        let tb = format
                            .tracks()
                            .iter()
                            .find(|t| t.id == *track_id)
                            .and_then(|t| t.codec_params.time_base);
                        self.position_s = match tb {
                            Some(tb) => {
                                let t = tb.calc_time(s.actual_ts);
                                t.seconds as f64 + t.frac
                            }
                            None => seconds,
                        };
                    }
                    Err(e) => {
                        return self.seek_by_walking(seconds).map_err(|_| {
                            AudioError::corrupt(&self.path, format!("cannot seek: {e}"))
                        });
                    }
                }
            }
        }
        Ok(self.position_s)
    }

    /// Where the container's seek fails (an Ogg whose granule positions are
    /// odd: libvorbis plays it, symphonia calls every target out of range;
    /// an MP4 beside a track that has ended), get there by demuxing packets
    /// without decoding them, from the start: a failed seek may have moved
    /// the reader (raw AAC's reads to the end), and the packets' own count
    /// is exact where decoded frames lag by an encoder's priming. Cheap: no
    /// audio is decoded.
    fn seek_by_walking(&mut self, seconds: f64) -> Result<f64, AudioError> {
        let trouble = self.trouble;
        *self = AudioStream::open(&self.path)?;
        self.trouble = trouble;
        let Inner::Sym {
            format,
            decoder,
            track_id,
            pending,
            ..
        } = &mut self.inner
        else {
            return Ok(self.position_s);
        };
        let tb = format
            .tracks()
            .iter()
            .find(|t| t.id == *track_id)
            .and_then(|t| t.codec_params.time_base)
            .ok_or_else(|| AudioError::corrupt(&self.path, "no time base to seek by"))?;
        let mut walked = 0u64;
        let at = |walked: u64| {
            let t = tb.calc_time(walked);
            t.seconds as f64 + t.frac
        };
        let reached = crate::audio::guard::catch_quietly(|| {
            let mut empty = 0;
            while at(walked) < seconds {
                match format.next_packet() {
                    Ok(p) => {
                        let audio = p.track_id() == *track_id;
                        // The packet holding the target is decoded first,
                        // as after the container's own (coarse) seek.
                        if audio && at(walked.saturating_add(p.dur())) > seconds {
                            *pending = Some(p);
                            break;
                        }
                        if audio {
                            walked = walked.saturating_add(p.dur());
                        }
                        empty = if audio && !p.buf().is_empty() {
                            0
                        } else {
                            empty + 1
                        };
                        if empty > MAX_PACKETS_WITHOUT_AUDIO {
                            break; // endless nothing: playback ends there
                        }
                    }
                    Err(_) => break, // the end: playback ends there
                }
            }
        });
        if reached.is_err() {
            return Err(AudioError::corrupt(
                &self.path,
                "seek failed on malformed data",
            ));
        }
        decoder.reset();
        self.position_s = at(walked);
        Ok(self.position_s)
    }

    /// Next chunk of interleaved frames, or None at the end of the stream.
    pub fn read(&mut self) -> Result<Option<Vec<f32>>, AudioError> {
        let channels = self.info.channels.max(1);
        let rate = f64::from(self.info.sample_rate.max(1));
        let chunk = match &mut self.inner {
            Inner::Au {
                file,
                header,
                next_frame,
            } => {
                if *next_frame >= header.n_frames() {
                    return Ok(None);
                }
                let samples =
                    au::read_frames(file, header, *next_frame, AU_CHUNK_FRAMES, &self.path)?;
                let frames = (samples.len() / channels) as u64;
                if frames == 0 {
                    return Ok(None);
                }
                *next_frame += frames;
                samples
            }
            Inner::Sym { .. } => {
                let path = self.path.clone();
                match crate::audio::guard::catch_quietly(|| self.read_symphonia()) {
                    Ok(r) => match r? {
                        Some(s) => s,
                        None => return Ok(None),
                    },
                    Err(_) => {
                        return Err(AudioError::corrupt(
                            &path,
                            "the decoder failed on malformed data",
                        ));
                    }
                }
            }
        };
        self.position_s += (chunk.len() / channels) as f64 / rate;
        Ok(Some(chunk))
    }

    fn read_symphonia(&mut self) -> Result<Option<Vec<f32>>, AudioError> {
        let channels = self.info.channels.max(1);
        let trouble = &mut self.trouble;
        let Inner::Sym {
            format,
            decoder,
            track_id,
            buf,
            bad_packets,
            good_packets,
            pending,
        } = &mut self.inner
        else {
            return Ok(None);
        };
        for _ in 0..MAX_PACKETS_WITHOUT_AUDIO {
            let packet = match pending.take().map_or_else(|| format.next_packet(), Ok) {
                Ok(p) => p,
                Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    return Ok(None);
                }
                Err(SymError::ResetRequired) => return Ok(None),
                Err(SymError::IoError(e)) => return Err(AudioError::io(&self.path, e)),
                Err(e) => {
                    if *good_packets > 0 {
                        // A damaged stretch after good audio: the demuxer cannot
                        // go on, so end here and say so.
                        trouble.ended_early = true;
                        return Ok(None);
                    }
                    return Err(AudioError::corrupt(&self.path, e.to_string()));
                }
            };
            if packet.track_id() != *track_id {
                continue;
            }
            // A codec that panics on one damaged packet loses that packet only.
            let decoded = crate::audio::guard::catch_quietly(|| {
                decoder.decode(&packet).map(|d| {
                    let spec = *d.spec();
                    let frames = d.frames();
                    if frames == 0 {
                        return None;
                    }
                    let needs_new = buf
                        .as_ref()
                        .is_none_or(|b| b.capacity() < frames * spec.channels.count());
                    if needs_new {
                        *buf = Some(SampleBuffer::new(d.capacity() as u64, spec));
                    }
                    let b = buf.as_mut()?;
                    b.copy_interleaved_ref(d);
                    Some((spec.channels.count(), b.samples().to_vec()))
                })
            });
            let why = match decoded {
                Ok(Ok(got)) => {
                    *bad_packets = 0;
                    *good_packets += 1;
                    let Some((got, samples)) = got else { continue };
                    if got == channels {
                        return Ok(Some(samples));
                    }
                    // Channel count changed mid-stream (rare, e.g. chained Ogg): remap.
                    return Ok(Some(remap_channels(&samples, got, channels)));
                }
                Ok(Err(SymError::IoError(e))) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    return Ok(None);
                }
                Ok(Err(SymError::ResetRequired)) => {
                    decoder.reset();
                    continue;
                }
                Ok(Err(e)) => e.to_string(),
                Err(_) => {
                    decoder.reset();
                    "the decoder failed on a malformed packet".to_string()
                }
            };
            *bad_packets += 1;
            trouble.skipped_packets += 1;
            if *bad_packets > MAX_CONSECUTIVE_BAD_PACKETS {
                if *good_packets > 0 {
                    trouble.ended_early = true;
                    return Ok(None);
                }
                return Err(AudioError::corrupt(
                    &self.path,
                    format!("undecodable packets: {why}"),
                ));
            }
        }
        if *good_packets > 0 {
            trouble.ended_early = true;
            return Ok(None);
        }
        Err(AudioError::corrupt(
            &self.path,
            format!("no audio in its first {MAX_PACKETS_WITHOUT_AUDIO} packets"),
        ))
    }
}

/// The rates earmark accepts, like the `.au` reader: a header outside this
/// range lies, and believing it costs unbounded time and memory (resampling
/// from 4 GHz plans a gigantic FFT).
pub const RATE_RANGE: std::ops::RangeInclusive<u32> = 1_000..=768_000;
pub const CHANNEL_RANGE: std::ops::RangeInclusive<usize> = 1..=64;

fn check_rate(path: &Path, rate: u32) -> Result<(), AudioError> {
    if RATE_RANGE.contains(&rate) {
        Ok(())
    } else {
        Err(AudioError::corrupt(
            path,
            format!(
                "implausible sample rate {rate} Hz in the header (earmark reads 1 kHz to 768 kHz)"
            ),
        ))
    }
}

fn check_channels(path: &Path, channels: usize) -> Result<(), AudioError> {
    if CHANNEL_RANGE.contains(&channels) {
        Ok(())
    } else {
        Err(AudioError::corrupt(
            path,
            format!("implausible channel count {channels} in the header (earmark reads 1 to 64)"),
        ))
    }
}

/// A container with no track symphonia can decode: an MP4 whose track holds
/// a codec earmark has no decoder for says which, as other formats do.
fn no_track(path: &Path, sniffed: Sniffed) -> AudioError {
    let codec = (sniffed == Sniffed::Audio("MP4"))
        .then(|| {
            let mut f = File::open(path).ok()?;
            let len = f.metadata().ok()?.len();
            super::mp4_meta::undecodable_track_codec(&mut f, len)
        })
        .flatten();
    match codec {
        Some(what) => AudioError::Unsupported {
            path: path.to_path_buf(),
            what: format!("{what} in MP4"),
        },
        None => AudioError::NoTrack {
            path: path.to_path_buf(),
        },
    }
}

/// Fewer bytes per second than any codec spends, even on silence (Opus
/// with DTX: about 60).
const FEWEST_BYTES_PER_S: f64 = 40.0;

/// A declared length the file's size cannot hold (a Xing header claiming
/// 2^32 frames, a FLAC total of 2^36 samples, an Ogg granule of 2^62) is no
/// length: the file is read as one that declares none (to the bound, its
/// length counted as it is read), not sought to excerpts hours past its end.
fn possible_duration(declared: Option<f64>, file_len: u64) -> Option<f64> {
    declared.filter(|&d| d * FEWEST_BYTES_PER_S <= file_len as f64)
}

/// Why symphonia's probe opened nothing, in the words of [`AudioError`].
fn probe_error(path: &Path, e: SymError, sniffed: Sniffed) -> AudioError {
    match (e, sniffed) {
        (SymError::Unsupported(_), Sniffed::Unknown) => AudioError::NotAudio {
            path: path.to_path_buf(),
            what: "unrecognised format".into(),
        },
        // symphonia reads an Ogg file to its end looking for a stream it
        // knows: one with none (Speex, video alone) is not truncated
        (SymError::IoError(e), Sniffed::Audio("Ogg"))
            if e.kind() == std::io::ErrorKind::UnexpectedEof
                && let Some(codec) = super::ogg_meta::first_codec_undecodable(path) =>
        {
            AudioError::Unsupported {
                path: path.to_path_buf(),
                what: format!("{codec} in Ogg"),
            }
        }
        // bytes no reader knows, scanned to the end for a frame (random
        // data named .aac): nothing says it was ever audio
        (SymError::IoError(e), Sniffed::Unknown)
            if e.kind() == std::io::ErrorKind::UnexpectedEof =>
        {
            AudioError::NotAudio {
                path: path.to_path_buf(),
                what: "no audio format earmark reads was found in it".into(),
            }
        }
        // symphonia reads every top-level MP4 box when it opens a file: a
        // cut in the audio data (a download stopped) ends a box, not a header
        (SymError::IoError(e), Sniffed::Audio("MP4"))
            if e.kind() == std::io::ErrorKind::UnexpectedEof =>
        {
            AudioError::corrupt(
                path,
                "the file ends inside a box its MP4 structure declares (cut short, or still being written)",
            )
        }
        (SymError::IoError(e), _) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            AudioError::corrupt(path, "file ends inside its header")
        }
        // a seek to an offset no file can have (an MP4 box claiming 2^62
        // bytes): the OS says EINVAL, a lie in the file, not a read failure
        (SymError::IoError(e), _) if e.kind() == std::io::ErrorKind::InvalidInput => {
            AudioError::corrupt(
                path,
                "a size in its header points far past the end of the file",
            )
        }
        (SymError::IoError(e), _) => AudioError::io(path, e),
        // an ID3v2 tag (or junk) with nothing symphonia reads behind it
        (SymError::Unsupported(what), _) if what.starts_with("core (probe)") => {
            AudioError::NotAudio {
                path: path.to_path_buf(),
                what: "no audio format earmark reads was found in it".into(),
            }
        }
        // a known container holding what its reader does not support
        // (MP3 inside WAV): nothing says the file is damaged
        (SymError::Unsupported(what), Sniffed::Audio(_)) => AudioError::UnsupportedFeature {
            path: path.to_path_buf(),
            what: what.to_string(),
        },
        (e, _) => AudioError::corrupt(path, e.to_string()),
    }
}

/// ALAC's 24-byte config (with, optionally, a 24-byte channel layout behind
/// it), out of the QuickTime atoms some writers wrap it in: a `frma` atom,
/// then an `alac` atom with version and flags (ffmpeg's CAF), as Apple's
/// decoder skips them. symphonia reads only the bare config, and took the
/// wrapped 48 bytes for config and layout ("not compatible with alac version 0").
fn bare_alac_cookie(mut cookie: &[u8]) -> &[u8] {
    for (atom, header) in [(b"frma", 12), (b"alac", 12)] {
        if cookie.len() >= header && &cookie[4..8] == atom {
            cookie = &cookie[header..];
        }
    }
    cookie
}

/// A Vorbis stream's channel count from its identification header (the
/// first of the headers symphonia passes as extra data).
fn vorbis_ident_channels(params: &symphonia::core::codecs::CodecParameters) -> Option<usize> {
    let ident = params.extra_data.as_deref()?;
    (ident.len() > 11 && ident.starts_with(b"\x01vorbis") && ident[11] > 0)
        .then(|| usize::from(ident[11]))
}

/// The stream's channel count (checked) and bit depth. MP4 keeps AAC's and
/// ALAC's in its sample entry, which symphonia does not pass on; lofty reads them.
fn channels_and_bits(
    path: &Path,
    params: &symphonia::core::codecs::CodecParameters,
    container: &str,
    from_stream: Option<usize>,
) -> Result<(usize, Option<u32>), AudioError> {
    let mp4 = if container.contains("MP4") && params.channels.is_none() {
        mp4_properties(path)
    } else {
        None
    };
    let channels = params
        .channels
        .map(|c| c.count())
        // symphonia's Matroska reader says a layout, not channels
        .or(params.channel_layout.map(|l| l.into_channels().count()))
        .or(from_stream)
        .or(mp4.and_then(|m| m.0))
        .unwrap_or(1);
    check_channels(path, channels)?;
    Ok((channels, params.bits_per_sample.or(mp4.and_then(|m| m.1))))
}

/// Channels and bit depth from an MP4 sample entry; None when lofty cannot say.
fn mp4_properties(path: &Path) -> Option<(Option<usize>, Option<u32>)> {
    use lofty::file::AudioFile;
    let read = || -> Option<(Option<usize>, Option<u32>)> {
        let mut f = File::open(path).ok()?;
        let opts = lofty::config::ParseOptions::new().read_tags(false);
        let mp4 = lofty::mp4::Mp4File::read_from(&mut f, opts).ok()?;
        let p = mp4.properties();
        Some((
            p.channels().map(usize::from).filter(|&c| c > 0),
            p.bit_depth().map(u32::from).filter(|&b| b > 0),
        ))
    };
    crate::audio::guard::catch_quietly(read).ok().flatten()
}

fn remap_channels(samples: &[f32], from: usize, to: usize) -> Vec<f32> {
    let frames = samples.len() / from.max(1);
    let mut out = Vec::with_capacity(frames * to);
    for f in samples.chunks_exact(from.max(1)) {
        let mean = f.iter().sum::<f32>() / from as f32;
        out.extend(std::iter::repeat_n(mean, to));
    }
    out
}

/// Matroska does not say how many frames a PCM block holds, which
/// symphonia's PCM decoder sizes its buffer by (and refuses without): its
/// blocks are far shorter than the 4 s allowed here.
fn allow_pcm_blocks(
    params: &mut symphonia::core::codecs::CodecParameters,
    codec_name: Option<&str>,
) {
    if codec_name.is_some_and(|n| n.starts_with("pcm"))
        && params.max_frames_per_packet.is_none()
        && let Some(rate) = params.sample_rate
    {
        params.max_frames_per_packet = Some(u64::from(rate) * 4);
    }
}

/// A lossy stream has no bit depth: what Matroska stores is the encoder's
/// input format (16 or 32), which Ogg and ffprobe do not show.
fn is_lossy(codec_name: Option<&str>) -> bool {
    matches!(
        codec_name,
        Some("opus" | "vorbis" | "mp1" | "mp2" | "mp3" | "aac")
    )
}

/// The length the stream's header declares (None: it does not say; a
/// fragmented MP4 declares 0 frames up front: unknown, not empty).
fn declared_seconds(
    params: &symphonia::core::codecs::CodecParameters,
    sample_rate: u32,
    ogg_opus: bool,
) -> Option<f64> {
    let declared = match (params.n_frames.filter(|&n| n > 0), params.time_base) {
        (Some(n), Some(tb)) => {
            let t = tb.calc_time(n);
            Some(t.seconds as f64 + t.frac)
        }
        (Some(n), None) => Some(n as f64 / f64::from(sample_rate)),
        _ => None,
    };
    // An Ogg Opus stream's last granule counts the encoder's delay too (RFC
    // 7845 4.5): the length heard is that minus OpusHead's pre-skip (a 1.4-s
    // pre-skip read as a file cut short by 1.4 s).
    match (ogg_opus, &params.extra_data) {
        (true, Some(head)) => declared.map(|d| (d - super::opus::pre_skip_seconds(head)).max(0.0)),
        _ => declared,
    }
}

fn open_symphonia(
    path: &Path,
    source: Box<dyn MediaSource>,
    sniffed: Sniffed,
) -> Result<AudioStream, AudioError> {
    let mss = MediaSourceStream::new(source, Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    let probed = symphonia::default::get_probe()
        .format(
            &hint,
            mss,
            &FormatOptions {
                enable_gapless: true,
                ..Default::default()
            },
            &MetadataOptions::default(),
        )
        .map_err(|e| probe_error(path, e, sniffed))?;
    let format = probed.format;
    // an Ogg's audio is its first audio stream in the file, as `tag` has it
    let first_ogg_audio = (sniffed == Sniffed::Audio("Ogg"))
        .then(|| super::ogg_meta::first_audio_serial(path))
        .flatten();
    let track = format
        .tracks()
        .iter()
        .filter(|t| t.codec_params.codec != CODEC_TYPE_NULL)
        .min_by_key(|t| first_ogg_audio != Some(t.id))
        .ok_or_else(|| no_track(path, sniffed))?;
    let mut params = track.codec_params.clone();
    if params.codec == CODEC_TYPE_ALAC
        && let Some(cookie) = params.extra_data.take()
    {
        params.extra_data = Some(bare_alac_cookie(&cookie).into());
    }
    let track_id = track.id;
    let container = match sniffed {
        Sniffed::Audio(name) => name.to_string(),
        _ => path
            .extension()
            .map(|e| e.to_string_lossy().to_uppercase())
            .unwrap_or_else(|| "unknown".into()),
    };
    let opus = params.codec == CODEC_TYPE_OPUS; // symphonia has no Opus decoder: see `opus`
    let codec_name = symphonia::default::get_codecs()
        .get_codec(params.codec)
        .map(|d| d.short_name.to_string())
        .or(opus.then(|| "opus".to_string()));
    allow_pcm_blocks(&mut params, codec_name.as_deref());
    let decoder = if opus {
        super::opus::make(&params)
    } else {
        symphonia::default::get_codecs().make(&params, &DecoderOptions::default())
    }
    .map_err(|e| AudioError::Unsupported {
        path: path.to_path_buf(),
        what: match &codec_name {
            Some(n) => format!("{n} ({e})"),
            None => format!("codec {} ({e})", params.codec),
        },
    })?;
    // Opus decodes at 48 kHz whatever the container says: Matroska gives
    // the encoder's input rate (24 kHz for a 22.05-kHz source), and the
    // samples read at that rate played and were heard at half speed.
    let sample_rate = if opus {
        super::opus::RATE
    } else {
        params
            .sample_rate
            .filter(|&r| r > 0)
            .ok_or_else(|| AudioError::corrupt(path, "no sample rate in the stream header"))?
    };
    check_rate(path, sample_rate)?;
    // the stream's own header fills what the container did not say
    // (Matroska gives a layout for 1, 2, 3 and 6 channels only)
    let from_stream = decoder
        .codec_params()
        .channels
        .map(|c| c.count())
        .or_else(|| vorbis_ident_channels(&params));
    let (channels, bits_per_sample) = channels_and_bits(path, &params, &container, from_stream)?;
    let bits_per_sample = bits_per_sample.filter(|_| !is_lossy(codec_name.as_deref()));
    // Raw AAC (ADTS) declares no length: symphonia's is an estimate from
    // three samples of frames (6:59 for 6:56; 1:41:01 for 6:20 of music and
    // silence), which is measured by its packets instead.
    let adts = params.codec == CODEC_TYPE_AAC && sniffed == Sniffed::Audio("MPEG audio");
    let duration_s =
        declared_seconds(&params, sample_rate, opus && container == "Ogg").filter(|_| !adts);
    let info = SourceInfo {
        container,
        codec: codec_name.unwrap_or_else(|| "unknown".into()),
        sample_rate,
        channels,
        bits_per_sample,
        duration_s,
    };
    Ok(AudioStream {
        path: path.to_path_buf(),
        info,
        inner: Inner::Sym {
            format,
            decoder,
            track_id,
            buf: None,
            bad_packets: 0,
            good_packets: 0,
            pending: None,
        },
        position_s: 0.0,
        trouble: DecodeTrouble::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ffmpeg's CAF cookie: `frma` atom, `alac` atom (version, flags), config.
    #[test]
    fn alac_cookie_comes_out_of_its_atoms() {
        let config: Vec<u8> = (0..24).collect();
        let mut wrapped = b"\0\0\0\x0cfrmaalac\0\0\0\x24alac\0\0\0\0".to_vec();
        wrapped.extend_from_slice(&config);
        assert_eq!(bare_alac_cookie(&wrapped), &config[..]);
        assert_eq!(bare_alac_cookie(&config), &config[..]);
    }
}
