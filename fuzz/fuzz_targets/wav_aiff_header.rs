//! Structured WAV/AIFF header fuzzer: libFuzzer picks the header fields a
//! liar would (format tag, rate, channels, bit depth, block align, declared
//! chunk sizes) and a little sample data; the file is built from them and put
//! through probe and the analysis decode. Random bytes rarely get past the
//! RIFF/FORM parsers; this reaches the rate/channel/size checks and the
//! decoders behind them. Any panic, hang or runaway allocation is a finding.
#![no_main]

use earmark::audio::{AnalysisPlan, load_for_analysis, probe};
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;

#[derive(Debug)]
struct Header {
    aiff: bool,
    format: u16,
    channels: u16,
    rate: u32,
    /// Which lie about the rate: as given, or one of the edge values.
    rate_pick: u8,
    bits: u16,
    block_align: u16,
    riff_size: Option<u32>,
    data_size: Option<u32>,
    frames: Option<u32>,
    samples: Vec<u8>,
}

impl Header {
    fn take(mut u: Unstructured) -> Result<Header> {
        Ok(Header {
            aiff: u.arbitrary()?,
            format: u.arbitrary()?,
            channels: u.arbitrary()?,
            rate: u.arbitrary()?,
            rate_pick: u.arbitrary()?,
            bits: u.arbitrary()?,
            block_align: u.arbitrary()?,
            riff_size: u.arbitrary()?,
            data_size: u.arbitrary()?,
            frames: u.arbitrary()?,
            samples: u.take_rest().to_vec(),
        })
    }
}

const EDGE_RATES: [u32; 8] = [0, 1, 999, 1_000, 768_000, 768_001, 100_000_007, u32::MAX];

fn wav(h: &Header, rate: u32) -> Vec<u8> {
    let mut fmt = Vec::new();
    fmt.extend_from_slice(&h.format.to_le_bytes());
    fmt.extend_from_slice(&h.channels.to_le_bytes());
    fmt.extend_from_slice(&rate.to_le_bytes());
    fmt.extend_from_slice(&rate.wrapping_mul(u32::from(h.block_align)).to_le_bytes());
    fmt.extend_from_slice(&h.block_align.to_le_bytes());
    fmt.extend_from_slice(&h.bits.to_le_bytes());
    let mut body = b"WAVEfmt ".to_vec();
    body.extend_from_slice(&(fmt.len() as u32).to_le_bytes());
    body.extend_from_slice(&fmt);
    body.extend_from_slice(b"data");
    let data_size = h.data_size.unwrap_or(h.samples.len() as u32);
    body.extend_from_slice(&data_size.to_le_bytes());
    body.extend_from_slice(&h.samples);
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&h.riff_size.unwrap_or(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

/// 80-bit IEEE extended, as AIFF's COMM chunk stores the rate.
fn extended(v: u32) -> [u8; 10] {
    let mut out = [0u8; 10];
    if v == 0 {
        return out;
    }
    let exp = 31 - v.leading_zeros();
    out[..2].copy_from_slice(&((exp + 16383) as u16).to_be_bytes());
    out[2..].copy_from_slice(&((u64::from(v)) << (63 - exp)).to_be_bytes());
    out
}

fn aiff(h: &Header, rate: u32) -> Vec<u8> {
    let mut comm = Vec::new();
    comm.extend_from_slice(&h.channels.to_be_bytes());
    let frames = h.frames.unwrap_or(h.samples.len() as u32 / 2);
    comm.extend_from_slice(&frames.to_be_bytes());
    comm.extend_from_slice(&h.bits.to_be_bytes());
    comm.extend_from_slice(&extended(rate));
    let mut ssnd = vec![0u8; 8];
    ssnd.extend_from_slice(&h.samples);
    let mut body = b"AIFF".to_vec();
    body.extend_from_slice(b"COMM");
    body.extend_from_slice(&(comm.len() as u32).to_be_bytes());
    body.extend_from_slice(&comm);
    body.extend_from_slice(b"SSND");
    let ssnd_size = h.data_size.unwrap_or(ssnd.len() as u32);
    body.extend_from_slice(&ssnd_size.to_be_bytes());
    body.extend_from_slice(&ssnd);
    let mut out = b"FORM".to_vec();
    out.extend_from_slice(&h.riff_size.unwrap_or(body.len() as u32).to_be_bytes());
    out.extend_from_slice(&body);
    out
}

fuzz_target!(|data: &[u8]| {
    let Ok(h) = Header::take(Unstructured::new(data)) else {
        return;
    };
    if h.samples.len() > 1 << 16 {
        return;
    }
    let rate = match h.rate_pick % 3 {
        0 => h.rate,
        1 => EDGE_RATES[usize::from(h.rate_pick / 3) % EDGE_RATES.len()],
        _ => 8_000 + h.rate % 96_000,
    };
    let (bytes, ext) = if h.aiff {
        (aiff(&h, rate), "aiff")
    } else {
        (wav(&h, rate), "wav")
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("f.{ext}"));
    std::fs::write(&path, bytes).unwrap();
    let _ = probe(&path);
    let _ = load_for_analysis(&path, 16_000, &AnalysisPlan::default());
});
