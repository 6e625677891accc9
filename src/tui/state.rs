//! The app's state: plain data, no threads, no channels. [`super::update`]
//! changes it; [`super::view`] draws it; nothing else writes it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::action::Action;
use super::components::browser::Browser;
use super::components::evaluation::EvalView;
use super::components::help::HelpOverlay;
use super::components::player_bar::PlayerBar;
use super::components::similar::SimilarList;
use super::components::spectrogram::SpectrogramPane;
use super::components::status::{Level, StatusLine};
use super::components::tagging::Popup;
use super::components::{AfterTrack, PlayState, PlayerView};
use super::effect::InFlight;
use super::keymap::KeyMap;
use super::results::{ModelStatus, Results};
use super::theme::Theme;
use super::vocab::VocabState;
use crate::library::tree::{NodeId, Tree};
use crate::player::OutputStatus;
use crate::tags::GenreMode;

/// Batch-accept offers suggestions at least this confident (←/→ in the preview change it).
pub const DEFAULT_THRESHOLD: f32 = crate::classifier::DEFAULT_MIN_CONFIDENCE;

/// What the state starts from (the services are started elsewhere).
#[derive(Debug, Clone)]
pub struct Setup {
    pub root: PathBuf,
    /// How the root appears in paths: as the user typed it ("demo", "~/Music").
    pub root_label: String,
    pub theme: Theme,
    pub keymap: KeyMap,
    pub config_path: Option<PathBuf>,
    /// Whether `config_path` was there to read (else it is where one would be).
    pub config_found: bool,
    /// Whether a model classifies files (false: classification is off).
    pub classify: bool,
    pub genre_mode: GenreMode,
    /// The audio output as the player opened it.
    pub output: OutputStatus,
    pub volume: f32,
    /// Warnings to show at start (config problems that did not stop it).
    pub warnings: Vec<String>,
    /// Play the next file in the listing when a track ends.
    pub auto_advance: bool,
    /// A genre written to the selected file moves the cursor to the next.
    pub advance_after_tag: bool,
}

/// One undoable write request: its journal entries and files, in write
/// order. Files by path: a folder moved away and back (or a rescan while it
/// was away) leaves the step whole; the journal knows what to take back.
#[derive(Debug, Clone, PartialEq)]
pub struct UndoStep {
    pub req: super::effect::ReqId,
    pub writes: Vec<(i64, PathBuf)>,
}

