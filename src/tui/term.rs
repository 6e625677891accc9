//! Entering and leaving full-screen mode, and putting the terminal back on a
//! panic or an abort. While the app runs, stderr goes to /dev/null so that library noise
//! (ALSA, decoders) cannot garble the screen; a panic message still shows
//! because the hook restores stderr first.

use std::io::{self, Stdout};

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
};
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

use super::ansi16::Ansi16;
use crate::quiet::{QuietStderr, restore_stderr_now};

pub type Term = Terminal<CrosstermBackend<Ansi16<Stdout>>>;

/// Full-screen mode for as long as it lives.
pub struct Session {
    pub terminal: Term,
    /// Mouse reporting asked of the terminal (`mouse = false` in the config
    /// leaves it off, so the terminal's own selection copies text).
    mouse: bool,
    _quiet: QuietStderr,
}

/// Alternate screen, paste brackets and, when asked, mouse reporting.
fn take_screen(mouse: bool) -> io::Result<()> {
    let mut stdout = io::stdout();
    crossterm::execute!(stdout, EnterAlternateScreen, EnableBracketedPaste)?;
    if mouse {
        crossterm::execute!(stdout, EnableMouseCapture)?;
    }
    Ok(())
}

impl Session {
    pub fn enter(mouse: bool) -> io::Result<Session> {
        install_panic_hook();
        abort_guard::install();
        enable_raw_mode()?;
        abort_guard::arm(true);
        let stdout = io::stdout();
        if let Err(e) = take_screen(mouse) {
            restore();
            return Err(e);
        }
        let terminal = match Terminal::new(CrosstermBackend::new(Ansi16::new(stdout))) {
            Ok(t) => t,
            Err(e) => {
                restore();
                return Err(e);
            }
        };
        Ok(Session {
            terminal,
            mouse,
            _quiet: QuietStderr::new(),
        })
    }
}

impl Session {
    /// Ctrl-Z: give the terminal back and stop as the shell's job control
    /// expects (SIGTSTP); on `fg`, take full-screen mode again (the caller
    /// redraws everything). Without job control (an orphaned process group:
    /// started by `sh -c`, tmux's command) the stop is discarded and the app
    /// simply comes back: false then, as no SIGCONT came.
    pub fn suspend(&mut self) -> io::Result<bool> {
        static CONTINUED: std::sync::OnceLock<std::sync::Arc<std::sync::atomic::AtomicBool>> =
            std::sync::OnceLock::new();
        let continued = CONTINUED.get_or_init(|| {
            let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            let _ = signal_hook::flag::register(libc::SIGCONT, std::sync::Arc::clone(&flag));
            flag
        });
        continued.store(false, std::sync::atomic::Ordering::SeqCst);
        abort_guard::arm(false);
        restore();
        // SAFETY: raise has no preconditions; SIGTSTP's default action stops
        // this process until SIGCONT.
        unsafe {
            libc::raise(libc::SIGTSTP);
        }
        let stopped = continued.load(std::sync::atomic::Ordering::SeqCst);
        self.take_screen_again()?;
        Ok(stopped)
    }

    /// Full-screen mode again, the screen cleared and forgotten so that the
    /// next frame draws it all: after `fg`, after a stop from outside
    /// (`kill -STOP`, then `-CONT`: the shell had put the terminal back in
    /// line mode, so keys echoed and `q` waited for Enter), and on Ctrl-L
    /// (another program's text written over the app stayed).
    pub fn take_screen_again(&mut self) -> io::Result<()> {
        // crossterm skips enabling raw mode it thinks is on: off first, so
        // that the terminal's mode is set whatever the shell left
        let _ = disable_raw_mode();
        enable_raw_mode()?;
        take_screen(self.mouse)?;
        abort_guard::arm(true);
        // (Terminal::clear would ask the terminal where its cursor is, an
        // answer the input thread reads first.)
        let size = self.terminal.size()?;
        self.terminal
            .resize(ratatui::layout::Rect::new(0, 0, size.width, size.height))?;
        crossterm::execute!(
            self.terminal.backend_mut(),
            crossterm::terminal::Clear(crossterm::terminal::ClearType::All)
        )?;
        Ok(())
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        abort_guard::arm(false);
        restore();
        let _ = self.terminal.show_cursor();
    }
}

