//! Containing panics from third-party parsers (symphonia, lofty) on hostile
//! files. `catch_quietly` turns a panic into an `Err` *and* keeps the panic
//! hook quiet for it, so a caught panic neither prints a backtrace over the
//! CLI's output nor makes the TUI's hook tear down the screen.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;

thread_local! {
    static QUIET: Cell<u32> = const { Cell::new(0) };
}

/// True while this thread runs inside [`catch_quietly`]; panic hooks installed
/// by others (the TUI's) check it.
pub fn is_quiet() -> bool {
    QUIET.with(|q| q.get() > 0)
}

/// Run `f`; a panic inside comes back as `Err` without a word on stderr.
pub fn catch_quietly<R>(f: impl FnOnce() -> R) -> std::thread::Result<R> {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !is_quiet() {
                previous(info);
            }
        }));
    });
    QUIET.with(|q| q.set(q.get() + 1));
    let r = catch_unwind(AssertUnwindSafe(f));
    QUIET.with(|q| q.set(q.get() - 1));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caught_panic_is_an_error_and_the_flag_resets() {
        assert!(!is_quiet());
        let r = catch_quietly(|| -> u8 { panic!("hostile input") });
        assert!(r.is_err());
        assert!(!is_quiet());
        assert_eq!(catch_quietly(|| 7).unwrap(), 7);
    }
}
