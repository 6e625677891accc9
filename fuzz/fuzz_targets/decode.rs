//! The decode entry point (format sniffing, symphonia, the .au reader,
//! resampling to the analysis plan) on arbitrary files. The first byte picks
//! the extension, since earmark trusts content over names but must survive lies.
#![no_main]

use earmark::audio::{AnalysisPlan, load_for_analysis, probe};
use libfuzzer_sys::fuzz_target;

const EXTS: [&str; 8] = ["mp3", "flac", "ogg", "m4a", "wav", "au", "aiff", "bin"];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("f.{}", EXTS[pick as usize % EXTS.len()]));
    std::fs::write(&path, body).unwrap();
    let _ = probe(&path);
    let _ = load_for_analysis(&path, 16_000, &AnalysisPlan::default());
});
