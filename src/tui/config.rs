//! The config file: `$XDG_CONFIG_HOME/earmark/config.toml` (or the file named
//! by `EARMARK_CONFIG`). Everything in it is optional:
//!
//! ```toml
//! theme = "light"            # a theme name or a path to a .toml file
//! auto-advance = true        # play the next file when a track ends (default)
//! advance-after-tag = true   # a genre written to the selected file moves on (default)
//! mouse = true               # false: the terminal's own selection copies text
//! spectrogram = "halfblock"  # or "braille"; unset: the theme's choice
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
    /// The line of `theme = …`, for errors about the theme it names.
    pub theme_line: Option<usize>,
    /// `auto-advance = …` (None: not set, which means on).
    pub auto_advance: Option<bool>,
    /// `advance-after-tag = …` (None: not set, which means on).
    pub advance_after_tag: Option<bool>,
    /// `mouse = …` (None: not set, which means on).
    pub mouse: Option<bool>,
    /// `spectrogram = "halfblock"` (true) or `"braille"` (false); None: the
    /// theme decides.
    pub halfblock: Option<bool>,
    pub keymap: KeyMap,
    /// The file the settings came from, if one existed.
    pub path: Option<PathBuf>,
    /// Problems that did not stop the app (a rebinding taking a default key
    /// from another action), with file and line.
    pub warnings: Vec<FileError>,
}

impl Config {
    /// `theme` with the user's spectrogram style, when the config sets one.
    pub fn apply_style(&self, mut theme: super::theme::Theme) -> super::theme::Theme {
        if let Some(h) = self.halfblock {
            theme.halfblock = h && !theme.colourless;
        }
        theme
    }

    /// The theme the config names, loaded; an error names this file and line.
    pub fn load_theme(&self) -> Result<Option<super::theme::Theme>, FileError> {
        let Some(spec) = &self.theme else {
            return Ok(None);
        };
        // A relative path in the file means beside the file, not wherever
        // earmark was started from.
        let beside = self.path.as_deref().and_then(Path::parent).and_then(|dir| {
            (super::theme::Theme::names_a_file(spec) && Path::new(spec).is_relative())
                .then(|| dir.join(spec).to_string_lossy().into_owned())
        });
        let spec = beside.as_ref().unwrap_or(spec);
        super::theme::Theme::load(spec)
            .map(Some)
            .map_err(|e| match &self.path {
                // A theme file's own error already names its file and line.
                Some(path) if e.line.is_none() => FileError {
                    path: path.clone(),
                    line: self.theme_line,
                    message: format!("theme \"{spec}\": {}", e.message),
                },
                _ => e,
            })
    }
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

    /// A TOML syntax or shape error, as one line, naming the key whose value
    /// is at fault when there is one (`auto-advance: invalid type…`).
    pub fn from_toml(path: &Path, src: &str, e: &toml::de::Error) -> FileError {
        let message = e.message().trim().replace('\n', " ");
        let spanned = e.span().and_then(|s| src.get(s)).map(str::trim);
        let message = match e
            .span()
            .and_then(|s| key_before(src, s.start).or_else(|| table_named(src, s)))
        {
            Some(key) if !message.contains(&format!("`{key}`")) => format!("{key}: {message}"),
            // the span is the key itself, given twice
            _ if message == "duplicate key" && spanned.is_some_and(|k| !k.is_empty()) => {
                format!("`{}` is set twice", spanned.unwrap_or_default())
            }
            _ => message,
        };
        FileError::at(path, src, e.span(), message)
    }
}

/// The key assigned on the same line before `offset` (`fg` in
/// `base = { fg = 3 }` when the span is the `3`), if the span is a value.
fn key_before(src: &str, offset: usize) -> Option<&str> {
    let before = src.get(..offset)?;
    let line = &before[before.rfind('\n').map_or(0, |i| i + 1)..];
    let lhs = line.trim_end().strip_suffix('=')?.trim_end();
    let start = lhs
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '"' | '.')))
        .map_or(0, |i| i + 1);
    let key = lhs[start..].trim_matches('"');
    (!key.is_empty()).then_some(key)
}

