//! Sun/NeXT `.au` — GTZAN's own format, which symphonia lacks.
//!
//! A 24-byte big-endian header (magic, data offset, data size, encoding, rate,
//! channels) followed by big-endian samples. Being uncompressed, any frame can
//! be read directly, so seeking is an offset computation.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use super::AudioError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuEncoding {
    MuLaw8,
    ALaw8,
    Linear8,
    Linear16,
    Linear24,
    Linear32,
    Float32,
    Float64,
}

impl AuEncoding {
    fn from_code(code: u32) -> Option<Self> {
        Some(match code {
            1 => AuEncoding::MuLaw8,
            2 => AuEncoding::Linear8,
            3 => AuEncoding::Linear16,
            4 => AuEncoding::Linear24,
            5 => AuEncoding::Linear32,
            6 => AuEncoding::Float32,
            7 => AuEncoding::Float64,
            27 => AuEncoding::ALaw8,
            _ => return None,
        })
    }

    pub fn bytes_per_sample(self) -> usize {
        match self {
            AuEncoding::MuLaw8 | AuEncoding::ALaw8 | AuEncoding::Linear8 => 1,
            AuEncoding::Linear16 => 2,
            AuEncoding::Linear24 => 3,
            AuEncoding::Linear32 | AuEncoding::Float32 => 4,
            AuEncoding::Float64 => 8,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            AuEncoding::MuLaw8 => "pcm_mulaw",
            AuEncoding::ALaw8 => "pcm_alaw",
            AuEncoding::Linear8 => "pcm_s8",
            AuEncoding::Linear16 => "pcm_s16be",
            AuEncoding::Linear24 => "pcm_s24be",
            AuEncoding::Linear32 => "pcm_s32be",
            AuEncoding::Float32 => "pcm_f32be",
            AuEncoding::Float64 => "pcm_f64be",
        }
    }

    pub fn bits(self) -> u32 {
        self.bytes_per_sample() as u32 * 8
    }
}

#[derive(Debug, Clone)]
pub struct AuHeader {
    pub data_offset: u64,
    /// Bytes of sample data actually present (the header's size, clipped to the file).
    pub data_len: u64,
    /// Bytes of sample data the header declares (what is present when it
    /// says "unknown"): more than `data_len` in a file cut short.
    pub declared_len: u64,
    pub encoding: AuEncoding,
    pub sample_rate: u32,
    pub channels: usize,
}

impl AuHeader {
    pub fn n_frames(&self) -> u64 {
        self.data_len / (self.encoding.bytes_per_sample() * self.channels) as u64
    }

    /// The length the header declares, in seconds: a file cut short says
    /// so ("decoded 1.0 s of a declared 30.0 s"), as a WAV does.
    pub fn declared_s(&self) -> f64 {
        let frames = self.declared_len / (self.encoding.bytes_per_sample() * self.channels) as u64;
        frames as f64 / f64::from(self.sample_rate)
    }
}

/// Parse and validate the header of an `.au` file whose total length is `file_len`.
pub fn parse_header(bytes: &[u8], file_len: u64, path: &Path) -> Result<AuHeader, AudioError> {
    if bytes.len() < 24 {
        return Err(AudioError::corrupt(path, "AU header shorter than 24 bytes"));
    }
    let word = |i: usize| u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    if word(0) != 0x2e73_6e64 {
        return Err(AudioError::corrupt(path, "missing .snd magic"));
    }
    let data_offset = u64::from(word(4));
    let declared = word(8);
    let code = word(12);
    let sample_rate = word(16);
    let channels = word(20) as usize;
    let encoding = AuEncoding::from_code(code).ok_or_else(|| AudioError::Unsupported {
        path: path.to_path_buf(),
        what: format!("AU encoding {code} (supported: mu-law, A-law, 8/16/24/32-bit PCM, float)"),
    })?;
    if data_offset < 24 || data_offset > file_len {
        return Err(AudioError::corrupt(
            path,
            format!("AU data offset {data_offset} outside the file ({file_len} bytes)"),
        ));
    }
    if sample_rate == 0 || sample_rate > 768_000 {
        return Err(AudioError::corrupt(
            path,
            format!("AU sample rate {sample_rate} Hz"),
        ));
    }
    if channels == 0 || channels > 64 {
        return Err(AudioError::corrupt(
            path,
            format!("AU channel count {channels}"),
        ));
    }
    let present = file_len - data_offset;
    // 0xffffffff means "unknown size": read to the end of the file.
    let declared_len = if declared == u32::MAX {
        present
    } else {
        u64::from(declared)
    };
    let data_len = declared_len.min(present);
    let frame_bytes = (encoding.bytes_per_sample() * channels) as u64;
    let data_len = data_len - data_len % frame_bytes;
    if data_len == 0 {
        return Err(AudioError::corrupt(path, "AU file holds no sample data"));
    }
    Ok(AuHeader {
        data_offset,
        data_len,
        declared_len,
        encoding,
        sample_rate,
        channels,
    })
}

/// Read into `buf` until it is full or the input ends; how many bytes came.
pub(crate) fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// Read `n_frames` frames starting at `start_frame`, as interleaved f32 in [-1, 1].
pub fn read_frames(
    file: &mut File,
    header: &AuHeader,
    start_frame: u64,
    n_frames: u64,
    path: &Path,
) -> Result<Vec<f32>, AudioError> {
    let bps = header.encoding.bytes_per_sample();
    let frame_bytes = (bps * header.channels) as u64;
    let total = header.n_frames();
    let start = start_frame.min(total);
    let count = n_frames.min(total - start);
    file.seek(SeekFrom::Start(header.data_offset + start * frame_bytes))
        .map_err(|e| AudioError::io(path, e))?;
    let mut raw = vec![0u8; (count * frame_bytes) as usize];
    let got = read_up_to(file, &mut raw).map_err(|e| AudioError::io(path, e))?;
    raw.truncate(got - got % bps);
    Ok(decode_samples(&raw, header.encoding))
}

