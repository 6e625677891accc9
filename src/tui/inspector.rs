//! Reads tags and checks files off the UI thread: the selected file first,
//! then the files on screen.

use std::collections::VecDeque;
use std::path::PathBuf;

use crossbeam_channel::{Sender, TryRecvError};

use crate::library::tree::{Inspection, NodeId, inspect_file};

pub struct Inspector {
    tx: Sender<(bool, NodeId, PathBuf)>,
}

impl Inspector {
    /// Start the worker; `done` receives each result.
    pub fn start(done: impl Fn(NodeId, Inspection) + Send + 'static) -> Inspector {
        let (tx, rx) = crossbeam_channel::unbounded::<(bool, NodeId, PathBuf)>();
        let _ = std::thread::Builder::new()
            .name("earmark-inspect".into())
            .spawn(move || {
                let mut queue: VecDeque<(NodeId, PathBuf)> = VecDeque::new();
                loop {
                    if queue.is_empty() {
                        match rx.recv() {
                            Ok((urgent, id, path)) => push(&mut queue, urgent, id, path),
                            Err(_) => return,
                        }
                    }
                    loop {
                        match rx.try_recv() {
                            Ok((urgent, id, path)) => push(&mut queue, urgent, id, path),
                            Err(TryRecvError::Empty) => break,
                            Err(TryRecvError::Disconnected) => return,
                        }
                    }
                    if let Some((id, path)) = queue.pop_front() {
                        done(id, inspect_file(&path));
                    }
                }
            });
        Inspector { tx }
    }

    /// Ask for `id`; `urgent` jumps the queue (the selected file).
    pub fn request(&self, id: NodeId, path: PathBuf, urgent: bool) {
        let _ = self.tx.send((urgent, id, path));
    }
}

fn push(queue: &mut VecDeque<(NodeId, PathBuf)>, urgent: bool, id: NodeId, path: PathBuf) {
    if urgent {
        queue.retain(|(q, _)| *q != id);
        queue.push_front((id, path));
    } else {
        queue.push_back((id, path));
    }
}
