//! Everything that wakes the event loop, from every source, on one channel.

use crossbeam_channel::Sender;

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
