//! Accepting suggestions, the genre pop-ups, writes and undo, and what the
//! tagger reports back.

use super::super::action::Action;
use super::super::components::status::Level;
use super::super::components::tagging::Popup;
use super::super::effect::{Effect, ReqId, Work};
use super::super::state::State;
use super::super::tagger::{TagEvent, TagItem};
use super::actions::{focused_file, selection_files};
use super::{Effects, reinspect};
use crate::library::tree::NodeId;
use crate::tags::GenreChange;

pub fn on_tag(s: &mut State, fx: &mut Effects, req: ReqId, event: TagEvent) {
    match event {
        TagEvent::Written { node, result } => {
            if let Some(Work::Write { left }) = s.inflight.get_mut(req)
                && let Some(i) = left.iter().position(|&n| n == node)
            {
                left.swap_remove(i);
            }
            match result {
                Ok(applied) => written(s, fx, node, &applied),
                Err(e) => {
                    s.results.entry(node).write_error = Some(e.reason.clone());
                    s.status.set(format!("not written: {e}"), Level::Error);
                }
            }
        }
        TagEvent::WriteDone { total } => {
            s.inflight.finish(req);
            if total > 1 {
                let failed = s
                    .results
                    .iter()
                    .filter(|(_, f)| f.write_error.is_some())
                    .count();
                let undo = s.keymap.hint(Action::Undo).unwrap_or_default();
                let failed = if failed > 0 {
                    format!(" ({failed} failed: marked ✗)")
                } else {
                    String::new()
                };
                s.status.set(
                    format!("wrote {total} files{failed} · {undo} undoes the batch"),
                    Level::Info,
                );
            }
        }
        TagEvent::Previewed(rows) => {
            s.inflight.finish(req);
            if let Some(Popup::Batch { rows: slot, .. }) = &mut s.popup {
                *slot = Some(rows);
            }
        }
        TagEvent::Undone(list) => {
            s.inflight.finish(req);
            undone(s, fx, list);
        }
        TagEvent::Warning(w) => s.status.set(w, Level::Error),
    }
}

fn written(s: &mut State, fx: &mut Effects, node: NodeId, applied: &crate::tags::apply::Applied) {
    let path = s.tree.path(node);
    let f = s.results.entry(node);
    f.write_error = None;
    f.skipped = false;
    f.written = Some(applied.report.new.clone());
    let classified = f.result.as_deref().cloned();
    if applied.report.changed {
        let abs = std::path::absolute(&path).unwrap_or(path.clone());
        s.written_paths.insert(abs, node);
        // Same audio, new size and mtime: keep the result cached.
        if let Some(c) = classified {
            fx.push(Effect::Remember {
                path,
                classified: Box::new(c),
            });
        }
    }
    reinspect(s, fx, node);
    let old = crate::tags::write::show(&applied.report.old);
    let new = crate::tags::write::show(&applied.report.new);
    let name = s.tree.node(node).label().into_owned();
    let undo = s.keymap.hint(Action::Undo).unwrap_or_default();
    let msg = if applied.report.changed {
        format!("{name}: genre {old} → {new} · {undo} undoes")
    } else {
        format!("{name} already has genre {new}")
    };
    s.status.set(msg, Level::Info);
    if applied.report.changed {
        super::vocab::after_write(s);
    }
}

fn undone(
    s: &mut State,
    fx: &mut Effects,
    list: Vec<Result<(std::path::PathBuf, Vec<String>), String>>,
) {
    if list.is_empty() {
        s.status.set("nothing to undo", Level::Info);
        return;
    }
    let mut ok = 0;
    let mut errors = Vec::new();
    for r in list {
        match r {
            Ok((path, _now)) => {
                ok += 1;
                if let Some(id) = s.node_for_path(&path) {
                    let f = s.results.entry(id);
                    f.written = None;
                    f.write_error = None;
                    if let Some(c) = f.result.as_deref().cloned() {
                        fx.push(Effect::Remember {
                            path: s.tree.path(id),
                            classified: Box::new(c),
                        });
                    }
                    reinspect(s, fx, id);
                }
            }
            Err(e) => errors.push(e),
        }
    }
    match errors.first() {
        Some(e) => s.status.set(
            format!("undid {ok}; {} failed: {e}", errors.len()),
            Level::Error,
        ),
        None => s.status.set(
            format!("undid {ok} tag write{}", if ok == 1 { "" } else { "s" }),
            Level::Info,
        ),
    }
}

pub fn undo(s: &mut State, fx: &mut Effects) {
    let req = s.inflight.start(Work::Undo);
    fx.push(Effect::UndoTags { req });
    s.status.set("undoing the last tag write…", Level::Info);
}