pub struct State {
    pub tree: Tree,
    pub browser: Browser,
    pub status: StatusLine,
    pub help: HelpOverlay,
    pub player: PlayerView,
    pub player_bar: PlayerBar,
    pub results: Results,
    pub spectrogram: SpectrogramPane,
    pub eval: EvalView,
    pub popup: Option<Popup>,
    /// "Sounds like this" for a track (`f`).
    pub similar: Option<SimilarList>,
    /// The library's learned genres and the "play similar" mode.
    pub vocab: VocabState,
    pub theme: Theme,
    pub keymap: KeyMap,
    pub root_label: String,
    pub root_title: String,
    pub config_path: Option<PathBuf>,
    pub config_found: bool,
    pub genre_mode: GenreMode,
    pub threshold: f32,
    /// Play the next file in the listing when a track ends (`o` toggles).
    pub auto_advance: bool,
    /// A genre written to the selected file moves the cursor to the next
    /// (`advance-after-tag`), as `x` does.
    pub advance_after_tag: bool,
    /// Whether a model classifies files.
    pub classify: bool,
    /// Every request not answered yet.
    pub inflight: InFlight,
    /// Nodes whose inspection was asked for (once each).
    pub requested: Vec<bool>,
    /// The file last read again because it was selected (each new selection
    /// of a file reads it again: another program may have changed it).
    pub reread: Option<NodeId>,
    /// Written files by absolute path, to mark them again after an undo.
    pub written_paths: HashMap<PathBuf, NodeId>,
    /// Files (relative to the root) the journal says earmark wrote, with the
    /// genres written: marked ✎ once their tags still show those genres.
    pub journal_marks: HashMap<PathBuf, Vec<String>>,
    /// Files skipped (`x`) in an earlier session, still at that version.
    pub journal_skips: std::collections::HashSet<PathBuf>,
    /// The app's own writes, one step per write request, oldest first: `u`
    /// takes back the newest (the CLI's writes are left to `earmark tag undo`).
    pub undo_steps: Vec<UndoStep>,
    /// The step `u` is taking back: given back to `undo_steps` when the
    /// undo could not start (another earmark held the journal's undo turn).
    pub undoing_step: Option<UndoStep>,
    /// The node of the latest preview (the focused track).
    pub focus: Option<NodeId>,
    /// Rescans in flight, and one the library watch asked for that waits.
    pub rescans: Rescans,
    /// Each file's version and inode as the last rescan found them, by node
    /// of `tree` (empty before the first): a file renamed before it was ever
    /// inspected is still known as moved, and keeps its mark and results.
    pub scanned_ids: Vec<Option<(crate::cache::FileKey, u64)>>,
    /// A file of the root to select when the scan lists it (`earmark song.ogg`).
    pub select_on_scan: Option<PathBuf>,
    /// Classification jobs done and submitted since the queue was last empty.
    pub run_done: u64,
    pub run_total: u64,
    /// Jobs of this run that ended with a result or an error (not cancelled).
    pub run_completed: u64,
    /// Jobs of this run that ended with an error.
    pub run_failed: u64,
    /// Of those, files with nothing to judge (silent, too short).
    pub run_unjudged: u64,
    /// Files of this run deleted or moved away before their turn.
    pub run_gone: u64,
    /// `C` was pressed: say how far the run got when its last job ends.
    pub cancelling: bool,
    pub quit: bool,
    /// Quit was asked for during a tag write or undo: quit once it ends
    /// (asked again: at once, the batch stopping after its current file).
    pub quit_when_written: bool,
    /// Ctrl-Z: hand the terminal back to the shell until `fg`.
    pub suspend: bool,
    /// Ctrl-L, or continued after a stop: take the screen again, draw it whole.
    pub redraw_all: bool,
    /// Something changed since the last frame.
    pub dirty: bool,
    /// The ranks the Genre pane drew last (see `Ctx::ranks_shown`); a
    /// layout memo the frame writes, as the evaluation view's cell map.
    pub ranks_shown: std::cell::Cell<Option<u16>>,
    /// The last frame was the "window too small" notice: keys then only
    /// quit, suspend or redraw (an unseen file must not be tagged).
    pub too_small: std::cell::Cell<bool>,
}

/// Rescans of the library (`R`, or the watch seeing a change).
#[derive(Debug, Clone, Default)]
pub struct Rescans {
    /// Asked for and not answered yet.
    pub running: u32,
    /// The watch saw a change while a rescan could not start (a write, a
    /// picker open, another rescan): one starts when it can.
    pub wanted: bool,
}

impl State {
    /// What plays when a track ends: play similar (`F`) comes first, as
    /// `PlayerEvent::Finished` tries it first.
    pub fn after_track(&self) -> AfterTrack {
        if self.vocab.play_similar && self.classify {
            AfterTrack::Similar
        } else if self.auto_advance {
            AfterTrack::Next
        } else {
            AfterTrack::Stop
        }
    }

    /// What plays when the track now playing ends: an evaluation clip has
    /// no listing to go on with, so it stops whatever the setting says.
    pub fn after_this_track(&self) -> AfterTrack {
        if self.player.external.is_some() {
            AfterTrack::Stop
        } else {
            self.after_track()
        }
    }

    /// A message about what plays after a track, while an evaluation clip
    /// plays: the setting is for library tracks, the clip stops.
    pub fn for_library_tracks(&self, msg: &str) -> String {
        if self.player.left_the_library(self.tree.root_path()) {
            format!("{msg}; the track playing, no longer in the folder, just stops")
        } else if self.player.external.is_some() {
            format!("{msg}; the evaluation clip just stops")
        } else {
            msg.to_string()
        }
    }

