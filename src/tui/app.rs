//! App state and update: events in, actions applied, one frame out. The event
//! loop lives in [`super::run`]; this type does no terminal I/O, so tests and
//! benches drive it with a `TestBackend`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use crossterm::event::{
    Event, KeyCode, KeyEvent, KeyEventKind, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::widgets::Block;

use super::action::Action;
use super::analyst::{Analysed, Analyst, AnalystOptions};
use super::components::browser::Browser;
use super::components::evaluation::{EvalFocus, EvalView};
use super::components::help::HelpOverlay;
use super::components::player_bar::PlayerBar;
use super::components::prediction::{self, PredictionPane};
use super::components::spectrogram::SpectrogramPane;
use super::components::status::{Level, StatusLine};
use super::components::tagging::{Popup, PopupOutcome};
use super::components::track::TrackPane;
use super::components::{Component, Ctx, JobsView, PlayState, PlayerView};
use super::event::AppEvent;
use super::inspector::Inspector;
use super::keymap::{Key, KeyMap};
use super::results::{JobMark, ModelStatus, Results};
use super::tagger::{TagEvent, TagItem, Tagger};
use super::theme::Theme;
use crate::eval::EvalReport;
use crate::jobs::{JobEvent, Priority};
use crate::library::tree::{FileCheck, NodeId, NodeKind, ScanHandle, Tree, spawn_scan};
use crate::player::{OutputStatus, Player, PlayerEvent};
use crate::tags::{GenreChange, GenreMode};

/// Seconds a seek key moves.
pub const SEEK_STEP_S: f64 = 5.0;
/// Volume change per key press.
pub const VOLUME_STEP: f32 = 0.05;
/// Redraw rate while playing (the only redraws an idle app does).
pub const TICK: Duration = Duration::from_millis(250);
/// Batch-accept offers suggestions at least this confident (←/→ in the preview change it).
pub const DEFAULT_THRESHOLD: f32 = 0.5;

pub struct AppOptions {
    /// The folder to browse.
    pub root: PathBuf,
    /// How the root appears in paths: as the user typed it ("demo", "~/Music").
    pub root_label: String,
    pub theme: Theme,
    pub keymap: KeyMap,
    /// Never open an audio device.
    pub no_audio: bool,
    pub config_path: Option<PathBuf>,
    /// Classify with a model (None: classification off, as in most tests).
    pub analysis: Option<AnalystOptions>,
    /// The evaluation report to show (None: the one in the default model's card).
    pub eval_report: Option<PathBuf>,
    /// Replace the file's genres or add to them when accepting.
    pub genre_mode: GenreMode,
}

impl AppOptions {
    /// Defaults for `root`: default theme and keys, silent.
    pub fn new(root: impl Into<PathBuf>, root_label: impl Into<String>) -> AppOptions {
        AppOptions {
            root: root.into(),
            root_label: root_label.into(),
            theme: Theme::default_theme(),
            keymap: KeyMap::defaults(),
            no_audio: true,
            config_path: None,
            analysis: None,
            eval_report: None,
            genre_mode: GenreMode::Replace,
        }
    }
}

pub struct App {
    tree: Tree,
    browser: Browser,
    track: TrackPane,
    player_bar: PlayerBar,
    status: StatusLine,
    help: HelpOverlay,
    view: PlayerView,
    player: Player,
    inspector: Inspector,
    requested: Vec<bool>,
    pending: usize,
    scan: ScanHandle,
    theme: Theme,
    keymap: KeyMap,
    root_label: String,
    root_title: String,
    config_path: Option<PathBuf>,
    quit: bool,
    dirty: bool,
    last_tick: Instant,
    results: Results,
    analyst: Option<Analyst>,
    /// Cache lookups asked for and not answered yet.
    peeks: usize,
    tagger: Tagger,
    /// Tag requests (writes, previews, undos) not answered yet.
    tag_requests: usize,
    /// Files in the write requests in flight.
    writing: usize,
    /// Written files by absolute path, to mark them again after an undo.
    written_paths: HashMap<PathBuf, NodeId>,
    prediction: PredictionPane,
    spectrogram: SpectrogramPane,
    eval: EvalView,
    popup: Option<Popup>,
    genre_mode: GenreMode,
    threshold: f32,
    /// Nodes being classified now (for the status line).
    running: Vec<NodeId>,
    eval_source: Option<PathBuf>,
}

