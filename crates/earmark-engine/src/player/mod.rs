//! Playback: rodio output on its own thread, fed by earmark's own decoder.
//!
//! Without an output device (SSH, CI, containers) or with `--no-audio` the
//! player runs in *silent mode*: a clock-driven null sink pulls the same
//! decoded samples in real time, so position, seeking and end-of-track behave
//! exactly as with sound. Commands never block the caller; results come back
//! as [`PlayerEvent`]s through the callback given to [`Player::start`].

mod seek;
mod source;

pub use seek::{SeekTarget, parse_seek};

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::Thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use crate::audio::{AudioStream, SourceInfo};
use source::{SeekSender, TrackControls};

/// Where sound goes.
#[derive(Debug, Clone, PartialEq)]
pub enum OutputStatus {
    /// Still opening the device.
    Opening,
    Device,
    /// No sound: the reason in a few words ("--no-audio", "no audio device").
    Silent {
        reason: String,
    },
}

impl OutputStatus {
    pub fn is_silent(&self) -> bool {
        matches!(self, OutputStatus::Silent { .. })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum PlayerEvent {
    Output(OutputStatus),
    /// A track is loaded and playing (or paused, as asked).
    Started {
        path: PathBuf,
        info: SourceInfo,
        paused: bool,
    },
    /// A track could not be opened, or broke while playing.
    Failed {
        path: PathBuf,
        reason: String,
    },
    /// The track played to its end.
    Finished {
        path: PathBuf,
    },
}

enum Cmd {
    Load {
        path: PathBuf,
        start_s: f64,
        paused: bool,
    },
    SetPaused(bool),
    Seek(f64),
    Volume(f32),
    Stop,
    Quit,
}

struct Track {
    path: PathBuf,
    info: SourceInfo,
    controls: Arc<TrackControls>,
    seek: SeekSender,
    reported_end: bool,
}

/// Handle to the player thread. Cheap to query from a draw call.
/// The playing track as the caller's thread sees it.
struct Current {
    controls: Arc<TrackControls>,
    duration_s: Option<f64>,
}

type SharedCurrent = Arc<Mutex<Option<Current>>>;

pub struct Player {
    tx: Sender<Cmd>,
    current: SharedCurrent,
    output: OutputStatus,
    volume: f32,
}

/// How long `start` waits for the device before going on without it.
const OPEN_WAIT: Duration = Duration::from_secs(3);

impl Player {
    /// Start the player thread and open the output (unless `no_audio`). Waits
    /// briefly for the device so the caller knows at once whether it is silent;
    /// C-library noise on stderr is suppressed while the device opens.
    pub fn start(no_audio: bool, notify: impl Fn(PlayerEvent) + Send + 'static) -> Player {
        let (tx, rx) = crossbeam_channel::unbounded();
        let (ready_tx, ready_rx) = crossbeam_channel::bounded(1);
        let current = Arc::new(Mutex::new(None));
        let shared = current.clone();
        let spawned = std::thread::Builder::new()
            .name("earmark-player".into())
            .spawn(move || player_thread(no_audio, rx, shared, ready_tx, notify));
        let output = match spawned {
            Err(e) => OutputStatus::Silent {
                reason: format!("cannot start the player thread: {e}"),
            },
            Ok(_) => ready_rx
                .recv_timeout(OPEN_WAIT)
                .unwrap_or(OutputStatus::Opening),
        };
        Player {
            tx,
            current,
            output,
            volume: 0.8,
        }
    }

    /// The output as known when `start` returned; later changes arrive as events.
    pub fn output(&self) -> &OutputStatus {
        &self.output
    }

    pub fn load(&self, path: &Path, paused: bool) {
        let _ = self.tx.send(Cmd::Load {
            path: path.to_path_buf(),
            start_s: 0.0,
            paused,
        });
    }

    pub fn set_paused(&self, paused: bool) {
        let _ = self.tx.send(Cmd::SetPaused(paused));
    }

    /// Seek to `seconds` from the start of the current track.
    pub fn seek(&self, seconds: f64) {
        let seconds = seconds.max(0.0);
        // Show the new position at once; the player thread catches up.
        if let Ok(current) = self.current.lock()
            && let Some(c) = current.as_ref()
        {
            c.controls.set_position(seconds);
        }
        let _ = self.tx.send(Cmd::Seek(seconds));
    }

    /// Seek `delta` seconds from where playback is now (±30 s keys),
    /// kept within the track.
    pub fn seek_by(&self, delta: f64) {
        let Some(now) = self.position() else { return };
        let mut to = (now + delta).max(0.0);
        if let Some(d) = self.duration() {
            to = to.min(d);
        }
        self.seek(to);
    }

    /// Seek to a typed target (`50%`, `16:00`); false when the track's length
    /// is unknown and the target is a fraction, or nothing is loaded.
    pub fn seek_to(&self, target: SeekTarget) -> bool {
        if self.position().is_none() {
            return false;
        }
        match target.seconds(self.duration()) {
            Some(s) => {
                self.seek(s);
                true
            }
            None => false,
        }
    }

    /// Length of the current track, when its header says.
    pub fn duration(&self) -> Option<f64> {
        let guard = self.current.lock().ok()?;
        guard.as_ref().and_then(|c| c.duration_s)
    }

    /// True when the current track has played to its end: Space should then
    /// start what the user has selected, not replay this one.
    pub fn ended(&self) -> bool {
        self.current.lock().ok().is_some_and(|g| {
            g.as_ref()
                .is_some_and(|c| c.controls.finished.load(Ordering::SeqCst))
        })
    }

    pub fn volume(&self) -> f32 {
        self.volume
    }

    /// Set the volume (0.0 to 1.0); returns the value kept.
    pub fn set_volume(&mut self, v: f32) -> f32 {
        self.volume = v.clamp(0.0, 1.0);
        let _ = self.tx.send(Cmd::Volume(self.volume));
        self.volume
    }

    pub fn stop(&self) {
        let _ = self.tx.send(Cmd::Stop);
    }

    /// Playback position of the current track in seconds.
    pub fn position(&self) -> Option<f64> {
        let guard = self.current.lock().ok()?;
        guard.as_ref().map(|c| c.controls.position())
    }
}

impl Drop for Player {
    fn drop(&mut self) {
        let _ = self.tx.send(Cmd::Quit);
    }
}

/// Samples consumed in silent mode come from a mixer nobody hears.
struct NullSink {
    active: Arc<AtomicBool>,
    quit: Arc<AtomicBool>,
    thread: Thread,
}

impl NullSink {
    fn start() -> Option<(rodio::mixer::Mixer, NullSink)> {
        let channels = std::num::NonZero::new(2u16)?;
        let rate = std::num::NonZero::new(44_100u32)?;
        let (mixer, mut out) = rodio::mixer::mixer(channels, rate);
        let active = Arc::new(AtomicBool::new(false));
        let quit = Arc::new(AtomicBool::new(false));
        let (a, q) = (active.clone(), quit.clone());
        let per_second = f64::from(rate.get()) * f64::from(channels.get());
        let handle = std::thread::Builder::new()
            .name("earmark-null-sink".into())
            .spawn(move || {
                let mut last = Instant::now();
                let mut owed = 0.0;
                while !q.load(Ordering::Relaxed) {
                    if !a.load(Ordering::Relaxed) {
                        std::thread::park();
                        last = Instant::now();
                        continue;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                    let now = Instant::now();
                    owed += now.duration_since(last).as_secs_f64() * per_second;
                    last = now;
                    while owed >= 1.0 {
                        owed -= 1.0;
                        if out.next().is_none() {
                            owed = 0.0;
                        }
                    }
                }
            })
            .ok()?;
        let thread = handle.thread().clone();
        Some((
            mixer,
            NullSink {
                active,
                quit,
                thread,
            },
        ))
    }

    fn set_active(&self, on: bool) {
        self.active.store(on, Ordering::Relaxed);
        if on {
            self.thread.unpark();
        }
    }
}

impl Drop for NullSink {
    fn drop(&mut self) {
        self.quit.store(true, Ordering::Relaxed);
        self.thread.unpark();
    }
}

/// The reason a device could not be opened, in the few words a status line
/// at 80 columns has room for beside "playing silently".
const NO_DEVICE: &str = "no audio device";

fn describe_open_error(e: &rodio::DeviceSinkError) -> String {
    use std::error::Error;
    match e {
        rodio::DeviceSinkError::NoDevice => NO_DEVICE.into(),
        other => {
            let cause = other
                .source()
                .map_or_else(|| other.to_string(), |c| c.to_string());
            if cause.contains("not available") || cause.contains("No such file") {
                NO_DEVICE.into()
            } else {
                format!("cannot open the audio device: {cause}")
            }
        }
    }
}

#[allow(clippy::too_many_lines)] // long before the lint; listed in issue 14 to split
fn player_thread(
    no_audio: bool,
    rx: Receiver<Cmd>,
    current: SharedCurrent,
    ready: Sender<OutputStatus>,
    notify: impl Fn(PlayerEvent),
) {
    // The device (cpal streams are not always Send) lives and dies on this thread.
    let mut device = None;
    let status = if no_audio {
        OutputStatus::Silent {
            reason: "--no-audio".into(),
        }
    } else {
        let _quiet = crate::quiet::QuietStderr::new();
        match rodio::DeviceSinkBuilder::open_default_sink() {
            Ok(mut sink) => {
                sink.log_on_drop(false);
                device = Some(sink);
                OutputStatus::Device
            }
            Err(e) => OutputStatus::Silent {
                reason: describe_open_error(&e),
            },
        }
    };
    let (mixer, null) = match &device {
        Some(d) => (d.mixer().clone(), None),
        None => match NullSink::start() {
            Some((m, n)) => (m, Some(n)),
            None => {
                let _ = ready.send(OutputStatus::Silent {
                    reason: "cannot start the silent output".into(),
                });
                return;
            }
        },
    };
    if ready.send(status.clone()).is_err() {
        // `start` gave up waiting: tell the app through the event stream instead.
        notify(PlayerEvent::Output(status));
    }
    let set_active = |on: bool| {
        if let Some(n) = &null {
            n.set_active(on);
        }
    };

    let mut track: Option<Track> = None;
    let mut volume = 0.8f32;
    loop {
        let cmd = if track.as_ref().is_some_and(|t| !t.reported_end) {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(c) => Some(c),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => break,
            }
        } else {
            match rx.recv() {
                Ok(c) => Some(c),
                Err(_) => break,
            }
        };
        match cmd {
            None => {}
            Some(Cmd::Quit) => break,
            Some(Cmd::Load {
                path,
                start_s,
                paused,
            }) => {
                set_active(false);
                let opened = open_in_place(
                    &mut track, path, start_s, paused, volume, &mixer, &current, &notify,
                );
                if let Some(t) = opened.and(track.as_ref()) {
                    set_active(!paused);
                    notify(PlayerEvent::Started {
                        path: t.path.clone(),
                        info: t.info.clone(),
                        paused,
                    });
                }
            }
            Some(Cmd::SetPaused(p)) => {
                if let Some(t) = &track {
                    if t.reported_end && !p {
                        // Play again from the start after the end.
                        let path = t.path.clone();
                        let _ = open_in_place(
                            &mut track, path, 0.0, false, volume, &mixer, &current, &notify,
                        );
                        set_active(track.is_some());
                    } else {
                        t.controls.paused.store(p, Ordering::SeqCst);
                        set_active(!p && !t.reported_end);
                    }
                }
            }
            Some(Cmd::Seek(target)) => {
                if let Some(t) = &track {
                    let end = t.info.duration_s.unwrap_or(f64::MAX);
                    let target = target.min((end - 0.25).max(0.0));
                    if t.reported_end || t.controls.finished.load(Ordering::SeqCst) {
                        let paused = t.controls.paused.load(Ordering::SeqCst) || t.reported_end;
                        let path = t.path.clone();
                        let _ = open_in_place(
                            &mut track, path, target, paused, volume, &mixer, &current, &notify,
                        );
                        set_active(!paused && track.is_some());
                    } else {
                        let generation = t.controls.generation.fetch_add(1, Ordering::AcqRel) + 1;
                        t.controls.set_position(target);
                        let _ = t.seek.send((generation, target));
                    }
                }
            }
            Some(Cmd::Volume(v)) => {
                volume = v;
                if let Some(t) = &track {
                    t.controls.set_volume(v);
                }
            }
            Some(Cmd::Stop) => {
                if let Some(old) = track.take() {
                    old.controls.stop.store(true, Ordering::SeqCst);
                }
                if let Ok(mut c) = current.lock() {
                    *c = None;
                }
                set_active(false);
            }
        }
        if let Some(t) = &mut track
            && !t.reported_end
            && t.controls.finished.load(Ordering::SeqCst)
        {
            t.reported_end = true;
            set_active(false);
            let error = t.controls.error.lock().ok().and_then(|mut e| e.take());
            // The last packet's position lags the end: show the whole track played.
            if error.is_none()
                && let Some(d) = t.info.duration_s
            {
                t.controls.set_position(d);
            }
            notify(match error {
                Some(reason) => PlayerEvent::Failed {
                    path: t.path.clone(),
                    reason,
                },
                None => PlayerEvent::Finished {
                    path: t.path.clone(),
                },
            });
        }
    }
    if let Some(t) = track {
        t.controls.stop.store(true, Ordering::SeqCst);
    }
}

/// Stop the current track and play `path` from `start_s` in its place; a
/// file that cannot be opened is reported and leaves nothing playing.
#[allow(clippy::too_many_arguments)] // the player thread's loop state, passed as is
fn open_in_place(
    track: &mut Option<Track>,
    path: PathBuf,
    start_s: f64,
    paused: bool,
    volume: f32,
    mixer: &rodio::mixer::Mixer,
    current: &Mutex<Option<Current>>,
    notify: &impl Fn(PlayerEvent),
) -> Option<()> {
    if let Some(old) = track.take() {
        old.controls.stop.store(true, Ordering::SeqCst);
    }
    match open_track(&path, start_s, paused, volume) {
        Ok((t, src)) => {
            publish(current, &t);
            mixer.add(src);
            *track = Some(t);
            Some(())
        }
        Err(reason) => {
            if let Ok(mut c) = current.lock() {
                *c = None;
            }
            notify(PlayerEvent::Failed { path, reason });
            None
        }
    }
}

/// Make `t` the track the caller's thread sees.
fn publish(current: &Mutex<Option<Current>>, t: &Track) {
    if let Ok(mut c) = current.lock() {
        *c = Some(Current {
            controls: t.controls.clone(),
            duration_s: t.info.duration_s,
        });
    }
}

fn open_track(
    path: &Path,
    start_s: f64,
    paused: bool,
    volume: f32,
) -> Result<(Track, source::StreamSource), String> {
    let strip = |e: crate::audio::AudioError| crate::audio::without_path(path, e.to_string());
    let mut stream = AudioStream::open(path).map_err(strip)?;
    let mut at = 0.0;
    if start_s > 0.0 {
        at = stream.seek(start_s).map_err(strip)?;
    }
    let info = stream.info().clone();
    let controls = TrackControls::new(volume, paused);
    controls.set_position(at);
    let (src, seek) = source::start(stream, controls.clone());
    Ok((
        Track {
            path: path.to_path_buf(),
            info,
            controls,
            seek,
            reported_end: false,
        },
        src,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The terminal app shows the reason as is, beside "playing silently".
    #[test]
    fn a_missing_device_is_said_in_three_words() {
        assert_eq!(
            describe_open_error(&rodio::DeviceSinkError::NoDevice),
            "no audio device"
        );
    }

    fn write_wav(path: &Path, seconds: f32, rate: u32) {
        let n = (seconds * rate as f32) as u32;
        let samples: Vec<i16> = (0..n)
            .map(|i| ((i as f32 * 0.05).sin() * 8000.0) as i16)
            .collect();
        crate::test_wav::write_pcm16_mono(path, rate, &samples);
    }

    #[test]
    fn silent_mode_plays_in_real_time_seeks_and_finishes() {
        let dir = tempfile::tempdir().unwrap();
        let wav = dir.path().join("tone.wav");
        write_wav(&wav, 1.5, 8000);
        let (tx, rx) = crossbeam_channel::unbounded();
        let player = Player::start(true, move |e| {
            let _ = tx.send(e);
        });
        assert_eq!(
            player.output(),
            &OutputStatus::Silent {
                reason: "--no-audio".into()
            }
        );
        player.load(&wav, false);
        match rx.recv_timeout(Duration::from_secs(5)).unwrap() {
            PlayerEvent::Started { info, paused, .. } => {
                assert_eq!(info.sample_rate, 8000);
                assert!(!paused);
            }
            other => panic!("unexpected {other:?}"),
        }
        std::thread::sleep(Duration::from_millis(400));
        let p = player.position().unwrap();
        assert!(p > 0.1 && p < 1.2, "position {p}");
        player.seek(1.0);
        std::thread::sleep(Duration::from_millis(50));
        // Coarse seeks land on a packet boundary at or a little before the target.
        let p = player.position().unwrap();
        assert!((0.8..1.5).contains(&p), "position after seek {p}");
        match rx.recv_timeout(Duration::from_secs(5)).unwrap() {
            PlayerEvent::Finished { path } => assert_eq!(path, wav),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn relative_and_typed_seeks_and_the_end_is_reached() {
        let dir = tempfile::tempdir().unwrap();
        let wav = dir.path().join("long.wav");
        write_wav(&wav, 100.0, 8000);
        let (tx, rx) = crossbeam_channel::unbounded();
        let player = Player::start(true, move |e| {
            let _ = tx.send(e);
        });
        assert!(!player.seek_to(SeekTarget::Fraction(0.5)), "nothing loaded");
        player.load(&wav, true);
        assert!(matches!(
            rx.recv_timeout(Duration::from_secs(5)).unwrap(),
            PlayerEvent::Started { .. }
        ));
        let d = player.duration().unwrap();
        assert!((d - 100.0).abs() < 0.01, "{d}");
        assert!(player.seek_to(parse_seek("80%").unwrap()));
        assert!((player.position().unwrap() - 80.0).abs() < 0.3);
        player.seek_by(-30.0);
        assert!((player.position().unwrap() - 50.0).abs() < 0.3);
        player.seek_by(-300.0);
        assert!(player.position().unwrap() < 0.3);
        player.seek_by(30.0);
        assert!((player.position().unwrap() - 30.0).abs() < 0.3);
        assert!(player.seek_to(parse_seek("1:39").unwrap()));
        assert!(!player.ended());
        player.set_paused(false);
        match rx.recv_timeout(Duration::from_secs(10)).unwrap() {
            PlayerEvent::Finished { path } => assert_eq!(path, wav),
            other => panic!("unexpected {other:?}"),
        }
        assert!(player.ended());
        // The gauge shows the whole track played, not a packet short of it.
        assert_eq!(player.position(), Some(d));
    }

    #[test]
    fn a_bad_file_fails_with_a_reason() {
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad.mp3");
        std::fs::write(&bad, b"\x89PNG\r\n\x1a\n0000000000000000000000000000").unwrap();
        let (tx, rx) = crossbeam_channel::unbounded();
        let player = Player::start(true, move |e| {
            let _ = tx.send(e);
        });
        player.load(&bad, false);
        match rx.recv_timeout(Duration::from_secs(5)).unwrap() {
            PlayerEvent::Failed { reason, .. } => {
                assert!(reason.contains("not an audio file"), "{reason}")
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
