//! Ogg Opus decoding: symphonia demuxes the Ogg stream (and reads OpusHead:
//! channels, pre-skip), libopus decodes the packets (through the `opus`
//! crate, linked against Debian's `libopus-dev`). symphonia 0.5 has no Opus
//! decoder of its own; a maintained libopus beats a hand-written one.

use std::sync::Mutex;

use symphonia::core::audio::{
    AsAudioBufferRef, AudioBuffer, AudioBufferRef, Channels, Signal, SignalSpec,
};
use symphonia::core::codecs::{
    CODEC_TYPE_OPUS, CodecDescriptor, CodecParameters, Decoder, DecoderOptions, FinalizeResult,
};
use symphonia::core::errors::{Error, Result};
use symphonia::core::formats::Packet;
use symphonia::core::support_codec;

/// Opus always decodes at 48 kHz; one packet holds at most 120 ms.
pub(crate) const RATE: u32 = 48_000;
const MAX_FRAMES: usize = 5760;

pub struct OpusDecoder {
    /// symphonia wants decoders `Sync`; libopus state is only `Send`.
    dec: Mutex<opus::Decoder>,
    params: CodecParameters,
    channels: usize,
    pcm: Vec<f32>,
    buf: AudioBuffer<f32>,
    /// Frames still to drop at the stream's start (see `try_new`).
    pre_skip: usize,
    /// The stream's pre-skip, dropped again when decoding starts over at 0.
    stream_pre_skip: usize,
    /// OpusHead's output gain, as a factor (1 without a head).
    gain: f32,
}

/// A 16-bit field of OpusHead: little-endian in Ogg's and Matroska's
/// (version 1); symphonia's MP4 reader prefixes `OpusHead` to the `dOps`
/// box, whose fields are big-endian (version 0).
fn head_u16(head: &[u8], at: usize) -> u16 {
    let bytes = [head[at], head[at + 1]];
    if head[8] == 0 {
        u16::from_be_bytes(bytes)
    } else {
        u16::from_le_bytes(bytes)
    }
}

/// OpusHead's pre-skip (read little-endian from MP4, ffmpeg's 312 was 14 337
/// frames, 0.3 s of music lost).
fn pre_skip_of(head: &[u8]) -> usize {
    usize::from(head_u16(head, 10))
}

/// OpusHead's pre-skip in seconds (always counted at 48 kHz).
pub(crate) fn pre_skip_seconds(head: &[u8]) -> f64 {
    pre_skip_of(head) as f64 / f64::from(RATE)
}

/// OpusHead's output gain (Q7.8 dB, signed) as a factor: players apply it
/// (RFC 7845 5.1; ffmpeg does), so a file whose gain makes it quiet is heard
/// quiet, and earmark must judge the same sound.
fn output_gain_of(head: &[u8]) -> f32 {
    let q78 = head_u16(head, 16).cast_signed();
    10f32.powf(f32::from(q78) / (20.0 * 256.0))
}

impl Decoder for OpusDecoder {
    fn try_new(params: &CodecParameters, _opts: &DecoderOptions) -> Result<Self> {
        // Ogg's reader reads OpusHead; Matroska's passes it on as extra data
        // (CodecPrivate) and says a layout, if anything
        let head = params
            .extra_data
            .as_deref()
            .filter(|h| h.len() >= 19 && h.starts_with(b"OpusHead"));
        let channels = params
            .channels
            .map(|c| c.count())
            .or(params.channel_layout.map(|l| l.into_channels().count()))
            .or(head.map(|h| usize::from(h[9])))
            .ok_or(Error::Unsupported("Opus stream without a channel count"))?;
        let ch = match channels {
            1 => opus::Channels::Mono,
            2 => opus::Channels::Stereo,
            _ => {
                return Err(Error::Unsupported(
                    "Opus with more than two channels (multistream)",
                ));
            }
        };
        let layout = params.channels.unwrap_or(if channels == 1 {
            Channels::FRONT_LEFT
        } else {
            Channels::FRONT_LEFT | Channels::FRONT_RIGHT
        });
        let dec = opus::Decoder::new(RATE, ch)
            .map_err(|_| Error::Unsupported("libopus could not start a decoder"))?;
        // The encoder's delay (OpusHead's pre-skip) is dropped here: neither
        // of symphonia's readers trims it (Ogg's trims only what the first
        // page's granule says beyond it, RFC 7845 4.5; Matroska's nothing),
        // so every Opus file started with 6.5 ms of decoder warm-up.
        let pre_skip = head.map_or(0, pre_skip_of);
        Ok(OpusDecoder {
            dec: Mutex::new(dec),
            params: params.clone(),
            channels,
            pcm: vec![0.0; MAX_FRAMES * channels],
            buf: AudioBuffer::new(MAX_FRAMES as u64, SignalSpec::new(RATE, layout)),
            pre_skip,
            stream_pre_skip: pre_skip,
            gain: head.map_or(1.0, output_gain_of),
        })
    }