impl App {
    /// Start the scan, the player and the inspector; events from all of them
    /// (and from the terminal, fed by the caller) arrive on `tx`'s channel.
    pub fn new(opts: AppOptions, tx: Sender<AppEvent>) -> App {
        let scan_tx = tx.clone();
        let scan = spawn_scan(opts.root.clone(), move |b| {
            scan_tx.send(AppEvent::Scan(b)).is_ok()
        });
        let player_tx = tx.clone();
        let player = Player::start(opts.no_audio, move |e| {
            let _ = player_tx.send(AppEvent::Player(e));
        });
        let analyst = opts.analysis.clone().map(|a| Analyst::start(a, tx.clone()));
        let tagger = Tagger::start(tx.clone());
        let model = opts.analysis.as_ref().and_then(|a| a.model.clone());
        spawn_eval_loader(opts.eval_report.clone(), model, tx.clone());
        let insp_tx = tx;
        let inspector = Inspector::start(move |id, i| {
            let _ = insp_tx.send(AppEvent::Inspected(id, Box::new(i)));
        });
        let mut status = StatusLine::default();
        if let OutputStatus::Silent { reason } = player.output() {
            if reason != "--no-audio" {
                status.set(
                    format!("silent mode: {reason}; playing without sound"),
                    Level::Info,
                );
            } else {
                status.set(
                    "silent mode (--no-audio): playing without sound",
                    Level::Info,
                );
            }
        }
        let root_title = {
            let label = opts.root_label.trim_end_matches('/');
            let name = std::path::Path::new(label)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned());
            match name {
                Some(n) if n != "." && n != ".." && !n.is_empty() => n,
                _ => std::fs::canonicalize(&opts.root)
                    .ok()
                    .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                    .unwrap_or_else(|| label.to_string()),
            }
        };
        let view = PlayerView {
            output: player.output().clone(),
            state: PlayState::Stopped,
            node: None,
            external: None,
            info: None,
            position: 0.0,
            volume: player.volume(),
        };
        App {
            tree: Tree::new(opts.root),
            browser: Browser::new(),
            track: TrackPane,
            player_bar: PlayerBar::default(),
            status,
            help: HelpOverlay::default(),
            view,
            player,
            inspector,
            requested: Vec::new(),
            pending: 0,
            scan,
            theme: opts.theme,
            keymap: opts.keymap,
            root_label: opts.root_label.trim_end_matches('/').to_string(),
            root_title,
            config_path: opts.config_path,
            quit: false,
            dirty: true,
            last_tick: Instant::now(),
            results: Results::new(if analyst.is_some() {
                ModelStatus::Loading
            } else {
                ModelStatus::Off
            }),
            analyst,
            peeks: 0,
            tagger,
            tag_requests: 0,
            writing: 0,
            written_paths: HashMap::new(),
            prediction: PredictionPane,
            spectrogram: SpectrogramPane::default(),
            eval: EvalView::default(),
            popup: None,
            genre_mode: opts.genre_mode,
            threshold: DEFAULT_THRESHOLD,
            running: Vec::new(),
            eval_source: opts.eval_report,
        }
    }

    pub fn results(&self) -> &Results {
        &self.results
    }

    pub fn eval_view(&self) -> &EvalView {
        &self.eval
    }

    pub fn popup_open(&self) -> bool {
        self.popup.is_some()
    }

    /// Show `analysed` for `id` as if a job had produced it (tests, demos).
    pub fn inject_analysis(&mut self, id: NodeId, analysed: Analysed) {
        if let Some(s) = analysed.spectrogram {
            self.results.set_spectrogram(id, s);
        }
        self.results.set_result(id, analysed.classified);
        self.dirty = true;
    }

    /// Pretend the model is ready with these labels (tests).
    pub fn set_model_ready(&mut self, info: super::analyst::ModelInfo) {
        self.results.model = ModelStatus::Ready(info);
        self.dirty = true;
    }

    pub fn tree(&self) -> &Tree {
        &self.tree
    }

    pub fn browser(&self) -> &Browser {
        &self.browser
    }

    pub fn player_view(&self) -> &PlayerView {
        &self.view
    }

    pub fn status_message(&self) -> Option<&str> {
        self.status.message()
    }

    pub fn help_visible(&self) -> bool {
        self.help.visible
    }

    pub fn should_quit(&self) -> bool {
        self.quit
    }

    /// Whether anything changed since the last frame (and forget it).
    pub fn take_dirty(&mut self) -> bool {
        std::mem::take(&mut self.dirty)
    }

    /// The scan is complete and no inspection is outstanding.
    pub fn is_idle(&self) -> bool {
        self.tree.progress().done
            && self.pending == 0
            && self.view.state != PlayState::Loading
            && self.eval.is_loaded()
            && self.peeks == 0
            && self.tag_requests == 0
            && !matches!(self.results.model, ModelStatus::Loading)
            && self.analyst.as_ref().is_none_or(|a| a.outstanding() == 0)
    }

    /// How long the loop may sleep before a playback tick is due (None: no ticks).
    pub fn tick_timeout(&self) -> Option<Duration> {
        (self.view.state == PlayState::Playing)
            .then(|| TICK.saturating_sub(self.last_tick.elapsed()))
    }

    /// A playback tick: redraw to move the gauge.
    pub fn tick(&mut self) {
        self.last_tick = Instant::now();
        if self.view.state == PlayState::Playing {
            self.dirty = true;
        }
    }

    /// Apply events until the app is idle (scan done, inspections back) or
    /// `timeout` passes; for tests and benches. Returns whether it got idle.
    pub fn settle(&mut self, rx: &Receiver<AppEvent>, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            while let Ok(ev) = rx.try_recv() {
                self.handle_event(ev);
            }
            if self.is_idle() {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(ev) => self.handle_event(ev),
                Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => {
                    return self.is_idle();
                }
            }
        }
    }

    pub fn handle_event(&mut self, ev: AppEvent) {
        match ev {
            AppEvent::Input(Event::Key(k)) => {
                if k.kind != KeyEventKind::Release {
                    self.on_key(k);
                }
            }
            AppEvent::Input(Event::Mouse(m)) => self.on_mouse(m),
            AppEvent::Input(Event::Resize(..)) => self.dirty = true,
            AppEvent::Input(Event::Paste(text)) => {
                if let Some(p) = &mut self.popup {
                    p.paste(&text);
                    self.dirty = true;
                } else if self.browser.filter_focused {
                    self.browser.paste(&self.tree, &text);
                    self.selection_changed();
                    self.dirty = true;
                }
            }
            AppEvent::Input(_) => {}
            AppEvent::InputClosed(reason) => {
                self.status
                    .set(format!("terminal input closed: {reason}"), Level::Error);
                self.quit = true;
            }
            AppEvent::Scan(batch) => {
                self.tree.apply(batch);
                self.browser.tree_changed();
                self.browser.refresh(&self.tree);
                self.selection_changed();
                self.dirty = true;
            }
            AppEvent::Inspected(id, insp) => {
                self.pending = self.pending.saturating_sub(1);
                self.tree.set_inspection(id, *insp);
                // A bad file changes folder counts; filtered rows do not change.
                self.dirty = true;
            }
            AppEvent::Player(e) => self.on_player(e),
            AppEvent::Model(info) => {
                self.dirty = true;
                match info {
                    Ok(info) => {
                        for w in &info.warnings {
                            self.status.set(format!("cache: {w}"), Level::Error);
                        }
                        self.results.model = ModelStatus::Ready(info);
                        // Rows on screen may have cached results now.
                        self.peek_visible();
                    }
                    Err(e) => {
                        self.status.set(e.clone(), Level::Error);
                        self.results.model = ModelStatus::Failed(e);
                    }
                }
            }
            AppEvent::Job(ev) => self.on_job(ev),
            AppEvent::Peeked(id, found) => {
                self.peeks = self.peeks.saturating_sub(1);
                if let Some(c) = found
                    && self.results.result(id).is_none()
                {
                    self.results.set_result(id, *c);
                    self.dirty = true;
                }
            }
            AppEvent::EvalReport(r) => {
                let bases = eval_bases(self.eval_source.as_deref());
                self.eval.set_report(*r, bases);
                self.dirty = true;
            }
            AppEvent::Tag(e) => self.on_tag(e),
        }
    }

    fn on_job(&mut self, ev: JobEvent<super::analyst::Outcome>) {
        let Some(analyst) = &mut self.analyst else {
            return;
        };
        let node = analyst.on_event(&ev);
        self.running = analyst.running().collect();
        self.dirty = true;
        let Some(id) = node else { return };
        match ev {
            JobEvent::Started { .. } => self.results.entry(id).job = JobMark::Running,
            JobEvent::Cancelled { .. } => {
                let still = self.analyst.as_ref().is_some_and(|a| a.is_pending(id));
                if !still {
                    self.results.entry(id).job = JobMark::Idle;
                }
            }
            JobEvent::Finished { result, .. } => {
                let still = self.analyst.as_ref().is_some_and(|a| a.is_pending(id));
                let f = self.results.entry(id);
                if !still {
                    f.job = JobMark::Idle;
                }
                match result {
                    Ok(a) => {
                        let a = *a;
                        if let Some(s) = a.spectrogram {
                            self.results.set_spectrogram(id, s);
                        }
                        self.results.set_result(id, a.classified);
                    }
                    Err(e) => {
                        if e != "cancelled" {
                            f.error = Some(e);
                        }
                    }
                }
            }
        }
    }

    #[allow(clippy::too_many_lines)] // long before the lint; listed in issue 14 to split
    fn on_tag(&mut self, e: TagEvent) {
        self.dirty = true;
        match e {
            TagEvent::Written { node, result } => {
                self.writing = self.writing.saturating_sub(1);
                let path = self.tree.path(node);
                match result {
                    Ok(applied) => {
                        let f = self.results.entry(node);
                        f.write_error = None;
                        f.skipped = false;
                        f.written = Some(applied.report.new.clone());
                        let classified = f.result.as_deref().cloned();
                        if applied.report.changed {
                            let abs = std::path::absolute(&path).unwrap_or(path.clone());
                            self.written_paths.insert(abs, node);
                            // Same audio, new size and mtime: keep the result cached.
                            if let (Some(a), Some(c)) = (&self.analyst, classified) {
                                a.remember(path.clone(), c);
                            }
                        }
                        self.reinspect(node);
                        let old = crate::tags::write::show(&applied.report.old);
                        let new = crate::tags::write::show(&applied.report.new);
                        let name = self.tree.node(node).label().into_owned();
                        let undo = self.keymap.hint(Action::Undo).unwrap_or_default();
                        let msg = if applied.report.changed {
                            format!("{name}: genre {old} → {new} · {undo} undoes")
                        } else {
                            format!("{name} already has genre {new}")
                        };
                        self.status.set(msg, Level::Info);
                    }
                    Err(e) => {
                        self.results.entry(node).write_error = Some(e.clone());
                        self.status.set(format!("not written: {e}"), Level::Error);
                    }
                }
            }
            TagEvent::WriteDone { total } => {
                self.tag_requests = self.tag_requests.saturating_sub(1);
                if total > 1 {
                    let failed = self
                        .results
                        .iter()
                        .filter(|(_, f)| f.write_error.is_some())
                        .count();
                    let undo = self.keymap.hint(Action::Undo).unwrap_or_default();
                    let msg = format!(
                        "wrote {total} files{} · {undo} undoes the batch",
                        if failed > 0 {
                            format!(" ({failed} failed: marked ✗)")
                        } else {
                            String::new()
                        }
                    );
                    self.status.set(msg, Level::Info);
                }
            }
            TagEvent::Previewed(rows) => {
                self.tag_requests = self.tag_requests.saturating_sub(1);
                if let Some(Popup::Batch { rows: slot, .. }) = &mut self.popup {
                    *slot = Some(rows);
                }
            }
            TagEvent::Undone(list) => {
                self.tag_requests = self.tag_requests.saturating_sub(1);
                if list.is_empty() {
                    self.status.set("nothing to undo", Level::Info);
                    return;
                }
                let mut ok = 0;
                let mut errors = Vec::new();
                for r in list {
                    match r {
                        Ok((path, _now)) => {
                            ok += 1;
                            if let Some(id) = self.node_for_path(&path) {
                                let f = self.results.entry(id);
                                f.written = None;
                                f.write_error = None;
                                let c = f.result.as_deref().cloned();
                                if let (Some(a), Some(c)) = (&self.analyst, c) {
                                    a.remember(self.tree.path(id), c);
                                }
                                self.reinspect(id);
                            }
                        }
                        Err(e) => errors.push(e),
                    }
                }
                match errors.first() {
                    Some(e) => self.status.set(
                        format!("undid {ok}; {} failed: {e}", errors.len()),
                        Level::Error,
                    ),
                    None => self.status.set(
                        format!("undid {ok} tag write{}", if ok == 1 { "" } else { "s" }),
                        Level::Info,
                    ),
                }
            }
            TagEvent::Warning(w) => self.status.set(w, Level::Error),
        }
    }

    /// The node of an absolute path written this session, or found by search.
    fn node_for_path(&self, path: &Path) -> Option<NodeId> {
        if let Some(&id) = self.written_paths.get(path) {
            return Some(id);
        }
        self.tree.files().find(|&f| {
            let p = self.tree.path(f);
            std::path::absolute(&p).unwrap_or(p) == path
        })
    }

    /// Read a file's tags again (after a write or an undo).
    fn reinspect(&mut self, id: NodeId) {
        self.pending += 1;
        self.inspector.request(id, self.tree.path(id), true);
    }

    fn on_player(&mut self, e: PlayerEvent) {
        self.dirty = true;
        match e {
            PlayerEvent::Output(status) => {
                if let OutputStatus::Silent { reason } = &status {
                    self.status.set(
                        format!("silent mode: {reason}; playing without sound"),
                        Level::Info,
                    );
                }
                self.view.output = status;
            }
            PlayerEvent::Started { path, info, paused } => {
                if self.playing_path().is_some_and(|p| p == path) {
                    self.view.info = Some(info);
                    if self.view.state == PlayState::Loading {
                        self.view.state = if paused {
                            PlayState::Paused
                        } else {
                            PlayState::Playing
                        };
                    }
                    self.last_tick = Instant::now();
                }
            }
            PlayerEvent::Failed { path, reason } => {
                let name = path.file_name().map_or_else(
                    || path.display().to_string(),
                    |n| n.to_string_lossy().into(),
                );
                self.status
                    .set(format!("cannot play {name}: {reason}"), Level::Error);
                if self.playing_path().is_some_and(|p| p == path) {
                    self.view.state = PlayState::Stopped;
                }
            }
            PlayerEvent::Finished { path } => {
                if self.playing_path().is_some_and(|p| p == path) {
                    self.view.state = PlayState::Ended;
                    if let Some(d) = self.view.duration() {
                        self.view.position = d;
                    }
                }
            }
        }
    }

    /// The file the player has (from the library or the evaluation view).
    fn playing_path(&self) -> Option<PathBuf> {
        self.view
            .node
            .map(|n| self.tree.path(n))
            .or_else(|| self.view.external.clone())
    }

    fn on_key(&mut self, k: KeyEvent) {
        self.dirty = true;
        let key = Key::from(k);
        if key == Key::ctrl('c') {
            self.quit = true;
            return;
        }
        if self.help.visible {
            // Arrows scroll a help that does not fit; any other key closes it
            // (Ctrl-C, above, still quits).
            let lines = match k.code {
                KeyCode::Up | KeyCode::Char('k') => -1,
                KeyCode::Down | KeyCode::Char('j') => 1,
                KeyCode::PageUp => -10,
                KeyCode::PageDown | KeyCode::Char(' ') => 10,
                _ => 0,
            };
            if lines == 0 || !self.help.scroll_by(lines) {
                self.help.visible = false;
                self.help.scroll = 0;
            }
            return;
        }
        if let Some(popup) = &mut self.popup {
            match popup.on_key(k) {
                PopupOutcome::Open => {}
                PopupOutcome::Close => self.popup = None,
                PopupOutcome::Edit(node) => {
                    let current = self.current_genre(node);
                    self.popup = Some(Popup::editor(node, &current));
                }
                PopupOutcome::Write(node, genres) => {
                    self.popup = None;
                    self.write_tags(vec![(node, genres)]);
                }
                PopupOutcome::WriteBatch(rows) => {
                    self.popup = None;
                    let items = rows
                        .into_iter()
                        .map(|r| TagItem {
                            node: r.node,
                            path: r.path,
                            change: r.change,
                        })
                        .collect();
                    self.send_writes(items);
                }
            }
            return;
        }
        if self.browser.filter_focused {
            match (k.code, k.modifiers) {
                (KeyCode::Esc, _) => self.apply(Action::ClearFilter),
                (KeyCode::Enter, _) => {
                    self.browser.filter_focused = false;
                }
                (KeyCode::Up, _) => self.apply(Action::Up),
                (KeyCode::Down, _) => self.apply(Action::Down),
                (KeyCode::PageUp, _) => self.apply(Action::PageUp),
                (KeyCode::PageDown, _) => self.apply(Action::PageDown),
                (KeyCode::Tab, _) => self.browser.filter_focused = false,
                _ => {
                    if self.browser.filter_input(&self.tree, k) {
                        self.selection_changed();
                    }
                }
            }
            return;
        }
        if let Some(action) = self.keymap.action(key) {
            if !matches!(action, Action::Help | Action::Redraw) {
                self.status.clear();
            }
            self.apply(action);
        }
    }

    fn on_mouse(&mut self, m: MouseEvent) {
        match m.kind {
            MouseEventKind::Down(MouseButton::Left) => {
                if self.help.visible {
                    self.help.visible = false;
                    self.dirty = true;
                } else if self.popup.is_some() {
                } else if self.eval.visible {
                    if let Some((r, c)) = self.eval.cell_at(m.column, m.row) {
                        self.eval.select_cell(r, c);
                        self.dirty = true;
                    } else if let Some(f) = self.player_bar.fraction_at(m.column, m.row) {
                        self.apply(Action::SeekToPermille((f * 1000.0).round() as u16));
                    }
                } else if let Some(i) = self.browser.row_at(m.column, m.row) {
                    if i == self.browser.cursor() {
                        self.apply(Action::Activate);
                    } else {
                        self.apply(Action::SelectRow(i));
                    }
                } else if let Some(f) = self.player_bar.fraction_at(m.column, m.row) {
                    self.apply(Action::SeekToPermille((f * 1000.0).round() as u16));
                }
            }
            MouseEventKind::ScrollDown => self.apply(Action::Scroll(3)),
            MouseEventKind::ScrollUp => self.apply(Action::Scroll(-3)),
            _ => {}
        }
    }

    /// In the evaluation view, moving and Enter act on the matrix and its files.
    fn apply_eval(&mut self, action: Action) -> bool {
        match action {
            Action::Up => self.eval.move_by(-1, 0),
            Action::Down => self.eval.move_by(1, 0),
            Action::Scroll(d) => self.eval.move_by(isize::from(d.signum()), 0),
            Action::Collapse => self.eval.move_by(0, -1),
            Action::Expand => self.eval.move_by(0, 1),
            Action::PageUp | Action::Top => self.eval.move_by(-100, 0),
            Action::PageDown | Action::Bottom => self.eval.move_by(100, 0),
            Action::Activate => {
                if let Some(path) = self.eval.activate() {
                    self.play_external(path);
                }
            }
            Action::ClearFilter => {
                if !self.eval.back() {
                    self.eval.visible = false;
                }
            }
            Action::Normalise => self.eval.normalised = !self.eval.normalised,
            Action::Evaluation => self.eval.visible = false,
            Action::Filter
            | Action::Mark
            | Action::Classify
            | Action::Accept
            | Action::PickGenre
            | Action::EditGenre
            | Action::BatchAccept
            | Action::Skip
            | Action::SelectRow(_) => {
                self.status.set(
                    "in the evaluation view: close it first (e or esc)",
                    Level::Info,
                );
            }
            _ => return false,
        }
        true
    }

    /// Do one action.
    #[allow(clippy::too_many_lines)] // long before the lint; listed in issue 14 to split
    pub fn apply(&mut self, action: Action) {
        self.dirty = true;
        if self.eval.visible && self.apply_eval(action) {
            return;
        }
        let tree = &self.tree;
        match action {
            Action::Quit => self.quit = true,
            Action::Help => self.help.visible = !self.help.visible,
            Action::Redraw => {}
            Action::Up => self.browser.move_by(tree, -1),
            Action::Down => self.browser.move_by(tree, 1),
            Action::PageUp => self.browser.move_by(tree, -(self.browser.page() as isize)),
            Action::PageDown => self.browser.move_by(tree, self.browser.page() as isize),
            Action::Top => self.browser.select_index(tree, 0),
            Action::Bottom => self.browser.select_index(tree, usize::MAX),
            Action::Scroll(d) => self.browser.move_by(tree, isize::from(d)),
            Action::SelectRow(i) => self.browser.select_index(tree, i),
            Action::Expand => self.browser.expand(tree),
            Action::Collapse => self.browser.collapse(tree),
            Action::Activate => {
                if let Some(id) = self.browser.selected() {
                    match &tree.node(id).kind {
                        NodeKind::Dir(_) => self.browser.toggle(tree),
                        NodeKind::File(_) => self.play(id),
                        NodeKind::Broken { reason } => {
                            let msg = format!("{}: {reason}", tree.node(id).label());
                            self.status.set(msg, Level::Error);
                        }
                    }
                }
            }
            Action::Filter => self.browser.filter_focused = true,
            Action::ClearFilter => self.browser.clear_filter(tree),
            Action::PlayPause => match self.view.state {
                PlayState::Playing => {
                    self.player.set_paused(true);
                    self.view.state = PlayState::Paused;
                }
                PlayState::Paused | PlayState::Ended => {
                    self.player.set_paused(false);
                    if self.view.state == PlayState::Ended {
                        self.view.position = 0.0;
                    }
                    self.view.state = PlayState::Playing;
                    self.last_tick = Instant::now();
                }
                PlayState::Loading => {}
                PlayState::Stopped => match self.browser.selected() {
                    Some(id) if tree.node(id).is_file() => self.play(id),
                    _ => self.status.set("select a file to play", Level::Info),
                },
            },
            Action::Stop => {
                self.player.stop();
                self.view.state = PlayState::Stopped;
                self.view.position = 0.0;
            }
            Action::SeekForward => self.seek_to(self.position() + SEEK_STEP_S),
            Action::SeekBack => self.seek_to(self.position() - SEEK_STEP_S),
            Action::SeekToPermille(p) => {
                if let Some(d) = self.view.duration() {
                    self.seek_to(d * f64::from(p.min(1000)) / 1000.0);
                }
            }
            Action::VolumeUp => {
                self.view.volume = self.player.set_volume(self.view.volume + VOLUME_STEP)
            }
            Action::VolumeDown => {
                self.view.volume = self.player.set_volume(self.view.volume - VOLUME_STEP)
            }
            Action::Next => self.step_track(1),
            Action::Previous => self.step_track(-1),
            Action::Mark => {
                if let Some(id) = self.browser.selected() {
                    if tree.node(id).is_file() {
                        self.browser.toggle_mark(id);
                        self.browser.move_by(tree, 1);
                    } else {
                        self.status.set(
                            "marks are for files; c classifies a whole folder",
                            Level::Info,
                        );
                    }
                }
            }
            Action::Classify => self.classify_selection(),
            Action::CancelJobs => match &mut self.analyst {
                Some(a) if a.outstanding() > 0 => {
                    a.cancel_all();
                    self.status.set("cancelling classification", Level::Info);
                }
                _ => self.status.set("nothing to cancel", Level::Info),
            },
            Action::SpectrogramStyle => self.spectrogram.flip_style = !self.spectrogram.flip_style,
            Action::Evaluation => {
                self.eval.visible = true;
                self.eval.focus = EvalFocus::Matrix;
            }
            Action::Normalise => self.eval.normalised = !self.eval.normalised,
            Action::Accept => self.accept_focused(),
            Action::PickGenre => self.open_picker(),
            Action::EditGenre => {
                if let Some(id) = self.focused_file() {
                    let current = self.current_genre(id);
                    self.popup = Some(Popup::editor(id, &current));
                }
            }
            Action::BatchAccept => self.open_batch(),
            Action::Skip => {
                if let Some(id) = self.focused_file() {
                    self.results.entry(id).skipped = true;
                    self.next_file_in_listing(id);
                }
            }
            Action::Undo => {
                self.tag_requests += 1;
                self.tagger.undo();
                self.status.set("undoing the last tag write…", Level::Info);
            }
        }
        self.selection_changed();
    }

    /// The selected node if it is a file (else a hint in the status line).
    fn focused_file(&mut self) -> Option<NodeId> {
        match self.browser.selected() {
            Some(id) if self.tree.node(id).is_file() => Some(id),
            _ => {
                self.status.set("select a file first", Level::Info);
                None
            }
        }
    }

    /// The genres a file has now, as text for the editor.
    fn current_genre(&self, id: NodeId) -> String {
        if let Some(w) = self.results.get(id).and_then(|f| f.written.as_ref()) {
            return w.join("; ");
        }
        self.tree
            .node(id)
            .inspection()
            .and_then(|i| i.tags.as_ref().ok())
            .map(|t| t.genres.join("; "))
            .unwrap_or_default()
    }

    /// Move the selection to the next file in the listing (after a skip).
    fn next_file_in_listing(&mut self, from: NodeId) {
        let rows = self.browser.rows();
        let Some(i) = rows.iter().position(|&r| r == from) else {
            return;
        };
        if let Some(j) = rows[i + 1..]
            .iter()
            .position(|&r| self.tree.node(r).is_file())
        {
            self.browser.select_index(&self.tree, i + 1 + j);
        } else {
            self.status.set("this is the last file", Level::Info);
        }
    }

    /// Files under a folder, in listing order.
    fn files_under(&self, dir: NodeId) -> Vec<NodeId> {
        let mut out = Vec::new();
        let mut stack = vec![dir];
        while let Some(d) = stack.pop() {
            for &c in self.tree.children(d).iter().rev() {
                match &self.tree.node(c).kind {
                    NodeKind::Dir(_) => stack.push(c),
                    NodeKind::File(_) => out.push(c),
                    NodeKind::Broken { .. } => {}
                }
            }
        }
        out.sort_unstable();
        out
    }

    /// The files an action on "the selection" covers: the marked files, else
    /// the selected folder's files, else the selected file's folder.
    fn selection_files(&self) -> (Vec<NodeId>, String) {
        let marked = self.browser.marked();
        if !marked.is_empty() {
            let n = marked.len();
            return (marked, format!("{n} marked files"));
        }
        let Some(id) = self.browser.selected() else {
            return (Vec::new(), String::new());
        };
        let dir = if self.tree.node(id).is_dir() {
            id
        } else {
            self.tree
                .node(id)
                .parent
                .unwrap_or(crate::library::tree::ROOT)
        };
        let name = if dir == crate::library::tree::ROOT {
            format!("{}/", self.root_title)
        } else {
            format!("{}/", self.tree.node(dir).label())
        };
        (self.files_under(dir), name)
    }

    fn classify_selection(&mut self) {
        let (files, what) = if self.browser.marked().is_empty()
            && self
                .browser
                .selected()
                .is_some_and(|id| self.tree.node(id).is_file())
        {
            let id = self.browser.selected().unwrap_or_default();
            (vec![id], self.tree.node(id).label().into_owned())
        } else {
            self.selection_files()
        };
        let Some(analyst) = &mut self.analyst else {
            self.status.set("classification is off", Level::Info);
            return;
        };
        let priority = if self.browser.marked().is_empty() && files.len() > 1 {
            Priority::Background
        } else {
            Priority::Selection
        };
        let mut n = 0;
        for id in files {
            let f = self.results.entry(id);
            if f.result.is_some() || f.job != JobMark::Idle {
                continue;
            }
            f.job = JobMark::Queued;
            f.error = None;
            analyst.submit(id, self.tree.path(id), priority);
            n += 1;
        }
        let msg = if n == 0 {
            format!("{what}: already classified")
        } else {
            format!("queued {n} files in {what} for classifying")
        };
        self.status.set(msg, Level::Info);
    }

    /// The suggestion for a file: its top genre and confidence.
    fn suggestion(&self, id: NodeId) -> Option<(String, f32)> {
        let r = self.results.result(id)?;
        let (label, p) = *r.prediction.top(1).first()?;
        Some((crate::tags::genre_tag_name(label), p))
    }

    fn accept_focused(&mut self) {
        let Some(id) = self.focused_file() else {
            return;
        };
        match self.suggestion(id) {
            Some((genre, _)) => self.write_tags(vec![(id, vec![genre])]),
            None => {
                let key = self.keymap.hint(Action::Classify).unwrap_or_default();
                self.status.set(
                    format!("no suggestion yet for this file ({key} classifies)"),
                    Level::Info,
                );
            }
        }
    }

    fn open_picker(&mut self) {
        let Some(id) = self.focused_file() else {
            return;
        };
        let mut items: Vec<(String, Option<f32>)> = Vec::new();
        if let Some(r) = self.results.result(id) {
            for (label, p) in r.prediction.top(r.prediction.labels.len()) {
                items.push((crate::tags::genre_tag_name(label), Some(p)));
            }
        } else if let Some(labels) = self.results.labels() {
            items.extend(
                labels
                    .iter()
                    .map(|l| (crate::tags::genre_tag_name(l), None)),
            );
        }
        self.popup = Some(Popup::Picker {
            node: id,
            items,
            cursor: 0,
        });
    }

    fn open_batch(&mut self) {
        let (files, what) = self.selection_files();
        if files.is_empty() {
            self.status.set("nothing selected to accept", Level::Info);
            return;
        }
        let mut items = Vec::new();
        let mut unclassified = 0;
        for id in files {
            match self.suggestion(id) {
                Some((genre, p)) => items.push((
                    TagItem {
                        node: id,
                        path: self.tree.path(id),
                        change: self.change(vec![genre]),
                    },
                    p,
                )),
                None => unclassified += 1,
            }
        }
        if items.is_empty() {
            let key = self.keymap.hint(Action::Classify).unwrap_or_default();
            self.status.set(
                format!("{what}: nothing classified yet ({key} classifies)"),
                Level::Info,
            );
            return;
        }
        self.tag_requests += 1;
        self.tagger.preview(items);
        self.popup = Some(Popup::Batch {
            rows: None,
            unclassified,
            threshold: self.threshold,
            offset: 0,
        });
    }

    fn change(&self, genres: Vec<String>) -> GenreChange {
        GenreChange {
            genres,
            mode: self.genre_mode,
        }
    }

    /// Write genres to files, off the UI thread, as one undoable batch.
    fn write_tags(&mut self, items: Vec<(NodeId, Vec<String>)>) {
        let items = items
            .into_iter()
            .map(|(node, genres)| TagItem {
                node,
                path: self.tree.path(node),
                change: self.change(genres),
            })
            .collect();
        self.send_writes(items);
    }

    fn send_writes(&mut self, items: Vec<TagItem>) {
        if items.is_empty() {
            return;
        }
        self.writing += items.len();
        self.tag_requests += 1;
        for i in &items {
            self.results.entry(i.node).write_error = None;
        }
        if let Some(Popup::Batch { threshold, .. }) = &self.popup {
            self.threshold = *threshold;
        }
        self.tagger.write(items);
    }

    fn position(&self) -> f64 {
        match self.view.state {
            PlayState::Stopped => 0.0,
            _ => self.player.position().unwrap_or(self.view.position),
        }
    }

    fn seek_to(&mut self, target: f64) {
        if matches!(self.view.state, PlayState::Stopped | PlayState::Loading) {
            return;
        }
        let end = self.view.duration().unwrap_or(f64::MAX);
        let target = target.clamp(0.0, (end - 0.25).max(0.0));
        self.player.seek(target);
        self.view.position = target;
        if self.view.state == PlayState::Ended {
            self.view.state = PlayState::Paused;
        }
    }

    /// Play a file from outside the library (the evaluation view's list).
    fn play_external(&mut self, path: PathBuf) {
        if !path.is_file() {
            self.status.set(
                format!("{}: no such file here", path.display()),
                Level::Error,
            );
            return;
        }
        self.player.load(&path, false);
        self.view.node = None;
        self.view.external = Some(path);
        self.view.info = None;
        self.view.position = 0.0;
        self.view.state = PlayState::Loading;
        self.status.clear();
    }

    fn play(&mut self, id: NodeId) {
        let path = self.tree.path(id);
        self.player.load(&path, false);
        self.view.external = None;
        self.view.node = Some(id);
        self.view.info = None;
        self.view.position = 0.0;
        self.view.state = PlayState::Loading;
        self.status.clear();
    }

    /// Play the file `delta` files away from the one playing (or selected),
    /// in listing order, within the filter.
    fn step_track(&mut self, delta: isize) {
        let from = self.view.node.or(self.browser.selected());
        let keep = self.browser.keep();
        let files: Vec<NodeId> = self
            .tree
            .files()
            .filter(|&f| keep.is_none_or(|k| k.get(f as usize).copied().unwrap_or(false)))
            .collect();
        if files.is_empty() {
            return;
        }
        let next = match from.and_then(|f| files.iter().position(|&x| x == f)) {
            Some(i) => i.checked_add_signed(delta).filter(|&j| j < files.len()),
            None => Some(if delta > 0 { 0 } else { files.len() - 1 }),
        };
        match next {
            Some(j) => {
                let id = files[j];
                self.browser.reveal(&self.tree, id);
                self.play(id);
            }
            None => {
                let which = if delta > 0 { "last" } else { "first" };
                self.status
                    .set(format!("this is the {which} file"), Level::Info);
            }
        }
    }

    /// Make sure the selected file is inspected first, and classified (with
    /// its spectrogram) as a latest-wins preview.
    fn selection_changed(&mut self) {
        let Some(id) = self.browser.selected() else {
            return;
        };
        self.request(id, true);
        let Some(analyst) = &mut self.analyst else {
            return;
        };
        if !self.tree.node(id).is_file() {
            analyst.clear_focus();
            return;
        }
        if matches!(self.results.model, ModelStatus::Failed(_))
            || self.results.spectrogram(id).is_some()
            || analyst.is_focus(id)
        {
            return;
        }
        let f = self.results.entry(id);
        if f.error.is_some() {
            return;
        }
        if f.job == JobMark::Idle {
            f.job = JobMark::Queued;
        }
        analyst.preview(id, self.tree.path(id));
    }

    /// Ask the cache about the files on screen (once each).
    fn peek_visible(&mut self) {
        let Some(analyst) = &self.analyst else { return };
        if !matches!(self.results.model, ModelStatus::Ready(_)) {
            return;
        }
        let range = self.browser.visible_range();
        let rows: Vec<NodeId> = self.browser.rows()[range].to_vec();
        for id in rows {
            if !self.tree.node(id).is_file() {
                continue;
            }
            let f = self.results.entry(id);
            if f.peeked || f.result.is_some() {
                continue;
            }
            f.peeked = true;
            self.peeks += 1;
            analyst.peek(id, self.tree.path(id));
        }
    }

    fn request(&mut self, id: NodeId, urgent: bool) {
        if self.requested.len() < self.tree.len() {
            self.requested.resize(self.tree.len(), false);
        }
        let node = self.tree.node(id);
        if !matches!(node.kind, NodeKind::File(FileCheck::Unchecked)) || self.requested[id as usize]
        {
            return;
        }
        self.requested[id as usize] = true;
        self.pending += 1;
        self.inspector.request(id, self.tree.path(id), urgent);
    }

    /// Draw one frame.
    pub fn draw(&mut self, frame: &mut Frame) {
        if !matches!(self.view.state, PlayState::Stopped | PlayState::Loading)
            && let Some(p) = self.player.position()
        {
            self.view.position = match self.view.duration() {
                Some(d) => p.min(d),
                None => p,
            };
        }
        let area = frame.area();
        frame.render_widget(Block::default().style(self.theme.base), area);
        if area.width < 20 || area.height < 6 {
            frame.render_widget(
                ratatui::widgets::Paragraph::new("earmark: window too small")
                    .style(self.theme.base),
                area,
            );
            return;
        }
        let [main, player, status] = Layout::vertical([
            Constraint::Min(3),
            Constraint::Length(4),
            Constraint::Length(1),
        ])
        .areas(area);
        self.browser.refresh(&self.tree);
        let running = std::mem::take(&mut self.running);
        let (done, total) = self.analyst.as_ref().map_or((0, 0), |a| a.progress());
        let ctx = Ctx {
            theme: &self.theme,
            keymap: &self.keymap,
            tree: &self.tree,
            player: &self.view,
            selected: self.browser.selected(),
            root_label: &self.root_label,
            root_title: &self.root_title,
            config_path: self.config_path.as_deref(),
            results: &self.results,
            jobs: JobsView {
                done,
                total,
                running: &running,
                writing: self.writing,
            },
        };
        if self.eval.visible {
            self.eval.draw(frame, main, &ctx);
        } else {
            let panes = layout(main, self.results.labels().map_or(10, <[String]>::len));
            self.browser.draw(frame, panes.browser, &ctx);
            if panes.track.height > 0 {
                self.track.draw(frame, panes.track, &ctx);
            }
            if panes.prediction.height > 0 {
                self.prediction.draw(frame, panes.prediction, &ctx);
            }
            if panes.spectrogram.height > 0 {
                self.spectrogram.draw(frame, panes.spectrogram, &ctx);
            }
        }
        self.player_bar.draw(frame, player, &ctx);
        self.status.draw(frame, status, &ctx);
        if let Some(p) = &mut self.popup {
            p.draw(frame, main, &ctx);
        }
        self.help.draw(frame, area, &ctx);
        self.running = running;

        if !self.eval.visible {
            // Inspect what is on screen (tags, damage) in the background, and
            // ask the cache which of those files are classified already.
            let range = self.browser.visible_range();
            let visible: Vec<NodeId> = self.browser.rows()[range].to_vec();
            for id in visible {
                self.request(id, false);
            }
            self.peek_visible();
        }
    }

    /// Stop background work (the scan, classification) early.
    pub fn shutdown(&mut self) {
        self.scan.cancel();
        if let Some(a) = &self.analyst {
            a.cancel_all();
        }
        self.player.stop();
    }
}

