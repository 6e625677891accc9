//! Durations as people read them, shared by the CLI tables and the TUI.

/// "3:07" or "1:02:03" (rounded to the second; negative counts as zero).
pub fn clock(seconds: f64) -> String {
    let total = seconds.max(0.0).round() as u64;
    let (h, m, s) = (total / 3600, (total / 60) % 60, total % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::clock;

    #[test]
    fn minutes_and_hours() {
        assert_eq!(clock(0.0), "0:00");
        assert_eq!(clock(-3.0), "0:00");
        assert_eq!(clock(187.4), "3:07");
        assert_eq!(clock(3723.0), "1:02:03");
    }
}
