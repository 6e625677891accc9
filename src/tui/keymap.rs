//! Keys: parsing "ctrl-c"-style names, the default bindings (arrows and vim
//! keys), and overrides from the `[keys]` table of the config file.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::str::FromStr;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Action;

/// A key with its modifiers, normalised so that a typed character carries its
/// case instead of SHIFT ("G", not "shift-g").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl Key {
    pub fn new(code: KeyCode, mods: KeyModifiers) -> Key {
        let mut mods = mods & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        let code = match code {
            // ctrl-H and ctrl-h are one byte to a terminal
            KeyCode::Char(c) if mods.contains(KeyModifiers::CONTROL) && c.is_ascii_alphabetic() => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::Char(c.to_ascii_lowercase())
            }
            KeyCode::Char(c) => {
                let mut upper = c.to_uppercase();
                if let (true, Some(u), None) = (
                    mods.contains(KeyModifiers::SHIFT) && c.is_lowercase(),
                    upper.next(),
                    upper.next(),
                ) {
                    mods.remove(KeyModifiers::SHIFT);
                    KeyCode::Char(u)
                } else {
                    mods.remove(KeyModifiers::SHIFT);
                    KeyCode::Char(c)
                }
            }
            KeyCode::BackTab => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            other => other,
        };
        Key { code, mods }
    }

    pub fn plain(code: KeyCode) -> Key {
        Key::new(code, KeyModifiers::NONE)
    }

    pub fn ctrl(c: char) -> Key {
        Key::new(KeyCode::Char(c), KeyModifiers::CONTROL)
    }
}

impl From<KeyEvent> for Key {
    fn from(e: KeyEvent) -> Key {
        Key::new(e.code, e.modifiers)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct KeyParseError {
    pub key: String,
    /// Why a key that reads fine cannot be bound; None: not a key name.
    pub why: Option<String>,
}

impl fmt::Display for KeyParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.why {
            Some(why) => write!(f, "cannot bind key \"{}\": {why}", self.key),
            None => write!(
                f,
                "cannot read key \"{}\" (examples: \"q\", \"G\", \"space\", \"ctrl-c\", \"shift-left\", \"f5\", \"pagedown\")",
                self.key
            ),
        }
    }
}

impl std::error::Error for KeyParseError {}

const NAMED: &[(&str, KeyCode)] = &[
    ("space", KeyCode::Char(' ')),
    ("enter", KeyCode::Enter),
    ("return", KeyCode::Enter),
    ("esc", KeyCode::Esc),
    ("escape", KeyCode::Esc),
    ("tab", KeyCode::Tab),
    ("backtab", KeyCode::BackTab),
    ("backspace", KeyCode::Backspace),
    ("delete", KeyCode::Delete),
    ("del", KeyCode::Delete),
    ("insert", KeyCode::Insert),
    ("ins", KeyCode::Insert),
    ("up", KeyCode::Up),
    ("down", KeyCode::Down),
    ("left", KeyCode::Left),
    ("right", KeyCode::Right),
    ("pgup", KeyCode::PageUp),
    ("pageup", KeyCode::PageUp),
    ("pgdn", KeyCode::PageDown),
    ("pagedown", KeyCode::PageDown),
    ("home", KeyCode::Home),
    ("end", KeyCode::End),
];

impl FromStr for Key {
    type Err = KeyParseError;

    fn from_str(s: &str) -> Result<Key, KeyParseError> {
        let err = || KeyParseError {
            key: s.to_string(),
            why: None,
        };
        let mut mods = KeyModifiers::NONE;
        let mut rest = s.trim();
        if rest.is_empty() {
            return Err(err());
        }
        loop {
            let lower = rest.to_ascii_lowercase();
            let (m, len) = if lower.starts_with("ctrl-") {
                (KeyModifiers::CONTROL, 5)
            } else if lower.starts_with("alt-") {
                (KeyModifiers::ALT, 4)
            } else if lower.starts_with("shift-") {
                (KeyModifiers::SHIFT, 6)
            } else {
                break;
            };
            if rest.len() == len {
                break; // "ctrl-" alone: not a modifier prefix
            }
            mods |= m;
            rest = &rest[len..];
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => KeyCode::Char(c),
            _ => {
                let lower = rest.to_ascii_lowercase();
                if let Some((_, code)) = NAMED.iter().find(|(n, _)| *n == lower) {
                    *code
                } else if let Some(n) = lower.strip_prefix('f').and_then(|n| n.parse::<u8>().ok()) {
                    if (1..=24).contains(&n) {
                        KeyCode::F(n)
                    } else {
                        return Err(err());
                    }
                } else {
                    return Err(err());
                }
            }
        };
        if code == KeyCode::Tab && mods.contains(KeyModifiers::SHIFT) {
            return Ok(Key::new(KeyCode::BackTab, mods));
        }
        if let KeyCode::Char(c) = code {
            refuse_unreadable(s, c, mods)?;
        }
        Ok(Key::new(code, mods))
    }
}

