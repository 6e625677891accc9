//! Library scan of a generated 100 000-file tree, the TUI's first frame on
//! it (the frame must not wait for the scan), and a rescan's swap on the UI
//! thread. Run: `cargo bench --bench scan`.
#![allow(clippy::unwrap_used)] // a test (or bench) that cannot unwrap has failed

use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use earmark::library::tree::Tree;
use earmark::tui::event::AppEvent;
use earmark::tui::{App, AppOptions};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const FILES: usize = 100_000;

/// 100 artists × 50 albums × 20 tracks, plus cover art and notes the browser
/// must skip. Built once under target/ and reused by later runs.
fn tree() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-tree-100k");
    let done = root.join(".complete");
    if done.exists() {
        return root;
    }
    let _ = std::fs::remove_dir_all(&root);
    let exts = ["mp3", "flac", "ogg", "m4a", "wav"];
    let mut n = 0;
    'outer: for artist in 0..100 {
        for album in 0..50 {
            let dir = root.join(format!("Artist {artist:03}/Album {album:02}"));
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("cover.jpg"), b"").unwrap();
            for track in 0..20 {
                let ext = exts[(artist + album + track) % exts.len()];
                std::fs::write(dir.join(format!("{track:02} Song {n}.{ext}")), b"").unwrap();
                n += 1;
                if n == FILES {
                    break 'outer;
                }
            }
        }
    }
    std::fs::write(&done, b"").unwrap();
    root
}

fn bench(c: &mut Criterion) {
    let root = tree();
    let mut g = c.benchmark_group("library_100k");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.bench_function("full_scan", |b| {
        b.iter(|| {
            let t = Tree::scan_blocking(&root);
            assert!(t.len() > FILES);
        })
    });
    g.bench_function("first_frame", |b| {
        // The app (and its scan thread) is dropped outside the timed part.
        b.iter_with_large_drop(|| {
            let (tx, _rx) = crossbeam_channel::unbounded();
            let mut app = App::new(AppOptions::new(&root, "library"), tx);
            let mut term = Terminal::new(TestBackend::new(120, 40)).unwrap();
            term.draw(|f| app.draw(f)).unwrap();
            app
        })
    });
    // What an automatic rescan costs the UI thread (the watch makes them
    // frequent: every 3 s while an album is copied in): the walk and the
    // stats run on their thread, the swap is timed here, on a library whose
    // scan is done.
    let (tx, rx) = crossbeam_channel::unbounded();
    let mut app = App::new(AppOptions::new(&root, "library"), tx);
    app.settle(&rx, Duration::from_secs(120));
    g.bench_function("rescan_swap", |b| {
        b.iter_batched(
            || Tree::rescan_blocking(&root),
            |rescan| {
                app.handle_event(AppEvent::Rescanned {
                    rescan: Box::new(rescan),
                    auto: true,
                });
            },
            criterion::BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
