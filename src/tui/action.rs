//! Everything the app can be asked to do. Keys map to actions (see
//! [`super::keymap`]); mouse events and the event loop produce the rest.
//!
//! The bindable actions are one table: name (in the config file), help text,
//! help group and default keys. A new action is a row here and its arm in
//! [`super::update`].

/// Declares the bindable actions, grouped for the help overlay.
macro_rules! bindable_actions {
    ($( $group:literal { $( $variant:ident = $name:literal, $desc:literal, [$($key:literal),*]; )* } )*) => {
        /// One request to the app. The bindable ones have a name (used in the
        /// config file) and a description (used in the help overlay).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Action {
            $($($variant,)*)*
            // Not bindable: produced by the mouse.
            /// Select the row at this index of the listing.
            SelectRow(usize),
            /// Move the selection by this many rows (mouse wheel).
            Scroll(i16),
            /// Seek to this fraction of the track, in thousandths.
            SeekToPermille(u16),
            /// A digit key (unless bound to something else): tag the selected
            /// file with the genre of that rank in the Genre pane (1-10).
            AcceptRank(u8),
        }

        /// Groups in the help overlay, in display order.
        pub const GROUPS: &[&str] = &[$($group),*];

        /// Default bindings: arrows and vim keys, `space` play/pause, `/`
        /// filter, `?` help, `q` quit.
        pub const DEFAULT_BINDINGS: &[(Action, &[&str])] = &[$($((Action::$variant, &[$($key),*]),)*)*];

        impl Action {
            /// Every action a key can be bound to, in help order.
            pub const BINDABLE: &'static [Action] = &[$($(Action::$variant,)*)*];

            /// The name used in the `[keys]` table of the config file.
            pub fn name(self) -> &'static str {
                match self {
                    $($(Action::$variant => $name,)*)*
                    Action::SelectRow(_) => "select-row",
                    Action::Scroll(_) => "scroll",
                    Action::SeekToPermille(_) => "seek-to",
                    Action::AcceptRank(_) => "accept-rank",
                }
            }

            pub fn description(self) -> &'static str {
                match self {
                    $($(Action::$variant => $desc,)*)*
                    Action::SelectRow(_) => "select a row",
                    Action::Scroll(_) => "scroll",
                    Action::SeekToPermille(_) => "seek to a point",
                    Action::AcceptRank(_) => "tag that rank's genre",
                }
            }

            pub fn group(self) -> &'static str {
                match self {
                    $($(Action::$variant => $group,)*)*
                    Action::SelectRow(_) | Action::Scroll(_) => "Browse",
                    Action::SeekToPermille(_) => "Player",
                    Action::AcceptRank(_) => "Tag",
                }
            }
        }
    };
}

bindable_actions! {
    "Browse" {
        Up = "up", "move up", ["up", "k"];
        Down = "down", "move down", ["down", "j"];
        PageUp = "page-up", "page up", ["pgup", "ctrl-b"];
        PageDown = "page-down", "page down", ["pgdn", "ctrl-f"];
        Top = "top", "first entry", ["home", "g"];
        Bottom = "bottom", "last entry", ["end", "G"];
        Expand = "expand", "open folder", ["right", "l"];
        Collapse = "collapse", "close folder / parent", ["left", "h"];
        Activate = "activate", "open folder / play", ["enter"];
        Rescan = "rescan", "rescan files and tags", ["R", "f5"];
    }
    "Filter" {
        Filter = "filter", "filter by name", ["/"];
        ClearFilter = "clear-filter", "clear filter", ["esc"];
    }
    "Player" {
        PlayPause = "play-pause", "play / pause", ["space"];
        Stop = "stop", "stop", ["s"];
        SeekForward = "seek-forward", "forward 5 s", [".", "shift-right"];
        SeekBack = "seek-back", "back 5 s", [",", "shift-left"];
        SeekForwardLong = "seek-forward-long", "forward 30 s", [">"];
        SeekBackLong = "seek-back-long", "back 30 s", ["<"];
        SeekPrompt = "seek-prompt", "seek to a time or %", [":"];
        VolumeUp = "volume-up", "volume up", ["+", "="];
        VolumeDown = "volume-down", "volume down", ["-"];
        Next = "next", "play next file", ["n"];
        Previous = "previous", "play previous file", ["p", "N"];
        AutoAdvance = "auto-advance", "auto-advance on / off", ["o"];
    }
    "Analyse" {
        Mark = "mark", "mark / unmark file", ["m"];
        MarkAll = "mark-all", "mark all in folder", ["*", "ctrl-a"];
        ClearMarks = "clear-marks", "clear all marks", ["M"];
        Classify = "classify", "classify marks/folder", ["c"];
        CancelJobs = "cancel-jobs", "cancel classifying", ["C"];
        SpectrogramStyle = "spectrogram-style", "braille / half blocks", ["v"];
        Evaluation = "evaluation", "evaluation view", ["e"];
        Normalise = "normalise", "matrix counts / row %", ["r"];
    }
    "Tag" {
        Accept = "accept", "accept suggestion", ["a"];
        PickGenre = "pick-genre", "choose a genre", ["t"];
        EditGenre = "edit-genre", "type a genre", ["T"];
        BatchAccept = "batch-accept", "accept many (preview)", ["A"];
        Skip = "skip", "skip (again: unskip)", ["x"];
        Undo = "undo", "undo (this session)", ["u"];
    }
    "Your genres" {
        GenreView = "genre-view", "your genres / GTZAN", ["y"];
        Similar = "similar", "sounds like this", ["f"];
        PlaySimilar = "play-similar", "play similar on / off", ["F"];
        Relearn = "relearn", "learn your genres", ["L"];
    }
    "App" {
        Help = "help", "this help", ["?", "f1"];
        Messages = "messages", "messages, in full", ["!"];
        Redraw = "redraw", "redraw screen", ["ctrl-l"];
        Suspend = "suspend", "suspend (fg returns)", ["ctrl-z"];
        Quit = "quit", "quit", ["q", "ctrl-c"];
    }
}

impl Action {
    /// The bindable action with this config name.
    pub fn from_name(name: &str) -> Option<Action> {
        Action::BINDABLE.iter().copied().find(|a| a.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        for &a in Action::BINDABLE {
            assert_eq!(Action::from_name(a.name()), Some(a));
            assert!(GROUPS.contains(&a.group()));
        }
        let mut names: Vec<_> = Action::BINDABLE.iter().map(|a| a.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Action::BINDABLE.len());
        assert_eq!(Action::from_name("select-row"), None);
        assert_eq!(DEFAULT_BINDINGS.len(), Action::BINDABLE.len());
        // the README's config section names every action
        let readme = include_str!("../../README.md");
        let listed = readme
            .lines()
            .find(|l| l.starts_with("Action names for `[keys]`"))
            .expect("the README lists the action names");
        for a in Action::BINDABLE {
            assert!(listed.contains(&format!("`{}`", a.name())), "{}", a.name());
        }
        // The help overlay lays keys out in two columns at 80×24.
        assert!(
            Action::BINDABLE
                .iter()
                .all(|a| a.description().chars().count() <= 21)
        );
    }
}
