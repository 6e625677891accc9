//! The executor: background services, each started with a sink for what it
//! reports and kept as a handle that can be cancelled; [`Services::run`]
//! turns [`Effect`]s into calls on them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::analyst::{Analyst, AnalystOptions};
use super::effect::Effect;
use super::event::AppEvent;
use super::inspector::Inspector;
use super::tagger::Tagger;
use super::vocab_service::VocabService;
use crate::eval::EvalReport;
use crate::library::tree::{ScanHandle, spawn_scan};
use crate::library::watch::{WatchHandle, spawn_watch};
use crate::player::Player;

/// Where a service sends what it reports; false: nobody listens any more
/// (the service should stop).
pub type Sink = Arc<dyn Fn(AppEvent) -> bool + Send + Sync>;

/// A sink onto a channel.
pub fn channel_sink(tx: crossbeam_channel::Sender<AppEvent>) -> Sink {
    Arc::new(move |e| tx.send(e).is_ok())
}

/// What to start.
pub struct ServiceOptions {
    pub root: PathBuf,
    pub no_audio: bool,
    /// Classify with a model (None: classification off).
    pub analysis: Option<AnalystOptions>,
    /// The evaluation report (None: the chosen model's card).
    pub eval_report: Option<PathBuf>,
}

pub struct Services {
    pub player: Player,
    inspector: Inspector,
    scan: ScanHandle,
    /// Changes other programs make to the library (dropped: not watched).
    _watch: WatchHandle,
    analyst: Option<Analyst>,
    tagger: Tagger,
    root: PathBuf,
    sink: Sink,
    vocab: Option<VocabService>,
}

impl Services {
    /// Start the scan, the library watch, the player, the inspector, the
    /// tagger, classification and the evaluation report's loader; all report
    /// to `sink`.
    pub fn start(opts: ServiceOptions, sink: &Sink) -> Services {
        let scan_sink = Arc::clone(sink);
        let root = opts.root.clone();
        let scan = spawn_scan(opts.root, move |b| scan_sink(AppEvent::Scan(b)));
        let watch_sink = Arc::clone(sink);
        let watch = spawn_watch(root.clone(), move |n| {
            watch_sink(AppEvent::Watch(n));
        });
        let player_sink = Arc::clone(sink);
        let player = Player::start(opts.no_audio, move |e| {
            player_sink(AppEvent::Player(e));
        });
        let model = opts.analysis.as_ref().and_then(|a| a.model.clone());
        let analyst = opts.analysis.map(|a| Analyst::start(a, Arc::clone(sink)));
        load_eval_report(opts.eval_report, model, Arc::clone(sink));
        let vocab = analyst
            .as_ref()
            .map(|a| VocabService::start(root.clone(), a.classifier_slot(), Arc::clone(sink)));
        Services {
            player,
            inspector: Inspector::start(Arc::clone(sink)),
            scan,
            _watch: watch,
            analyst,
            tagger: Tagger::start(Arc::clone(sink)),
            root,
            sink: Arc::clone(sink),
            vocab,
        }
    }

    pub fn run(&mut self, effects: Vec<Effect>) {
        for e in effects {
            self.run_one(e);
        }
    }

