//! The track pane: what is known about the selected entry (tags from lofty,
//! format from the decoder, problems found by the inspection).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::{Component, Ctx, clock, pane_block, plural};
use crate::audio::SourceInfo;
use crate::library::tree::{FileCheck, NodeId, NodeKind, ROOT};
use crate::text::{fit_middle, fit_width};

#[derive(Debug, Default)]
pub struct TrackPane;

const LABEL_WIDTH: usize = 10;

fn field<'a>(ctx: &Ctx, label: &str, value: Option<String>) -> Line<'a> {
    let t = ctx.theme;
    let mut spans = vec![Span::styled(format!("{label:<LABEL_WIDTH$}"), t.label)];
    match value {
        Some(v) if !v.is_empty() => spans.push(Span::styled(v, t.value)),
        _ => spans.push(Span::styled("—", t.dim)),
    }
    Line::from(spans)
}

fn styled_field<'a>(ctx: &Ctx, label: &str, value: String, style: Style) -> Line<'a> {
    Line::from(vec![
        Span::styled(format!("{label:<LABEL_WIDTH$}"), ctx.theme.label),
        Span::styled(value, style),
    ])
}

/// A folder's lines: its audio anywhere below, its sub-folders, problems.
fn folder_lines<'a>(
    ctx: &Ctx,
    name: &str,
    d: &crate::library::tree::DirNode,
    path: String,
) -> Vec<Line<'a>> {
    let t = ctx.theme;
    // "Contains 0 entries" read as an empty folder beside the two
    // licence texts it held: the tree counts folders and audio
    // only, so the pane says the folders, and audio anywhere below
    let folders = d
        .children
        .iter()
        .filter(|&&c| ctx.tree.node(c).is_dir())
        .count();
    let mut lines = vec![
        field(ctx, "Folder", Some(format!("{name}/"))),
        field(
            ctx,
            "Audio",
            Some(match d.audio {
                0 => "none in it or below".to_string(),
                n => {
                    format!("{} in it or below", plural(u64::from(n), "file", "files"))
                }
            }),
        ),
    ];
    if folders > 0 {
        lines.push(field(
            ctx,
            "Folders",
            Some(plural(folders as u64, "folder", "folders")),
        ));
    }
    if d.bad > 0 {
        lines.push(styled_field(
            ctx,
            "Problems",
            plural(u64::from(d.bad), "bad entry", "bad entries"),
            t.bad,
        ));
    }
    if let Some(err) = &d.error {
        lines.push(styled_field(ctx, "Error", err.clone(), t.bad));
    }
    lines.push(field(ctx, "Path", Some(path)));
    lines
}

/// The track's length: the decoder's, else the classifier's (which knows
/// the container's length when the decoder does not).
fn known_duration(ctx: &Ctx, id: NodeId, info: &SourceInfo) -> Option<f64> {
    info.duration_s.or_else(|| {
        ctx.results
            .result(id)
            .map(|c| c.duration_s)
            .filter(|&d| d > 0.0)
    })
}

/// "analysed 0:48 of 1:02" when classifying heard only part of the track.
fn partial_note(ctx: &Ctx, id: NodeId) -> Option<String> {
    ctx.results.result(id)?.partial_note()
}

fn channels(n: usize) -> String {
    match n {
        1 => "mono".into(),
        2 => "stereo".into(),
        n => format!("{n} channels"),
    }
}

/// Why no row is selected: the filter, an empty folder, or a scan not done.
fn nothing_selected(ctx: &Ctx) -> &'static str {
    if !ctx.filter.is_empty() {
        "Nothing matches the filter: Esc clears it."
    } else if ctx.tree.progress().done {
        "Nothing to show: this folder has no audio files."
    } else {
        "Scanning…"
    }
}

impl TrackPane {
    fn lines<'a>(&self, ctx: &Ctx) -> (String, Vec<Line<'a>>) {
        let t = ctx.theme;
        let Some(id) = ctx.selected else {
            return (
                " Track ".into(),
                vec![Line::styled(nothing_selected(ctx), t.dim)],
            );
        };
        let node = ctx.tree.node(id);
        let path = ctx.display_path(id);
        match &node.kind {
            NodeKind::Dir(d) => (
                " Folder ".into(),
                folder_lines(ctx, node.label().as_ref(), d, path),
            ),
            NodeKind::Broken { reason } => (
                " Entry ".into(),
                vec![
                    field(ctx, "Name", Some(node.label().into_owned())),
                    styled_field(ctx, "Problem", reason.clone(), t.bad),
                    field(ctx, "Path", Some(path)),
                ],
            ),
            NodeKind::File(FileCheck::Unchecked) => (
                " Track ".into(),
                vec![
                    field(ctx, "File", Some(node.label().into_owned())),
                    Line::styled("reading tags…", t.dim),
                    field(ctx, "Path", Some(path)),
                ],
            ),
            NodeKind::File(FileCheck::Done(insp)) => {
                let mut lines = Vec::new();
                match &insp.tags {
                    Ok(tags) => {
                        lines.push(field(ctx, "Title", tags.title.clone()));
                        lines.push(field(ctx, "Artist", tags.artist.clone()));
                        lines.push(field(ctx, "Album", tags.album.clone()));
                        let genre = super::prediction::shown_genre(&tags.genre_display());
                        lines.push(field(ctx, "Genre", Some(genre)));
                        lines.push(field(ctx, "Year", tags.year.clone()));
                    }
                    Err(e) => lines.push(styled_field(ctx, "Tags", e.clone(), t.bad)),
                }
                match &insp.info {
                    Ok(info) => {
                        let duration = known_duration(ctx, id, info).map(length);
                        lines.push(field(ctx, "Duration", duration));
                        if let Some(note) = partial_note(ctx, id) {
                            lines.push(styled_field(ctx, "Partial", note, t.count));
                        }
                        lines.push(field(ctx, "Format", Some(format_text(info))));
                        lines.push(field(
                            ctx,
                            "Rate",
                            Some(format!(
                                "{} Hz · {}",
                                info.sample_rate,
                                channels(info.channels)
                            )),
                        ));
                    }
                    Err(e) => lines.push(styled_field(ctx, "Audio", e.clone(), t.bad)),
                }
                if let Some(p) = &insp.problem {
                    lines.push(styled_field(ctx, "Problem", p.clone(), t.bad));
                }
                lines.push(field(ctx, "Path", Some(path)));
                (" Track ".into(), lines)
            }
        }
    }
}

