//! Text laid out by display width, for terminals: a CJK character takes two
//! columns, a combining mark none. Shared by the CLI's tables and the TUI.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// `s` cut to `room` columns, ending with `…` when cut.
pub fn fit_width(s: &str, room: usize) -> String {
    if s.width() <= room {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 1; // the ellipsis
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > room {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

/// `s` fitted to exactly `cols` columns: cut as [`fit_width`], else padded
/// with spaces (`{:<N}` pads by chars, which misaligns wide characters).
pub fn pad_width(s: &str, cols: usize) -> String {
    let fitted = fit_width(s, cols);
    let pad = cols.saturating_sub(fitted.width());
    fitted + &" ".repeat(pad)
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
