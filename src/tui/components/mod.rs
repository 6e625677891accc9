//! Panes. Each keeps its own view state (part of the app's state) and draws
//! from it plus a read-only [`Ctx`] of shared state. Drawing takes `&self`:
//! no I/O, no requests, no heavy work; a pane only remembers where it drew
//! (in `Cell`s), for mouse hits and scrolling.

pub mod browser;
pub mod evaluation;
pub mod help;
pub mod messages;
pub mod player_bar;
pub mod prediction;
pub mod similar;
pub mod spectrogram;
pub mod status;
pub mod tagging;
pub mod track;
pub mod yours;

use std::path::{Path, PathBuf};

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders};

use super::keymap::KeyMap;
use super::results::Results;
use super::theme::Theme;
use super::vocab::VocabState;
use crate::audio::SourceInfo;
use crate::library::tree::{NodeId, Tree};
use crate::player::OutputStatus;

/// What the player is doing, as the panes show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PlayState {
    #[default]
    Stopped,
    Loading,
    Playing,
    Paused,
    Ended,
}

/// What plays when a track ends: the player bar shows it, and `o` / `F`
/// say it when they change it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterTrack {
    /// The nearest unplayed track (`F`, play similar).
    Similar,
    /// The next file of the listing (`o`, auto-advance).
    Next,
    Stop,
}

impl AfterTrack {
    pub fn word(self) -> &'static str {
        match self {
            AfterTrack::Similar => "similar track",
            AfterTrack::Next => "next file",
            AfterTrack::Stop => "stop",
        }
    }
}

/// The player's state as the UI knows it (updated from player events; the
/// position is refreshed from the player before each frame).
#[derive(Debug, Clone, PartialEq)]
pub struct PlayerView {
    pub output: OutputStatus,
    pub state: PlayState,
    pub node: Option<NodeId>,
    /// A file playing from outside the library (the evaluation view's files).
    pub external: Option<PathBuf>,
    pub info: Option<SourceInfo>,
    pub position: f64,
    pub volume: f32,
    /// The track was started by auto-advance, not by a key: if it cannot
    /// play, the next one is tried rather than the music stopping.
    pub advanced: bool,
    /// Where the track being opened starts: a time typed at the seek prompt
    /// while nothing played (applied once its length is known).
    pub start_at: Option<crate::player::SeekTarget>,
}

impl PlayerView {
    pub fn duration(&self) -> Option<f64> {
        self.info.as_ref().and_then(|i| i.duration_s)
    }

    /// The track playing from outside the listing is a library file deleted
    /// or moved away while it played (else it is an evaluation clip).
    pub fn left_the_library(&self, root: &std::path::Path) -> bool {
        self.external
            .as_deref()
            .is_some_and(|p| p.starts_with(root))
    }

    /// Whether a track is loaded: a library file or an evaluation clip.
    pub fn has_track(&self) -> bool {
        self.node.is_some() || self.external.is_some()
    }

    /// Whether `id` is the library track playing now (or opening): the
    /// listing marks it ▶. A paused, ended or stopped track is not.
    pub fn is_playing(&self, id: NodeId) -> bool {
        self.node == Some(id) && matches!(self.state, PlayState::Playing | PlayState::Loading)
    }

    /// Whether the evaluation clip at `path` is playing now (or opening), as
    /// [`Self::is_playing`] for a library track.
    pub fn is_playing_clip(&self, path: &std::path::Path) -> bool {
        self.external.as_deref() == Some(path)
            && matches!(self.state, PlayState::Playing | PlayState::Loading)
    }

    /// Drop the track (it could not be played): nothing is playing.
    pub fn forget_track(&mut self) {
        self.state = PlayState::Stopped;
        self.node = None;
        self.external = None;
        self.info = None;
        self.position = 0.0;
    }
}

/// Read-only state shared with every pane while drawing.
pub struct Ctx<'a> {
    pub theme: &'a Theme,
    pub keymap: &'a KeyMap,
    pub tree: &'a Tree,
    pub player: &'a PlayerView,
    /// The browser's selected node.
    pub selected: Option<NodeId>,
    /// How the library root is shown in paths ("demo", "~/Music").
    pub root_label: &'a str,
    /// The root's name for titles ("demo", "Music").
    pub root_title: &'a str,
    pub config_path: Option<&'a Path>,
    /// Whether that config file exists (it was read at start-up).
    pub config_found: bool,
    /// Classification results, jobs, writes.
    pub results: &'a Results,
    /// Whether a write replaces a file's genres or adds to them.
    pub genre_mode: crate::tags::GenreMode,
    /// The library's learned genres, if any.
    pub vocab: &'a VocabState,
    /// Classification progress: (done, total) of the current run, and the
    /// files being classified now.
    pub jobs: JobsView<'a>,
    /// What plays when the track ends.
    pub after_track: AfterTrack,
    /// The browser's filter ("" when none).
    pub filter: &'a str,
    /// The evaluation view is on screen (the status line's hints follow it).
    pub in_eval: bool,
    /// The filter input has the keyboard: keys type, so the hints say what
    /// ends the typing.
    pub typing_filter: bool,
    /// A pop-up (picker, editor, batch preview, question) has the keys.
    pub popup_open: bool,
    /// The ranks (bit r-1 for rank r) the Genre pane drew bars for, where it
    /// drew any: a digit key tags only a genre the user can see.
    pub ranks_shown: &'a std::cell::Cell<Option<u16>>,
}