pub fn decode_samples(raw: &[u8], encoding: AuEncoding) -> Vec<f32> {
    let bps = encoding.bytes_per_sample();
    raw.chunks_exact(bps)
        .map(|b| match encoding {
            AuEncoding::MuLaw8 => mulaw_to_linear(b[0]) as f32 / 32768.0,
            AuEncoding::ALaw8 => alaw_to_linear(b[0]) as f32 / 32768.0,
            AuEncoding::Linear8 => b[0] as i8 as f32 / 128.0,
            AuEncoding::Linear16 => i16::from_be_bytes([b[0], b[1]]) as f32 / 32768.0,
            AuEncoding::Linear24 => {
                (i32::from_be_bytes([b[0], b[1], b[2], 0]) >> 8) as f32 / 8_388_608.0
            }
            AuEncoding::Linear32 => {
                i32::from_be_bytes([b[0], b[1], b[2], b[3]]) as f32 / 2_147_483_648.0
            }
            AuEncoding::Float32 => sanitize(f32::from_be_bytes([b[0], b[1], b[2], b[3]])),
            AuEncoding::Float64 => {
                sanitize(
                    f64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f32,
                )
            }
        })
        .collect()
}

/// Float files can carry NaN or huge values; keep the features finite.
fn sanitize(x: f32) -> f32 {
    if x.is_finite() {
        x.clamp(-1.0, 1.0)
    } else {
        0.0
    }
}

/// ITU-T G.711 mu-law expansion to 16-bit linear.
pub fn mulaw_to_linear(byte: u8) -> i16 {
    let u = !byte;
    let sign = u & 0x80;
    let exponent = (u >> 4) & 0x07;
    let mantissa = u & 0x0F;
    let magnitude = ((((mantissa as i32) << 3) + 0x84) << exponent) - 0x84;
    (if sign != 0 { -magnitude } else { magnitude }) as i16
}

/// ITU-T G.711 A-law expansion to 16-bit linear.
pub fn alaw_to_linear(byte: u8) -> i16 {
    let a = byte ^ 0x55;
    let sign = a & 0x80;
    let exponent = (a >> 4) & 0x07;
    let mantissa = (a & 0x0F) as i32;
    let magnitude = if exponent == 0 {
        (mantissa << 4) + 8
    } else {
        ((mantissa << 4) + 0x108) << (exponent - 1)
    };
    (if sign != 0 { magnitude } else { -magnitude }) as i16
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(code: u32, rate: u32, ch: u32, size: u32) -> Vec<u8> {
        let mut h = Vec::new();
        for w in [0x2e73_6e64, 24, size, code, rate, ch] {
            h.extend_from_slice(&u32::to_be_bytes(w));
        }
        h
    }

    #[test]
    fn mulaw_known_values() {
        assert_eq!(mulaw_to_linear(0xFF), 0);
        assert_eq!(mulaw_to_linear(0x7F), 0);
        assert_eq!(mulaw_to_linear(0x00), -32124);
        assert_eq!(mulaw_to_linear(0x80), 32124);
    }

    #[test]
    fn alaw_known_values() {
        assert_eq!(alaw_to_linear(0xD5), 8);
        assert_eq!(alaw_to_linear(0x55), -8);
        assert_eq!(alaw_to_linear(0xAA), 32256);
    }

    #[test]
    fn every_linear_width_decodes_full_scale() {
        assert_eq!(decode_samples(&[0x80], AuEncoding::Linear8), vec![-1.0]);
        assert_eq!(
            decode_samples(&[0x40, 0x00], AuEncoding::Linear16),
            vec![0.5]
        );
        assert_eq!(
            decode_samples(&[0xC0, 0, 0], AuEncoding::Linear24),
            vec![-0.5]
        );
        assert_eq!(
            decode_samples(&[0x40, 0, 0, 0], AuEncoding::Linear32),
            vec![0.5]
        );
        assert_eq!(
            decode_samples(&0.25f32.to_be_bytes(), AuEncoding::Float32),
            vec![0.25]
        );
    }

    #[test]
    fn header_size_is_clipped_to_file() {
        let h = header(3, 22050, 1, 1_000_000);
        let parsed = parse_header(&h, 24 + 100, Path::new("x.au")).unwrap();
        assert_eq!(parsed.data_len, 100);
        assert_eq!(parsed.n_frames(), 50);
        // what it declares stays known: 500 000 frames at 22 050 Hz
        assert!((parsed.declared_s() - 500_000.0 / 22_050.0).abs() < 1e-9);
    }

    #[test]
    fn unknown_size_reads_to_end() {
        let h = header(6, 8000, 2, u32::MAX);
        let parsed = parse_header(&h, 24 + 64, Path::new("x.au")).unwrap();
        assert_eq!(parsed.n_frames(), 8);
    }

    #[test]
    fn lies_are_rejected() {
        let p = Path::new("x.au");
        assert!(parse_header(&header(99, 8000, 1, 10), 100, p).is_err());
        assert!(parse_header(&header(3, 0, 1, 10), 100, p).is_err());
        assert!(parse_header(&header(3, 8000, 0, 10), 100, p).is_err());
        assert!(parse_header(&header(3, 8000, 1, 10), 24, p).is_err());
        assert!(parse_header(&[0x2e, 0x73], 2, p).is_err());
    }
}
