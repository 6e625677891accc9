//! A small worker pool for classification jobs: priorities (the focused track
//! first), cancel, progress events, and a latest-wins "preview" slot so that
//! moving fast through the tree never queues stale work. It never draws; the
//! TUI reads its events from a channel.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering as AtOrd};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender, unbounded};

/// Higher runs first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Priority {
    Background = 0,
    Selection = 1,
    Focused = 2,
}

pub type JobId = u64;

/// What a file whose analysis panicked reports: the panic is a bug of ours (or
/// of a decoder), not the file's fault, and the batch goes on without it.
pub const INTERNAL_ERROR: &str = "internal error while analysing (please report)";

/// Run one file's work; a panic inside comes back as `Err` with
/// [`INTERNAL_ERROR`] and the panic's message, quietly (no backtrace over a
/// table or the terminal app's screen). Every batch path (the CLI's and the
/// pool's workers) runs each file through this.
pub fn guard_job<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    crate::audio::guard::catch_quietly(f).map_err(|payload| {
        let msg = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned());
        match msg {
            Some(m) => format!("{INTERNAL_ERROR}: {}", m.lines().next().unwrap_or_default()),
            None => INTERNAL_ERROR.to_string(),
        }
    })
}

/// A hook run on the worker before each job's work, inside its panic guard:
/// tests inject a panic with it. Not for anything else.
#[doc(hidden)]
pub type FaultHook = Arc<dyn Fn(&Path) + Send + Sync>;

/// What workers report; the UI drains these each loop turn.
#[derive(Debug)]
pub enum JobEvent<R> {
    Started { id: JobId, path: PathBuf },
    Finished { id: JobId, path: PathBuf, result: R },
    Cancelled { id: JobId, path: PathBuf },
}

struct Queued {
    id: JobId,
    priority: Priority,
    path: PathBuf,
    cancel: Arc<AtomicBool>,
}

impl PartialEq for Queued {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}
impl Eq for Queued {}
impl PartialOrd for Queued {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Queued {
    // Higher priority first; within a priority, older (smaller id) first.
    fn cmp(&self, other: &Self) -> Ordering {
        self.priority
            .cmp(&other.priority)
            .then_with(|| other.id.cmp(&self.id))
    }
}

struct Shared {
    queue: Mutex<State>,
    wake: Condvar,
    fault: Mutex<Option<FaultHook>>,
}

struct State {
    heap: BinaryHeap<Queued>,
    /// The current preview job's cancel flag: a new preview cancels the old one.
    preview: Option<(JobId, Arc<AtomicBool>)>,
    /// Cancel flags of the jobs workers are running now.
    running: Vec<(JobId, Arc<AtomicBool>)>,
    shutdown: bool,
    done: u64,
    submitted: u64,
}

/// Overall progress, for the status bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Progress {
    pub done: u64,
    pub total: u64,
    pub queued: usize,
}

pub struct JobPool<R: Send + 'static> {
    shared: Arc<Shared>,
    next_id: AtomicU64,
    workers: Vec<JoinHandle<()>>,
    events: Receiver<JobEvent<R>>,
}

/// Workers default to cores − 1 (the UI keeps one), at least one.
pub fn default_workers() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .saturating_sub(1)
        .max(1)
}

