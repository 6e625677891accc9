//! Everything the app can be asked to do. Keys map to actions (see
//! [`super::keymap`]); mouse events and the event loop produce the rest.

/// One request to the app. The bindable ones have a name (used in the
/// config file) and a description (used in the help overlay).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    // Browse
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Expand,
    Collapse,
    Activate,
    // Filter
    Filter,
    ClearFilter,
    // Player
    PlayPause,
    Stop,
    SeekForward,
    SeekBack,
    VolumeUp,
    VolumeDown,
    Next,
    Previous,
    // Analyse
    Mark,
    Classify,
    CancelJobs,
    SpectrogramStyle,
    Evaluation,
    Normalise,
    // Tag
    Accept,
    PickGenre,
    EditGenre,
    BatchAccept,
    Skip,
    Undo,
    // App
    Help,
    Redraw,
    Quit,
    // Not bindable: produced by the mouse.
    /// Select the row at this index of the listing.
    SelectRow(usize),
    /// Move the selection by this many rows (mouse wheel).
    Scroll(i16),
    /// Seek to this fraction of the track, in thousandths.
    SeekToPermille(u16),
}

/// Groups in the help overlay, in display order.
pub const GROUPS: &[&str] = &["Browse", "Filter", "Player", "Analyse", "Tag", "App"];

impl Action {
    /// Every action a key can be bound to, in help order.
    pub const BINDABLE: &'static [Action] = &[
        Action::Up,
        Action::Down,
        Action::PageUp,
        Action::PageDown,
        Action::Top,
        Action::Bottom,
        Action::Expand,
        Action::Collapse,
        Action::Activate,
        Action::Filter,
        Action::ClearFilter,
        Action::PlayPause,
        Action::Stop,
        Action::SeekForward,
        Action::SeekBack,
        Action::VolumeUp,
        Action::VolumeDown,
        Action::Next,
        Action::Previous,
        Action::Mark,
        Action::Classify,
        Action::CancelJobs,
        Action::SpectrogramStyle,
        Action::Evaluation,
        Action::Normalise,
        Action::Accept,
        Action::PickGenre,
        Action::EditGenre,
        Action::BatchAccept,
        Action::Skip,
        Action::Undo,
        Action::Help,
        Action::Redraw,
        Action::Quit,
    ];

    /// The name used in the `[keys]` table of the config file.
    pub fn name(self) -> &'static str {
        match self {
            Action::Up => "up",
            Action::Down => "down",
            Action::PageUp => "page-up",
            Action::PageDown => "page-down",
            Action::Top => "top",
            Action::Bottom => "bottom",
            Action::Expand => "expand",
            Action::Collapse => "collapse",
            Action::Activate => "activate",
            Action::Filter => "filter",
            Action::ClearFilter => "clear-filter",
            Action::PlayPause => "play-pause",
            Action::Stop => "stop",
            Action::SeekForward => "seek-forward",
            Action::SeekBack => "seek-back",
            Action::VolumeUp => "volume-up",
            Action::VolumeDown => "volume-down",
            Action::Next => "next",
            Action::Previous => "previous",
            Action::Mark => "mark",
            Action::Classify => "classify",
            Action::CancelJobs => "cancel-jobs",
            Action::SpectrogramStyle => "spectrogram-style",
            Action::Evaluation => "evaluation",
            Action::Normalise => "normalise",
            Action::Accept => "accept",
            Action::PickGenre => "pick-genre",
            Action::EditGenre => "edit-genre",
            Action::BatchAccept => "batch-accept",
            Action::Skip => "skip",
            Action::Undo => "undo",
            Action::Help => "help",
            Action::Redraw => "redraw",
            Action::Quit => "quit",
            Action::SelectRow(_) => "select-row",
            Action::Scroll(_) => "scroll",
            Action::SeekToPermille(_) => "seek-to",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Action::Up => "move up",
            Action::Down => "move down",
            Action::PageUp => "page up",
            Action::PageDown => "page down",
            Action::Top => "first entry",
            Action::Bottom => "last entry",
            Action::Expand => "open folder",
            Action::Collapse => "close folder / parent",
            Action::Activate => "open folder / play",
            Action::Filter => "filter by name",
            Action::ClearFilter => "clear filter",
            Action::PlayPause => "play / pause",
            Action::Stop => "stop",
            Action::SeekForward => "forward 5 s",
            Action::SeekBack => "back 5 s",
            Action::VolumeUp => "volume up",
            Action::VolumeDown => "volume down",
            Action::Next => "play next file",
            Action::Previous => "play previous file",
            Action::Mark => "mark / unmark file",
            Action::Classify => "classify marks/folder",
            Action::CancelJobs => "cancel classifying",
            Action::SpectrogramStyle => "braille / half blocks",
            Action::Evaluation => "evaluation view",
            Action::Normalise => "matrix counts / row %",
            Action::Accept => "accept suggestion",
            Action::PickGenre => "choose a genre",
            Action::EditGenre => "type a genre",
            Action::BatchAccept => "accept many (preview)",
            Action::Skip => "skip to next file",
            Action::Undo => "undo last tag write",
            Action::Help => "this help",
            Action::Redraw => "redraw screen",
            Action::Quit => "quit",
            Action::SelectRow(_) => "select a row",
            Action::Scroll(_) => "scroll",
            Action::SeekToPermille(_) => "seek to a point",
        }
    }

    pub fn group(self) -> &'static str {
        match self {
            Action::Up
            | Action::Down
            | Action::PageUp
            | Action::PageDown
            | Action::Top
            | Action::Bottom
            | Action::Expand
            | Action::Collapse
            | Action::Activate
            | Action::SelectRow(_)
            | Action::Scroll(_) => "Browse",
            Action::Filter | Action::ClearFilter => "Filter",
            Action::PlayPause
            | Action::Stop
            | Action::SeekForward
            | Action::SeekBack
            | Action::VolumeUp
            | Action::VolumeDown
            | Action::Next
            | Action::Previous
            | Action::SeekToPermille(_) => "Player",
            Action::Mark
            | Action::Classify
            | Action::CancelJobs
            | Action::SpectrogramStyle
            | Action::Evaluation
            | Action::Normalise => "Analyse",
            Action::Accept
            | Action::PickGenre
            | Action::EditGenre
            | Action::BatchAccept
            | Action::Skip
            | Action::Undo => "Tag",
            Action::Help | Action::Redraw | Action::Quit => "App",
        }
    }

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
        // The help overlay lays keys out in two columns at 80×24.
        assert!(
            Action::BINDABLE
                .iter()
                .all(|a| a.description().chars().count() <= 21)
        );
    }
}