    fn supported_codecs() -> &'static [CodecDescriptor] {
        &[support_codec!(CODEC_TYPE_OPUS, "opus", "Opus (libopus)")]
    }

    fn reset(&mut self) {
        // after a seek the stream's start is behind us (a seek back to 0
        // meets its first packet again, which restores the pre-skip)
        self.pre_skip = 0;
        if let Ok(d) = self.dec.get_mut() {
            let _ = d.reset_state();
        }
    }

    fn codec_params(&self) -> &CodecParameters {
        &self.params
    }

    fn decode(&mut self, packet: &Packet) -> Result<AudioBufferRef<'_>> {
        let dec = self
            .dec
            .get_mut()
            .map_err(|_| Error::DecodeError("Opus: decoder poisoned"))?;
        let frames = dec
            .decode_float(&packet.data, &mut self.pcm, false)
            .map_err(|_| Error::DecodeError("Opus: undecodable packet"))?;
        self.buf.clear();
        self.buf.render_reserved(Some(frames));
        for c in 0..self.channels {
            let dst = self.buf.chan_mut(c);
            for (i, d) in dst.iter_mut().enumerate().take(frames) {
                *d = self.pcm[i * self.channels + c] * self.gain;
            }
        }
        // A packet at the stream's start (first, or after a seek back to 0)
        // is decoder warm-up until the pre-skip is spent.
        if packet.ts() == 0 {
            self.pre_skip = self.stream_pre_skip;
        }
        // Pre-skip, past what the demuxer trims itself (gapless), then its
        // start and end trimming.
        let left = frames.saturating_sub(packet.trim_start() as usize);
        let skip = self.pre_skip.min(left);
        self.pre_skip -= skip;
        self.buf.trim(
            packet.trim_start() as usize + skip,
            packet.trim_end() as usize,
        );
        Ok(self.buf.as_audio_buffer_ref())
    }

    fn finalize(&mut self) -> FinalizeResult {
        FinalizeResult::default()
    }

    fn last_decoded(&self) -> AudioBufferRef<'_> {
        self.buf.as_audio_buffer_ref()
    }
}

/// A decoder for an Opus track, boxed for `AudioStream`.
pub(crate) fn make(params: &CodecParameters) -> Result<Box<dyn Decoder>> {
    Ok(Box::new(OpusDecoder::try_new(
        params,
        &DecoderOptions::default(),
    )?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use symphonia::core::codecs::CodecParameters;

    fn head(version: u8, gain_q78: i16) -> Vec<u8> {
        let mut h = b"OpusHead".to_vec();
        h.extend([version, 1]);
        let (skip, gain) = if version == 0 {
            (0u16.to_be_bytes(), gain_q78.to_be_bytes())
        } else {
            (0u16.to_le_bytes(), gain_q78.to_le_bytes())
        };
        h.extend(skip);
        h.extend(48_000u32.to_le_bytes());
        h.extend(gain);
        h.push(0);
        h
    }

    /// RMS of a 20-ms sine packet from libopus's encoder, decoded with `head`.
    fn decoded_rms(head: Vec<u8>) -> f32 {
        let mut enc =
            opus::Encoder::new(RATE, opus::Channels::Mono, opus::Application::Audio).unwrap();
        let sine: Vec<f32> = (0..960)
            .map(|i| 0.5 * (i as f32 * 440.0 * std::f32::consts::TAU / 48_000.0).sin())
            .collect();
        let mut bytes = vec![0u8; 4000];
        let mut params = CodecParameters::new();
        params
            .for_codec(CODEC_TYPE_OPUS)
            .with_extra_data(head.into_boxed_slice());
        let mut dec = OpusDecoder::try_new(&params, &DecoderOptions::default()).unwrap();
        let mut sum = (0.0f32, 0usize);
        for ts in 0..10u64 {
            let n = enc.encode_float(&sine, &mut bytes).unwrap();
            let packet = Packet::new_from_slice(0, ts * 960 + 960, 960, &bytes[..n]);
            let out = dec.decode(&packet).unwrap();
            let mut samples = AudioBuffer::<f32>::new(MAX_FRAMES as u64, *out.spec());
            out.convert(&mut samples);
            sum.0 += samples.chan(0).iter().map(|s| s * s).sum::<f32>();
            sum.1 += samples.frames();
        }
        (sum.0 / sum.1 as f32).sqrt()
    }

    #[test]
    fn the_output_gain_is_applied_as_players_apply_it() {
        let plain = decoded_rms(head(1, 0));
        assert!(plain > 0.2, "{plain}");
        // -20 dB in Q7.8, little-endian (Ogg) and big-endian (MP4's dOps)
        for version in [1, 0] {
            let quiet = decoded_rms(head(version, -20 * 256));
            assert!(
                (quiet / plain - 0.1).abs() < 1e-3,
                "{version}: {quiet} / {plain}"
            );
        }
    }
}
