//! Keeping C libraries' stderr chatter (ALSA, JACK probing) off a full-screen
//! terminal: point file descriptor 2 at /dev/null while a guard lives. The
//! player opens its device under one; the TUI holds one while it owns the screen.

/// While alive, fd 2 goes to /dev/null; dropping it restores the original.
/// On non-Unix platforms it does nothing.
pub struct QuietStderr {
    #[cfg(unix)]
    saved: Option<i32>,
}

#[cfg(unix)]
static SAVED_FD: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(-1);

impl QuietStderr {
    pub fn new() -> QuietStderr {
        #[cfg(unix)]
        {
            use std::os::fd::IntoRawFd;
            // SAFETY: plain fd syscalls on descriptors we own; failures leave stderr as it was.
            let saved = unsafe { libc::dup(2) };
            if saved < 0 {
                return QuietStderr { saved: None };
            }
            let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") else {
                unsafe { libc::close(saved) };
                return QuietStderr { saved: None };
            };
            let null = null.into_raw_fd();
            unsafe {
                libc::dup2(null, 2);
                libc::close(null);
            }
            // Only the outermost guard is remembered for panic-time restoring.
            let _ = SAVED_FD.compare_exchange(
                -1,
                saved,
                std::sync::atomic::Ordering::SeqCst,
                std::sync::atomic::Ordering::SeqCst,
            );
            QuietStderr { saved: Some(saved) }
        }
        #[cfg(not(unix))]
        QuietStderr {}
    }
}

impl Default for QuietStderr {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for QuietStderr {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Some(saved) = self.saved.take() {
            let _ = SAVED_FD.compare_exchange(
                saved,
                -1,
                std::sync::atomic::Ordering::SeqCst,
                std::sync::atomic::Ordering::SeqCst,
            );
            // SAFETY: `saved` is a descriptor this guard duplicated and still owns.
            unsafe {
                libc::dup2(saved, 2);
                libc::close(saved);
            }
        }
    }
}

/// Point fd 2 back at the real stderr from anywhere (a panic hook), so the
/// panic message is seen even while a guard is alive.
pub fn restore_stderr_now() {
    #[cfg(unix)]
    {
        let saved = SAVED_FD.load(std::sync::atomic::Ordering::SeqCst);
        if saved >= 0 {
            // SAFETY: dup2 onto fd 2 from a descriptor still open (the guard closes it only on drop).
            unsafe {
                libc::dup2(saved, 2);
            }
        }
    }
}
