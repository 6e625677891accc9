//! The terminal app: `earmark [DIR]` (or `earmark FILE`: its folder, the file selected).
//!
//! One event loop: an input thread and the background services (scan,
//! inspector, player, classification, tagger) all feed one channel; the loop
//! drains everything pending, passes each message through the pure
//! `update(state, msg) -> effects` ([`update`]), hands the effects to the
//! services ([`services`]) and renders once from the state ([`view`]).
//! Nothing redraws while idle except the playback tick (4 Hz while playing).

pub mod action;
pub mod analyst;
pub mod ansi16;
pub mod app;
pub mod components;
pub mod config;
pub mod effect;
pub mod event;
pub mod inspector;
pub mod keymap;
pub mod remembered;
pub mod results;
pub mod services;
pub mod state;
pub mod tagger;
pub mod term;
pub mod theme;
pub mod update;
pub mod view;
pub mod vocab;
pub mod vocab_service;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crossbeam_channel::RecvTimeoutError;

pub use action::Action;
pub use app::{App, AppOptions};
pub use event::AppEvent;
pub use keymap::{Key, KeyMap};
pub use theme::Theme;

/// What `earmark [DIR]` was asked for.
#[derive(Debug, Clone, Default)]
pub struct TuiOptions {
    pub dir: Option<PathBuf>,
    pub theme: Option<String>,
    pub no_audio: bool,
    /// Keep classification results in memory only.
    pub no_cache: bool,
    /// An `earmark eval --json` report for the evaluation view.
    pub eval_report: Option<PathBuf>,
    /// A model folder or .onnx file (None: the default model).
    pub model: Option<PathBuf>,
    /// Classification workers (None: cores − 1).
    pub jobs: Option<usize>,
}

/// The folder to open: DIR, else `demo/` when run from the repository, else `.`.
pub fn default_dir() -> PathBuf {
    let demo = Path::new("demo");
    if demo.join("CREDITS").is_file() {
        demo.to_path_buf()
    } else {
        PathBuf::from(".")
    }
}

/// Run the app until the user quits.
pub fn run(opts: TuiOptions) -> ExitCode {
    match run_inner(opts) {
        Ok(()) => match event::QUIT_BY_SIGNAL.load(std::sync::atomic::Ordering::Relaxed) {
            0 => ExitCode::SUCCESS,
            signal => ExitCode::from(u8::try_from(128 + signal).unwrap_or(1)),
        },
        Err(e) => {
            eprintln!("earmark: {e}");
            ExitCode::from(2)
        }
    }
}

/// The folder to browse, and the file to select in it: `earmark song.ogg`
/// opens the song's folder with the song selected.
fn folder_to_open(dir: PathBuf) -> anyhow::Result<(PathBuf, Option<PathBuf>)> {
    match std::fs::metadata(&dir) {
        Ok(m) if m.is_dir() => Ok((dir, None)),
        Ok(m) if m.is_file() && crate::audio::is_audio_path(&dir) => {
            let select = dir.file_name().map(PathBuf::from);
            let folder = match dir.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            };
            Ok((folder, select))
        }
        Ok(_) => anyhow::bail!(
            "{}: not a folder or an audio file (give a folder of music, or no argument)",
            dir.display()
        ),
        Err(e) => {
            // `earmark --no-audio genres`: a word with no path in it was
            // likely meant as a command (a first argument is said before
            // clap, by the same words)
            match dir.to_str().and_then(crate::cli::not_a_command) {
                Some(why) if e.kind() == std::io::ErrorKind::NotFound => anyhow::bail!("{why}"),
                _ => anyhow::bail!("{}: {}", dir.display(), crate::library::io_reason(&e)),
            }
        }
    }
}

