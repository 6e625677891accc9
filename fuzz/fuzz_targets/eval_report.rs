//! The evaluation-report reader (what the TUI's evaluation view loads), and the
//! cell lookup it drives, on arbitrary text.
#![no_main]

use earmark::eval::EvalReport;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(r) = EvalReport::from_json(src) {
        let n = r.labels.len();
        for row in 0..n {
            for col in 0..n {
                let _ = r.cell_files(row, col);
            }
        }
    }
});