impl<R: Send + 'static> JobPool<R> {
    /// `work(path, cancelled)` runs on a worker; it may poll `cancelled` to
    /// stop early. A panic in `work` is caught at the job boundary: the job
    /// finishes with `on_panic(path, reason)` and the worker goes on.
    pub fn new<F, P>(workers: usize, work: F, on_panic: P) -> Self
    where
        F: Fn(&PathBuf, &AtomicBool) -> R + Send + Sync + 'static,
        P: Fn(&Path, String) -> R + Send + Sync + 'static,
    {
        let shared = Arc::new(Shared {
            queue: Mutex::new(State {
                heap: BinaryHeap::new(),
                preview: None,
                running: Vec::new(),
                shutdown: false,
                done: 0,
                submitted: 0,
            }),
            wake: Condvar::new(),
            fault: Mutex::new(None),
        });
        let (tx, rx) = unbounded();
        let work = Arc::new(
            move |path: &PathBuf, cancel: &AtomicBool, fault: Option<FaultHook>| {
                guard_job(|| {
                    if let Some(hook) = fault {
                        hook(path);
                    }
                    work(path, cancel)
                })
                .unwrap_or_else(|reason| on_panic(path, reason))
            },
        );
        let workers = (0..workers.max(1))
            .map(|i| {
                let shared = Arc::clone(&shared);
                let tx: Sender<JobEvent<R>> = tx.clone();
                let work = Arc::clone(&work);
                std::thread::Builder::new()
                    .name(format!("earmark-job-{i}"))
                    .spawn(move || worker_loop(&shared, &tx, &*work))
                    .expect("spawning a worker thread")
            })
            .collect();
        JobPool {
            shared,
            next_id: AtomicU64::new(1),
            workers,
            events: rx,
        }
    }

    /// Run `hook` before each job's work (tests inject panics with it).
    #[doc(hidden)]
    pub fn inject_fault(&self, hook: FaultHook) {
        if let Ok(mut f) = self.shared.fault.lock() {
            *f = Some(hook);
        }
    }

    pub fn events(&self) -> &Receiver<JobEvent<R>> {
        &self.events
    }

    pub fn submit(&self, path: PathBuf, priority: Priority) -> JobId {
        self.push(path, priority, false)
    }

    /// Latest-wins: cancels the previous preview job (queued or running).
    pub fn preview(&self, path: PathBuf) -> JobId {
        self.push(path, Priority::Focused, true)
    }

    fn push(&self, path: PathBuf, priority: Priority, preview: bool) -> JobId {
        let id = self.next_id.fetch_add(1, AtOrd::Relaxed);
        let cancel = Arc::new(AtomicBool::new(false));
        if let Ok(mut st) = self.shared.queue.lock() {
            if preview && let Some((_, old)) = st.preview.replace((id, Arc::clone(&cancel))) {
                old.store(true, AtOrd::Relaxed);
            }
            st.submitted += 1;
            st.heap.push(Queued {
                id,
                priority,
                path,
                cancel,
            });
        }
        self.shared.wake.notify_one();
        id
    }

    /// Cancel every queued and running job.
    pub fn cancel_all(&self) {
        if let Ok(st) = self.shared.queue.lock() {
            for q in st.heap.iter() {
                q.cancel.store(true, AtOrd::Relaxed);
            }
            for (_, c) in st.preview.iter().chain(&st.running) {
                c.store(true, AtOrd::Relaxed);
            }
        }
    }

    pub fn progress(&self) -> Progress {
        self.shared
            .queue
            .lock()
            .map(|st| Progress {
                done: st.done,
                total: st.submitted,
                queued: st.heap.len(),
            })
            .unwrap_or_default()
    }
}

fn worker_loop<R, F>(shared: &Shared, tx: &Sender<JobEvent<R>>, work: &F)
where
    F: Fn(&PathBuf, &AtomicBool, Option<FaultHook>) -> R,
{
    loop {
        let job = {
            let Ok(mut st) = shared.queue.lock() else {
                return;
            };
            loop {
                if st.shutdown {
                    return;
                }
                if let Some(job) = st.heap.pop() {
                    st.running.push((job.id, Arc::clone(&job.cancel)));
                    break job;
                }
                st = match shared.wake.wait(st) {
                    Ok(s) => s,
                    Err(_) => return,
                };
            }
        };
        let event = if job.cancel.load(AtOrd::Relaxed) {
            JobEvent::Cancelled {
                id: job.id,
                path: job.path,
            }
        } else {
            let _ = tx.send(JobEvent::Started {
                id: job.id,
                path: job.path.clone(),
            });
            let fault = shared.fault.lock().ok().and_then(|f| f.clone());
            let result = work(&job.path, &job.cancel, fault);
            if job.cancel.load(AtOrd::Relaxed) {
                JobEvent::Cancelled {
                    id: job.id,
                    path: job.path,
                }
            } else {
                JobEvent::Finished {
                    id: job.id,
                    path: job.path,
                    result,
                }
            }
        };
        if let Ok(mut st) = shared.queue.lock() {
            st.done += 1;
            let id = match &event {
                JobEvent::Started { id, .. }
                | JobEvent::Finished { id, .. }
                | JobEvent::Cancelled { id, .. } => *id,
            };
            st.running.retain(|(r, _)| *r != id);
        }
        if tx.send(event).is_err() {
            return;
        }
    }
}

