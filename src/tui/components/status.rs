//! The status line: a message or the scan's progress on the left; silent
//! mode and key hints on the right.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

use super::messages::MessageLog;
use super::{Component, Ctx, PlayState, count};
use crate::library::tree::ROOT;
use crate::player::OutputStatus;
use crate::text::fit_width;
use crate::tui::action::Action;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Error,
}

#[derive(Debug, Default)]
pub struct StatusLine {
    message: Option<(String, Level)>,
    /// The message announces a classification run ("queued 3 files…"):
    /// when the run ends, its outcome replaces it instead of going stale.
    about_run: bool,
    /// A run was announced and has not ended: its outcome goes in the log even
    /// when another message took the line. (Files classified on their own, as
    /// the cursor passes, are not announced, and their outcome is not news.)
    run_announced: bool,
    /// Every message of the session, in full (the line cuts them).
    pub log: MessageLog,
}

impl StatusLine {
    pub fn set(&mut self, text: impl Into<String>, level: Level) {
        let text = text.into();
        self.log.push(&text, level);
        self.message = Some((text, level));
        self.about_run = false;
    }

    /// Show `text` without logging it: a summary of lines the log holds
    /// one by one ("… (and 2 more: ! shows them)" read oddly there).
    pub fn show_unlogged(&mut self, text: impl Into<String>, level: Level) {
        self.message = Some((text.into(), level));
        self.about_run = false;
    }

    /// News that does not take the line from an error (an undo's failure
    /// stays in view when the file it names is read again); logged either way.
    pub fn note(&mut self, text: impl Into<String>) {
        if matches!(self.message, Some((_, Level::Error))) {
            self.log.push(&text.into(), Level::Info);
        } else {
            self.set(text, Level::Info);
        }
    }

    /// News nobody asked for (the folder changed): it takes the line only
    /// from another piece of news, never from an error or from a run's
    /// announcement, whose outcome is to replace it; logged either way.
    pub fn news(&mut self, text: impl Into<String>) {
        if self.about_run || matches!(self.message, Some((_, Level::Error))) {
            self.log.push(&text.into(), Level::Info);
        } else {
            self.set(text, Level::Info);
        }
    }

    /// A step of something announced already ("embeddings 44/50"): shown,
    /// not logged, so the log keeps the announcement and the outcome only.
    pub fn progress(&mut self, text: impl Into<String>) {
        self.message = Some((text.into(), Level::Info));
        self.about_run = false;
    }

    /// A message about the classification run just started.
    pub fn set_run(&mut self, text: impl Into<String>) {
        self.set(text, Level::Info);
        self.about_run = true;
        self.run_announced = true;
    }

    /// The run ended: its outcome replaces the message that announced it
    /// (any other message, an error say, stays).
    pub fn run_ended(&mut self, outcome: impl Into<String>) {
        if self.about_run {
            self.set(outcome, Level::Info);
        } else if self.run_announced {
            self.log.push(&outcome.into(), Level::Info);
        }
        self.run_announced = false;
    }

    /// The run was cancelled: the cancel's own message says how it ended.
    pub fn run_cancelled(&mut self, text: impl Into<String>) {
        self.set(text, Level::Info);
        self.run_announced = false;
    }

    pub fn clear(&mut self) {
        self.message = None;
        self.about_run = false;
    }

    pub fn message(&self) -> Option<&str> {
        self.message.as_ref().map(|(m, _)| m.as_str())
    }

    fn summary(ctx: &Ctx) -> String {
        let p = ctx.tree.progress();
        let root = ctx.tree.node(ROOT).dir();
        let bad = root.map_or(0, |d| d.bad);
        // Files are inspected as they come on screen: the count can grow.
        let so_far = if root.is_some_and(|d| d.checked < d.audio) {
            " so far"
        } else {
            ""
        };
        if !p.done {
            return format!("scanning… {}", files_in(p.files, p.dirs));
        }
        let mut s = files_in(p.files, p.dirs);
        if p.errors > 0 {
            s.push_str(&format!(" · {} unreadable", count(p.errors)));
        }
        if bad > 0 {
            s.push_str(&format!(" · {} bad{so_far}", count(u64::from(bad))));
        }
        s
    }
}