/// A terminal that reports no size (0×0: `docker exec` before its resize,
/// a serial line) showed a blank screen that keys still drove blind: wait a
/// second for a size to come, then say how to give one.
fn wait_for_a_size() -> anyhow::Result<()> {
    let sized = || crossterm::terminal::size().is_ok_and(|(w, h)| w > 0 && h > 0);
    for _ in 0..20 {
        if sized() {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    anyhow::bail!(
        "the terminal reports no size (0×0; a serial line, a container's terminal before \
         it is sized): give it one, e.g. `stty rows 24 cols 80`, and start again"
    )
}

fn run_inner(opts: TuiOptions) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    let config = config::load()?;
    let theme = match &opts.theme {
        Some(spec) => Theme::load(spec)?,
        None => config.load_theme()?.unwrap_or_else(|| {
            Theme::for_terminal(
                std::env::var_os("TERM").as_deref(),
                std::env::var_os("COLORFGBG").as_deref(),
            )
        }),
    };
    let theme = config.apply_style(theme);
    let theme = if theme::colours_off() {
        theme.without_colours()
    } else {
        theme
    };
    let (dir, select) = folder_to_open(opts.dir.unwrap_or_else(default_dir))?;
    // A mistyped report path, a folder or another file is said now, not
    // after `e` in a running app (the report is read again when opened).
    if let Some(report) = &opts.eval_report
        && let Err(e) = crate::eval::EvalReport::from_file(report)
    {
        anyhow::bail!("--eval-report {e}");
    }
    // A dumb terminal (Emacs' shell, some CI logs) cannot move the cursor:
    // the screen would be escape codes; the commands work there.
    if std::env::var_os("TERM").is_some_and(|t| t == "dumb") {
        anyhow::bail!(
            "TERM=dumb cannot show the terminal app; use a full terminal, or the commands (`earmark classify`, `earmark tag`; see `earmark --help`)"
        );
    }
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "the terminal app needs an interactive terminal; for scripts use the commands (`earmark classify`, `earmark tag`, `earmark info`; see `earmark --help`)"
        );
    }
    wait_for_a_size()?;
    let label = dir.display().to_string();
    let (tx, rx) = crossbeam_channel::unbounded();
    let remembered = remembered::load();
    // the last session's place in this library, unless a file was named
    let library = std::fs::canonicalize(&dir).unwrap_or_else(|_| dir.clone());
    let select = select.or_else(|| remembered.place_in(&library));
    // The audio device opens here, before the alternate screen, with stderr muted.
    let mut app = App::new(
        AppOptions {
            root: dir,
            root_label: label,
            theme,
            keymap: config.keymap,
            no_audio: opts.no_audio,
            config_found: config.path.is_some(),
            config_path: config.path.or_else(config::config_path),
            analysis: Some(analyst::AnalystOptions {
                model: opts.model,
                no_cache: opts.no_cache,
                workers: opts.jobs.unwrap_or(0),
                ..Default::default()
            }),
            eval_report: opts.eval_report,
            genre_mode: crate::tags::GenreMode::Replace,
            warnings: config.warnings.iter().map(ToString::to_string).collect(),
            auto_advance: config.auto_advance.unwrap_or(true),
            advance_after_tag: config.advance_after_tag.unwrap_or(true),
            select,
            volume: remembered.volume,
            show_gtzan: remembered.gtzan_pane == Some(true),
        },
        tx.clone(),
    );
    // what the session started with: kept only if changed (an app whose
    // volume nobody touched writes no file)
    let started = remembered::Remembered {
        volume: Some(app.player_view().volume),
        gtzan_pane: remembered.gtzan_pane,
        places: remembered.places.clone(),
    };
    let mut session = term::Session::enter(config.mouse.unwrap_or(true))?;
    event::spawn_signals(services::channel_sink(tx.clone()));
    event::spawn_hangup_watch(services::channel_sink(tx.clone()));
    event::spawn_input(services::channel_sink(tx));
    run_loop(&mut app, &mut session, &rx)?;
    app.shutdown();
    drop(session);
    app.finish_writes();
    let mut now = remembered::Remembered {
        volume: Some(app.player_view().volume),
        // kept once `y` was pressed (a session that never showed a learned
        // head leaves the choice as it was)
        gtzan_pane: match (remembered.gtzan_pane, app.state().vocab.show_gtzan) {
            (None, false) => None,
            (_, shown) => Some(shown),
        },
        places: remembered.places.clone(),
    };
    if let Some(id) = app.browser().selected() {
        now.set_place(&library, &app.tree().rel_path(id));
    }
    remembered::save(&now, &started);
    Ok(())
}

/// Draw, then answer events until the app quits (or its channel closes).
fn run_loop(
    app: &mut App,
    session: &mut term::Session,
    rx: &crossbeam_channel::Receiver<AppEvent>,
) -> anyhow::Result<()> {
    session.terminal.draw(|f| app.draw(f))?;
    app.take_dirty();
    loop {
        let first = match app.tick_timeout() {
            Some(wait) => match rx.recv_timeout(wait) {
                Ok(ev) => Some(ev),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => return Ok(()),
            },
            None => match rx.recv() {
                Ok(ev) => Some(ev),
                Err(_) => return Ok(()),
            },
        };
        match first {
            Some(ev) => app.handle_event(ev),
            None => app.tick(),
        }
        while let Ok(ev) = rx.try_recv() {
            app.handle_event(ev);
        }
        if app.tick_timeout().is_some_and(|w| w.is_zero()) {
            app.tick();
        }
        if app.should_quit() {
            return Ok(());
        }
        if app.take_suspend() {
            if !session.suspend()? {
                app.could_not_suspend();
            }
            session.terminal.draw(|f| app.draw(f))?;
            app.take_dirty();
        }
        if app.take_redraw_all() {
            session.take_screen_again()?;
            session.terminal.draw(|f| app.draw(f))?;
            app.take_dirty();
        }
        if app.take_dirty() {
            session.terminal.draw(|f| app.draw(f))?;
        }
    }
}
