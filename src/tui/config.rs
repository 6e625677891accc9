//! The config file: `$XDG_CONFIG_HOME/earmark/config.toml` (or the file named
//! by `EARMARK_CONFIG`). Everything in it is optional:
//!
//! ```toml
//! theme = "light"            # a theme name or a path to a .toml file
//! [keys]                     # action = key or [keys]; replaces that action's defaults
//! play-pause = ["space", "p"]
//! quit = "q"
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::keymap::KeyMap;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Config {
    pub theme: Option<String>,
    pub keymap: KeyMap,
    /// The file the settings came from, if one existed.
    pub path: Option<PathBuf>,
}

/// A config or theme file problem: the file, the line, and what is wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct FileError {
    pub path: PathBuf,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}, line {line}: {}", self.path.display(), self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

impl std::error::Error for FileError {}

impl FileError {
    pub fn at(
        path: &Path,
        src: &str,
        span: Option<std::ops::Range<usize>>,
        message: impl Into<String>,
    ) -> FileError {
        FileError {
            path: path.to_path_buf(),
            line: span.map(|s| line_of(src, s.start)),
            message: message.into(),
        }
    }

    /// A TOML syntax or shape error, as one line.
    pub fn from_toml(path: &Path, src: &str, e: &toml::de::Error) -> FileError {
        FileError::at(path, src, e.span(), e.message().trim().replace('\n', " "))
    }
}

/// 1-based line number of a byte offset.
pub fn line_of(src: &str, offset: usize) -> usize {
    src.as_bytes()[..offset.min(src.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    theme: Option<String>,
    #[serde(default)]
    keys: BTreeMap<Spanned<String>, Spanned<OneOrMany>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// Where the config file is looked for.
pub fn config_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("EARMARK_CONFIG") {
        return Some(PathBuf::from(p));
    }
    dirs::config_dir().map(|d| d.join("earmark").join("config.toml"))
}

/// Read the config file; a missing file means defaults.
pub fn load() -> Result<Config, FileError> {
    let Some(path) = config_path() else {
        return Ok(Config::default());
    };
    match std::fs::read_to_string(&path) {
        Ok(src) => parse(&src, &path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
        Err(e) => Err(FileError {
            path,
            line: None,
            message: crate::library::io_reason(&e),
        }),
    }
}

pub fn parse(src: &str, path: &Path) -> Result<Config, FileError> {
    let raw: RawConfig = toml::from_str(src).map_err(|e| FileError::from_toml(path, src, &e))?;
    let mut overrides = Vec::new();
    let mut spans = Vec::new();
    for (name, keys) in &raw.keys {
        let list: Vec<&str> = match keys.get_ref() {
            OneOrMany::One(k) => vec![k.as_str()],
            OneOrMany::Many(ks) => ks.iter().map(String::as_str).collect(),
        };
        overrides.push((name.get_ref().as_str(), list));
        spans.push((name.get_ref().clone(), name.span()));
    }
    let keymap = KeyMap::with_overrides(overrides).map_err(|e| {
        let span = spans
            .iter()
            .find(|(n, _)| *n == e.action)
            .map(|(_, s)| s.clone());
        FileError::at(path, src, span, format!("[keys] {}", e.message))
    })?;
    Ok(Config {
        theme: raw.theme,
        keymap,
        path: Some(path.to_path_buf()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::action::Action;

    #[test]
    fn overrides_replace_an_actions_keys() {
        let src = "theme = \"light\"\n[keys]\nplay-pause = [\"p\", \"space\"]\nquit = \"x\"\n";
        let c = parse(src, Path::new("c.toml")).unwrap();
        assert_eq!(c.theme.as_deref(), Some("light"));
        assert_eq!(c.keymap.action("x".parse().unwrap()), Some(Action::Quit));
        assert_eq!(c.keymap.action("q".parse().unwrap()), None);
        // "p" was `previous` by default; the rebinding takes it over.
        assert_eq!(
            c.keymap.action("p".parse().unwrap()),
            Some(Action::PlayPause)
        );
        assert_eq!(
            c.keymap.action("N".parse().unwrap()),
            Some(Action::Previous)
        );
    }

    #[test]
    fn errors_name_the_key_and_line() {
        let e = parse(
            "[keys]\nup = \"k\"\nplay-pauze = \"p\"\n",
            Path::new("c.toml"),
        )
        .unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        assert!(e.to_string().contains("play-pauze"), "{e}");
        let e = parse("[keys]\n\nquit = \"spcae\"\n", Path::new("c.toml")).unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        assert!(e.to_string().contains("spcae"), "{e}");
        let e = parse("[keys]\nup = \"x\"\ndown = \"x\"\n", Path::new("c.toml")).unwrap_err();
        assert!(e.to_string().contains("bound to both"), "{e}");
        let e = parse("colour = 1\n", Path::new("c.toml")).unwrap_err();
        assert_eq!(e.line, Some(1));
        assert!(e.to_string().contains("colour"), "{e}");
    }
}
