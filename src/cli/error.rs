//! One mapping from a CLI failure to its message and exit code, so commands
//! return `Err(CliError::…)` instead of pairing `eprintln!` with an `ExitCode`.

use std::fmt::Display;
use std::process::ExitCode;

/// Exit code for usage errors (as clap uses).
const USAGE: u8 = 2;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The command line asks for something impossible: exit 2, like clap.
    #[error("{0}")]
    Usage(String),
    /// Nothing usable, or the work failed: exit 1.
    #[error("{0}")]
    Failed(String),
    /// The failure was already reported on stderr, line by line: exit 1.
    #[error("failed (reported above)")]
    Reported,
}

impl CliError {
    /// `earmark WHO: MSG`, exit 2.
    pub fn usage(who: &str, msg: impl Display) -> Self {
        CliError::Usage(format!("earmark {who}: {msg}"))
    }

    /// `earmark WHO: MSG`, exit 1.
    pub fn failed(who: &str, msg: impl Display) -> Self {
        CliError::Failed(format!("earmark {who}: {msg}"))
    }

    pub fn exit_code(&self) -> ExitCode {
        match self {
            CliError::Usage(_) => ExitCode::from(USAGE),
            CliError::Failed(_) | CliError::Reported => ExitCode::FAILURE,
        }
    }
}

/// `--model` naming nothing there is a usage error (exit 2), said before any work.
pub fn check_model(who: &str, spec: Option<&std::path::Path>) -> Result<(), CliError> {
    crate::model::missing_model(spec).map_or(Ok(()), |e| Err(CliError::usage(who, e)))
}

/// Print a command's error (if not printed already) and turn it into the exit code.
pub fn exit_code(result: Result<ExitCode, CliError>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(e) => {
            if !matches!(e, CliError::Reported) {
                // (a path or tag value inside may hold control characters)
                eprintln!("{}", crate::cli::output::printable(&e.to_string()));
            }
            e.exit_code()
        }
    }
}

/// A command that prints its own results: success, or `earmark WHO: reason` and exit 1.
pub fn done(who: &str, result: Result<(), String>) -> ExitCode {
    exit_code(
        result
            .map(|()| ExitCode::SUCCESS)
            .map_err(|e| CliError::failed(who, e)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_is_two_and_failures_are_one() {
        assert_eq!(CliError::usage("tag", "x").exit_code(), ExitCode::from(2));
        assert_eq!(CliError::failed("tag", "x").exit_code(), ExitCode::FAILURE);
        assert_eq!(CliError::Reported.exit_code(), ExitCode::FAILURE);
        assert_eq!(
            CliError::usage("tag", "no files").to_string(),
            "earmark tag: no files"
        );
    }
}