/// What the status line shows about background work.
#[derive(Debug, Clone, Copy, Default)]
pub struct JobsView<'a> {
    pub done: u64,
    pub total: u64,
    pub running: &'a [NodeId],
    /// Tag writes in flight.
    pub writing: usize,
    /// Cache lookups in flight (a folder's counts are not known until they end).
    pub peeking: usize,
}

impl Ctx<'_> {
    /// A node's path as the user would type it: the root as given, then the rest.
    /// Escaped as the listing shows names (a control character as `\n`, a
    /// byte that is not UTF-8 as `\xFF`), so it is a path that exists.
    /// A file's path within the library, as lists inside it show it (the
    /// similar list gave every row the library's absolute path first).
    pub fn library_path(&self, id: NodeId) -> String {
        let rel = self.tree.rel_path(id);
        crate::library::without_controls(crate::library::shown(rel.as_os_str())).into_owned()
    }

    pub fn display_path(&self, id: NodeId) -> String {
        let rel = self.tree.rel_path(id);
        let path = if self.root_label.is_empty() || self.root_label == "." {
            rel
        } else {
            Path::new(self.root_label).join(rel)
        };
        crate::library::without_controls(crate::library::shown(path.as_os_str())).into_owned()
    }
}

/// An overlay's scroll: lines from the top, held within what the last frame
/// could not show.
#[derive(Debug, Default)]
pub struct OverlayScroll {
    offset: u16,
    max: std::cell::Cell<u16>,
}

impl OverlayScroll {
    /// Scroll by `lines`; false when everything fit (the key then closes the overlay).
    pub fn by(&mut self, lines: i32) -> bool {
        let max = self.max.get();
        if max == 0 {
            return false;
        }
        let now = i32::from(self.offset.min(max));
        self.offset = (now + lines).clamp(0, i32::from(max)) as u16;
        true
    }

    pub fn to_top(&mut self) {
        self.offset = 0;
    }

    /// The end, whatever its length when drawn.
    pub fn to_end(&mut self) {
        self.offset = u16::MAX;
    }

    /// When drawing: record how far this frame lets it scroll, and the line to start at.
    pub fn fit(&self, max: u16) -> u16 {
        self.max.set(max);
        self.offset.min(max)
    }
}

/// A pane: draws itself into the area it is given.
pub trait Component {
    fn draw(&self, frame: &mut Frame, area: Rect, ctx: &Ctx);
}

pub use crate::clock::clock;

/// `n` with thin grouping: 100000 → "100 000".
/// `1 entry`, `2 entries`: the count with the word that agrees with it.
pub fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", count(n), if n == 1 { one } else { many })
}

pub fn count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// A pane's frame: a border, brighter while the pane has the keys, and a
/// title. Overlays add the help style on top.
pub fn pane_block<'a>(theme: &Theme, focused: bool, title: impl Into<Line<'a>>) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(if focused {
            theme.border_focus
        } else {
            theme.border
        })
        .title(title)
}

/// A rectangle of at most `w`×`h` centred in `area`.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

#[cfg(test)]
mod player_view_tests {
    use super::*;

    /// An evaluation clip is marked ▶ while it plays, not once stopped
    /// (the stopped clip stays loaded, as a library track does).
    #[test]
    fn a_stopped_clip_is_not_playing() {
        let clip = PathBuf::from("/music/rock.00038.ogg");
        let mut p = PlayerView {
            output: OutputStatus::Device,
            state: PlayState::Playing,
            node: None,
            external: Some(clip.clone()),
            info: None,
            position: 0.0,
            volume: 1.0,
            advanced: false,
            start_at: None,
        };
        assert!(p.is_playing_clip(&clip));
        assert!(!p.is_playing_clip(std::path::Path::new("/music/other.ogg")));
        p.state = PlayState::Stopped;
        assert!(!p.is_playing_clip(&clip));
    }
}
