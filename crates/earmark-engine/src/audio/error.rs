//! Typed decode errors: each names the file and says why in one line.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    #[error("{}: {}", crate::library::shown(path.as_os_str()), io_reason(source))]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: file is empty (0 bytes)", crate::library::shown(path.as_os_str()))]
    Empty { path: PathBuf },
    #[error("{}: not an audio file ({what})", crate::library::shown(path.as_os_str()))]
    NotAudio { path: PathBuf, what: String },
    #[error("{}: unsupported codec: {what}", crate::library::shown(path.as_os_str()))]
    Unsupported { path: PathBuf, what: String },
    #[error("{}: unsupported format: {what}; earmark decodes MP3, AAC, ALAC, FLAC, Vorbis, Opus and PCM", crate::library::shown(path.as_os_str()))]
    UnsupportedFormat { path: PathBuf, what: &'static str },
    /// What symphonia's reader of a known container says it does not
    /// support (MP3 inside WAV, compressed ID3v2 frames).
    #[error("{}: unsupported: {what}", crate::library::shown(path.as_os_str()))]
    UnsupportedFeature { path: PathBuf, what: String },
    #[error("{}: corrupt or truncated audio: {reason}", crate::library::shown(path.as_os_str()))]
    Corrupt { path: PathBuf, reason: String },
    #[error("{}: no audio track", crate::library::shown(path.as_os_str()))]
    NoTrack { path: PathBuf },
    #[error("{}: not a regular file ({what})", crate::library::shown(path.as_os_str()))]
    NotRegular { path: PathBuf, what: &'static str },
    #[error("{}: too short to judge ({seconds:.1} s of audio; the model needs {needed:.1} s)", crate::library::shown(path.as_os_str()))]
    TooShort {
        path: PathBuf,
        seconds: f64,
        needed: f64,
    },
    #[error("{}: silent ({})", crate::library::shown(path.as_os_str()), if *unreadable_samples { "its samples are NaN, infinite or beyond ±1000 (read as silence), or digital silence" } else { "digital silence throughout what was analysed" })]
    Silent {
        path: PathBuf,
        /// Its samples were not numbers a recording holds (all replaced).
        unreadable_samples: bool,
    },
    #[error("{}: cancelled", crate::library::shown(path.as_os_str()))]
    Cancelled { path: PathBuf },
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

    /// The file decodes but holds nothing to judge (digital silence, or less
    /// audio than a segment needs): it gets no genre, yet nothing is wrong
    /// with it, so reports count it apart from failures.
    pub fn nothing_to_judge(&self) -> bool {
        kind_has_nothing_to_judge(self.kind())
    }

    /// Short machine-friendly kind, used by reports and the TUI's file marks.
    pub fn kind(&self) -> &'static str {
        match self {
            // deleted or moved since it was listed
            AudioError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                "gone"
            }
            AudioError::Io { .. } => "io",
            AudioError::Empty { .. } => "empty",
            AudioError::NotAudio { .. } => "not-audio",
            AudioError::Unsupported { .. }
            | AudioError::UnsupportedFormat { .. }
            | AudioError::UnsupportedFeature { .. } => "unsupported",
            AudioError::Corrupt { .. } => "corrupt",
            AudioError::NoTrack { .. } => "no-track",
            AudioError::NotRegular { .. } => "not-regular",
            AudioError::TooShort { .. } => "too-short",
            AudioError::Silent { .. } => "silent",
            AudioError::Cancelled { .. } => "cancelled",
        }
    }
}

/// [`AudioError::nothing_to_judge`] for an error known by its kind.
pub fn kind_has_nothing_to_judge(kind: &str) -> bool {
    matches!(kind, "silent" | "too-short")
}

/// What kind of non-regular file `ft` is, in words; None for a regular file.
pub fn irregular_kind(ft: std::fs::FileType) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_file() {
        None
    } else if ft.is_dir() {
        Some("a directory")
    } else if ft.is_fifo() {
        Some("a FIFO")
    } else if ft.is_char_device() {
        Some("a character device")
    } else if ft.is_block_device() {
        Some("a block device")
    } else if ft.is_socket() {
        Some("a socket")
    } else {
        Some("not a plain file")
    }
}

/// Check that `path` (links followed) is a regular file before opening it:
/// opening a FIFO blocks for ever and a device never ends. Returns its size.
pub fn regular_file_len(path: &Path) -> Result<u64, AudioError> {
    let meta = std::fs::metadata(path).map_err(|e| AudioError::io(path, e))?;
    match irregular_kind(meta.file_type()) {
        None => Ok(meta.len()),
        Some(what) => Err(AudioError::NotRegular {
            path: path.to_path_buf(),
            what,
        }),
    }
}

/// An error message without its leading "PATH: ", for places that already
/// show which file it is about (engine errors all start with the path).
pub fn without_path(path: &Path, msg: String) -> String {
    let prefix = format!("{}: ", crate::library::shown(path.as_os_str()));
    msg.strip_prefix(&prefix).map(str::to_string).unwrap_or(msg)
}

/// An I/O error in plain words ("permission denied", not "os error 13").
pub fn io_reason(e: &std::io::Error) -> String {
    // ELOOP has no stable ErrorKind yet; Linux and macOS number it 40 and 62.
    let eloop = if cfg!(target_os = "macos") { 62 } else { 40 };
    if cfg!(unix) && e.raw_os_error() == Some(eloop) {
        return "symlink loop (the link leads back to itself)".into();
    }
    io_words(e.kind()).map_or_else(|| format!("cannot read: {e}"), str::to_string)
}

/// Plain words for the I/O failures people meet, the same for reads and tag
/// writes; `None` for the rest, which callers word for their context.
pub fn io_words(kind: std::io::ErrorKind) -> Option<&'static str> {
    use std::io::ErrorKind as K;
    Some(match kind {
        K::PermissionDenied => "permission denied",
        K::NotFound => "no such file or directory",
        K::IsADirectory => "is a directory",
        K::NotADirectory => "a part of the path is a file, not a folder",
        K::StorageFull => "disk full (no space left on the device)",
        K::QuotaExceeded => "disk quota exceeded",
        K::ReadOnlyFilesystem => "read-only file system",
        // ENAMETOOLONG: the bare "File name too long" when the name is short
        K::InvalidFilename => {
            "path too long for the system (a name over 255 bytes, or a whole path over 4096)"
        }
        _ => return None,
    })
}
