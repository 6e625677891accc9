//! Everything that wakes the event loop, from every source, on one channel.

use crossbeam_channel::Sender;

use super::analyst::{ModelInfo, Outcome};
use super::tagger::TagEvent;
use crate::classifier::Classified;
use crate::eval::EvalReport;
use crate::jobs::JobEvent;
use crate::library::tree::{Inspection, NodeId, ScanBatch};
use crate::player::PlayerEvent;

#[derive(Debug)]
pub enum AppEvent {
    /// A terminal event (key, mouse, resize, paste).
    Input(crossterm::event::Event),
    /// The input thread could not read the terminal any more.
    InputClosed(String),
    Scan(ScanBatch),
    Inspected(NodeId, Box<Inspection>),
    Player(PlayerEvent),
    /// The model loaded (or could not).
    Model(Result<ModelInfo, String>),
    /// A classification job started, finished or was cancelled.
    Job(JobEvent<Outcome>),
    /// A cache lookup for a row on screen: the cached result, if any.
    Peeked(NodeId, Option<Box<Classified>>),
    /// The evaluation report was read (or could not be).
    EvalReport(Box<Result<EvalReport, String>>),
    /// A tag write, preview or undo finished.
    Tag(TagEvent),
}

/// Read terminal events on a thread of their own and forward them.
pub fn spawn_input(tx: Sender<AppEvent>) {
    let _ = std::thread::Builder::new()
        .name("earmark-input".into())
        .spawn(move || {
            loop {
                match crossterm::event::read() {
                    Ok(ev) => {
                        if tx.send(AppEvent::Input(ev)).is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(AppEvent::InputClosed(e.to_string()));
                        return;
                    }
                }
            }
        });
}