/// The last name of a table header the span starts at (`quit` for
/// `[keys.quit]`, a table where a value was expected), if it does.
fn table_named(src: &str, span: std::ops::Range<usize>) -> Option<&str> {
    let text = src.get(span)?.trim_start();
    let header = text.strip_prefix('[')?.split(']').next()?;
    let key = header.rsplit('.').next()?.trim().trim_matches('"');
    (!key.is_empty()).then_some(key)
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
    theme: Option<Spanned<String>>,
    #[serde(rename = "auto-advance")]
    auto_advance: Option<bool>,
    #[serde(rename = "advance-after-tag")]
    advance_after_tag: Option<bool>,
    mouse: Option<bool>,
    spectrogram: Option<Spanned<String>>,
    #[serde(default)]
    keys: BTreeMap<Spanned<String>, Spanned<OneOrMany>>,
}

#[derive(Deserialize)]
#[serde(
    untagged,
    expecting = "expected a key name or a list of them, such as \"q\" or [\"space\", \"p\"]"
)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// Where the config file is looked for.
pub fn config_path() -> Option<PathBuf> {
    if let Some(p) = named_config() {
        return Some(PathBuf::from(p));
    }
    dirs::config_dir().map(|d| d.join("earmark").join("config.toml"))
}

/// `EARMARK_CONFIG`, when set to something: set empty it means unset, as
/// `NO_COLOR` and the XDG variables do (it was refused as ": no such file").
fn named_config() -> Option<std::ffi::OsString> {
    std::env::var_os("EARMARK_CONFIG").filter(|p| !p.is_empty())
}

/// A missing config file means defaults; a link to nothing there is a
/// mistake worth a word (a dotfiles checkout not linked in yet).
fn absent(path: &Path, e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::NotFound && std::fs::symlink_metadata(path).is_err()
}

/// Read the config file; a missing file means defaults.
pub fn load() -> Result<Config, FileError> {
    let Some(path) = config_path() else {
        return Ok(Config::default());
    };
    match crate::small_file::read_text_at_most(&path, crate::small_file::SETTINGS_LIMIT) {
        Ok(src) => parse(&src, &path),
        // a file named on purpose (EARMARK_CONFIG) must exist: a typo would
        // otherwise start the app with defaults and no word
        Err(e) if absent(&path, &e) && named_config().is_none() => Ok(Config::default()),
        Err(e) => Err(FileError {
            message: match (named_config(), absent(&path, &e)) {
                (Some(_), _) => format!(
                    "{} (named by EARMARK_CONFIG)",
                    crate::library::io_reason(&e)
                ),
                (None, false) if e.kind() == std::io::ErrorKind::NotFound => {
                    "a link to a file that does not exist".to_string()
                }
                (None, _) => crate::library::io_reason(&e),
            },
            path,
            line: None,
        }),
    }
}

