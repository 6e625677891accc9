//! The running app: the [`State`], the [`Services`] that do its work, and
//! the loop step that joins them — a message goes through
//! [`update`](super::update::update), the effects it returns go to the
//! services, and a frame is drawn from the state. This type does no terminal
//! I/O, so tests and benches drive it with a `TestBackend`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use ratatui::Frame;

use super::action::Action;
use super::analyst::{Analysed, AnalystOptions, ModelInfo};
use super::components::PlayState;
use super::components::PlayerView;
use super::components::browser::Browser;
use super::components::evaluation::EvalView;
use super::event::AppEvent;
use super::keymap::KeyMap;
use super::results::{ModelStatus, Results};
use super::services::{ServiceOptions, Services, channel_sink};
use super::state::{Setup, State};
use super::theme::Theme;
use crate::library::tree::{NodeId, Tree};
use crate::tags::GenreMode;

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
    /// Whether the config file was found (else `config_path` is where one would be read).
    pub config_found: bool,
    /// Classify with a model (None: classification off, as in most tests).
    pub analysis: Option<AnalystOptions>,
    /// The evaluation report to show (None: the one in the chosen model's card).
    pub eval_report: Option<PathBuf>,
    /// Replace the file's genres or add to them when accepting.
    pub genre_mode: GenreMode,
    /// Shown in the status line at start (config problems that did not stop it).
    pub warnings: Vec<String>,
    /// Play the next file in the listing when a track ends.
    pub auto_advance: bool,
    /// A genre written to the selected file moves the cursor to the next.
    pub advance_after_tag: bool,
    /// A file of the root to select once the scan finds it (`earmark song.ogg`).
    /// (a path relative to `root`: the last session's place, or `earmark song.ogg`'s name)
    pub select: Option<PathBuf>,
    /// The volume to start at (the last session's; None: the player's default).
    pub volume: Option<f32>,
    /// The Genre pane shows GTZAN's genres where yours are learned too (the
    /// last session's `y`).
    pub show_gtzan: bool,
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
            config_found: false,
            analysis: None,
            eval_report: None,
            genre_mode: GenreMode::Replace,
            warnings: Vec::new(),
            auto_advance: true,
            advance_after_tag: true,
            select: None,
            volume: None,
            show_gtzan: false,
        }
    }
}

pub struct App {
    state: State,
    services: Services,
    last_tick: Instant,
}

impl App {
    /// Start the services; what they report (and the terminal's input, fed
    /// by the caller) arrives on `tx`'s channel.
    pub fn new(opts: AppOptions, tx: Sender<AppEvent>) -> App {
        let sink = channel_sink(tx);
        // The audio device opens here, before the alternate screen, with stderr muted.
        let mut services = Services::start(
            ServiceOptions {
                root: opts.root.clone(),
                no_audio: opts.no_audio,
                analysis: opts.analysis.clone(),
                eval_report: opts.eval_report,
            },
            &sink,
        );
        if let Some(v) = opts.volume {
            services.player.set_volume(v);
        }
        let mut state = State::new(Setup {
            root: opts.root,
            root_label: opts.root_label,
            theme: opts.theme,
            keymap: opts.keymap,
            config_path: opts.config_path,
            config_found: opts.config_found,
            classify: opts.analysis.is_some(),
            genre_mode: opts.genre_mode,
            output: services.player.output().clone(),
            volume: services.player.volume(),
            warnings: opts.warnings,
            auto_advance: opts.auto_advance,
            advance_after_tag: opts.advance_after_tag,
        });
        state.select_on_scan = opts.select;
        state.vocab.show_gtzan = opts.show_gtzan;
        services.run(super::update::start(&mut state));
        App {
            state,
            services,
            last_tick: Instant::now(),
        }
    }

    /// The state, read-only.
    pub fn state(&self) -> &State {
        &self.state
    }

    pub fn results(&self) -> &Results {
        &self.state.results
    }

    pub fn eval_view(&self) -> &EvalView {
        &self.state.eval
    }

    pub fn popup_open(&self) -> bool {
        self.state.popup.is_some()
    }

    /// Show `analysed` for `id` as if a job had produced it (tests, demos).
    pub fn inject_analysis(&mut self, id: NodeId, analysed: Analysed) {
        if let Some(s) = analysed.spectrogram {
            self.state.results.set_spectrogram(id, s);
        }
        self.state.results.set_result(id, analysed.classified);
        self.state.dirty = true;
    }