/// Where the panes go in the main area.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Panes {
    pub browser: Rect,
    pub track: Rect,
    pub prediction: Rect,
    pub spectrogram: Rect,
}

/// The browser on the left; track and prediction panes stacked on the right;
/// the spectrogram across the bottom. Narrow windows keep the browser only;
/// short ones give the bars two columns and the track pane fewer lines.
pub fn layout(main: Rect, n_labels: usize) -> Panes {
    if main.width < 60 {
        return Panes {
            browser: main,
            ..Panes::default()
        };
    }
    let spec_h = if main.height >= 16 {
        (main.height / 3).clamp(5, 14)
    } else {
        0
    };
    let [top, spectrogram] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(spec_h)]).areas(main);
    let browser_pct = if main.width >= 120 { 45 } else { 42 };
    let [browser, right] = Layout::horizontal([
        Constraint::Percentage(browser_pct),
        Constraint::Percentage(100 - browser_pct),
    ])
    .areas(top);
    let full = prediction::full_height(n_labels);
    let compact = prediction::compact_height(n_labels);
    let pred_h = if right.height >= full + 8 {
        full
    } else if right.height >= compact + 4 {
        compact
    } else {
        // No room for a useful track pane: the prediction takes it all.
        right.height
    };
    let [track, prediction] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(pred_h)]).areas(right);
    Panes {
        browser,
        track,
        prediction,
        spectrogram,
    }
}

