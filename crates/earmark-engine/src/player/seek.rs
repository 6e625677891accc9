//! Where a typed seek goes: `50%`, `16:00`, `1:02:03` or `90` (seconds).

/// A seek target before the track's length is known.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SeekTarget {
    /// Seconds from the start.
    At(f64),
    /// A fraction (0–1) of the track's length.
    Fraction(f64),
}

impl SeekTarget {
    /// Seconds from the start, for a track of `duration_s` (None: unknown
    /// length, so a fraction cannot be placed).
    pub fn seconds(self, duration_s: Option<f64>) -> Option<f64> {
        match self {
            SeekTarget::At(s) => Some(match duration_s {
                Some(d) => s.min(d),
                None => s,
            }),
            SeekTarget::Fraction(f) => duration_s.map(|d| d * f),
        }
    }
}

/// Parse what the user typed after the seek key.
pub fn parse_seek(text: &str) -> Result<SeekTarget, String> {
    let t = text.trim();
    let bad = || format!("\"{t}\" is not a time (try 50%, 16:00, 1:02:03 or 90)");
    if let Some(p) = t.strip_suffix('%') {
        let v: f64 = p.trim().parse().map_err(|_| bad())?;
        if !(0.0..=100.0).contains(&v) {
            return Err(format!("\"{t}\" is not between 0% and 100%"));
        }
        return Ok(SeekTarget::Fraction(v / 100.0));
    }
    let t_num = t.strip_suffix('s').unwrap_or(t);
    let parts: Vec<&str> = t_num.split(':').collect();
    if parts.is_empty() || parts.len() > 3 || parts.iter().any(|p| p.trim().is_empty()) {
        return Err(bad());
    }
    let mut seconds = 0.0;
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let v: f64 = if last {
            part.trim().parse().map_err(|_| bad())?
        } else {
            f64::from(part.trim().parse::<u32>().map_err(|_| bad())?)
        };
        // Minutes and seconds after a colon stay below 60.
        if i > 0 && v >= 60.0 {
            return Err(bad());
        }
        seconds = seconds * 60.0 + v;
    }
    if !seconds.is_finite() || seconds < 0.0 {
        return Err(bad());
    }
    Ok(SeekTarget::At(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_times() {
        assert_eq!(parse_seek("50%"), Ok(SeekTarget::Fraction(0.5)));
        assert_eq!(parse_seek("16:00"), Ok(SeekTarget::At(960.0)));
        assert_eq!(parse_seek("1:02:03"), Ok(SeekTarget::At(3723.0)));
        assert_eq!(parse_seek(" 90 "), Ok(SeekTarget::At(90.0)));
        assert_eq!(parse_seek("90s"), Ok(SeekTarget::At(90.0)));
        assert_eq!(parse_seek("0:30.5"), Ok(SeekTarget::At(30.5)));
        for bad in ["", "abc", "1:60", "150%", "-5", "1::2", "1:2:3:4", ":30"] {
            assert!(parse_seek(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn targets_in_a_track() {
        assert_eq!(SeekTarget::Fraction(0.8).seconds(Some(1200.0)), Some(960.0));
        assert_eq!(SeekTarget::Fraction(0.8).seconds(None), None);
        assert_eq!(SeekTarget::At(2000.0).seconds(Some(1200.0)), Some(1200.0));
    }
}
