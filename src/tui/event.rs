//! Everything that wakes the event loop, from every source, on one channel:
//! the messages [`super::update::update`] takes.

use super::analyst::{JobUpdate, ModelInfo};
use super::effect::ReqId;
use super::services::Sink;
use super::tagger::TagEvent;
use super::vocab_service::VocabEvent;
use crate::classifier::Classified;
use crate::eval::EvalReport;
use crate::library::tree::{Inspection, NodeId, ScanBatch};
use crate::player::PlayerEvent;
use crate::tui::action::Action;

#[derive(Debug)]
pub enum AppEvent {
    /// A terminal event (key, mouse, resize, paste).
    Input(crossterm::event::Event),
    /// The input thread could not read the terminal any more.
    InputClosed(String),
    Scan(ScanBatch),
    /// A file was inspected, for these requests.
    Inspected {
        reqs: Vec<ReqId>,
        node: NodeId,
        inspection: Box<Inspection>,
    },
    Player(PlayerEvent),
    /// Where the player is now (read before input and frames).
    Position(f64),
    /// The model loaded (or could not).
    Model(Result<ModelInfo, String>),
    /// A classification job started, finished or was cancelled.
    Job {
        req: ReqId,
        update: JobUpdate,
    },
    /// A cache lookup for a row on screen: the cached result, if any.
    Peeked {
        req: ReqId,
        node: NodeId,
        found: Option<Box<Classified>>,
    },
    /// The evaluation report was read (or could not be).
    EvalReport {
        report: Box<Result<EvalReport, String>>,
        /// Folders the report's relative paths may start from.
        bases: Vec<std::path::PathBuf>,
    },
    /// A tag write, preview or undo reported back.
    Tag {
        req: ReqId,
        event: TagEvent,
    },
    /// A rescan of the library finished: the tree as it is now; `auto`: asked
    /// for by the watch, not by `R`.
    Rescanned {
        rescan: Box<crate::library::tree::Rescan>,
        auto: bool,
    },
    /// The library watch is set up, cannot be, or saw a change.
    Watch(crate::library::watch::WatchNote),
    /// The vocabulary service reported on a request.
    Vocab {
        req: ReqId,
        event: VocabEvent,
    },
    /// An action from outside the key map (tests, benches).
    Action(Action),
    /// A frame was drawn: rows now on screen may need inspecting.
    Drawn,
}

/// The messages of [`super::update::update`].
pub type Msg = AppEvent;

/// The signal that asked the app to quit (0: none).
pub static QUIT_BY_SIGNAL: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

/// Quit as `q` does on SIGTERM, SIGHUP (a closed SSH session) and SIGINT
/// from outside (`kill -INT`; Ctrl-C at the keyboard is a key in raw mode):
/// the terminal is restored and a tag write in progress finishes, where the
/// default action would leave the screen in raw mode and a write half done.
/// The app then exits 128 + the signal's number, as a killed program does,
/// so a script can tell a kill from a quit.
pub fn spawn_signals(sink: Sink) {
    use signal_hook::consts::{SIGCONT, SIGHUP, SIGINT, SIGQUIT, SIGTERM};
    // SIGQUIT too: its default core dump left the terminal in raw mode on
    // the alternate screen. SIGCONT: continued after a stop from outside
    // (`kill -STOP`), the terminal is in the shell's line mode again.
    let Ok(mut signals) =
        signal_hook::iterator::Signals::new([SIGTERM, SIGHUP, SIGINT, SIGQUIT, SIGCONT])
    else {
        return; // the default actions stay
    };
    let _ = std::thread::Builder::new()
        .name("earmark-signals".into())
        .spawn(move || {
            for signal in signals.forever() {
                let action = if signal == SIGCONT {
                    super::action::Action::Redraw
                } else {
                    QUIT_BY_SIGNAL.store(signal, std::sync::atomic::Ordering::Relaxed);
                    super::action::Action::Quit
                };
                if !sink(AppEvent::Action(action)) {
                    return;
                }
            }
        });
}

/// Quit when the terminal hangs up (its window closed, an SSH session
/// dropped) though no SIGHUP came: the shell that started earmark may ignore
/// it (`nohup`, `trap '' HUP`). crossterm's reader then spins on the dead
/// terminal's end of file without returning (100 % of a core, for ever), so
/// this thread waits on the terminal (stdin, which the app requires to be
/// one) for the hang-up alone: `poll` with no events asked still reports
/// POLLHUP and POLLERR, and wakes for nothing else.
#[cfg(unix)]
pub fn spawn_hangup_watch(sink: Sink) {
    let _ = std::thread::Builder::new()
        .name("earmark-hangup".into())
        .spawn(move || {
            let mut fd = libc::pollfd {
                fd: libc::STDIN_FILENO,
                events: 0,
                revents: 0,
            };
            loop {
                // SAFETY: one valid pollfd, for the duration of the call.
                let n = unsafe { libc::poll(&raw mut fd, 1, -1) };
                if n < 0
                    && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted
                {
                    continue;
                }
                if n < 0 || fd.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0 {
                    break;
                }
            }
            QUIT_BY_SIGNAL.store(libc::SIGHUP, std::sync::atomic::Ordering::Relaxed);
            sink(AppEvent::InputClosed("the terminal hung up".into()));
        });
}

#[cfg(not(unix))]
pub fn spawn_hangup_watch(_sink: Sink) {}

/// Read terminal events on a thread of their own and forward them.
pub fn spawn_input(sink: Sink) {
    let _ = std::thread::Builder::new()
        .name("earmark-input".into())
        .spawn(move || {
            loop {
                match crossterm::event::read() {
                    Ok(ev) => {
                        if !sink(AppEvent::Input(ev)) {
                            return;
                        }
                    }
                    Err(e) => {
                        // the terminal went away (an unread hang-up): exit
                        // as a hang-up does, 129, unless a signal came first
                        let _ = QUIT_BY_SIGNAL.compare_exchange(
                            0,
                            libc::SIGHUP,
                            std::sync::atomic::Ordering::Relaxed,
                            std::sync::atomic::Ordering::Relaxed,
                        );
                        sink(AppEvent::InputClosed(e.to_string()));
                        return;
                    }
                }
            }
        });
}
