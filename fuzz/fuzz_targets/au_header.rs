//! The `.au` header parser and sample decoder on arbitrary bytes.
#![no_main]

use std::path::Path;

use earmark::audio::au::{decode_samples, parse_header};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(h) = parse_header(data, data.len() as u64, Path::new("fuzz.au")) {
        let start = usize::try_from(h.data_offset).unwrap_or(usize::MAX).min(data.len());
        let end = start.saturating_add(usize::try_from(h.data_len).unwrap_or(usize::MAX));
        let _ = decode_samples(&data[start..end.min(data.len())], h.encoding);
        let _ = h.n_frames();
    }
});