/// "unknown action `paly-pause` (did you mean `play-pause`?)"; the whole
/// list (a line of 560 characters) only when no name is close.
fn unknown_action(name: &str) -> String {
    let close = Action::BINDABLE
        .iter()
        .map(|a| (strsim::jaro_winkler(name, a.name()), a.name()))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match close {
        Some((_, near)) => format!("unknown action `{name}` (did you mean `{near}`?)"),
        None => format!(
            "unknown action `{name}` (known: {})",
            Action::BINDABLE
                .iter()
                .map(|a| a.name())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Keys a terminal cannot send as written are refused, not bound to a key
/// that never fires (or silently to another one).
fn refuse_unreadable(s: &str, c: char, mods: KeyModifiers) -> Result<(), KeyParseError> {
    let said = |why: String| {
        Err(KeyParseError {
            key: s.to_string(),
            why: Some(why),
        })
    };
    if mods.contains(KeyModifiers::SHIFT) && c == ' ' {
        return said("terminals send shift-space as space: bind \"space\"".to_string());
    }
    if mods.contains(KeyModifiers::SHIFT) && !c.is_alphabetic() {
        // "shift-." was read as "." and took that key from another action
        return said(
            "the terminal sends the shifted character itself: write it, as \"G\" or \">\" \
             (shift-. on a US keyboard)"
                .to_string(),
        );
    }
    if mods.contains(KeyModifiers::CONTROL) {
        let same = match c.to_ascii_lowercase() {
            'i' => Some("tab"),
            'm' => Some("enter"),
            '[' => Some("esc"),
            _ => None,
        };
        if let Some(same) = same {
            let alt = if mods.contains(KeyModifiers::ALT) {
                "alt-"
            } else {
                ""
            };
            return said(format!(
                "terminals send {alt}ctrl-{c} as {alt}{same}: bind \"{alt}{same}\" instead"
            ));
        }
    }
    Ok(())
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mods.contains(KeyModifiers::CONTROL) {
            f.write_str("ctrl-")?;
        }
        if self.mods.contains(KeyModifiers::ALT) {
            f.write_str("alt-")?;
        }
        if self.mods.contains(KeyModifiers::SHIFT) {
            f.write_str("shift-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::F(n) => write!(f, "f{n}"),
            code => {
                let name = NAMED
                    .iter()
                    .find(|(_, c)| *c == code)
                    .map_or("?", |(n, _)| n);
                f.write_str(name)
            }
        }
    }
}

pub use super::action::DEFAULT_BINDINGS;

/// Which action each key triggers, and which keys each action has (for help).
#[derive(Debug, Clone, PartialEq)]
pub struct KeyMap {
    by_key: HashMap<Key, Action>,
    by_action: BTreeMap<Action, Vec<Key>>,
}

/// A default key a rebinding took from another action.
#[derive(Debug, Clone, PartialEq)]
pub struct Taken {
    pub key: Key,
    pub from: Action,
    pub by: Action,
    /// What the action it was taken from is left with, as a phrase.
    pub left: String,
}

/// A problem with one entry of the `[keys]` table.
#[derive(Debug, Clone, PartialEq)]
pub struct BindError {
    /// The action name as written in the file.
    pub action: String,
    pub message: String,
}

impl KeyMap {
    pub fn defaults() -> KeyMap {
        let mut by_action = BTreeMap::new();
        for (action, keys) in DEFAULT_BINDINGS {
            let keys: Vec<Key> = keys.iter().filter_map(|k| k.parse().ok()).collect();
            by_action.insert(*action, keys);
        }
        Self::from_table(by_action).unwrap_or_else(|_| KeyMap {
            by_key: HashMap::new(),
            by_action: BTreeMap::new(),
        })
    }

    fn from_table(by_action: BTreeMap<Action, Vec<Key>>) -> Result<KeyMap, (Key, Action, Action)> {
        let mut by_key = HashMap::new();
        for (action, keys) in &by_action {
            for key in keys {
                if let Some(other) = by_key.insert(*key, *action)
                    && other != *action
                {
                    return Err((*key, other, *action));
                }
            }
        }
        Ok(KeyMap { by_key, by_action })
    }

    /// Defaults with some actions rebound: each entry replaces all keys of its
    /// action (an empty list unbinds it). Entries are (action name, key names).
    /// Also returns the default keys that rebindings took from other actions.
    pub fn with_overrides<'a>(
        overrides: impl IntoIterator<Item = (&'a str, Vec<&'a str>)>,
    ) -> Result<(KeyMap, Vec<Taken>), BindError> {
        let mut table = Self::defaults().by_action;
        let mut touched: Vec<(Action, String)> = Vec::new();
        for (name, keys) in overrides {
            let action = Action::from_name(name).ok_or_else(|| BindError {
                action: name.to_string(),
                message: unknown_action(name),
            })?;
            let mut parsed = Vec::new();
            for k in keys {
                let key: Key = k.parse().map_err(|e: KeyParseError| BindError {
                    action: name.to_string(),
                    message: e.to_string(),
                })?;
                // Ctrl-C always quits (the way out of any state), so it
                // cannot be given to another action.
                if key == Key::ctrl('c') && action != Action::Quit {
                    return Err(BindError {
                        action: name.to_string(),
                        message: format!(
                            "\"ctrl-c\" always quits, so `{name}` cannot have it; choose another key"
                        ),
                    });
                }
                if !parsed.contains(&key) {
                    parsed.push(key);
                }
            }
            table.insert(action, parsed);
            touched.push((action, name.to_string()));
        }
        // A default key taken over by a rebound action leaves its old action.
        let claimed: Vec<(Key, Action)> = touched
            .iter()
            .flat_map(|(a, _)| table[a].iter().map(move |k| (*k, *a)))
            .collect();
        let mut taken = Vec::new();
        for (key, owner) in &claimed {
            for (action, keys) in table.iter_mut() {
                if action != owner
                    && !touched.iter().any(|(t, _)| t == action)
                    && keys.contains(key)
                {
                    keys.retain(|k| k != key);
                    let left = match keys.first() {
                        Some(k) => format!(" (it keeps \"{k}\")"),
                        None => " (it has no key now)".to_string(),
                    };
                    taken.push(Taken {
                        key: *key,
                        from: *action,
                        by: *owner,
                        left,
                    });
                }
            }
        }
        let map = Self::from_table(table).map_err(|(key, a, b)| {
            // The later of the two bindings (overrides come in file order).
            let name = touched
                .iter()
                .rfind(|(t, _)| *t == b || *t == a)
                .map_or_else(|| b.name().to_string(), |(_, n)| n.clone());
            BindError {
                action: name,
                message: format!(
                    "key \"{key}\" is bound to both `{}` and `{}`",
                    a.name(),
                    b.name()
                ),
            }
        })?;
        Ok((map, taken))
    }

    /// The action for a key press, if any. Ctrl-C always quits; a digit
    /// bound to nothing else tags the genre of its rank (the Genre pane
    /// numbers its bars 1-9, 0).
    pub fn action(&self, key: Key) -> Option<Action> {
        if key == Key::ctrl('c') {
            return Some(Action::Quit);
        }
        self.by_key.get(&key).copied().or_else(|| rank_of(key))
    }

    pub fn keys(&self, action: Action) -> &[Key] {
        self.by_action.get(&action).map_or(&[], Vec::as_slice)
    }

    /// The first key of an action, for hints ("? help").
    pub fn hint(&self, action: Action) -> Option<String> {
        self.keys(action).first().map(Key::to_string)
    }

    /// A key bound to moving in the browser, as the arrow (or Home, End,
    /// page) key lists take: pop-up lists move with the keys as bound too.
    pub fn navigation(&self, key: Key) -> Option<KeyCode> {
        match self.action(key)? {
            Action::Up => Some(KeyCode::Up),
            Action::Down => Some(KeyCode::Down),
            Action::PageUp => Some(KeyCode::PageUp),
            Action::PageDown => Some(KeyCode::PageDown),
            Action::Top => Some(KeyCode::Home),
            Action::Bottom => Some(KeyCode::End),
            _ => None,
        }
    }

    /// A key pressed in a pop-up list: the browser's movement keys as bound
    /// move there too (a rebound `down` did nothing), unless the list has a
    /// use of its own for the key (`own`, given bare or with shift: a
    /// movement bound to space hid a batch row's tick, one bound to Enter
    /// took the similar list's play).
    pub fn in_list(&self, k: KeyEvent, own: &[KeyCode]) -> KeyEvent {
        let plain = k.modifiers.difference(KeyModifiers::SHIFT).is_empty();
        if plain && own.contains(&k.code) {
            return k;
        }
        self.navigation(Key::from(k)).map_or(k, KeyEvent::from)
    }

    /// The key a message names for an action: its first key, or, when the
    /// config left it none, its config name said so (a message showed a
    /// gap: "wrote Jazz ·  undoes").
    pub fn label(&self, action: Action) -> String {
        self.hint(action)
            .unwrap_or_else(|| format!("[{} has no key]", action.name()))
    }

    /// Help text: (group, [(keys, description)]) in display order.
    pub fn help(&self) -> Vec<(&'static str, Vec<(String, &'static str)>)> {
        super::action::GROUPS
            .iter()
            .map(|&group| {
                let entries: Vec<_> = Action::BINDABLE
                    .iter()
                    .filter(|a| a.group() == group)
                    .map(|&a| {
                        let keys = self.keys(a);
                        let shown = if keys.is_empty() {
                            "(unbound)".to_string()
                        } else {
                            keys.iter()
                                .map(Key::to_string)
                                .collect::<Vec<_>>()
                                .join(" ")
                        };
                        (shown, a.description())
                    })
                    .collect();
                (group, entries)
            })
            .map(|(group, mut entries)| {
                if group == Action::AcceptRank(1).group() {
                    let free: Vec<String> = (1..=10u8)
                        .filter(|&r| self.action(digit_key(r)) == Some(Action::AcceptRank(r)))
                        .map(|r| digit_key(r).to_string())
                        .collect();
                    if !free.is_empty() {
                        let keys = if free.len() == 10 {
                            "1-9 0".to_string()
                        } else {
                            free.join(" ")
                        };
                        entries.push((keys, Action::AcceptRank(1).description()));
                    }
                }
                (group, entries)
            })
            .collect()
    }
}

/// The key of rank `r` (1-10): 1…9, then 0.
fn digit_key(r: u8) -> Key {
    Key::plain(KeyCode::Char(char::from(b'0' + r % 10)))
}

/// The rank a plain digit key stands for, as an action.
fn rank_of(key: Key) -> Option<Action> {
    (1..=10u8)
        .find(|&r| digit_key(r) == key)
        .map(Action::AcceptRank)
}

/// The help layer's keys: lines to scroll (any other key closes the help).
/// Lines further than any overlay is long: Home and End scroll to its ends.
const TO_THE_END: i32 = u16::MAX as i32;

const HELP_SCROLL: &[(KeyCode, i32)] = &[
    (KeyCode::Up, -1),
    (KeyCode::Char('k'), -1),
    (KeyCode::Down, 1),
    (KeyCode::Char('j'), 1),
    (KeyCode::PageUp, -10),
    (KeyCode::PageDown, 10),
    (KeyCode::Char(' '), 10),
    (KeyCode::Home, -TO_THE_END),
    (KeyCode::Char('g'), -TO_THE_END),
    (KeyCode::End, TO_THE_END),
    (KeyCode::Char('G'), TO_THE_END),
];

/// Lines a key scrolls the help by (0: the key closes it).
pub fn help_scroll(key: Key) -> i32 {
    HELP_SCROLL
        .iter()
        .find(|(c, _)| *c == key.code)
        .map_or(0, |(_, n)| *n)
}

/// What a key does while the filter has the keyboard (None: it is typed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterKey {
    Act(Action),
    /// Keep the filter, give the keys back to the browser.
    Leave,
}

