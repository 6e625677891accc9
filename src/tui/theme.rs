//! Colour themes from TOML files (`themes/*.toml`, built into the binary, or
//! any file given by path). A theme may leave styles out: they come from the
//! theme it `extends` (by default "dark").

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use toml::Spanned;

use super::config::FileError;

/// The themes shipped in `themes/`, built in so the binary works from anywhere.
pub const BUILTIN: &[(&str, &str)] = &[
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
    ("basic16", include_str!("../../themes/basic16.toml")),
];

pub const DEFAULT_THEME: &str = "dark";

macro_rules! styles {
    ($($field:ident : $doc:literal),* $(,)?) => {
        /// Resolved styles, one per part of the screen.
        #[derive(Debug, Clone, PartialEq)]
        pub struct Theme {
            pub name: String,
            /// Draw the spectrogram in coloured half blocks instead of braille dots.
            pub halfblock: bool,
            /// Every colour stripped (`NO_COLOR`): half blocks would show nothing.
            pub colourless: bool,
            $(#[doc = $doc] pub $field: Style,)*
        }

        /// Every style key a theme file may set, with what it colours.
        pub const STYLE_KEYS: &[(&str, &str)] = &[$((stringify!($field), $doc)),*];

        impl Theme {
            fn slot(&mut self, key: &str) -> Option<&mut Style> {
                match key {
                    $(stringify!($field) => Some(&mut self.$field),)*
                    _ => None,
                }
            }

            fn blank(name: &str) -> Theme {
                Theme { name: name.to_string(), halfblock: false, colourless: false, $($field: Style::default(),)* }
            }
        }
    };
}

styles! {
    base: "the whole screen: default text and background",
    border: "pane borders",
    border_focus: "the border of the focused pane",
    title: "pane titles",
    folder: "folder names in the browser",
    file: "audio file names in the browser",
    count: "per-folder counts and other secondary text",
    selected: "the selected row",
    playing: "the file now playing",
    bad: "corrupt files and broken entries",
    unreadable: "folders that cannot be read (greyed)",
    label: "field names in the track pane",
    value: "field values in the track pane",
    dim: "placeholders and missing values",
    gauge: "the played part of the progress gauge",
    gauge_rest: "the rest of the progress gauge",
    status: "the status line",
    status_error: "error messages in the status line",
    note: "notes such as silent mode",
    key: "key names in hints and help",
    help: "the help overlay",
    filter: "the filter input",
    suggest: "the model's suggestion",
    bar: "genre bars",
    bar_top: "the top three genre bars",
    mark: "marked files in the browser",
    done: "classified and tagged marks",
    heat_low: "confusion-matrix cells with low values",
    heat_mid: "confusion-matrix cells with middle values",
    heat_high: "confusion-matrix cells with high values",
    spec_low: "quiet parts of the spectrogram",
    spec_mid: "middle parts of the spectrogram",
    spec_high: "loud parts of the spectrogram",
    cursor: "the playback cursor and the selected matrix cell",
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTheme {
    #[allow(dead_code)]
    name: Option<String>,
    #[allow(dead_code)]
    description: Option<String>,
    extends: Option<Spanned<String>>,
    /// "braille" (dots, one colour per cell) or "halfblock" (two colours per cell).
    spectrogram: Option<Spanned<String>>,
    #[serde(default)]
    styles: BTreeMap<Spanned<String>, Spanned<RawStyle>>,
}

#[derive(Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a style such as { fg = \"red\", bold = true }"
)]
struct RawStyle {
    fg: Option<Spanned<String>>,
    bg: Option<Spanned<String>>,
    bold: Option<bool>,
    italic: Option<bool>,
    underlined: Option<bool>,
    dim: Option<bool>,
    reversed: Option<bool>,
}

/// `$XDG_CONFIG_HOME/earmark/themes/NAME.toml`.
fn user_theme(name: &str) -> Option<PathBuf> {
    dirs::config_dir().map(|d| {
        d.join("earmark")
            .join("themes")
            .join(format!("{name}.toml"))
    })
}