impl StatusLine {
    /// "classifying 3 of 20 ▰▰▱▱▱▱ · C cancels · hell.wav, desert.ogg", or writes in flight.
    fn jobs(ctx: &Ctx, width: usize) -> Option<String> {
        let j = ctx.jobs;
        let mut parts = Vec::new();
        if j.total > j.done {
            let n = if width >= 100 { 10 } else { 5 };
            let filled = (j.done as usize * n) / j.total.max(1) as usize;
            let bar: String = "▰".repeat(filled) + &"▱".repeat(n - filled);
            // "of": "324/2 324" read as a fraction of 2
            let mut s = format!("classifying {} of {} {bar}", count(j.done), count(j.total));
            // The cancel key before the names: when the line is cut at 80
            // columns, names go, the way out stays.
            if let Some(k) = ctx.keymap.hint(Action::CancelJobs) {
                s.push_str(&format!(" · {k} cancels"));
            }
            let names: Vec<String> = j
                .running
                .iter()
                .filter_map(|&id| ctx.tree.get(id).map(|n| n.label().into_owned()))
                .collect();
            // Set apart from the key: `C` cancels the run, not these files.
            if !names.is_empty() {
                s.push_str(" · ");
                s.push_str(&names.join(", "));
            }
            parts.push(s);
        }
        if j.writing > 0 {
            parts.push(format!("writing tags ({})", j.writing));
        }
        (!parts.is_empty()).then(|| parts.join(" · "))
    }
}

impl Component for StatusLine {
    fn draw(&self, frame: &mut Frame, area: Rect, ctx: &Ctx) {
        let t = ctx.theme;
        let width = usize::from(area.width);
        let (left, left_style) = match &self.message {
            Some((m, Level::Error)) => (m.clone(), t.status_error),
            Some((m, Level::Info)) => (m.clone(), t.status),
            None => (Self::summary(ctx), t.status),
        };
        // Background work first: it is what changes.
        let jobs = Self::jobs(ctx, width);
        let left = match (&jobs, &self.message) {
            (Some(j), Some(_)) => format!("{j} · {left}"),
            (Some(j), None) => j.clone(),
            (None, _) => left,
        };
        let key_style = t.status.add_modifier(ratatui::style::Modifier::BOLD);
        let silent = matches!(ctx.player.output, OutputStatus::Silent { .. });
        // The evaluation view has no filter: Esc leads back instead.
        let third = if ctx.in_eval {
            (Action::ClearFilter, "back")
        } else {
            (Action::Filter, "filter")
        };
        // What the key does now: a track playing is paused by it.
        let play = if ctx.player.state == PlayState::Playing {
            "pause"
        } else {
            "play"
        };
        let hints: Vec<(String, &str)> = if ctx.popup_open {
            // the pop-up has the keys (its own line says which): space and
            // / would not play or filter
            vec![("esc".into(), "closes")]
        } else if ctx.typing_filter {
            // (keys type into the filter now: q and space are letters)
            vec![("enter".into(), "keeps"), ("esc".into(), "clears")]
        } else {
            [
                (Action::Help, "help"),
                (Action::Quit, "quit"),
                third,
                (Action::PlayPause, play),
            ]
            .iter()
            .filter_map(|&(a, w)| ctx.keymap.hint(a).map(|k| (k, w)))
            .collect()
        };
        let hint_len = |h: &(String, &str)| h.0.width() + h.1.width() + 2;
        // A message is what the user needs now: beside one only the help hint
        // is sure of its place (the player's title says silent too, and quit is
        // in the help); without one, the silent badge and help and quit always
        // show. More hints only where the message leaves room.
        let message = self.message.is_some();
        let help_len = hints.first().map_or(0, hint_len);
        let show_silent = silent && (!message || left.width() + help_len + 8 + 3 <= width);
        let mut right_len = 1 + if show_silent { 8 } else { 0 };
        let mut shown = 0;
        for (i, h) in hints.iter().enumerate() {
            let essential = i < if message { 1 } else { 2 };
            let room = width.saturating_sub(right_len + left.width() + 2);
            if essential || hint_len(h) <= room {
                right_len += hint_len(h);
                shown += 1;
            } else {
                break;
            }
        }
        let right_len = right_len.min(width);
        let mut right: Vec<Span> = Vec::new();
        if show_silent {
            right.push(Span::styled(" silent ", t.note));
        }
        // Display order: filter, play, help, quit.
        let mut order: Vec<&(String, &str)> = hints[..shown].iter().collect();
        order.sort_by_key(|h| match h.1 {
            "filter" | "back" => 0,
            "play" | "pause" => 1,
            "help" => 2,
            _ => 3,
        });
        for (key, word) in order {
            right.push(Span::styled(format!(" {key}"), key_style));
            right.push(Span::styled(format!(" {word}"), t.status));
        }
        right.push(Span::styled(" ", t.status));
        let left_room = width.saturating_sub(right_len + 1);
        let left = match ctx.keymap.hint(Action::Messages) {
            // A message cut short says where to read it in full.
            Some(k) if self.message.is_some() && left.width() > left_room => {
                let more = format!(" ({k} full)");
                let cut = fit_width(&left, left_room.saturating_sub(more.width()));
                cut + &more
            }
            _ => fit_width(&left, left_room),
        };
        let [l, r] = Layout::horizontal([Constraint::Min(0), Constraint::Length(right_len as u16)])
            .areas(area);
        frame.render_widget(
            Paragraph::new(Line::from(Span::styled(format!(" {left}"), left_style)))
                .style(t.status),
            l,
        );
        frame.render_widget(Paragraph::new(Line::from(right)).style(t.status), r);
    }
}

