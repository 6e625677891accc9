//! App state and update: events in, actions applied, one frame out. The event
//! loop lives in [`super::run`]; this type does no terminal I/O, so tests and
//! benches drive it with a `TestBackend`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use crossterm::event::{
    Event, KeyCode, KeyEvent, KeyEventKind, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::widgets::Block;

use super::action::Action;
use super::components::browser::Browser;
use super::components::help::HelpOverlay;
use super::components::player_bar::PlayerBar;
use super::components::status::{Level, StatusLine};
use super::components::track::TrackPane;
use super::components::{Component, Ctx, PlayState, PlayerView};
use super::event::AppEvent;
use super::inspector::Inspector;
use super::keymap::{Key, KeyMap};
use super::theme::Theme;
use crate::library::tree::{FileCheck, NodeId, NodeKind, ScanHandle, Tree, spawn_scan};
use crate::player::{OutputStatus, Player, PlayerEvent};

/// Seconds a seek key moves.
pub const SEEK_STEP_S: f64 = 5.0;
/// Volume change per key press.
pub const VOLUME_STEP: f32 = 0.05;
/// Redraw rate while playing (the only redraws an idle app does).
pub const TICK: Duration = Duration::from_millis(250);

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
        }
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
        self.tree.progress().done && self.pending == 0 && self.view.state != PlayState::Loading
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
                if self.browser.filter_focused {
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
        }
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
                if self.view.node.is_some_and(|n| self.tree.path(n) == path) {
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
                if self.view.node.is_some_and(|n| self.tree.path(n) == path) {
                    self.view.state = PlayState::Stopped;
                }
            }
            PlayerEvent::Finished { path } => {
                if self.view.node.is_some_and(|n| self.tree.path(n) == path) {
                    self.view.state = PlayState::Ended;
                    if let Some(d) = self.view.duration() {
                        self.view.position = d;
                    }
                }
            }
        }
    }

    fn on_key(&mut self, k: KeyEvent) {
        self.dirty = true;
        let key = Key::from(k);
        if key == Key::ctrl('c') {
            self.quit = true;
            return;
        }
        if self.help.visible {
            // Any key closes the help (Ctrl-C, above, still quits).
            self.help.visible = false;
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

    /// Do one action.
    pub fn apply(&mut self, action: Action) {
        self.dirty = true;
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
        }
        self.selection_changed();
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

    fn play(&mut self, id: NodeId) {
        let path = self.tree.path(id);
        self.player.load(&path, false);
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

    /// Make sure the selected file is being inspected first.
    fn selection_changed(&mut self) {
        if let Some(id) = self.browser.selected() {
            self.request(id, true);
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
        let [browser, track] = if area.width >= 60 {
            Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(main)
        } else {
            [main, Rect::default()]
        };
        self.browser.refresh(&self.tree);
        let ctx = Ctx {
            theme: &self.theme,
            keymap: &self.keymap,
            tree: &self.tree,
            player: &self.view,
            selected: self.browser.selected(),
            root_label: &self.root_label,
            root_title: &self.root_title,
            config_path: self.config_path.as_deref(),
        };
        self.browser.draw(frame, browser, &ctx);
        if track.width > 0 {
            self.track.draw(frame, track, &ctx);
        }
        self.player_bar.draw(frame, player, &ctx);
        self.status.draw(frame, status, &ctx);
        self.help.draw(frame, area, &ctx);

        // Inspect what is on screen (tags, damage) in the background.
        let range = self.browser.visible_range();
        let visible: Vec<NodeId> = self.browser.rows()[range].to_vec();
        for id in visible {
            self.request(id, false);
        }
    }

    /// Stop background work (the scan) early.
    pub fn shutdown(&mut self) {
        self.scan.cancel();
        self.player.stop();
    }
}
