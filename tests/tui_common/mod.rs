//! Helpers shared by the TUI tests: build an [`App`] on a folder, feed it keys,
//! wait until the scan and file inspections are done, render to a `TestBackend`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use earmark::tui::analyst::ModelInfo;
use earmark::tui::{App, AppEvent, AppOptions};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// GTZAN's ten genre ids, in the shipped models' order.
pub fn gtzan_labels() -> Vec<String> {
    [
        "blues",
        "classical",
        "country",
        "disco",
        "hiphop",
        "jazz",
        "metal",
        "pop",
        "reggae",
        "rock",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// A ready model named "test" over GTZAN's labels, for injected analyses.
pub fn test_model_info() -> ModelInfo {
    ModelInfo {
        name: "test".into(),
        sha256: "test-sha".into(),
        labels: gtzan_labels(),
        warnings: vec![],
        cache_path: None,
    }
}

pub struct Harness {
    pub app: App,
    pub rx: Receiver<AppEvent>,
    pub terminal: Terminal<TestBackend>,
}

pub fn demo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("demo")
}

/// `DIR/lib/album/` holding writable copies of three demo tracks
/// (awakening.mp3, enemy-unknown.m4a, nebula.flac); returns (lib, album).
pub fn demo_album_library(dir: &Path) -> (PathBuf, PathBuf) {
    let lib = dir.join("lib");
    let album = lib.join("album");
    std::fs::create_dir_all(&album).unwrap();
    for f in ["awakening.mp3", "enemy-unknown.m4a", "nebula.flac"] {
        std::fs::copy(demo_dir().join("Max McCracken").join(f), album.join(f)).unwrap();
    }
    (lib, album)
}

impl Harness {
    /// An app on `root`, shown as `label`, silent, default theme and keys.
    pub fn new(root: &Path, label: &str, width: u16, height: u16) -> Harness {
        Self::with_options(AppOptions::new(root, label), width, height)
    }

    pub fn with_options(opts: AppOptions, width: u16, height: u16) -> Harness {
        let (tx, rx) = crossbeam_channel::unbounded();
        let app = App::new(opts, tx);
        let terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        let mut h = Harness { app, rx, terminal };
        h.settle();
        h
    }

    /// Draw, then apply events until the scan is done and every inspection
    /// the frame asked for is back; repeat until a frame asks for nothing new.
    pub fn settle(&mut self) {
        for _ in 0..20 {
            self.draw();
            assert!(
                self.app.settle(&self.rx, Duration::from_secs(20)),
                "app did not settle"
            );
            self.draw();
            if self.app.is_idle() {
                return;
            }
        }
    }

    /// Apply events until `cond` holds (jobs and player events arrive
    /// asynchronously); fails the test after `within`.
    pub fn wait_for(&mut self, within: Duration, what: &str, cond: impl Fn(&Harness) -> bool) {
        let deadline = Instant::now() + within;
        while !cond(self) {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            if let Ok(ev) = self.rx.recv_timeout(Duration::from_millis(50)) {
                self.app.handle_event(ev);
            }
            self.draw();
        }
    }

    pub fn draw(&mut self) {
        let app = &mut self.app;
        self.terminal.draw(|f| app.draw(f)).unwrap();
    }

    pub fn key(&mut self, code: KeyCode) {
        self.key_mod(code, KeyModifiers::NONE);
    }

    pub fn key_mod(&mut self, code: KeyCode, mods: KeyModifiers) {
        self.app
            .handle_event(AppEvent::Input(Event::Key(KeyEvent::new(code, mods))));
        self.settle();
    }

    pub fn chars(&mut self, s: &str) {
        for c in s.chars() {
            self.key(KeyCode::Char(c));
        }
    }

    pub fn resize(&mut self, width: u16, height: u16) {
        self.terminal.backend_mut().resize(width, height);
        self.terminal
            .resize(ratatui::layout::Rect::new(0, 0, width, height))
            .unwrap();
        self.app
            .handle_event(AppEvent::Input(Event::Resize(width, height)));
        self.settle();
    }

    /// The screen as text, one line per row.
    pub fn screen(&self) -> String {
        let buf = self.terminal.backend().buffer();
        let mut out = String::new();
        for y in 0..buf.area.height {
            for x in 0..buf.area.width {
                out.push_str(buf[(x, y)].symbol());
            }
            out.push('\n');
        }
        out
    }

    /// The label of the selected node.
    pub fn selected_label(&self) -> Option<String> {
        let id = self.app.browser().selected()?;
        Some(self.app.tree().node(id).label().into_owned())
    }
}

/// A folder named `library` with every kind of bad input: a picture renamed
/// .mp3, an empty file, a truncated FLAC, a symlink loop, a dangling link,
/// next to good clips copied from demo/.
pub fn bad_library() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("library");
    let good = lib.join("good");
    let bad = lib.join("bad");
    std::fs::create_dir_all(&good).unwrap();
    std::fs::create_dir_all(&bad).unwrap();
    let demo = demo_dir();
    std::fs::copy(demo.join("HyperRogue/hell.wav"), good.join("hell.wav")).unwrap();
    std::fs::copy(
        demo.join("Max McCracken/awakening.mp3"),
        good.join("awakening.mp3"),
    )
    .unwrap();
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend_from_slice(&[0u8; 200]);
    std::fs::write(bad.join("cover-art.mp3"), png).unwrap();
    std::fs::write(bad.join("empty.ogg"), b"").unwrap();
    let flac = std::fs::read(demo.join("Max McCracken/nebula.flac")).unwrap();
    std::fs::write(bad.join("truncated.flac"), &flac[..flac.len() / 3]).unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&lib, bad.join("loop")).unwrap();
        std::os::unix::fs::symlink(lib.join("gone.mp3"), bad.join("dangling.mp3")).unwrap();
    }
    (dir, lib)
}