pub fn parse(src: &str, path: &Path) -> Result<Config, FileError> {
    let raw: RawConfig = toml::from_str(src).map_err(|e| FileError::from_toml(path, src, &e))?;
    let mut overrides = Vec::new();
    let mut spans = Vec::new();
    // In file order, so that a clash names the later of its two lines.
    let mut in_file_order: Vec<_> = raw.keys.iter().collect();
    in_file_order.sort_by_key(|(name, _)| name.span().start);
    for &(name, keys) in &in_file_order {
        let list: Vec<&str> = match keys.get_ref() {
            OneOrMany::One(k) => vec![k.as_str()],
            OneOrMany::Many(ks) => ks.iter().map(String::as_str).collect(),
        };
        overrides.push((name.get_ref().as_str(), list));
        spans.push((name.get_ref().clone(), name.span()));
    }
    let span_of = |action: &str| {
        spans
            .iter()
            .find(|(n, _)| n == action)
            .map(|(_, s)| s.clone())
    };
    let (keymap, taken) = KeyMap::with_overrides(overrides).map_err(|e| {
        FileError::at(
            path,
            src,
            span_of(&e.action),
            format!("[keys] {}", e.message),
        )
    })?;
    // `action = []` unbinds it: allowed, but said, in case it was a slip.
    let unbound = in_file_order
        .into_iter()
        .filter_map(|(name, keys)| match keys.get_ref() {
            OneOrMany::Many(ks) if ks.is_empty() => Some(FileError::at(
                path,
                src,
                Some(name.span()),
                format!(
                    "[keys] `{}` has no key now{}",
                    name.get_ref(),
                    if name.get_ref() == "quit" {
                        " (ctrl-c still quits)"
                    } else {
                        ""
                    }
                ),
            )),
            _ => None,
        });
    let warnings = unbound
        .chain(taken.iter().map(|t| {
            FileError::at(
                path,
                src,
                span_of(t.by.name()),
                format!(
                    "[keys] `{}` takes \"{}\" from `{}`{}",
                    t.by.name(),
                    t.key,
                    t.from.name(),
                    t.left
                ),
            )
        }))
        .collect();
    let halfblock = match &raw.spectrogram {
        None => None,
        Some(s) => Some(match s.get_ref().as_str() {
            "halfblock" => true,
            "braille" => false,
            other => {
                return Err(FileError::at(
                    path,
                    src,
                    Some(s.span()),
                    format!("`spectrogram`: \"{other}\" is not \"braille\" or \"halfblock\""),
                ));
            }
        }),
    };
    Ok(Config {
        halfblock,
        theme_line: raw.theme.as_ref().map(|t| line_of(src, t.span().start)),
        theme: raw.theme.map(Spanned::into_inner),
        auto_advance: raw.auto_advance,
        advance_after_tag: raw.advance_after_tag,
        mouse: raw.mouse,
        keymap,
        path: Some(path.to_path_buf()),
        warnings,
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
    fn an_empty_key_list_unbinds_and_is_said() {
        let src = "[keys]\nquit = []\nmark = []\n";
        let c = parse(src, Path::new("c.toml")).unwrap();
        assert_eq!(c.keymap.action("q".parse().unwrap()), None);
        let said: Vec<String> = c.warnings.iter().map(ToString::to_string).collect();
        assert_eq!(said.len(), 2, "{said:?}");
        assert!(
            said[0].contains("line 2")
                && said[0].contains("`quit` has no key now (ctrl-c still quits)"),
            "{said:?}"
        );
        assert!(said[1].ends_with("`mark` has no key now"), "{said:?}");
    }

    #[test]
    fn a_key_set_twice_is_named() {
        let src = "[keys]\nquit = \"x\"\nquit = \"q\"\n";
        let e = parse(src, Path::new("c.toml")).unwrap_err().to_string();
        assert_eq!(e, "c.toml, line 3: `quit` is set twice");
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
        // The second binding of a key is the one at fault, whatever the names' order.
        let e = parse("[keys]\nup = \"x\"\ndown = \"x\"\n", Path::new("c.toml")).unwrap_err();
        assert!(e.to_string().contains("bound to both"), "{e}");
        assert_eq!(e.line, Some(3), "{e}");
        let e = parse("[keys]\ndown = \"x\"\nup = \"x\"\n", Path::new("c.toml")).unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        // Ctrl-C always quits: another action cannot have it.
        let e = parse("[keys]\n\nhelp = \"ctrl-c\"\n", Path::new("c.toml")).unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        assert!(e.to_string().contains("\"ctrl-c\" always quits"), "{e}");
        let e = parse("colour = 1\n", Path::new("c.toml")).unwrap_err();
        assert_eq!(e.line, Some(1));
        assert!(e.to_string().contains("colour"), "{e}");
    }

    #[test]
    fn a_rebinding_that_takes_a_default_key_is_reported_with_its_line() {
        let src = "theme = \"dark\"\n[keys]\nquit = \"j\"\n";
        let c = parse(src, Path::new("c.toml")).unwrap();
        assert_eq!(c.keymap.action("j".parse().unwrap()), Some(Action::Quit));
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        let w = c.warnings[0].to_string();
        assert_eq!(c.warnings[0].line, Some(3), "{w}");
        assert!(w.contains("`quit` takes \"j\" from `down`"), "{w}");
        assert!(w.starts_with("c.toml, line 3"), "{w}");
        // The README's example takes `p` from previous-file: said, not silent.
        let src = "[keys]\nplay-pause = [\"space\", \"p\"]\n";
        let c = parse(src, Path::new("c.toml")).unwrap();
        let w: Vec<String> = c.warnings.iter().map(ToString::to_string).collect();
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("from `previous` (it keeps \"N\")"), "{w:?}");
        // Rebinding without taking anything says nothing.
        let c = parse("[keys]\nquit = \"Q\"\n", Path::new("c.toml")).unwrap();
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    }

    #[test]
    fn a_bad_theme_name_names_the_config_file_and_line() {
        let src = "\n[keys]\n";
        let c = parse(&format!("theme = \"nope\"{src}"), Path::new("c.toml")).unwrap();
        let e = c.load_theme().unwrap_err();
        assert_eq!(e.line, Some(1), "{e}");
        assert!(
            e.to_string().starts_with("c.toml, line 1: theme \"nope\""),
            "{e}"
        );
        let c = parse("# colours\ntheme = \"light\"\n", Path::new("c.toml")).unwrap();
        assert!(c.load_theme().unwrap().is_some());
    }

    #[test]
    fn a_relative_theme_path_is_read_beside_the_config_file() {
        let dir = tempfile::tempdir().unwrap();
        let themes = dir.path().join("themes");
        std::fs::create_dir(&themes).unwrap();
        let light = concat!(env!("CARGO_MANIFEST_DIR"), "/themes/light.toml");
        std::fs::copy(light, themes.join("mine.toml")).unwrap();
        let cfg = dir.path().join("config.toml");
        // Whatever the working directory (the tests run from the repository).
        let c = parse("theme = \"themes/mine.toml\"\n", &cfg).unwrap();
        assert!(c.load_theme().unwrap().is_some());
        let c = parse("theme = \"mine.toml\"\n", &cfg).unwrap();
        let e = c.load_theme().unwrap_err();
        assert!(e.to_string().contains("mine.toml"), "{e}");
    }

    #[test]
    fn every_action_can_be_bound_in_the_config_and_shows_in_help() {
        let help = KeyMap::defaults().help();
        for &a in Action::BINDABLE {
            let src = format!("[keys]\n{} = \"f12\"\n", a.name());
            let c = parse(&src, Path::new("c.toml")).unwrap();
            assert_eq!(c.keymap.action("f12".parse().unwrap()), Some(a), "{src}");
            let listed = help.iter().any(|(g, entries)| {
                *g == a.group() && entries.iter().any(|(_, d)| *d == a.description())
            });
            assert!(listed, "{} is missing from the help", a.name());
        }
    }

    #[test]
    fn the_spectrogram_style_is_the_users_when_set_else_the_themes() {
        let c = parse(
            "theme = \"light\"\nspectrogram = \"braille\"\n",
            Path::new("c.toml"),
        )
        .unwrap();
        assert_eq!(c.halfblock, Some(false));
        let light = c.load_theme().unwrap().unwrap();
        assert!(light.halfblock, "the light theme draws half blocks");
        assert!(!c.apply_style(light).halfblock, "the user's braille wins");
        let c = parse("theme = \"light\"\n", Path::new("c.toml")).unwrap();
        assert_eq!(c.halfblock, None);
        let light = c.load_theme().unwrap().unwrap();
        assert!(c.apply_style(light).halfblock, "unset: the theme's choice");
        let e = parse("\nspectrogram = \"dots\"\n", Path::new("c.toml")).unwrap_err();
        assert!(e.to_string().starts_with("c.toml, line 2"), "{e}");
    }

    #[test]
    fn auto_advance_is_read_and_unset_by_default() {
        let c = parse(
            "advance-after-tag = false\nmouse = false\n",
            Path::new("c.toml"),
        )
        .unwrap();
        assert_eq!(c.advance_after_tag, Some(false));
        assert_eq!(c.mouse, Some(false));
        let c = parse("auto-advance = false\n", Path::new("c.toml")).unwrap();
        assert_eq!(c.auto_advance, Some(false));
        let c = parse("theme = \"dark\"\n", Path::new("c.toml")).unwrap();
        assert_eq!(c.auto_advance, None);
        let e = parse("auto-advance = \"yes\"\n", Path::new("c.toml")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "c.toml, line 1: auto-advance: invalid type: string \"yes\", expected a boolean"
        );
        // a table where a key was expected names it too
        let e = parse("[keys.quit]\nkey = \"q\"\n", Path::new("c.toml")).unwrap_err();
        assert!(
            e.to_string().contains("line 1: quit: expected a key name"),
            "{e}"
        );
        let e = parse("[keys]\nquit = 5\n", Path::new("c.toml")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "c.toml, line 2: quit: expected a key name or a list of them, such as \"q\" or [\"space\", \"p\"]"
        );
    }
}