/// Where themes are found, for a name that is none of them.
fn where_themes_are() -> String {
    let folder = dirs::config_dir().map_or_else(
        || "$XDG_CONFIG_HOME/earmark/themes/".into(),
        |d| format!("{}/", d.join("earmark").join("themes").display()),
    );
    format!(
        "built in: {}; or a theme in {folder}, or a path to a .toml file",
        Theme::builtin_names().join(", ")
    )
}

/// Where a theme spec leads: a shipped theme (its name and source) or a file.
enum Located {
    Builtin(&'static str, &'static str),
    File(PathBuf),
}

/// A theme spec as `--theme` and `extends` take it: a built-in name, a path
/// (relative to `beside`), or a name in the user's themes folder. None: no
/// such theme.
fn locate(spec: &str, beside: &Path) -> Option<Located> {
    if let Some(&(name, src)) = BUILTIN.iter().find(|(n, _)| *n == spec) {
        return Some(Located::Builtin(name, src));
    }
    if Theme::names_a_file(spec) {
        return Some(Located::File(beside.join(spec)));
    }
    user_theme(spec).filter(|p| p.is_file()).map(Located::File)
}

/// A theme file's text (a regular file, 1 MiB at most) and its name.
fn read_theme_file(path: &Path) -> std::io::Result<(String, String)> {
    let src = crate::small_file::read_text_at_most(path, crate::small_file::SETTINGS_LIMIT)?;
    let name = path
        .file_stem()
        .map_or_else(|| "custom".into(), |s| s.to_string_lossy().into_owned());
    Ok((src, name))
}

/// How a built-in theme is named in messages.
fn builtin_path(name: &str) -> PathBuf {
    PathBuf::from(format!("themes/{name}.toml"))
}

fn parse_color(s: &str) -> Option<Color> {
    Color::from_str(s.trim()).ok()
}

impl Theme {
    /// The default theme (built in; cannot fail).
    pub fn default_theme() -> Theme {
        Theme::builtin(DEFAULT_THEME).unwrap_or_else(|| Theme::blank(DEFAULT_THEME))
    }

    /// The theme when none is chosen, for the terminal `TERM` names and
    /// the background `COLORFGBG` says (rxvt, Konsole and others set it,
    /// `15;0`: foreground;background): a light background gets `light` (the
    /// default's light grey text was 1.5:1 on white). Asking the terminal
    /// (OSC 11) is not done: an answer late over SSH would arrive as keys.
    pub fn for_terminal(
        term: Option<&std::ffi::OsStr>,
        colorfgbg: Option<&std::ffi::OsStr>,
    ) -> Theme {
        let light = colorfgbg
            .and_then(std::ffi::OsStr::to_str)
            .and_then(|v| v.rsplit(';').next())
            .and_then(|bg| bg.trim().parse::<u8>().ok())
            // 7 (white) and 9-15 but 8 (bright colours) are light backgrounds
            .is_some_and(|bg| bg == 7 || (9..=15).contains(&bg));
        match Theme::builtin("light").filter(|_| light) {
            Some(t) => t,
            None => Theme::for_term(term),
        }
    }

    /// The theme when none is chosen, for the terminal `TERM` names: the
    /// Linux console (`linux`) has 16 colours and no braille in its font,
    /// so it gets basic16 with a half-block spectrogram; others the default.
    pub fn for_term(term: Option<&std::ffi::OsStr>) -> Theme {
        let console = term
            .and_then(std::ffi::OsStr::to_str)
            .is_some_and(|t| t == "linux" || t.starts_with("linux-"));
        match Theme::builtin("basic16").filter(|_| console) {
            Some(mut t) => {
                t.halfblock = true;
                t
            }
            None => Theme::default_theme(),
        }
    }