    pub fn new(setup: Setup) -> State {
        let mut status = StatusLine::default();
        if let OutputStatus::Silent { reason } = &setup.output {
            status.set(silent_message(reason), Level::Info);
        }
        // Every warning goes in the log; the line shows the first, and how
        // many more the log holds.
        if let Some(w) = setup.warnings.first() {
            let more = match (
                setup.warnings.len() - 1,
                setup.keymap.hint(Action::Messages),
            ) {
                (0, _) => String::new(),
                (n, Some(k)) => format!(" (and {n} more: {k} shows them)"),
                (n, None) => format!(" (and {n} more)"),
            };
            for w in &setup.warnings {
                status.log.push(w, Level::Error);
            }
            status.show_unlogged(format!("{w}{more}"), Level::Error);
        }
        let root_title = root_title(&setup.root_label, &setup.root);
        State {
            tree: Tree::new(setup.root),
            browser: Browser::new(),
            status,
            help: HelpOverlay::default(),
            player: PlayerView {
                output: setup.output,
                state: PlayState::Stopped,
                node: None,
                external: None,
                info: None,
                position: 0.0,
                volume: setup.volume,
                advanced: false,
                start_at: None,
            },
            player_bar: PlayerBar::default(),
            results: Results::new(if setup.classify {
                ModelStatus::Loading
            } else {
                ModelStatus::Off
            }),
            spectrogram: SpectrogramPane::default(),
            eval: EvalView::default(),
            popup: None,
            similar: None,
            vocab: VocabState::default(),
            theme: setup.theme,
            keymap: setup.keymap,
            root_label: setup.root_label.trim_end_matches('/').to_string(),
            root_title,
            config_path: setup.config_path,
            config_found: setup.config_found,
            genre_mode: setup.genre_mode,
            threshold: DEFAULT_THRESHOLD,
            auto_advance: setup.auto_advance,
            advance_after_tag: setup.advance_after_tag,
            classify: setup.classify,
            inflight: InFlight::default(),
            requested: Vec::new(),
            suspend: false,
            redraw_all: false,
            reread: None,
            written_paths: HashMap::new(),
            journal_marks: HashMap::new(),
            journal_skips: Default::default(),
            undo_steps: Vec::new(),
            undoing_step: None,
            focus: None,
            rescans: Rescans::default(),
            scanned_ids: Vec::new(),
            select_on_scan: None,
            run_done: 0,
            run_total: 0,
            run_completed: 0,
            run_failed: 0,
            run_unjudged: 0,
            run_gone: 0,
            cancelling: false,
            quit: false,
            quit_when_written: false,
            dirty: true,
            ranks_shown: std::cell::Cell::new(None),
            too_small: std::cell::Cell::new(false),
        }
    }

    /// Nothing is pending: the scan is done and every request is answered.
    pub fn is_idle(&self) -> bool {
        self.tree.progress().done
            && self.inflight.is_empty()
            && self.player.state != PlayState::Loading
            && self.eval.is_loaded()
            && !matches!(self.results.model, ModelStatus::Loading)
    }

    /// The file the player has (from the library or the evaluation view).
    pub fn playing_path(&self) -> Option<PathBuf> {
        self.player
            .node
            .map(|n| self.tree.path(n))
            .or_else(|| self.player.external.clone())
    }

    /// The genres a file held when its tags were last read (None: not read,
    /// or unreadable).
    pub fn read_genres(&self, id: NodeId) -> Option<&Vec<String>> {
        self.tree
            .node(id)
            .inspection()
            .and_then(|i| i.tags.as_ref().ok())
            .map(|t| &t.genres)
    }

    /// The node of an absolute path written this session, or found by search.
    pub fn node_for_path(&self, path: &Path) -> Option<NodeId> {
        if let Some(&id) = self.written_paths.get(path) {
            return Some(id);
        }
        self.tree
            .files()
            .find(|&f| journal_path(self.tree.path(f)) == path)
    }
}

/// A path as the journal keeps it, and `written_paths` and undo steps look
/// it up: absolute (a relative library root stays relative in the tree).
pub fn journal_path(p: PathBuf) -> PathBuf {
    std::path::absolute(&p).unwrap_or(p)
}

/// Why the player is silent ("no audio device: playing silently"); the
/// engine keeps its reasons short enough for 80 columns.
pub fn silent_message(reason: &str) -> String {
    format!("{reason}: playing silently")
}

/// The root's name for titles: the last part of the label as typed, or of the
/// real folder when the label is `.` or `..`.
fn root_title(label: &str, root: &Path) -> String {
    let label = label.trim_end_matches('/');
    let name = Path::new(label)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned());
    match name {
        Some(n) if n != "." && n != ".." && !n.is_empty() => n,
        _ => std::fs::canonicalize(root)
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| label.to_string()),
    }
}
