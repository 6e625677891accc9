//! Input routing: the layer on top takes the key. Layers, top first: help,
//! message log, pop-up, filter, evaluation, browser. Each has its own keys; the browser's
//! and the evaluation view's come from the configurable key map.

use crossterm::event::{Event, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEventKind};

use super::super::action::Action;
use super::super::components::status::Level;
use super::super::components::tagging::{Confirmed, Popup, PopupOutcome};
use super::super::keymap::{self, Key};
use super::super::state::State;
use super::super::tagger::TagItem;
use super::{Effects, actions, selection_changed, tagging};

/// A layer of the screen that can take input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    Help,
    Messages,
    Popup,
    Similar,
    Filter,
    Evaluation,
    Browser,
}

/// The layers open now, top first (the browser is always at the bottom).
pub fn layers(s: &State) -> Vec<Layer> {
    let mut out = Vec::new();
    if s.help.visible {
        out.push(Layer::Help);
    }
    if s.status.log.visible {
        out.push(Layer::Messages);
    }
    if s.popup.is_some() {
        out.push(Layer::Popup);
    }
    if s.similar.is_some() {
        out.push(Layer::Similar);
    }
    if s.browser.filter_focused && !s.eval.visible {
        out.push(Layer::Filter);
    }
    if s.eval.visible {
        out.push(Layer::Evaluation);
    }
    out.push(Layer::Browser);
    out
}

pub fn on_input(s: &mut State, fx: &mut Effects, ev: Event) {
    match ev {
        Event::Key(k) if k.kind != KeyEventKind::Release => on_key(s, fx, k),
        Event::Mouse(m) => on_mouse(s, fx, m),
        Event::Paste(text) if !s.too_small.get() => {
            if let Some(p) = &mut s.popup {
                p.paste(&text);
            } else if s.browser.filter_focused {
                s.browser.paste(&s.tree, &text);
                selection_changed(s, fx);
            }
        }
        _ => {}
    }
}

fn on_key(s: &mut State, fx: &mut Effects, k: KeyEvent) {
    let key = Key::from(k);
    if key == Key::ctrl('c') {
        s.quit = true;
        return;
    }
    // A control key bound to suspending works in every layer, as in a
    // shell: a prompt that swallowed Ctrl-Z took the `fg` typed next as its
    // text, and Enter wrote it as a genre. (A plain key bound to it would
    // be text there.)
    if key.mods.contains(KeyModifiers::CONTROL) && s.keymap.action(key) == Some(Action::Suspend) {
        s.suspend = true;
        return;
    }
    if s.too_small.get() {
        // Nothing is on screen to act on: a digit or `a` there tagged a
        // file nobody could see (the notice names the quit key).
        if let Some(a @ (Action::Quit | Action::Suspend | Action::Redraw)) = s.keymap.action(key) {
            actions::apply(s, fx, a);
        }
        return;
    }
    match layers(s)[0] {
        Layer::Help => {
            // Arrows scroll a help that does not fit; any other key closes it.
            let lines = keymap::help_scroll(key);
            if lines == 0 || !s.help.scroll_by(lines) {
                s.help.close();
            }
        }
        Layer::Messages => {
            // As in the help: arrows scroll a log that does not fit; any other key closes it.
            let lines = keymap::help_scroll(key);
            if lines == 0 || !s.status.log.scroll_by(lines) {
                s.status.log.close();
            }
        }
        Layer::Popup => on_popup_key(s, fx, k),
        Layer::Similar => super::vocab::on_similar_key(s, fx, k),
        Layer::Filter => match keymap::filter_action(key) {
            Some(keymap::FilterKey::Act(a)) => actions::apply(s, fx, a),
            Some(keymap::FilterKey::Leave) => s.browser.filter_focused = false,
            None => {
                if s.browser.filter_input(&s.tree, k) {
                    selection_changed(s, fx);
                }
            }
        },
        Layer::Evaluation | Layer::Browser => {
            if let Some(action) = s.keymap.action(key) {
                if !matches!(action, Action::Help | Action::Messages | Action::Redraw) {
                    s.status.clear();
                }
                actions::apply(s, fx, action);
            }
        }
    }
}