    pub fn builtin(name: &str) -> Option<Theme> {
        let (_, src) = BUILTIN.iter().find(|(n, _)| *n == name)?;
        // Built-in themes set every style, so none needs a base.
        Theme::parse_at(src, &builtin_path(name), name, 1, true).ok()
    }

    pub fn builtin_names() -> Vec<&'static str> {
        BUILTIN.iter().map(|(n, _)| *n).collect()
    }

    /// Whether a theme spec is a path to a .toml file rather than a theme's name.
    pub fn names_a_file(spec: &str) -> bool {
        spec.contains('/') || spec.contains('\\') || spec.ends_with(".toml")
    }

    /// `--theme` or the config's `theme`: a built-in name, a name from
    /// `$XDG_CONFIG_HOME/earmark/themes/NAME.toml`, or a path to a .toml file.
    pub fn load(spec: &str) -> Result<Theme, FileError> {
        match locate(spec, Path::new("")) {
            Some(Located::Builtin(name, _)) => Ok(Theme::builtin(name).unwrap_or_default()),
            Some(Located::File(path)) => Theme::load_file(&path),
            None => Err(FileError {
                path: PathBuf::from(spec),
                line: None,
                message: format!("no such theme ({})", where_themes_are()),
            }),
        }
    }

    pub fn load_file(path: &Path) -> Result<Theme, FileError> {
        let (src, name) = read_theme_file(path).map_err(|e| FileError {
            path: path.to_path_buf(),
            line: None,
            message: format!("theme: {}", crate::library::io_reason(&e)),
        })?;
        Theme::parse(&src, path, &name, 0)
    }

    /// Parse the theme `parent` names (the `extends` of `src`, read from
    /// `path`), found as `--theme` finds one, a path being relative to the
    /// extending file's folder; what cannot be found or read is said at the
    /// `extends` line.
    fn parse_parent(
        parent: &Spanned<String>,
        path: &Path,
        src: &str,
        depth: usize,
    ) -> Result<Theme, FileError> {
        let said = |why: String| FileError::at(path, src, Some(parent.span()), why);
        let spec = parent.get_ref();
        match locate(spec, path.parent().unwrap_or(Path::new("."))) {
            Some(Located::Builtin(name, psrc)) => {
                Theme::parse_at(psrc, &builtin_path(name), name, depth, true)
            }
            Some(Located::File(file)) => {
                let (psrc, name) = read_theme_file(&file).map_err(|e| {
                    said(format!(
                        "`extends`: {}: {}",
                        file.display(),
                        crate::library::io_reason(&e)
                    ))
                })?;
                Theme::parse_at(&psrc, &file, &name, depth, false)
            }
            None => Err(said(format!(
                "`extends`: no theme \"{spec}\" ({})",
                where_themes_are()
            ))),
        }
    }

    /// Parse theme source; `path` is only used in messages.
    #[allow(clippy::too_many_lines)] // long before the lint; listed in issue 14 to split
    pub fn parse(src: &str, path: &Path, name: &str, depth: usize) -> Result<Theme, FileError> {
        Theme::parse_at(src, path, name, depth, false)
    }

    /// [`Theme::parse`]; `builtin`: a shipped theme, which sets every style
    /// and so starts blank (any other starts from dark, also when extended).
    fn parse_at(
        src: &str,
        path: &Path,
        name: &str,
        depth: usize,
        builtin: bool,
    ) -> Result<Theme, FileError> {
        let raw: RawTheme = toml::from_str(src).map_err(|e| FileError::from_toml(path, src, &e))?;
        let mut theme = match &raw.extends {
            Some(parent) if depth < 4 => Theme::parse_parent(parent, path, src, depth + 1)?,
            Some(parent) => {
                return Err(FileError::at(
                    path,
                    src,
                    Some(parent.span()),
                    "`extends` nests too deeply (more than 4 themes, or a loop)",
                ));
            }
            // a built-in sets every style; a theme of yours extended by
            // another starts from dark, as it does alone (it started blank:
            // no colour at all, the selected row unseen)
            None if builtin => Theme::blank(name),
            None => Theme::builtin(DEFAULT_THEME).unwrap_or_else(|| Theme::blank(name)),
        };
        theme.name = name.to_string();
        if let Some(kind) = &raw.spectrogram {
            theme.halfblock = match kind.get_ref().as_str() {
                "braille" => false,
                "halfblock" => true,
                other => {
                    return Err(FileError::at(
                        path,
                        src,
                        Some(kind.span()),
                        format!("`spectrogram`: \"{other}\" is not \"braille\" or \"halfblock\""),
                    ));
                }
            };
        }
        for (key, style) in &raw.styles {
            let Some(slot) = theme.slot(key.get_ref()) else {
                return Err(FileError::at(
                    path,
                    src,
                    Some(key.span()),
                    format!(
                        "unknown style `{}` (known: {})",
                        key.get_ref(),
                        STYLE_KEYS
                            .iter()
                            .map(|(k, _)| *k)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            };
            // A style changes only what it names, over the style it
            // extends (`selected = { fg = "red" }` lost dark's bar and bold);
            // `bold = false` or `bg = "reset"` take one away.
            let s = style.get_ref();
            let mut out = *slot;
            for (attr, value) in [("fg", &s.fg), ("bg", &s.bg)] {
                if let Some(v) = value {
                    let color = parse_color(v.get_ref()).ok_or_else(|| {
                        FileError::at(
                            path,
                            src,
                            Some(v.span()),
                            format!(
                                "`styles.{}.{attr}`: unknown colour \"{}\" (use a name such as \"blue\" or \"light-red\", an index 0-255 such as \"244\", or \"#rrggbb\")",
                                key.get_ref(),
                                v.get_ref()
                            ),
                        )
                    })?;
                    out = if attr == "fg" {
                        out.fg(color)
                    } else {
                        out.bg(color)
                    };
                }
            }
            for (flag, m) in [
                (s.bold, Modifier::BOLD),
                (s.italic, Modifier::ITALIC),
                (s.underlined, Modifier::UNDERLINED),
                (s.dim, Modifier::DIM),
                (s.reversed, Modifier::REVERSED),
            ] {
                match flag {
                    Some(true) => out = out.add_modifier(m),
                    Some(false) => out = out.remove_modifier(m),
                    None => {}
                }
            }
            *slot = out;
        }
        Ok(theme)
    }
}

impl Theme {
    /// Whether the spectrogram is drawn in half blocks: the theme's style,
    /// flipped by `v`, and never without colours (they are all it shows).
    pub fn spectrogram_halfblock(&self, flipped: bool) -> bool {
        (self.halfblock != flipped) && !self.colourless
    }
}

/// True when the user asked for no colour (`NO_COLOR` set and not empty,
/// see no-color.org).
pub fn colours_off() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

impl Theme {
    /// This theme with every colour removed, for `NO_COLOR`. Crossterm then
    /// emits no colour codes at all, so whatever a theme marked by colour
    /// alone (the selected row above all) is marked by reverse video instead.
    pub fn without_colours(mut self) -> Theme {
        let strip = |s: &mut Style| {
            s.fg = None;
            s.bg = None;
            s.underline_color = None;
        };
        let shown_reversed = [
            "selected",
            "cursor",
            "status",
            "status_error",
            "note",
            "gauge",
        ];
        for (key, _) in STYLE_KEYS {
            if let Some(slot) = self.slot(key) {
                strip(slot);
                if shown_reversed.contains(key) {
                    *slot = slot.add_modifier(Modifier::REVERSED);
                }
            }
        }
        // High confusion cells are underlined, not reversed: reversed is the
        // cell cursor, which must stand out among them.
        self.heat_high =
            (self.heat_high.remove_modifier(Modifier::REVERSED)).add_modifier(Modifier::UNDERLINED);
        // Half blocks draw loudness as colour only.
        self.halfblock = false;
        self.colourless = true;
        self
    }
}

impl Default for Theme {
    fn default() -> Self {
        Theme::default_theme()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Linux console gets 16 colours and half blocks; other
    /// terminals, or none named, the default.
    #[test]
    fn the_linux_console_gets_basic16_with_half_blocks() {
        let t = Theme::for_term(Some(std::ffi::OsStr::new("linux")));
        assert_eq!(t.name, "basic16");
        assert!(t.halfblock);
        for term in [Some("xterm-256color"), Some("screen"), None] {
            let t = Theme::for_term(term.map(std::ffi::OsStr::new));
            assert_eq!(t, Theme::default_theme(), "{term:?}");
        }
    }

    /// A light background said by COLORFGBG gets the light theme; a dark
    /// one, a malformed value or none, the terminal's theme as before.
    #[test]
    fn a_light_background_said_by_colorfgbg_gets_the_light_theme() {
        let os = |s: &'static str| Some(std::ffi::OsStr::new(s));
        for light in ["0;15", "0;7", "0;default;15", "12;11"] {
            let t = Theme::for_terminal(os("xterm-256color"), os(light));
            assert_eq!(t.name, "light", "{light}");
        }
        for dark in ["15;0", "7;8", "15;default;0", "", "bright", "1;300"] {
            let t = Theme::for_terminal(os("xterm-256color"), os(dark));
            assert_eq!(t, Theme::default_theme(), "{dark}");
        }
        assert_eq!(Theme::for_terminal(os("linux"), None).name, "basic16");
    }

    #[test]
    fn builtin_themes_parse_and_the_default_sets_every_style() {
        for (name, src) in BUILTIN {
            Theme::parse(src, Path::new(name), name, 0).unwrap_or_else(|e| panic!("{e}"));
        }
        for (name, src) in BUILTIN {
            let raw: RawTheme = toml::from_str(src).unwrap();
            let set: Vec<String> = raw.styles.keys().map(|k| k.get_ref().clone()).collect();
            for (key, _) in STYLE_KEYS {
                assert!(set.iter().any(|k| k == key), "{name}.toml lacks `{key}`");
            }
        }
    }

    #[test]
    fn bad_theme_files_name_the_key_and_line() {
        let p = Path::new("bad.toml");
        let e = Theme::parse(
            "[styles]\nbase = { fg = \"red\" }\nborder = { fg = \"blurple\" }\n",
            p,
            "bad",
            0,
        )
        .unwrap_err();
        assert_eq!(e.line, Some(3));
        assert!(e.to_string().contains("styles.border.fg"), "{e}");
        assert!(e.to_string().contains("blurple"), "{e}");
        let e = Theme::parse("[styles]\n\nbordr = { fg = \"red\" }\n", p, "bad", 0).unwrap_err();
        assert_eq!(e.line, Some(3));
        assert!(e.to_string().contains("bordr"), "{e}");
        let e = Theme::parse(
            "[styles]\nbase = { fg = \"red\", blink = true }\n",
            p,
            "bad",
            0,
        )
        .unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(e.to_string().contains("blink"), "{e}");
        let e = Theme::parse("[styles\n", p, "bad", 0).unwrap_err();
        assert_eq!(e.line, Some(1));
        assert!(Theme::load("no-such-theme").is_err());
        // A value of the wrong type names its key, in the file's words.
        let e = Theme::parse("[styles]\nbase = \"red\"\n", p, "bad", 0).unwrap_err();
        assert_eq!(
            e.to_string(),
            "bad.toml, line 2: base: invalid type: string \"red\", \
             expected a style such as { fg = \"red\", bold = true }"
        );
        let e = Theme::parse("[styles]\nbase = { fg = 3 }\n", p, "bad", 0).unwrap_err();
        assert!(e.to_string().contains("line 2: fg: invalid type"), "{e}");
    }

    #[test]
    fn without_colours_the_selection_is_reverse_video() {
        for name in Theme::builtin_names() {
            let t = Theme::builtin(name).unwrap().without_colours();
            assert!(
                t.selected.add_modifier.contains(Modifier::REVERSED),
                "{name}"
            );
            assert_eq!((t.selected.fg, t.selected.bg), (None, None), "{name}");
            assert_eq!((t.base.fg, t.bar_top.fg), (None, None), "{name}");
            assert!(!t.halfblock);
            // the matrix's cursor cell stands apart from its high cells
            assert!(t.cursor.add_modifier.contains(Modifier::REVERSED), "{name}");
            let high = t.heat_high.add_modifier;
            assert!(
                !high.contains(Modifier::REVERSED) && high.contains(Modifier::UNDERLINED),
                "{name}"
            );
        }
    }

    #[test]
    fn partial_themes_extend_dark() {
        let t = Theme::parse(
            "[styles]\nbase = { fg = \"red\" }\n",
            Path::new("p.toml"),
            "p",
            0,
        )
        .unwrap();
        assert_eq!(t.base.fg, Some(Color::Red));
        assert_eq!(t.border, Theme::default_theme().border);
    }

    /// A style changes what it names over the style it extends: the
    /// selected row kept no bar nor bold when only its fg was given.
    #[test]
    fn a_style_changes_only_what_it_names() {
        let dark = Theme::default_theme();
        let t = Theme::parse(
            "[styles]\nselected = { fg = \"red\", bold = false }\nborder = { bg = \"reset\" }\n",
            Path::new("p.toml"),
            "p",
            0,
        )
        .unwrap();
        assert_eq!(t.selected.fg, Some(Color::Red));
        assert_eq!(t.selected.bg, dark.selected.bg);
        assert!(dark.selected.bg.is_some());
        assert!(!t.selected.add_modifier.contains(Modifier::BOLD));
        assert_eq!(t.border.fg, dark.border.fg);
        assert_eq!(t.border.bg, Some(Color::Reset));
    }

    /// `extends` takes a theme file beside the extending one (a chain of
    /// the user's own themes), and a loop is refused in one line.
    #[test]
    fn a_theme_extends_another_file_and_a_loop_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("mine.toml");
        std::fs::write(
            &base,
            "extends = \"light\"\n[styles]\nborder = { fg = \"red\" }\n",
        )
        .unwrap();
        let top = dir.path().join("top.toml");
        std::fs::write(
            &top,
            "extends = \"mine.toml\"\n[styles]\ntitle = { fg = \"blue\" }\n",
        )
        .unwrap();
        let t = Theme::load_file(&top).unwrap();
        assert_eq!(t.border.fg, Some(Color::Red));
        assert_eq!(t.title.fg, Some(Color::Blue));
        assert_eq!(t.base, Theme::builtin("light").unwrap().base);
        // a middle theme of yours with no `extends` starts from dark
        let plain = dir.path().join("plain.toml");
        std::fs::write(&plain, "[styles]\ntitle = { fg = \"red\" }\n").unwrap();
        let child = dir.path().join("child.toml");
        std::fs::write(&child, "extends = \"plain.toml\"\n").unwrap();
        let t = Theme::load_file(&child).unwrap();
        assert_eq!(t.title.fg, Some(Color::Red));
        assert_eq!(t.selected, Theme::default_theme().selected);
        let a = dir.path().join("a.toml");
        std::fs::write(&a, "extends = \"b.toml\"\n").unwrap();
        std::fs::write(dir.path().join("b.toml"), "extends = \"a.toml\"\n").unwrap();
        let e = Theme::load_file(&a).unwrap_err().to_string();
        assert!(e.contains("nests too deeply") && e.contains("loop"), "{e}");
        std::fs::write(&a, "extends = \"nope\"\n").unwrap();
        let e = Theme::load_file(&a).unwrap_err().to_string();
        assert!(
            e.contains("no theme \"nope\"") && e.contains("themes/"),
            "{e}"
        );
    }
}
