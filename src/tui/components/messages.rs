//! The message log: every status-line message of this session in full, for
//! the ones that were cut at the window's width or cleared by the next key.

use std::collections::VecDeque;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use super::help::wrapped_lines;
use super::status::Level;
use super::{Component, Ctx, OverlayScroll, centered, pane_block};

/// Messages kept; older ones are dropped (a long session says a lot).
const KEPT: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    pub text: String,
    pub level: Level,
    /// The same message said again right after: counted, not repeated.
    pub times: u32,
}

#[derive(Debug, Default)]
pub struct MessageLog {
    entries: VecDeque<Logged>,
    /// Messages dropped to keep the log bounded.
    dropped: usize,
    pub visible: bool,
    /// Opening starts at the end (the newest).
    scroll: OverlayScroll,
}

impl MessageLog {
    pub fn push(&mut self, text: &str, level: Level) {
        if let Some(last) = self.entries.back_mut()
            && last.text == text
            && last.level == level
        {
            last.times += 1;
            return;
        }
        if self.entries.len() == KEPT {
            self.entries.pop_front();
            self.dropped += 1;
        }
        self.entries.push_back(Logged {
            text: text.to_string(),
            level,
            times: 1,
        });
    }

    pub fn entries(&self) -> impl Iterator<Item = &Logged> {
        self.entries.iter()
    }

    pub fn open(&mut self) {
        self.visible = true;
        self.scroll.to_end();
    }

    pub fn close(&mut self) {
        self.visible = false;
    }

    /// Scroll by `lines`; false when everything fits (the key then closes it).
    pub fn scroll_by(&mut self, lines: i32) -> bool {
        self.scroll.by(lines)
    }

    fn lines(&self, ctx: &Ctx) -> Vec<Line<'static>> {
        let t = ctx.theme;
        let mut lines = Vec::new();
        if self.dropped > 0 {
            lines.push(Line::styled(
                format!("({} older messages dropped)", self.dropped),
                t.count,
            ));
        }
        if self.entries.is_empty() {
            lines.push(Line::styled("No messages yet.", t.count));
        }
        for e in &self.entries {
            let style = match e.level {
                Level::Error => t.status_error,
                Level::Info => t.help,
            };
            let mut spans = vec![Span::styled(e.text.clone(), style)];
            if e.times > 1 {
                spans.push(Span::styled(format!(" (×{})", e.times), t.count));
            }
            lines.push(Line::from(spans));
        }
        lines
    }
}

impl Component for MessageLog {
    fn draw(&self, frame: &mut Frame, area: Rect, ctx: &Ctx) {
        if !self.visible {
            return;
        }
        let t = ctx.theme;
        let width = area.width.saturating_sub(4).min(100);
        let text_width = usize::from(width.saturating_sub(2));
        let lines = self.lines(ctx);
        let full: u16 = lines
            .iter()
            .map(|l| wrapped_lines(&l.to_string(), text_width))
            .fold(0u16, u16::saturating_add);
        let body = full.min(area.height.saturating_sub(5).max(1));
        let max_scroll = full - body;
        let scroll = self.scroll.fit(max_scroll);
        let popup = centered(area, width, body + 4);
        frame.render_widget(Clear, popup);
        let mut title = vec![Span::styled(" Messages, newest last ", t.title)];
        if max_scroll > 0 {
            let place = if scroll == 0 {
                "top ·"
            } else if scroll < max_scroll {
                "more ·"
            } else {
                "end ·"
            };
            title.push(Span::styled(format!("· {place} ↑/↓ scroll "), t.count));
        }
        let block = pane_block(t, true, Line::from(title)).style(t.help);
        let inner = block.inner(popup);
        frame.render_widget(block, popup);
        let [text, _, foot] = Layout::vertical([
            Constraint::Length(body),
            Constraint::Length(1),
            Constraint::Length(1),
        ])
        .areas(inner);
        frame.render_widget(
            Paragraph::new(lines)
                .wrap(Wrap { trim: false })
                .scroll((scroll, 0)),
            text,
        );
        let foot_text = if max_scroll > 0 {
            "↑/↓ PgUp/PgDn Home/End scroll · any other key closes this log."
        } else {
            "Any other key closes this log."
        };
        frame.render_widget(Paragraph::new(Line::styled(foot_text, t.count)), foot);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_are_counted_and_the_log_is_bounded() {
        let mut log = MessageLog::default();
        log.push("a", Level::Info);
        log.push("a", Level::Info);
        log.push("a", Level::Error);
        assert_eq!(
            log.entries().map(|e| e.times).collect::<Vec<_>>(),
            [2, 1],
            "the same words at another level are another message"
        );
        for i in 0..KEPT + 3 {
            log.push(&i.to_string(), Level::Info);
        }
        assert_eq!(log.entries().count(), KEPT);
        assert_eq!(log.dropped, 5);
        assert_eq!(log.entries().last().unwrap().text, (KEPT + 2).to_string());
    }
}