/// Folders a report's relative paths may start from.
fn eval_bases(report: Option<&Path>) -> Vec<PathBuf> {
    let dir = match report {
        Some(p) => p.parent().map(Path::to_path_buf),
        None => crate::model::default_model_dir(),
    };
    let mut out = Vec::new();
    if let Some(d) = dir {
        if let Some(parent) = d.parent() {
            out.push(parent.to_path_buf());
        }
        out.push(d);
    }
    out
}

/// Read the evaluation report on a thread: `path`, or the chosen model's card.
fn spawn_eval_loader(path: Option<PathBuf>, model: Option<PathBuf>, tx: Sender<AppEvent>) {
    let _ = std::thread::Builder::new()
        .name("earmark-eval".into())
        .spawn(move || {
            let r = match (&path, &model) {
                (None, Some(m)) => model_card(m).and_then(|c| card_report(&c)),
                _ => load_eval_report(path.as_deref()),
            };
            let _ = tx.send(AppEvent::EvalReport(Box::new(r)));
        });
}

/// An `earmark eval --json` report, or the `metrics` of the default model card.
pub fn load_eval_report(path: Option<&Path>) -> Result<EvalReport, String> {
    match path {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| format!("{}: {}", p.display(), crate::library::io_reason(&e)))?;
            EvalReport::from_json(&text).map_err(|e| format!("{}: {e}", p.display()))
        }
        None => {
            let card = crate::model::default_card().map_err(|e| e.to_string())?;
            card_report(&card)
        }
    }
}

