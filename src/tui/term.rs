//! Entering and leaving full-screen mode, and putting the terminal back on a
//! panic. While the app runs, stderr goes to /dev/null so that library noise
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
    _quiet: QuietStderr,
}

impl Session {
    pub fn enter() -> io::Result<Session> {
        install_panic_hook();
        enable_raw_mode()?;
        let mut stdout = io::stdout();
        if let Err(e) = crossterm::execute!(
            stdout,
            EnterAlternateScreen,
            EnableMouseCapture,
            EnableBracketedPaste
        ) {
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
            _quiet: QuietStderr::new(),
        })
    }
}

impl Session {
    /// Ctrl-Z: give the terminal back and stop as the shell's job control
    /// expects (SIGTSTP); on `fg`, take full-screen mode again (the caller
    /// redraws everything). Without job control the stop is ignored and the
    /// app simply comes back.
    pub fn suspend(&mut self) -> io::Result<()> {
        restore();
        // SAFETY: raise has no preconditions; SIGTSTP's default action stops
        // this process until SIGCONT.
        unsafe {
            libc::raise(libc::SIGTSTP);
        }
        enable_raw_mode()?;
        crossterm::execute!(
            io::stdout(),
            EnterAlternateScreen,
            EnableMouseCapture,
            EnableBracketedPaste
        )?;
        // Clear and forget what was drawn, so the next frame draws it all.
        // (Terminal::clear would ask the terminal where its cursor is, an
        // answer the input thread reads first.)
        let size = self.terminal.size()?;
        self.terminal
            .resize(ratatui::layout::Rect::new(0, 0, size.width, size.height))
    }
}

impl Drop for Session {
    fn drop(&mut self) {
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