    fn run_one(&mut self, e: Effect) {
        match e {
            Effect::Inspect {
                req,
                node,
                path,
                urgent,
            } => self.inspector.request(req, node, path, urgent),
            Effect::Peek { req, node, path } => {
                if let Some(a) = &self.analyst {
                    a.peek(req, node, path);
                }
            }
            Effect::FollowRewrite {
                path,
                before,
                after,
            } => {
                if let Some(a) = &self.analyst {
                    a.follow_rewrite(path, before, after);
                }
            }
            Effect::Classify {
                req,
                path,
                priority,
                ..
            } => {
                if let Some(a) = &self.analyst {
                    a.classify(req, path, priority);
                }
            }
            Effect::ClearFocus => {
                if let Some(a) = &self.analyst {
                    a.clear_focus();
                }
            }
            Effect::CancelJobs => {
                if let Some(a) = &self.analyst {
                    a.cancel();
                }
            }
            Effect::Rescan { auto } => {
                let root = self.root.clone();
                let sink = Arc::clone(&self.sink);
                let _ = std::thread::Builder::new()
                    .name("earmark-rescan".into())
                    .spawn(move || {
                        let rescan = crate::library::tree::Tree::rescan_blocking(root);
                        sink(AppEvent::Rescanned {
                            rescan: Box::new(rescan),
                            auto,
                        });
                    });
            }
            Effect::Play(path) => self.player.load(&path, false),
            Effect::Pause(p) => self.player.set_paused(p),
            Effect::Stop => self.player.stop(),
            Effect::Seek(t) => self.player.seek(t),
            Effect::Volume(v) => {
                self.player.set_volume(v);
            }
            Effect::WriteTags { req, items } => self.tagger.write(req, items),
            Effect::PreviewTags { req, items } => self.tagger.preview(req, items),
            Effect::UndoTags { req, ids } => self.tagger.undo(req, ids),
            Effect::LoadMarks { req, root } => self.tagger.load_marks(req, root),
            Effect::KeepSkip { path, skipped } => self.tagger.keep_skip(path, skipped),
            Effect::FollowMoves(moves) => self.tagger.follow_moves(moves),
            Effect::Vocab { req, request } => {
                if let Some(v) = &self.vocab {
                    v.request(req, request);
                }
            }
            Effect::CancelVocab { req } => {
                if let Some(v) = &self.vocab {
                    v.cancel(req);
                }
            }
        }
    }

    /// Wait for the tag write in progress (after [`Services::cancel`]): a
    /// batch cut short says how far it got, as files done of files asked.
    pub fn finish_writes(&mut self) -> Option<(usize, usize)> {
        self.tagger.finish()
    }

    /// Stop background work (the scan, classification, playback) early.
    pub fn cancel(&self) {
        self.scan.cancel();
        self.inspector.cancel();
        self.tagger.cancel();
        if let Some(a) = &self.analyst {
            a.cancel();
        }
        if let Some(v) = &self.vocab {
            v.cancel_running();
        }
        self.player.stop();
    }
}

/// Read the evaluation report on a thread: `path`, or the chosen model's card.
fn load_eval_report(path: Option<PathBuf>, model: Option<PathBuf>, sink: Sink) {
    let _ = std::thread::Builder::new()
        .name("earmark-eval".into())
        .spawn(move || {
            let report = match (&path, &model) {
                (None, Some(m)) => crate::model::find_card(m)
                    .map_err(|e| e.to_string())
                    .and_then(|c| EvalReport::from_card(&c).map_err(|e| e.to_string())),
                (Some(p), _) => EvalReport::from_file(p).map_err(|e| e.to_string()),
                (None, None) => crate::model::default_card()
                    .map_err(|e| e.to_string())
                    .and_then(|c| EvalReport::from_card(&c).map_err(|e| e.to_string())),
            };
            let bases = eval_bases(path.as_deref());
            sink(AppEvent::EvalReport {
                report: Box::new(report),
                bases,
            });
        });
}

/// Folders a report's relative paths may start from. A report file's are
/// its folder and the one above; a card's clips were named relative to where
/// `eval` ran, the source tree's root (`../shared/gtzan/...`), so the model
/// folder's ancestors and that root are tried, from any working directory.
fn eval_bases(report: Option<&Path>) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    let mut push = |d: &Path| {
        if !d.as_os_str().is_empty() && !out.iter().any(|o| o == d) {
            out.push(d.to_path_buf());
        }
    };
    match report {
        Some(p) => p
            .parent()
            .into_iter()
            .flat_map(|d| d.ancestors().take(2))
            .for_each(&mut push),
        None => {
            if let Some(d) = crate::model::default_model_dir() {
                d.ancestors().take(3).for_each(&mut push);
            }
            push(earmark_engine::repo_root());
        }
    }
    out
}
