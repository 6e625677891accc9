use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Behave like other Unix tools when the reader goes away (`earmark info
    // --json … | head`): end quietly instead of panicking on a broken pipe.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    earmark::cli::run(earmark::cli::Cli::parse())
}
