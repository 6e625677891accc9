//! Frame time while two workers classify (issue 6: ≤ 16 ms a frame, keys
//! answer at once). Ignored by default (it keeps two cores busy); run it with
//! `cargo test --release --test tui_perf -- --ignored --nocapture`. Uses
//! ../shared/gtzan/valid when present, else demo/.
#![allow(clippy::unwrap_used)] // a test (or bench) that cannot unwrap has failed

mod tui_common;

use std::path::Path;
use std::time::{Duration, Instant};

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use earmark::tui::analyst::AnalystOptions;
use earmark::tui::{AppEvent, AppOptions};
use tui_common::{Harness, demo_dir};

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn report(what: &str, mut v: Vec<Duration>) -> Duration {
    v.sort();
    let p95 = percentile(&v, 0.95);
    println!(
        "{what}: n={} p50={:.2} ms p95={:.2} ms max={:.2} ms",
        v.len(),
        percentile(&v, 0.5).as_secs_f64() * 1e3,
        p95.as_secs_f64() * 1e3,
        v.last().unwrap().as_secs_f64() * 1e3
    );
    p95
}

#[test]
#[ignore]
fn frame_time_while_two_workers_classify() {
    let gtzan = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/gtzan/valid");
    let root = if gtzan.is_dir() { gtzan } else { demo_dir() };
    println!("library: {}", root.display());
    for (w, h) in [(160u16, 48u16), (80, 24)] {
        let mut opts = AppOptions::new(&root, "lib");
        opts.analysis = Some(AnalystOptions {
            workers: 2,
            no_cache: true,
            ..AnalystOptions::default()
        });
        let mut hn = Harness::with_options(opts, w, h);
        // Open the first folder, focus a file (preview), classify the folder.
        hn.key(KeyCode::Right);
        hn.key(KeyCode::Down);
        let key = |c: KeyCode| AppEvent::Input(Event::Key(KeyEvent::new(c, KeyModifiers::NONE)));
        hn.app.handle_event(key(KeyCode::Char('c')));
        let mut frames = Vec::new();
        let mut keys = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut down = true;
        while Instant::now() < deadline && frames.len() < 400 {
            while let Ok(ev) = hn.rx.try_recv() {
                hn.app.handle_event(ev);
            }
            let t = Instant::now();
            hn.draw();
            frames.push(t.elapsed());
            // A key every other turn: handle it and draw the answer.
            if frames.len() % 2 == 0 {
                let t = Instant::now();
                hn.app
                    .handle_event(key(if down { KeyCode::Down } else { KeyCode::Up }));
                hn.draw();
                keys.push(t.elapsed());
                down = !down;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        let jobs = hn
            .app
            .results()
            .iter()
            .filter(|(_, f)| f.result.is_some())
            .count();
        println!("{w}x{h}: {jobs} files classified meanwhile");
        let p95 = report(&format!("{w}x{h} frame"), frames);
        report(&format!("{w}x{h} key + frame"), keys);
        assert!(p95 < Duration::from_millis(16), "p95 frame {p95:?}");
    }
}
