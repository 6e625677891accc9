//! A rodio [`Source`] fed by earmark's own streaming decoder running on its
//! own thread: the audio callback only pops ready chunks, never touches files.

use std::num::NonZero;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, SendTimeoutError, Sender, TryRecvError};
use rodio::Source;

use crate::audio::{AudioStream, SourceInfo, without_path};

/// Shared between the player thread, the decoder thread and the audio callback.
#[derive(Debug)]
pub struct TrackControls {
    pub paused: AtomicBool,
    pub stop: AtomicBool,
    volume_bits: AtomicU32,
    /// Bumped by every seek; chunks from an older generation are dropped.
    pub generation: AtomicU64,
    position_bits: AtomicU64,
    pub finished: AtomicBool,
    pub error: Mutex<Option<String>>,
}

impl TrackControls {
    pub fn new(volume: f32, paused: bool) -> Arc<TrackControls> {
        Arc::new(TrackControls {
            paused: AtomicBool::new(paused),
            stop: AtomicBool::new(false),
            volume_bits: AtomicU32::new(volume.to_bits()),
            generation: AtomicU64::new(0),
            position_bits: AtomicU64::new(0f64.to_bits()),
            finished: AtomicBool::new(false),
            error: Mutex::new(None),
        })
    }

    pub fn volume(&self) -> f32 {
        f32::from_bits(self.volume_bits.load(Ordering::Relaxed))
    }

    pub fn set_volume(&self, v: f32) {
        self.volume_bits.store(v.to_bits(), Ordering::Relaxed);
    }

    pub fn position(&self) -> f64 {
        f64::from_bits(self.position_bits.load(Ordering::Relaxed))
    }

    pub fn set_position(&self, s: f64) {
        self.position_bits.store(s.to_bits(), Ordering::Relaxed);
    }
}

enum Msg {
    Chunk {
        generation: u64,
        start_s: f64,
        samples: Vec<f32>,
    },
    End {
        generation: u64,
    },
    Error {
        generation: u64,
        message: String,
    },
}

/// Seek requests for the decoder thread: (generation, target seconds).
pub type SeekSender = Sender<(u64, f64)>;

/// Start decoding `stream` on a new thread; returns the rodio source that plays
/// it and the channel seeks go through.
pub fn start(stream: AudioStream, controls: Arc<TrackControls>) -> (StreamSource, SeekSender) {
    let info = stream.info().clone();
    let (data_tx, data_rx) = crossbeam_channel::bounded(6);
    let (seek_tx, seek_rx) = crossbeam_channel::unbounded();
    let _ = std::thread::Builder::new()
        .name("earmark-decode".into())
        .spawn(move || decode_loop(stream, data_tx, seek_rx));
    let channels = info.channels.clamp(1, u16::MAX as usize) as u16;
    let source = StreamSource {
        channels: NonZero::new(channels).unwrap_or(NonZero::<u16>::MIN),
        rate: NonZero::new(info.sample_rate).unwrap_or(NonZero::<u32>::MIN),
        info,
        rx: data_rx,
        controls,
        generation: 0,
        chunk: Vec::new(),
        idx: 0,
        chunk_start_s: 0.0,
        zeros_left: 0,
        volume: 1.0,
        since_update: 0,
        done: false,
    };
    (source, seek_tx)
}

