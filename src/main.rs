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
    say_output_failures();
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Some(why) = earmark::cli::mistyped_command(&args) {
        eprintln!("earmark: {why}");
        return ExitCode::from(2);
    }
    earmark::cli::run(earmark::cli::Cli::parse_from(args))
}

/// `println!` panics when stdout cannot be written (`> /dev/full`): that is
/// one line and exit 1, as for any other bad output, not a crash report.
/// Everything else goes to the panic handler as before (the app's restores
/// the terminal first).
fn say_output_failures() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if let Some(why) = info
            .payload_as_str()
            .and_then(|m| m.strip_prefix("failed printing to stdout: "))
        {
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "earmark: cannot write the output: {why}");
            std::process::exit(1);
        }
        default(info);
    }));
}