/// The genres a file has now, as text for the editor.
pub fn current_genre(s: &State, id: NodeId) -> String {
    if let Some(w) = s.results.get(id).and_then(|f| f.written.as_ref()) {
        return crate::tags::join_genres(w);
    }
    s.tree
        .node(id)
        .inspection()
        .and_then(|i| i.tags.as_ref().ok())
        .map(|t| crate::tags::join_genres(&t.genres))
        .unwrap_or_default()
}

/// The suggestion for a file: its top genre and confidence (in your genres
/// when a learned head is in use: nothing when it is unsure).
fn suggestion(s: &State, id: NodeId) -> Option<(String, f32)> {
    if let Some(mine) = super::vocab::mine_suggestion(s, id) {
        return mine;
    }
    let r = s.results.result(id)?;
    let (label, p) = *r.prediction.top(1).first()?;
    Some((crate::tags::genre_tag_name(label), p))
}

pub fn accept_focused(s: &mut State, fx: &mut Effects) {
    let Some(id) = focused_file(s) else {
        return;
    };
    match (suggestion(s, id), super::vocab::unsure_line(s, id)) {
        (Some((genre, _)), _) => write_tags(s, fx, vec![(id, vec![genre])]),
        (None, Some(unsure)) => s.status.set(unsure, Level::Info),
        (None, None) => {
            let key = s.keymap.hint(Action::Classify).unwrap_or_default();
            s.status.set(
                format!("no suggestion yet for this file ({key} classifies)"),
                Level::Info,
            );
        }
    }
}

pub fn open_picker(s: &mut State) {
    let Some(id) = focused_file(s) else {
        return;
    };
    let mut items: Vec<(String, Option<f32>)> = Vec::new();
    if let Some(mine) = super::vocab::picker_items(s, id) {
        items = mine;
    } else if let Some(r) = s.results.result(id) {
        for (label, p) in r.prediction.top(r.prediction.labels.len()) {
            items.push((crate::tags::genre_tag_name(label), Some(p)));
        }
    } else if let Some(labels) = s.results.labels() {
        items.extend(
            labels
                .iter()
                .map(|l| (crate::tags::genre_tag_name(l), None)),
        );
    }
    s.popup = Some(Popup::Picker {
        node: id,
        items,
        cursor: 0,
    });
}

pub fn open_editor(s: &mut State) {
    if let Some(id) = focused_file(s) {
        let current = current_genre(s, id);
        s.popup = Some(Popup::editor(id, &current));
    }
}

pub fn open_batch(s: &mut State, fx: &mut Effects) {
    let (files, what) = selection_files(s);
    if files.is_empty() {
        s.status.set("nothing selected to accept", Level::Info);
        return;
    }
    let mut items = Vec::new();
    let mut unclassified = 0;
    for id in files {
        match suggestion(s, id) {
            Some((genre, p)) => items.push((
                TagItem {
                    node: id,
                    path: s.tree.path(id),
                    change: change(s, vec![genre]),
                },
                p,
            )),
            None => unclassified += 1,
        }
    }
    if items.is_empty() {
        let key = s.keymap.hint(Action::Classify).unwrap_or_default();
        s.status.set(
            format!("{what}: nothing classified yet ({key} classifies)"),
            Level::Info,
        );
        return;
    }
    let req = s.inflight.start(Work::PreviewTags);
    fx.push(Effect::PreviewTags { req, items });
    s.popup = Some(Popup::Batch {
        rows: None,
        unclassified,
        threshold: s.threshold,
        offset: 0,
    });
}

fn change(s: &State, genres: Vec<String>) -> GenreChange {
    GenreChange {
        genres,
        mode: s.genre_mode,
    }
}

/// Write genres to files, off the UI thread, as one undoable batch.
pub fn write_tags(s: &mut State, fx: &mut Effects, items: Vec<(NodeId, Vec<String>)>) {
    let items = items
        .into_iter()
        .map(|(node, genres)| TagItem {
            node,
            path: s.tree.path(node),
            change: change(s, genres),
        })
        .collect();
    send_writes(s, fx, items);
}

pub fn send_writes(s: &mut State, fx: &mut Effects, items: Vec<TagItem>) {
    if items.is_empty() {
        return;
    }
    for i in &items {
        s.results.entry(i.node).write_error = None;
    }
    if let Some(Popup::Batch { threshold, .. }) = &s.popup {
        s.threshold = *threshold;
    }
    let req = s.inflight.start(Work::Write {
        left: items.iter().map(|i| i.node).collect(),
    });
    fx.push(Effect::WriteTags { req, items });
}