/// The filter layer's keys.
const FILTER_KEYS: &[(KeyCode, FilterKey)] = &[
    (KeyCode::Esc, FilterKey::Act(Action::ClearFilter)),
    (KeyCode::Enter, FilterKey::Leave),
    (KeyCode::Tab, FilterKey::Leave),
    (KeyCode::Up, FilterKey::Act(Action::Up)),
    (KeyCode::Down, FilterKey::Act(Action::Down)),
    (KeyCode::PageUp, FilterKey::Act(Action::PageUp)),
    (KeyCode::PageDown, FilterKey::Act(Action::PageDown)),
];

pub fn filter_action(key: Key) -> Option<FilterKey> {
    FILTER_KEYS
        .iter()
        .find(|(c, _)| *c == key.code)
        .map(|(_, f)| *f)
}

impl Default for KeyMap {
    fn default() -> Self {
        Self::defaults()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A mistyped action names the nearest; a name near none lists them.
    #[test]
    fn an_unknown_action_names_the_nearest() {
        let e = KeyMap::with_overrides([("paly-pause", vec!["p"])]).unwrap_err();
        assert!(
            e.message.contains("did you mean `play-pause`?"),
            "{}",
            e.message
        );
        let e = KeyMap::with_overrides([("xyzzy", vec!["p"])]).unwrap_err();
        assert!(e.message.contains("known: up, down"), "{}", e.message);
    }

    /// Keys a terminal cannot send as written are refused with why, not
    /// bound to a key that never fires or to another key.
    #[test]
    fn keys_a_terminal_cannot_send_are_refused() {
        for (spec, says) in [
            ("shift-.", "shifted character"),
            ("shift-1", "shifted character"),
            ("shift-/", "shifted character"),
            ("ctrl-i", "as tab"),
            ("ctrl-m", "as enter"),
            ("ctrl-[", "as esc"),
            ("shift-space", "bind \"space\""),
            ("ctrl-alt-m", "bind \"alt-enter\""),
        ] {
            let e = spec.parse::<Key>().unwrap_err().to_string();
            assert!(e.contains(says) && e.contains(spec), "{spec}: {e}");
        }
        // ctrl with a capital is the same byte as with the small letter
        assert_eq!("ctrl-H".parse::<Key>().unwrap(), Key::ctrl('h'));
        assert_eq!("ctrl-shift-s".parse::<Key>().unwrap(), Key::ctrl('s'));
        assert_eq!(
            "shift-é".parse::<Key>().unwrap().to_string(),
            "é".to_uppercase()
        );
        assert_eq!("alt-H".parse::<Key>().unwrap().to_string(), "alt-H");
    }

    /// Messages name the key as bound, and say so when there is none (a
    /// message showed a gap: "wrote Jazz ·  undoes").
    #[test]
    fn a_label_is_the_bound_key_or_says_there_is_none() {
        let (map, _) = KeyMap::with_overrides([("undo", vec!["U"]), ("classify", vec![])]).unwrap();
        assert_eq!(map.label(Action::Undo), "U");
        assert_eq!(map.label(Action::Classify), "[classify has no key]");
    }

    #[test]
    fn parses_and_prints_keys() {
        for s in [
            "q",
            "G",
            "space",
            "ctrl-c",
            "shift-left",
            "f5",
            "pgdn",
            "-",
            "ctrl--",
            "?",
            "backtab",
        ] {
            let k: Key = s.parse().unwrap();
            assert_eq!(k.to_string(), s, "{s}");
        }
        assert_eq!("shift-g".parse::<Key>().unwrap(), "G".parse().unwrap());
        assert_eq!(
            "shift-tab".parse::<Key>().unwrap(),
            "backtab".parse().unwrap()
        );
        assert_eq!("CTRL-x".parse::<Key>().unwrap(), Key::ctrl('x'));
        assert_eq!("pagedown".parse::<Key>().unwrap(), "pgdn".parse().unwrap());
        assert!("spcae".parse::<Key>().is_err());
        assert!("".parse::<Key>().is_err());
        assert!("f99".parse::<Key>().is_err());
    }

    #[test]
    fn terminal_events_normalise_shift() {
        let e = KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(Key::from(e), "G".parse().unwrap());
        let e = KeyEvent::new(KeyCode::Char('?'), KeyModifiers::SHIFT);
        assert_eq!(Key::from(e), "?".parse().unwrap());
    }

    #[test]
    fn every_default_key_parses_and_none_clash() {
        for (_, keys) in DEFAULT_BINDINGS {
            for k in *keys {
                k.parse::<Key>().unwrap();
            }
        }
        let map = KeyMap::defaults();
        assert_eq!(map.action("j".parse().unwrap()), Some(Action::Down));
        assert_eq!(
            map.action("space".parse().unwrap()),
            Some(Action::PlayPause)
        );
        assert_eq!(map.action(Key::ctrl('c')), Some(Action::Quit));
        assert_eq!(map.action(Key::ctrl('z')), Some(Action::Suspend));
    }
}