fn decode_loop(mut stream: AudioStream, tx: Sender<Msg>, seeks: Receiver<(u64, f64)>) {
    let path = stream.path().to_path_buf();
    let mut generation = 0;
    let mut ended = false;
    loop {
        // Newest seek wins.
        let mut seek = None;
        loop {
            match seeks.try_recv() {
                Ok(s) => seek = Some(s),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => return,
            }
        }
        // A seek starts a new generation; a failed one ends it with its reason.
        let mut apply_seek = |(g, target): (u64, f64), generation: &mut u64, ended: &mut bool| {
            *generation = g;
            *ended = false;
            match stream.seek(target) {
                Ok(_) => true,
                Err(e) => {
                    *ended = true;
                    let message = without_path(&path, e.to_string());
                    tx.send(Msg::Error {
                        generation: g,
                        message,
                    })
                    .is_ok()
                }
            }
        };
        if let Some(s) = seek
            && !apply_seek(s, &mut generation, &mut ended)
        {
            return;
        }
        if ended {
            // Nothing left to decode until a seek comes (or the source goes away).
            match seeks.recv_timeout(Duration::from_millis(200)) {
                Ok(s) => {
                    if !apply_seek(s, &mut generation, &mut ended) {
                        return;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
            continue;
        }
        let start_s = stream.position_s();
        let mut msg = match stream.read() {
            Ok(Some(samples)) => Msg::Chunk {
                generation,
                start_s,
                samples,
            },
            Ok(None) => {
                ended = true;
                Msg::End { generation }
            }
            Err(e) => {
                ended = true;
                Msg::Error {
                    generation,
                    message: without_path(&path, e.to_string()),
                }
            }
        };
        // Wait for room, but notice a seek meanwhile (the chunk is then stale).
        loop {
            match tx.send_timeout(msg, Duration::from_millis(20)) {
                Ok(()) => break,
                Err(SendTimeoutError::Disconnected(_)) => return,
                Err(SendTimeoutError::Timeout(m)) => {
                    if !seeks.is_empty() {
                        break;
                    }
                    msg = m;
                }
            }
        }
    }
}

/// The rodio side: pops decoded chunks; plays silence (without advancing)
/// while paused or while the decoder has not caught up.
pub struct StreamSource {
    info: SourceInfo,
    channels: NonZero<u16>,
    rate: NonZero<u32>,
    rx: Receiver<Msg>,
    controls: Arc<TrackControls>,
    generation: u64,
    chunk: Vec<f32>,
    idx: usize,
    chunk_start_s: f64,
    /// Zero samples still owed to finish a silent frame.
    zeros_left: u16,
    volume: f32,
    since_update: u32,
    done: bool,
}

impl StreamSource {
    fn publish_position(&self) {
        let frames = (self.idx / self.channels.get() as usize) as f64;
        self.controls
            .set_position(self.chunk_start_s + frames / f64::from(self.rate.get()));
    }

    fn silent_frame(&mut self) -> Option<f32> {
        self.zeros_left = self.channels.get() - 1;
        Some(0.0)
    }

    fn finish(&mut self, error: Option<String>) -> Option<f32> {
        if let Some(e) = error
            && let Ok(mut slot) = self.controls.error.lock()
        {
            *slot = Some(e);
        }
        self.done = true;
        self.controls.finished.store(true, Ordering::SeqCst);
        None
    }
}

impl Iterator for StreamSource {
    type Item = f32;

    fn next(&mut self) -> Option<f32> {
        if self.done {
            return None;
        }
        if self.zeros_left > 0 {
            self.zeros_left -= 1;
            return Some(0.0);
        }
        let at_frame_start = self.idx.is_multiple_of(self.channels.get() as usize);
        if at_frame_start {
            if self.controls.stop.load(Ordering::Relaxed) {
                self.done = true;
                return None;
            }
            let g = self.controls.generation.load(Ordering::Acquire);
            if g != self.generation {
                self.generation = g;
                self.chunk.clear();
                self.idx = 0;
            }
            if self.controls.paused.load(Ordering::Relaxed) {
                return self.silent_frame();
            }
        }
        loop {
            if self.idx < self.chunk.len() {
                let s = self.chunk[self.idx];
                self.idx += 1;
                self.since_update += 1;
                if self.since_update >= 1024 {
                    self.since_update = 0;
                    self.volume = self.controls.volume();
                    self.publish_position();
                }
                return Some(s * self.volume);
            }
            match self.rx.try_recv() {
                Ok(Msg::Chunk {
                    generation,
                    start_s,
                    samples,
                }) => {
                    if generation != self.generation {
                        continue;
                    }
                    self.chunk = samples;
                    self.idx = 0;
                    self.chunk_start_s = start_s;
                    self.volume = self.controls.volume();
                    self.publish_position();
                }
                Ok(Msg::End { generation }) if generation == self.generation => {
                    self.publish_position();
                    return self.finish(None);
                }
                Ok(Msg::Error {
                    generation,
                    message,
                }) if generation == self.generation => {
                    return self.finish(Some(message));
                }
                Ok(_) => continue,
                // The decoder has not caught up: a silent frame keeps time.
                Err(TryRecvError::Empty) => return self.silent_frame(),
                Err(TryRecvError::Disconnected) => return self.finish(None),
            }
        }
    }
}

impl Source for StreamSource {
    fn current_span_len(&self) -> Option<usize> {
        None
    }

    fn channels(&self) -> NonZero<u16> {
        self.channels
    }

    fn sample_rate(&self) -> NonZero<u32> {
        self.rate
    }

    fn total_duration(&self) -> Option<Duration> {
        self.info.duration_s.map(Duration::from_secs_f64)
    }
}