/// The card of `--model SPEC`: a shipped name, a folder with model.json, or an
/// .onnx file with `<name>.json` or model.json beside it.
fn model_card(spec: &Path) -> Result<crate::model::ModelCard, String> {
    if crate::model::is_model_name(spec) {
        return crate::model::shipped_card(&spec.to_string_lossy()).map_err(|e| e.to_string());
    }
    let candidates = if spec.is_dir() {
        vec![spec.join("model.json")]
    } else {
        vec![
            spec.with_extension("json"),
            spec.with_file_name("model.json"),
        ]
    };
    let card = candidates
        .iter()
        .find(|c| c.is_file())
        .ok_or_else(|| format!("no model card found for {}", spec.display()))?;
    let text = std::fs::read_to_string(card)
        .map_err(|e| format!("{}: {}", card.display(), crate::library::io_reason(&e)))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", card.display()))
}

/// The evaluation recorded in a model card.
pub fn card_report(card: &crate::model::ModelCard) -> Result<EvalReport, String> {
    let metrics = card.metrics.as_ref().filter(|m| !m.is_null()).ok_or_else(|| {
        format!(
            "the {} model card has no evaluation (run `earmark eval DIR --json r.json`, then --eval-report r.json)",
            card.name
        )
    })?;
    EvalReport::from_json(&metrics.to_string()).map_err(|e| format!("{}: {e}", card.name))
}