/// "3 files", "1 file in 1 folder", "7 files in 2 folders" (no "in 0 folders"
/// when the files sit in the root itself).
fn files_in(files: u64, dirs: u64) -> String {
    let s = |n: u64| if n == 1 { "" } else { "s" };
    if dirs == 0 {
        format!("{} file{}", count(files), s(files))
    } else {
        format!(
            "{} file{} in {} folder{}",
            count(files),
            s(files),
            count(dirs),
            s(dirs)
        )
    }
}

#[cfg(test)]
mod width_tests {

    #[test]
    fn file_counts_read_as_english() {
        use super::files_in;
        assert_eq!(files_in(3, 0), "3 files");
        assert_eq!(files_in(1, 0), "1 file");
        assert_eq!(files_in(1, 1), "1 file in 1 folder");
        assert_eq!(files_in(7, 2), "7 files in 2 folders");
    }
}

#[cfg(test)]
mod news_tests {
    use super::{Level, StatusLine};

    /// The watch's news during a run stays off the line, which the run's
    /// outcome then takes (it went to the log only, the news staying up);
    /// it does not cover an error either; otherwise it shows.
    #[test]
    fn news_gives_way_to_a_run_and_to_an_error() {
        let mut s = StatusLine::default();
        s.set_run("queued 20 files");
        s.news("the folder changed: 10 files gone");
        assert_eq!(s.message(), Some("queued 20 files"));
        s.run_ended("classified 20 files");
        assert_eq!(s.message(), Some("classified 20 files"));
        s.set("wrote 2 of 3 files (1 failed)", Level::Error);
        s.news("the folder changed: 1 file gone");
        assert_eq!(s.message(), Some("wrote 2 of 3 files (1 failed)"));
        s.set("wrote Jazz to a.ogg", Level::Info);
        s.news("the folder changed: 1 new file");
        assert_eq!(s.message(), Some("the folder changed: 1 new file"));
        assert_eq!(s.log.entries().count(), 7, "every message is in the log");
    }
}