    /// Pretend the model is ready with these labels (tests).
    pub fn set_model_ready(&mut self, info: ModelInfo) {
        self.state.results.model = ModelStatus::Ready(info);
        self.state.dirty = true;
    }

    /// Pretend this head was learned for the library (tests).
    pub fn set_vocab_head(&mut self, head: crate::vocab::Head) {
        self.state.vocab.head = Some(std::sync::Arc::new(head));
        self.state.dirty = true;
    }

    pub fn tree(&self) -> &Tree {
        &self.state.tree
    }

    pub fn browser(&self) -> &Browser {
        &self.state.browser
    }

    pub fn player_view(&self) -> &PlayerView {
        &self.state.player
    }

    pub fn status_message(&self) -> Option<&str> {
        self.state.status.message()
    }

    pub fn help_visible(&self) -> bool {
        self.state.help.visible
    }

    pub fn should_quit(&self) -> bool {
        self.state.quit
    }

    /// Ctrl-Z was pressed (once per press).
    pub fn take_suspend(&mut self) -> bool {
        std::mem::take(&mut self.state.suspend)
    }

    /// Ctrl-L was pressed, or the app was continued after a stop: the
    /// screen is to be taken again and drawn whole.
    pub fn take_redraw_all(&mut self) -> bool {
        std::mem::take(&mut self.state.redraw_all)
    }

    /// Ctrl-Z did not stop the app: whatever started it manages no jobs.
    pub fn could_not_suspend(&mut self) {
        self.state.status.set(
            "cannot suspend: earmark was not started from a shell with job control",
            super::components::status::Level::Info,
        );
        self.state.dirty = true;
    }

    /// Whether anything changed since the last frame (and forget it).
    pub fn take_dirty(&mut self) -> bool {
        std::mem::take(&mut self.state.dirty)
    }

    /// Nothing is pending: the scan is done and every request is answered.
    pub fn is_idle(&self) -> bool {
        self.state.is_idle()
    }

    /// How long the loop may sleep before a playback tick is due (None: no ticks).
    pub fn tick_timeout(&self) -> Option<Duration> {
        (self.state.player.state == PlayState::Playing)
            .then(|| TICK.saturating_sub(self.last_tick.elapsed()))
    }

    /// A playback tick: redraw to move the gauge.
    pub fn tick(&mut self) {
        self.last_tick = Instant::now();
        if self.state.player.state == PlayState::Playing {
            self.state.dirty = true;
        }
    }

    /// Apply events until the app is idle (scan done, requests answered) or
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

    /// One message through update; its effects to the services.
    pub fn handle_event(&mut self, ev: AppEvent) {
        if matches!(ev, AppEvent::Input(_) | AppEvent::Action(_)) {
            // Seeks start from where the player is now.
            self.sync_position();
        }
        let effects = super::update::update(&mut self.state, ev);
        self.services.run(effects);
    }

    /// Do one action (tests, benches).
    pub fn apply(&mut self, action: Action) {
        self.handle_event(AppEvent::Action(action));
    }

    fn sync_position(&mut self) {
        if let Some(p) = self.services.player.position() {
            let effects = super::update::update(&mut self.state, AppEvent::Position(p));
            self.services.run(effects);
        }
    }

    /// Draw one frame from the state, then let the state ask for what the
    /// frame showed (inspections, cache lookups).
    pub fn draw(&mut self, frame: &mut Frame) {
        self.sync_position();
        super::view::draw(&self.state, frame);
        let effects = super::update::update(&mut self.state, AppEvent::Drawn);
        self.services.run(effects);
    }

    /// Stop background work (the scan, classification, playback) early.
    pub fn shutdown(&mut self) {
        self.services.cancel();
    }

    /// After [`App::shutdown`], with the terminal restored: let the file
    /// being written finish (never a process that exits half way through a
    /// write), and say on stderr where a batch stopped.
    pub fn finish_writes(&mut self) {
        if self.state.inflight.writing() > 0 {
            eprintln!("earmark: finishing the tag write in progress…");
        }
        if let Some((done, asked)) = self.services.finish_writes()
            && done < asked
        {
            eprintln!(
                "earmark: quit during a tag write: stopped after {done} of {asked} files, the rest \
                 unchanged; `earmark tag undo --last` takes the written ones back"
            );
        }
    }
}
