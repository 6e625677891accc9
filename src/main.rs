use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    earmark::cli::run(earmark::cli::Cli::parse())
}
