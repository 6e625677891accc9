//! One spelling per genre: `Hip Hop`, `Hip-Hop` and `hiphop` are one genre;
//! `Drum & Bass` is `Drum and Bass`. The library's most used spelling is the
//! one shown and written.

use std::collections::BTreeMap;

/// Split a tag value into genres: `;` separates several (the tag reader has
/// already split ID3v2.4's NUL, and ID3v2.3's `/` lists); blanks are
/// dropped. A `/` elsewhere is inside one name (iTunes' `Hip-Hop/Rap`,
/// `Singer/Songwriter`), as `info` shows it and `tag` keeps it: learning it
/// as two genres wrote back a name the library never used.
pub fn split(raw: &str) -> Vec<String> {
    raw.split(['\0', ';'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// The comparison key of a genre: compatibility-composed (NFKC), lower
/// case, `&` read as `and`, and every space, hyphen, underscore, dot or
/// apostrophe removed. A name of symbols only (`🎸`, `!!!`) keys as itself,
/// lower case and without spaces, so that `learn` counts it as the genre
/// `tag` and `info` see; only a blank name has no key.
pub fn key(genre: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    // NFKC: a macOS tagger's "ç" is "c" + a combining cedilla, and a CJK
    // input method's full-width "Ｊａｚｚ" is "Jazz"; both would key apart
    let folded: String = genre.trim().nfkc().collect::<String>().to_lowercase();
    let words: String = folded
        .replace('&', " and ")
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '+' || *c == '#')
        .collect();
    if words.is_empty() {
        folded.chars().filter(|c| !c.is_whitespace()).collect()
    } else {
        words
    }
}

/// Values taggers and rippers write where no genre was chosen (ID3v1's
/// `Other`, a ripper's `Unknown`): learning them would teach earmark to
/// suggest "no genre" as a genre. Compared by key.
pub fn is_placeholder(genre: &str) -> bool {
    const PLACEHOLDERS: [&str; 10] = [
        "other",
        "others",
        "unknown",
        "unknowngenre",
        "genre",
        "none",
        "na",
        "null",
        "undefined",
        "unclassified",
    ];
    PLACEHOLDERS.contains(&key(genre).as_str())
}

/// `genre` trimmed and in Unicode's composed form (NFC): one spelling
/// however the tagger encoded its accents.
pub fn composed(genre: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    genre.trim().nfc().collect()
}

/// Counts the spellings seen for each key and picks the library's own one.
#[derive(Debug, Default, Clone)]
pub struct Spellings {
    seen: BTreeMap<String, BTreeMap<String, usize>>,
}

impl Spellings {
    /// Record one use of `genre`; returns its key (empty for a blank genre).
    pub fn add(&mut self, genre: &str) -> String {
        let k = key(genre);
        if !k.is_empty() {
            *self
                .seen
                .entry(k.clone())
                .or_default()
                .entry(composed(genre))
                .or_default() += 1;
        }
        k
    }

    /// The most used spelling of `key` that earmark can write (one holding a
    /// control character only when there is no other); ties go to mixed
    /// case, then lower case, then the alphabetically first (`JAZZ` beat
    /// `jazz` and `Jazz` alike, capitals sorting first).
    pub fn display(&self, key: &str) -> Option<String> {
        let uses = self.seen.get(key)?;
        let case = |s: &str| {
            let upper = s.chars().any(char::is_uppercase);
            let lower = s.chars().any(char::is_lowercase);
            match (upper, lower) {
                (true, true) => 2,
                (true, false) => 0,
                _ => 1,
            }
        };
        uses.iter()
            .rev()
            .max_by_key(|(s, n)| {
                let writable = crate::tags::clean_genres(&[s.to_string()]).is_ok();
                (writable, **n, case(s))
            })
            .map(|(s, _)| s.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tie goes to the spelling people read best, not to capitals.
    #[test]
    fn a_tie_between_spellings_does_not_pick_capitals() {
        let mut s = Spellings::default();
        for g in [
            "JAZZ", "jazz", "INDIE", "indie", "Rock", "ROCK", "rock", "Acid", "acid", "Acid",
        ] {
            s.add(g);
        }
        assert_eq!(s.display("jazz").as_deref(), Some("jazz"));
        assert_eq!(s.display("indie").as_deref(), Some("indie"));
        assert_eq!(s.display("rock").as_deref(), Some("Rock"));
        assert_eq!(s.display("acid").as_deref(), Some("Acid"), "more uses win");
    }

    #[test]
    fn spellings_of_one_genre_share_a_key() {
        for s in ["Hip Hop", "Hip-Hop", "hiphop", "HIP_HOP", " hip hop "] {
            assert_eq!(key(s), "hiphop", "{s}");
        }
        assert_eq!(key("Drum & Bass"), key("drum and bass"));
        assert_eq!(key("Rock 'n' Roll"), key("Rock n Roll"));
        assert_eq!(key("Lo-fi"), key("Lo-Fi"));
        assert_ne!(key("Post-Rock"), key("Rock"));
        assert_eq!(key("Chanson"), "chanson");
        assert_eq!(key("Bossa Nova"), "bossanova");
        assert_eq!(key("   "), "");
        // a CJK input method's full-width letters are the same genre
        assert_eq!(key("Ｊａｚｚ"), "jazz");
        assert_eq!(key("Ｈｉｐ－Ｈｏｐ"), "hiphop");
        // symbols only: a genre of its own, told apart from others
        assert_eq!(key("🎸"), "🎸");
        assert_eq!(key(" ! ! "), "!!");
        assert_ne!(key("!!!"), key("???"));
        assert!(is_placeholder("Other") && is_placeholder("UNKNOWN"));
        assert!(is_placeholder("<Unknown>") && is_placeholder("N/A"));
        assert!(is_placeholder("Unknown Genre") && is_placeholder(" none "));
        assert!(!is_placeholder("Otherworldly") && !is_placeholder("Misc"));
        // composed "ç" and "c" + combining cedilla (a macOS tagger's) are one
        // genre, spelled composed; the unaccented spelling stays apart
        let decomposed = "Musique Franc\u{327}aise";
        assert_eq!(key(decomposed), key("Musique Française"));
        assert_ne!(key("Musique Francaise"), key("Musique Française"));
        let mut s = Spellings::default();
        for g in [decomposed, decomposed, "Musique Française"] {
            s.add(g);
        }
        assert_eq!(
            s.display(&key(decomposed)).as_deref(),
            Some("Musique Française")
        );
    }

    #[test]
    fn separators_split_values() {
        assert_eq!(
            split("Rock; Pop/Soundtrack"),
            vec!["Rock", "Pop/Soundtrack"]
        );
        assert_eq!(split("Singer/Songwriter"), vec!["Singer/Songwriter"]);
        assert_eq!(split("Jazz\0Blues"), vec!["Jazz", "Blues"]);
        assert_eq!(split(" ; "), Vec::<String>::new());
    }

    #[test]
    fn the_most_used_spelling_wins() {
        let mut s = Spellings::default();
        for g in ["Hip-Hop", "hiphop", "Hip-Hop", "Hip Hop"] {
            s.add(g);
        }
        assert_eq!(s.display("hiphop").as_deref(), Some("Hip-Hop"));
        assert_eq!(s.display("jazz"), None);
        // a spelling the writer refuses loses to any it takes
        for g in ["Jazz\u{7}", "Jazz\u{7}", "jazz"] {
            s.add(g);
        }
        assert_eq!(s.display("jazz").as_deref(), Some("jazz"));
    }
}
