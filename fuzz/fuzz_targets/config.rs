//! Theme and key-map config parsing on arbitrary text: errors, never panics.
#![no_main]

use std::path::Path;

use earmark::tui::theme::Theme;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    let _ = Theme::parse(src, Path::new("fuzz.toml"), "fuzz", 0);
    let _ = earmark::tui::config::parse(src, Path::new("config.toml"));
});