/// Leave raw mode and the alternate screen; safe to call more than once.
pub fn restore() {
    let _ = disable_raw_mode();
    let _ = crossterm::execute!(
        io::stdout(),
        DisableBracketedPaste,
        DisableMouseCapture,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

/// The thread that owns the terminal. Panics elsewhere (a decoder caught by
/// `catch_unwind`, a worker) must not tear the screen down under a running app.
static UI_THREAD: std::sync::OnceLock<std::thread::ThreadId> = std::sync::OnceLock::new();

fn install_panic_hook() {
    let _ = UI_THREAD.set(std::thread::current().id());
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // A parser panic caught by the engine is no reason to leave the screen.
            if UI_THREAD.get() == Some(&std::thread::current().id())
                && !crate::audio::guard::is_quiet()
            {
                restore();
                restore_stderr_now();
            }
            previous(info);
        }));
    });
}

/// The last resort for an abort (an allocation a decoder could not get, a
/// stack overflow): Rust aborts without unwinding, so neither the panic hook
/// nor `Drop` runs, and the shell would be left in raw mode on the alternate
/// screen. A SIGABRT handler puts the terminal back, with async-signal-safe
/// calls only (the tty modes saved before raw mode, the escape sequences
/// that undo full-screen mode, stderr back), says so, and dies of the signal
/// as before.
#[cfg(unix)]
mod abort_guard {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicBool, Ordering};

    /// Whether the screen is in full-screen mode now.
    static ARMED: AtomicBool = AtomicBool::new(false);
    /// The terminal's descriptor and its modes before raw mode.
    static COOKED: OnceLock<(i32, libc::termios)> = OnceLock::new();

    /// What `restore` sends: bracketed paste, mouse reporting (crossterm's
    /// modes), the alternate screen off; the cursor shown.
    const UNDO: &[u8] =
        b"\x1b[?2004l\x1b[?1006l\x1b[?1015l\x1b[?1003l\x1b[?1002l\x1b[?1000l\x1b[?1049l\x1b[?25h";
    const SAID: &[u8] = b"earmark: aborted (SIGABRT: out of memory or stack, most likely on a damaged file); terminal restored\n";

    pub fn install() {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            // the tty raw mode is set on: stdin, or /dev/tty as crossterm does
            // SAFETY: plain libc calls on a descriptor this process owns.
            unsafe {
                let fd = if libc::isatty(0) == 1 {
                    0
                } else {
                    libc::open(c"/dev/tty".as_ptr(), libc::O_RDWR)
                };
                let mut modes: libc::termios = std::mem::zeroed();
                if fd >= 0 && libc::tcgetattr(fd, &mut modes) == 0 {
                    let _ = COOKED.set((fd, modes));
                }
                // SAFETY: the action uses only async-signal-safe calls.
                let _ = signal_hook::low_level::register(libc::SIGABRT, on_abort);
            }
        });
    }

    pub fn arm(on: bool) {
        ARMED.store(on, Ordering::SeqCst);
    }

    fn on_abort() {
        if ARMED.swap(false, Ordering::SeqCst) {
            // SAFETY: tcsetattr, write and dup2 are async-signal-safe.
            unsafe {
                if let Some((fd, modes)) = COOKED.get() {
                    libc::tcsetattr(*fd, libc::TCSANOW, modes);
                }
                libc::write(1, UNDO.as_ptr().cast(), UNDO.len());
                crate::quiet::restore_stderr_now();
                libc::write(2, SAID.as_ptr().cast(), SAID.len());
            }
        }
        let _ = signal_hook::low_level::emulate_default_handler(libc::SIGABRT);
    }
}

#[cfg(not(unix))]
mod abort_guard {
    pub fn install() {}
    pub fn arm(_: bool) {}
}
