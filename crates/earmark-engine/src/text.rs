//! Text laid out by display width, for terminals: a CJK character takes two
//! columns, a combining mark none. Shared by the CLI's tables and the TUI.

use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

/// The leading graphemes of `graphemes` that fit in `room` columns, and the
/// columns they take (a wide one that would cross the edge is left out).
/// Whole graphemes: a cut inside an emoji sequence (👨‍👩‍👧) or before a
/// combining mark left a stray joiner or a bare mark on screen.
fn take_cols<'a>(graphemes: impl Iterator<Item = &'a str>, room: usize) -> (Vec<&'a str>, usize) {
    let mut taken = Vec::new();
    let mut used = 0;
    for g in graphemes {
        let w = g.width();
        if used + w > room {
            break;
        }
        used += w;
        taken.push(g);
    }
    (taken, used)
}

/// `s` cut to `room` columns, no ellipsis (column heads, where every one is cut alike).
pub fn cut_width(s: &str, room: usize) -> String {
    take_cols(s.graphemes(true), room).0.concat()
}

/// `s` cut to `room` columns, ending with `…` when cut.
pub fn fit_width(s: &str, room: usize) -> String {
    if s.width() <= room {
        return s.to_string();
    }
    let (head, _) = take_cols(s.graphemes(true), room.saturating_sub(1)); // the ellipsis
    head.concat() + "…"
}

/// `s` cut to `room` columns at its start, keeping its end (`…track.mp3`): a
/// path's file name matters more than the folders above it.
pub fn fit_tail(s: &str, room: usize) -> String {
    if s.width() <= room {
        return s.to_string();
    }
    let (tail, _) = take_cols(s.graphemes(true).rev(), room.saturating_sub(1));
    std::iter::once("…").chain(tail.into_iter().rev()).collect()
}

/// `s` cut to `room` columns in the middle, keeping its start and its end
/// (`hyperrogue-hell` → `hyperr…ell`): names in one folder often share a
/// beginning (an artist, an album) and differ at the end, or the reverse.
pub fn fit_middle(s: &str, room: usize) -> String {
    if s.width() <= room {
        return s.to_string();
    }
    let Some(text) = room.checked_sub(1) else {
        return String::new();
    };
    // the start reads first (a track number, a title): it keeps two thirds
    let (tail, tail_used) = take_cols(s.graphemes(true).rev(), text / 3);
    let (head, _) = take_cols(s.graphemes(true), text - tail_used);
    head.into_iter()
        .chain(std::iter::once("…"))
        .chain(tail.into_iter().rev())
        .collect()
}

/// `s` fitted to exactly `cols` columns: cut as [`fit_width`], else padded
/// with spaces (`{:<N}` pads by chars, which misaligns wide characters).
pub fn pad_width(s: &str, cols: usize) -> String {
    let fitted = fit_width(s, cols);
    let pad = cols.saturating_sub(fitted.width());
    fitted + &" ".repeat(pad)
}

/// `s` as a filter compares it: lower case, accents dropped (decomposed,
/// combining marks removed), so `des` finds "Désert" as fzf would.
pub fn search_key(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    use unicode_normalization::char::is_combining_mark;
    s.nfd()
        .filter(|c| !is_combining_mark(*c))
        .collect::<String>()
        .to_lowercase()
}

/// "1 file", "2 files" (an English noun whose plural adds -s).
pub fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_cut_by_screen_columns() {
        assert_eq!(fit_width("short", 10), "short");
        let cut = fit_width("東京の夜東京の夜東京の夜", 9);
        assert_eq!(cut, "東京の夜…");
        assert!(cut.width() <= 9);
    }

    #[test]
    fn a_search_key_drops_case_and_accents() {
        assert_eq!(search_key("01 Désert Song"), "01 desert song");
        assert_eq!(search_key("Franc\u{327}aise"), "francaise");
        assert_eq!(search_key("東京の夜"), "東京の夜");
    }

    #[test]
    fn a_tail_cut_keeps_the_end() {
        assert_eq!(fit_tail("music/album/track.mp3", 10), "…track.mp3");
        assert_eq!(fit_tail("a/b.mp3", 10), "a/b.mp3");
        assert_eq!(fit_tail("東京x", 4), "…京x");
    }

    #[test]
    fn a_middle_cut_keeps_both_ends() {
        assert_eq!(fit_middle("hyperrogue-hell", 10), "hyperr…ell");
        assert_eq!(fit_middle("hyperrogue-desert", 10), "hyperr…ert");
        assert_eq!(fit_middle("short", 10), "short");
        assert_eq!(fit_middle("abc", 1), "…");
        assert_eq!(fit_middle("abc", 0), "");
        let cut = fit_middle("東京の夜東京の夜東京の夜", 9);
        assert!(
            cut.width() <= 9 && cut.starts_with('東') && cut.ends_with('夜'),
            "{cut}"
        );
    }

    /// Cuts fall between graphemes: a family emoji (three people joined by
    /// ZWJs) and a letter with its combining accent stay whole or go whole.
    #[test]
    fn a_cut_keeps_emoji_sequences_and_accents_whole() {
        let family = "👨\u{200d}👩\u{200d}👧";
        let name = format!("emoji {family} song.ogg");
        for room in 1..name.width() {
            for cut in [
                fit_width(&name, room),
                fit_tail(&name, room),
                fit_middle(&name, room),
            ] {
                assert!(
                    !cut.contains('\u{200d}') || cut.contains(family),
                    "{room}: {cut:?}"
                );
                assert!(cut.width() <= room, "{room}: {cut:?}");
            }
        }
        let accent = "Franc\u{327}aise";
        assert_eq!(fit_width(accent, 6), "Franc\u{327}…");
        assert_eq!(cut_width(accent, 4), "Fran");
    }

    #[test]
    fn padding_counts_wide_characters_twice() {
        assert_eq!(pad_width("jazz", 6), "jazz  ");
        assert_eq!(pad_width("ジャズ", 8), "ジャズ  ");
        assert_eq!(pad_width("ジャズ", 8).width(), 8);
        // Cut: a wide character that would cross the edge is left out, and
        // the cell is padded back to its width.
        assert_eq!(pad_width("クラシック", 6), "クラ… ");
        assert_eq!(pad_width("クラシック", 6).width(), 6);
    }
}