impl TrackPane {
    /// The same facts in a few dense lines, for short panes: each cut to
    /// `width` with … (a wrapped line's end would fall below the pane).
    fn compact_lines<'a>(ctx: &Ctx, id: u32, width: usize) -> Option<Vec<Line<'a>>> {
        let t = ctx.theme;
        let node = ctx.tree.node(id);
        let NodeKind::File(FileCheck::Done(insp)) = &node.kind else {
            return None;
        };
        let mut lines = Vec::new();
        let tags = insp.tags.as_ref().ok();
        let title = tags.and_then(|t| t.title.clone());
        let artist = tags.and_then(|t| t.artist.clone());
        let head = match (title, artist) {
            (Some(t), Some(a)) => format!("{t} — {a}"),
            (Some(t), None) => t,
            (None, Some(a)) => format!("{} — {a}", node.label()),
            (None, None) => node.label().into_owned(),
        };
        lines.push(Line::styled(fit_width(&head, width), t.value));
        let mut facts = Vec::new();
        if let Ok(info) = &insp.info {
            // "analysed 0:48 of 1:02" says the length too.
            let length = partial_note(ctx, id).or_else(|| known_duration(ctx, id, info).map(clock));
            facts.extend(length);
            facts.push(info.codec.to_string());
            facts.push(format!(
                "{} kHz {}",
                f64::from(info.sample_rate) / 1000.0,
                channels(info.channels)
            ));
        }
        if let Some(tags) = tags {
            for v in [&tags.album, &tags.year].into_iter().flatten() {
                facts.push(v.clone());
            }
        }
        lines.push(Line::styled(fit_width(&facts.join(" · "), width), t.count));
        if let Some(p) = insp.fault() {
            lines.push(styled_field(ctx, "Problem", p.to_string(), t.bad));
        }
        // a path's end names the file: cut in the middle
        lines.push(Line::styled(
            fit_middle(&ctx.display_path(id), width),
            t.dim,
        ));
        Some(lines)
    }
}

impl Component for TrackPane {
    fn draw(&self, frame: &mut Frame, area: Rect, ctx: &Ctx) {
        let t = ctx.theme;
        let (title, lines) = if ctx.tree.node(ROOT).fault().is_some() && ctx.selected.is_none() {
            (
                " Folder ".to_string(),
                vec![styled_field(
                    ctx,
                    "Error",
                    ctx.tree.node(ROOT).fault().unwrap_or_default().to_string(),
                    t.bad,
                )],
            )
        } else {
            self.lines(ctx)
        };
        let block = pane_block(t, false, Span::styled(title, t.title));
        let inner = block.inner(area);
        let inner_h = usize::from(inner.height);
        let lines = match ctx.selected {
            Some(id) if lines.len() > inner_h => {
                Self::compact_lines(ctx, id, usize::from(inner.width)).unwrap_or(lines)
            }
            _ => lines,
        };
        frame.render_widget(
            Paragraph::new(lines)
                .wrap(Wrap { trim: false })
                .block(block),
            area,
        );
    }
}

/// A track's length: a clip under 10 s in tenths (0.5 s is not "0:01").
fn length(seconds: f64) -> String {
    // below what `{:.1}` rounds to 10.0 ("10.0 s" beside "0:10" elsewhere)
    if seconds < 9.95 {
        format!("{seconds:.1} s")
    } else {
        clock(seconds)
    }
}

/// "vorbis · Ogg · 16 bit"; a codec named as its container ("flac · FLAC",
/// "mp3 · MP3") said once.
fn format_text(info: &crate::audio::SourceInfo) -> String {
    let mut fmt = if info.codec.eq_ignore_ascii_case(&info.container) {
        info.codec.clone()
    } else {
        format!("{} · {}", info.codec, info.container)
    };
    if let Some(b) = info.bits_per_sample {
        fmt.push_str(&format!(" · {b} bit"));
    }
    fmt
}
