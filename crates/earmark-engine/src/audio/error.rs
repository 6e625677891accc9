//! Typed decode errors: each names the file and says why in one line.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    #[error("{}: {}", path.display(), io_reason(source))]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: file is empty (0 bytes)", path.display())]
    Empty { path: PathBuf },
    #[error("{}: not an audio file ({what})", path.display())]
    NotAudio { path: PathBuf, what: String },
    #[error("{}: unsupported codec: {what}", path.display())]
    Unsupported { path: PathBuf, what: String },
    #[error("{}: corrupt or truncated audio: {reason}", path.display())]
    Corrupt { path: PathBuf, reason: String },
    #[error("{}: no audio track", path.display())]
    NoTrack { path: PathBuf },
}

impl AudioError {
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        AudioError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub fn corrupt(path: &Path, reason: impl Into<String>) -> Self {
        AudioError::Corrupt {
            path: path.to_path_buf(),
            reason: reason.into(),
        }
    }

    /// Short machine-friendly kind, used by reports and the TUI's file marks.
    pub fn kind(&self) -> &'static str {
        match self {
            AudioError::Io { .. } => "io",
            AudioError::Empty { .. } => "empty",
            AudioError::NotAudio { .. } => "not-audio",
            AudioError::Unsupported { .. } => "unsupported",
            AudioError::Corrupt { .. } => "corrupt",
            AudioError::NoTrack { .. } => "no-track",
        }
    }
}

/// An error message without its leading "PATH: ", for places that already
/// show which file it is about (engine errors all start with the path).
pub fn without_path(path: &Path, msg: String) -> String {
    let prefix = format!("{}: ", path.display());
    msg.strip_prefix(&prefix).map(str::to_string).unwrap_or(msg)
}

/// An I/O error in plain words ("permission denied", not "os error 13").
pub fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::IsADirectory => "is a directory".into(),
        std::io::ErrorKind::StorageFull => "no space left on the device".into(),
        _ => format!("cannot read: {e}"),
    }
}