fn on_popup_key(s: &mut State, fx: &mut Effects, mut k: KeyEvent) {
    let Some(popup) = &mut s.popup else { return };
    // the lists (not the text prompts) move with the browser's keys as bound
    if let Some(own) = popup.list_keys() {
        k = s.keymap.in_list(k, own);
    }
    match popup.on_key(k) {
        PopupOutcome::Open => {}
        PopupOutcome::Close => {
            // a question answered no: say that nothing changed
            if let Some(Popup::Confirm { then, .. }) = s.popup.take() {
                let kept = match then {
                    Confirmed::ClearGenre(_) => "genre tag kept",
                    Confirmed::Undo => "nothing undone",
                };
                s.status.set(kept, Level::Info);
            }
        }
        PopupOutcome::Edit(nodes) => tagging::edit(s, nodes),
        PopupOutcome::Write(nodes, genres) => {
            // a typed genre the writer would refuse ("17", a control
            // character) keeps the editor open to mend it: it closed and
            // marked the file ✗
            if let (Some(Popup::Editor { .. }), Err(why)) =
                (&s.popup, crate::tags::clean_genres(&genres))
            {
                s.status.set(
                    format!("not written: {why} (edit it, or esc)"),
                    Level::Error,
                );
                return;
            }
            s.popup = None;
            tagging::write_genres(s, fx, nodes, genres);
        }
        PopupOutcome::WriteBatch(rows) => {
            let items = rows
                .into_iter()
                .map(|r| TagItem {
                    node: r.node,
                    path: r.path,
                    change: r.change,
                    decided_on: r.decided_on,
                })
                .collect();
            tagging::send_writes(s, fx, items);
            s.popup = None;
            // the marks were for this batch (as yazi's selection is for one
            // operation): left on, they would be the next `c` or `A`'s target
            s.browser.clear_marks();
        }
        PopupOutcome::AskClear(nodes) => tagging::ask_clear(s, nodes),
        PopupOutcome::Confirmed(what) => {
            s.popup = None;
            match what {
                Confirmed::ClearGenre(nodes) => tagging::clear_genre(s, fx, nodes),
                Confirmed::Undo => tagging::undo_now(s, fx),
            }
        }
        PopupOutcome::Seek(text) => {
            s.popup = None;
            actions::seek_typed(s, fx, &text);
        }
    }
}

fn on_mouse(s: &mut State, fx: &mut Effects, m: crossterm::event::MouseEvent) {
    if s.too_small.get() {
        return;
    }
    match m.kind {
        MouseEventKind::Down(MouseButton::Left) => match layers(s)[0] {
            Layer::Help => s.help.close(),
            Layer::Messages => s.status.log.close(),
            Layer::Popup | Layer::Similar => {}
            Layer::Evaluation => {
                if let Some((r, c)) = s.eval.cell_at(m.column, m.row) {
                    s.eval.select_cell(r, c);
                } else if let Some(f) = s.player_bar.fraction_at(m.column, m.row) {
                    actions::apply(s, fx, Action::SeekToPermille((f * 1000.0).round() as u16));
                }
            }
            Layer::Filter | Layer::Browser => {
                if let Some(i) = s.browser.row_at(m.column, m.row) {
                    let a = if i == s.browser.cursor() {
                        Action::Activate
                    } else {
                        Action::SelectRow(i)
                    };
                    actions::apply(s, fx, a);
                } else if let Some(f) = s.player_bar.fraction_at(m.column, m.row) {
                    actions::apply(s, fx, Action::SeekToPermille((f * 1000.0).round() as u16));
                }
            }
        },
        MouseEventKind::ScrollDown => actions::apply(s, fx, Action::Scroll(3)),
        MouseEventKind::ScrollUp => actions::apply(s, fx, Action::Scroll(-3)),
        _ => {}
    }
}
