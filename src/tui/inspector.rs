//! Reads tags and checks files off the UI thread: the selected file first,
//! then the files on screen.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crossbeam_channel::{Sender, TryRecvError};

use super::effect::ReqId;
use super::event::AppEvent;
use super::services::Sink;
use crate::library::tree::{NodeId, inspect_file};

/// One file to inspect, for every request that asked for it.
struct Job {
    reqs: Vec<ReqId>,
    node: NodeId,
    path: PathBuf,
}

pub struct Inspector {
    tx: Sender<(bool, ReqId, NodeId, PathBuf)>,
    cancel: Arc<AtomicBool>,
}

impl Inspector {
    /// Start the worker; each result goes to `sink`.
    pub fn start(sink: Sink) -> Inspector {
        let (tx, rx) = crossbeam_channel::unbounded::<(bool, ReqId, NodeId, PathBuf)>();
        let cancel = Arc::new(AtomicBool::new(false));
        let stop = Arc::clone(&cancel);
        let _ = std::thread::Builder::new()
            .name("earmark-inspect".into())
            .spawn(move || {
                let mut queue: VecDeque<Job> = VecDeque::new();
                while !stop.load(Ordering::Relaxed) {
                    if queue.is_empty() {
                        match rx.recv() {
                            Ok((urgent, req, node, path)) => {
                                push(&mut queue, urgent, req, node, path);
                            }
                            Err(_) => return,
                        }
                    }
                    loop {
                        match rx.try_recv() {
                            Ok((urgent, req, node, path)) => {
                                push(&mut queue, urgent, req, node, path);
                            }
                            Err(TryRecvError::Empty) => break,
                            Err(TryRecvError::Disconnected) => return,
                        }
                    }
                    if let Some(job) = queue.pop_front() {
                        let inspection = Box::new(inspect_file(&job.path));
                        let msg = AppEvent::Inspected {
                            reqs: job.reqs,
                            node: job.node,
                            inspection,
                        };
                        if !sink(msg) {
                            return;
                        }
                    }
                }
            });
        Inspector { tx, cancel }
    }

    /// Ask for `node`; `urgent` jumps the queue (the selected file).
    pub fn request(&self, req: ReqId, node: NodeId, path: PathBuf, urgent: bool) {
        let _ = self.tx.send((urgent, req, node, path));
    }

    /// Stop after the file being read now.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }
}

/// Queue a request; an urgent one moves the node's queued job to the front,
/// taking its requests along (each is answered by the one inspection).
fn push(queue: &mut VecDeque<Job>, urgent: bool, req: ReqId, node: NodeId, path: PathBuf) {
    let mut reqs = vec![req];
    if urgent {
        if let Some(i) = queue.iter().position(|j| j.node == node)
            && let Some(old) = queue.remove(i)
        {
            reqs.extend(old.reqs);
        }
        queue.push_front(Job { reqs, node, path });
    } else {
        queue.push_back(Job { reqs, node, path });
    }
}