impl<R: Send + 'static> Drop for JobPool<R> {
    fn drop(&mut self) {
        self.cancel_all();
        if let Ok(mut st) = self.shared.queue.lock() {
            st.shutdown = true;
        }
        self.shared.wake.notify_all();
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    /// A pool whose single worker blocks on a gate until the test opens it.
    fn gated() -> (JobPool<String>, mpsc::Sender<()>) {
        let (gate_tx, gate_rx) = mpsc::channel::<()>();
        let gate = Mutex::new(gate_rx);
        let pool = JobPool::new(
            1,
            move |p: &PathBuf, _c: &AtomicBool| {
                let _ = gate.lock().unwrap().recv_timeout(Duration::from_secs(5));
                p.display().to_string()
            },
            |p: &Path, reason: String| format!("{}: {reason}", p.display()),
        );
        (pool, gate_tx)
    }

    fn finished_order(pool: &JobPool<String>, n: usize) -> Vec<String> {
        let mut out = Vec::new();
        while out.len() < n {
            match pool.events().recv_timeout(Duration::from_secs(5)).unwrap() {
                JobEvent::Finished { result, .. } => out.push(result),
                JobEvent::Cancelled { path, .. } => {
                    out.push(format!("cancelled {}", path.display()))
                }
                JobEvent::Started { .. } => {}
            }
        }
        out
    }

    #[test]
    fn focused_work_jumps_the_queue() {
        let (pool, gate) = gated();
        pool.submit("first".into(), Priority::Background); // occupies the worker
        std::thread::sleep(Duration::from_millis(50));
        pool.submit("bg".into(), Priority::Background);
        pool.submit("sel".into(), Priority::Selection);
        pool.submit("focus".into(), Priority::Focused);
        for _ in 0..4 {
            gate.send(()).unwrap();
        }
        assert_eq!(
            finished_order(&pool, 4),
            vec!["first", "focus", "sel", "bg"]
        );
        assert_eq!(pool.progress().done, 4);
    }

    #[test]
    fn a_new_preview_cancels_the_stale_one_and_cancel_all_empties_the_queue() {
        let (pool, gate) = gated();
        pool.submit("busy".into(), Priority::Background);
        std::thread::sleep(Duration::from_millis(50));
        pool.preview("a".into());
        pool.preview("b".into());
        pool.submit("later".into(), Priority::Background);
        gate.send(()).unwrap();
        gate.send(()).unwrap();
        let got = finished_order(&pool, 3);
        // "a" was superseded before it ran; "later" is now running on the worker.
        assert_eq!(got, vec!["busy", "cancelled a", "b"]);
        std::thread::sleep(Duration::from_millis(50));
        pool.cancel_all();
        gate.send(()).unwrap();
        assert_eq!(finished_order(&pool, 1), vec!["cancelled later"]);
    }

    #[test]
    fn a_panicking_job_fails_alone_and_the_worker_goes_on() {
        let pool = JobPool::new(
            1,
            |p: &PathBuf, _c: &AtomicBool| p.display().to_string(),
            |p: &Path, reason: String| format!("failed {}: {reason}", p.display()),
        );
        pool.inject_fault(Arc::new(|p: &Path| {
            if p == Path::new("bad") {
                panic!("injected");
            }
        }));
        pool.submit("bad".into(), Priority::Background);
        pool.submit("good".into(), Priority::Background);
        assert_eq!(
            finished_order(&pool, 2),
            vec![
                format!("failed bad: {INTERNAL_ERROR}: injected"),
                "good".to_string()
            ]
        );
        assert_eq!(pool.progress().done, 2);
    }

    #[test]
    fn at_least_one_worker() {
        assert!(default_workers() >= 1);
    }
}
