//! What a container pre-check's walk ends on: an I/O failure, or a length
//! that lies (the file is refused as corrupt, saying what it claimed).

use std::path::Path;

use super::AudioError;

pub(super) enum Walk {
    Io(std::io::Error),
    Lie(String),
}

impl From<std::io::Error> for Walk {
    fn from(e: std::io::Error) -> Self {
        Walk::Io(e)
    }
}

impl Walk {
    /// The error the app shows for `path`.
    pub(super) fn for_file(self, path: &Path) -> AudioError {
        match self {
            Walk::Io(e) => AudioError::io(path, e),
            Walk::Lie(what) => AudioError::corrupt(path, what),
        }
    }
}
