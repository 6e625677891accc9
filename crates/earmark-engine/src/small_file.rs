//! Reading a file a person names (a config, a theme, a report, a model)
//! whole, but only a regular file and only up to a size fit for what it is:
//! a path to `/dev/zero` grew without end, and a FIFO would hang the open.
//! Audio is never read this way (it streams).

use std::io::{self, Read};
use std::path::Path;

/// Config and theme files: a few KiB in practice.
pub const SETTINGS_LIMIT: u64 = 1 << 20;
/// Reports, split lists, model cards, learned genres: up to megabytes.
pub const DATA_LIMIT: u64 = 256 << 20;
/// ONNX models (the shipped ones are 3–40 MB).
pub const MODEL_LIMIT: u64 = 2 << 30;

/// The file's bytes; an error for what is not a regular file or is larger
/// than `limit` (said in words: `larger than 1 MiB`). `/dev/null` reads as
/// empty: `EARMARK_CONFIG=/dev/null` is how scripts say "no config".
pub fn read_at_most(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    if std::fs::canonicalize(path).is_ok_and(|p| p == Path::new("/dev/null")) {
        return Ok(Vec::new());
    }
    let meta = std::fs::metadata(path)?;
    if meta.is_dir() {
        return Err(io::Error::from(io::ErrorKind::IsADirectory));
    }
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file (a device, a pipe or a socket)",
        ));
    }
    let too_large = || {
        io::Error::new(
            io::ErrorKind::FileTooLarge,
            format!("larger than {}", size_words(limit)),
        )
    };
    if meta.len() > limit {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    // a file growing while read (or a size the metadata does not tell)
    std::fs::File::open(path)?
        .take(limit + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(bytes)
}

/// As [`read_at_most`], as UTF-8 text.
pub fn read_text_at_most(path: &Path, limit: u64) -> io::Result<String> {
    String::from_utf8(read_at_most(path, limit)?)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "not UTF-8 text"))
}

fn size_words(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 => format!("{} GiB", b >> 30),
        b if b >= 1 << 20 => format!("{} MiB", b >> 20),
        b => format!("{} KiB", (b >> 10).max(1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_a_folder_and_a_large_file_are_refused() {
        #[cfg(unix)]
        {
            let e = read_at_most(Path::new("/dev/zero"), 1024).unwrap_err();
            assert!(e.to_string().contains("not a regular file"), "{e}");
        }
        let dir = tempfile::tempdir().unwrap();
        #[cfg(unix)]
        assert_eq!(read_text_at_most(Path::new("/dev/null"), 1024).unwrap(), "");
        let e = read_at_most(dir.path(), 1024).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::IsADirectory);
        let big = dir.path().join("big.toml");
        std::fs::write(&big, vec![b'#'; 2048]).unwrap();
        let e = read_text_at_most(&big, 1024).unwrap_err();
        assert_eq!(e.to_string(), "larger than 1 KiB");
        assert_eq!(read_text_at_most(&big, 2048).unwrap().len(), 2048);
        std::fs::write(&big, b"\xff\xfe").unwrap();
        let e = read_text_at_most(&big, 1024).unwrap_err();
        assert_eq!(e.to_string(), "not UTF-8 text");
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_without_waiting_for_a_writer() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("config.toml");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if !made.is_ok_and(|s| s.success()) {
            return; // no mkfifo here: nothing to test
        }
        let e = read_at_most(&fifo, 1024).unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
    }
}
