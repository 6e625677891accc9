//! The genre values a file holds, per native tag field ("slot"), exactly as
//! stored, so that an undo can put back precisely what was there.

use serde::{Deserialize, Serialize};

/// A place a genre lives in a file's native tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Slot {
    /// ID3v2 `TCON` (mp3, wav, aiff). Values are the frame's parts: the text
    /// split at NULs and `(n)` references, numeric references kept as numbers.
    Id3v2,
    /// ID3v2.3 `TCON` or v2.2 `TCO` (the tag keeps its version when rewritten). Parts as for `Id3v2`; new
    /// genres go in as one part joined with "; ", because v2.3 has no
    /// multi-value separator (lofty would write "(Jazz)Blues").
    Id3v23,
    /// Vorbis comment `GENRE` fields (flac, ogg, opus, speex), one value per field.
    Vorbis,
    /// MP4 `©gen` atom values.
    Mp4Gen,
    /// MP4 legacy `gnre` atom: the ID3v1 genre number plus one, as decimal text.
    Mp4Gnre,
    /// RIFF INFO `IGNR` (wav): at most one value, the raw text.
    RiffInfo,
    /// An MP3's ID3v1 trailer: its genre byte as decimal text (none: 255).
    /// Readers fall back to it where the ID3v2 tag has no genre.
    Id3v1,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotValues {
    pub slot: Slot,
    pub values: Vec<String>,
}

/// Genre values per slot; an empty list means the field is absent. Slots are
/// listed in priority order (the first non-empty one is what a player shows).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenreState {
    pub slots: Vec<SlotValues>,
}

/// How a new genre combines with what the file already has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GenreMode {
    /// The new genres replace all existing ones.
    #[default]
    Replace,
    /// The new genres are added after the existing ones (duplicates skipped).
    Append,
}

/// A requested change: these genres, replacing or appending.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenreChange {
    pub genres: Vec<String>,
    pub mode: GenreMode,
}

impl GenreChange {
    pub fn replace(genre: impl Into<String>) -> Self {
        GenreChange {
            genres: vec![genre.into()],
            mode: GenreMode::Replace,
        }
    }

    pub fn append(genre: impl Into<String>) -> Self {
        GenreChange {
            genres: vec![genre.into()],
            mode: GenreMode::Append,
        }
    }
}

impl GenreState {
    pub fn get(&self, slot: Slot) -> Option<&[String]> {
        self.slots
            .iter()
            .find(|s| s.slot == slot)
            .map(|s| s.values.as_slice())
    }

    /// Equal values in every slot, a slot missing on one side counting as empty.
    pub fn same_values(&self, other: &GenreState) -> bool {
        self.slots
            .iter()
            .chain(other.slots.iter())
            .all(|s| self.get(s.slot).unwrap_or(&[]) == other.get(s.slot).unwrap_or(&[]))
    }

    /// The same genres in every slot once decoded, a slot missing on one side
    /// counting as empty: `(17)Rock` holds what `Rock` does, `Rock/Pop` in
    /// ID3v2.3 what `Rock; Pop` does, so writing one over the other is no change.
    /// MP4's `©gen` and legacy `gnre` count as one place, as readers show
    /// both: a `gnre` Soundtrack written as `©gen` is no change.
    pub fn shows_same(&self, other: &GenreState) -> bool {
        self.slots
            .iter()
            .chain(other.slots.iter())
            .all(|s| match s.slot {
                Slot::Mp4Gen | Slot::Mp4Gnre => self.mp4_names() == other.mp4_names(),
                slot => {
                    let shown = |st: &GenreState| display_slot(slot, st.get(slot).unwrap_or(&[]));
                    shown(self) == shown(other)
                }
            })
    }

    /// MP4's `©gen` names, then `gnre`'s when `©gen` does not hold them.
    fn mp4_names(&self) -> Vec<String> {
        let mut out = display_slot(Slot::Mp4Gen, self.get(Slot::Mp4Gen).unwrap_or(&[]));
        for g in display_slot(Slot::Mp4Gnre, self.get(Slot::Mp4Gnre).unwrap_or(&[])) {
            if !out.iter().any(|o| crate::vocab::library::same_genre(o, &g)) {
                out.push(g);
            }
        }
        out
    }

    /// The genres a person would see: the first slot with a value, decoded
    /// (ID3v1 numbers become names, RIFF INFO text is split at ';').
    pub fn display(&self) -> Vec<String> {
        for s in &self.slots {
            let shown = match s.slot {
                // a `gnre` beside `©gen` is shown too (readers do): a write
                // over it must not pass for "unchanged"
                Slot::Mp4Gen | Slot::Mp4Gnre => self.mp4_names(),
                slot => display_slot(slot, &s.values),
            };
            if !shown.is_empty() {
                return shown;
            }
        }
        Vec::new()
    }

    /// The state after applying `genres` with `mode`. Every slot gets the same
    /// genres in its own representation; the legacy MP4 `gnre` is dropped in
    /// favour of `©gen`.
    ///
    /// Appending adds to what each slot holds itself (a RIFF INFO genre that
    /// disagrees with the ID3 chunk's is kept, not overwritten by it; an
    /// empty slot starts from what the file shows), and keeps an ID3v2.3
    /// name with a '/' whole (`Hip-Hop/Rap; Jazz`, not `Hip-Hop; Rap; Jazz`):
    /// names the user did not ask to change are not rewritten.
    pub fn target(&self, genres: &[String], mode: GenreMode) -> GenreState {
        let shown = self.display();
        let wanted = match mode {
            GenreMode::Replace => dedupe(genres.iter().cloned()),
            GenreMode::Append => dedupe(shown.iter().cloned().chain(genres.iter().cloned())),
        };
        let for_slot = |slot: Slot| -> Vec<String> {
            if mode == GenreMode::Replace {
                return wanted.clone();
            }
            // what the slot shows (split): a name in it is not added again
            let split = display_slot(slot, self.get(slot).unwrap_or(&[]));
            let own = match slot {
                // `gnre` is dropped for `©gen`: what it held moves there
                Slot::Mp4Gen => self.mp4_names(),
                Slot::Id3v23 => whole_v23_names(self.get(slot).unwrap_or(&[])),
                _ => split.clone(),
            };
            if own.is_empty() {
                return wanted.clone();
            }
            // the slot's own values stay as they are (`Jazz` and `jazz`
            // both: the user did not ask to change them); a genre is added
            // unless a value or a part of one holds it (`Rock; Pop` in one
            // Vorbis value, `Rap/Hip Hop`)
            let mut out = own;
            for g in genres {
                let held = |o: &String| {
                    crate::vocab::library::same_genre(o, g)
                        || o.split([';', '/'])
                            .any(|part| crate::vocab::library::same_genre(part.trim(), g))
                };
                // `Rock/hip hop` asked where `Rock` and `hip hop` are held
                let parts_held = g.contains('/')
                    && g.split('/').all(|p| {
                        split
                            .iter()
                            .chain(out.iter())
                            .any(|o| crate::vocab::library::same_genre(o, p.trim()))
                    });
                if !parts_held && !split.iter().chain(out.iter()).any(held) {
                    out.push(g.clone());
                }
            }
            out
        };
        GenreState {
            slots: self
                .slots
                .iter()
                .map(|s| SlotValues {
                    slot: s.slot,
                    values: match s.slot {
                        Slot::Id3v2 | Slot::Vorbis | Slot::Mp4Gen => for_slot(s.slot),
                        Slot::Id3v23 | Slot::RiffInfo if wanted.is_empty() => Vec::new(),
                        Slot::Id3v23 | Slot::RiffInfo => vec![for_slot(s.slot).join("; ")],
                        Slot::Mp4Gnre => Vec::new(),
                        Slot::Id3v1 => id3v1_code(&wanted).into_iter().collect(),
                    },
                })
                .collect(),
        }
    }

    /// This state with its ID3v2 slot renamed to the kind `now` has (v2.3 or
    /// v2.4), for putting values back into a tag re-saved at another version.
    pub fn onto(&self, now: &GenreState) -> GenreState {
        let id3 = |s: Slot| matches!(s, Slot::Id3v2 | Slot::Id3v23);
        let now_id3 = now.slots.iter().map(|s| s.slot).find(|&s| id3(s));
        GenreState {
            slots: self
                .slots
                .iter()
                .map(|s| SlotValues {
                    slot: match now_id3 {
                        Some(k) if id3(s.slot) => k,
                        _ => s.slot,
                    },
                    values: s.values.clone(),
                })
                .collect(),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{\"slots\":[]}".into())
    }

    pub fn from_json(s: &str) -> Option<GenreState> {
        serde_json::from_str(s).ok()
    }
}

/// A slot's values as names, each once: ID3v2.3's `(17)Rock` is a reference
/// and its own name, one genre.
fn display_slot(slot: Slot, values: &[String]) -> Vec<String> {
    let mut shown: Vec<String> = Vec::new();
    for name in decode_slot(slot, values) {
        if !shown.contains(&name) {
            shown.push(name);
        }
    }
    shown
}

/// An ID3v2.3 slot's names as stored, a '/' kept inside its name: what an
/// append starts from (each genre once: `Rock/Pop` and `(17)` hold one Rock).
fn whole_v23_names(values: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for name in values
        .iter()
        .map(|v| id3_genre_name(v))
        .flat_map(|v| split_genres(&v))
    {
        let held = out.iter().flat_map(|o| o.split('/')).any(|part| {
            name.split('/')
                .all(|p| crate::vocab::library::same_genre(part.trim(), p.trim()))
        });
        if !held {
            out.push(name);
        }
    }
    out
}

fn decode_slot(slot: Slot, values: &[String]) -> Vec<String> {
    match slot {
        Slot::Id3v2 => values
            .iter()
            .map(|v| id3_genre_name(v))
            .flat_map(|v| split_genres(&v))
            .collect(),
        // ID3v2.3 has no multi-value separator; taggers (mutagen) join with '/'.
        Slot::Id3v23 => values
            .iter()
            .map(|v| id3_genre_name(v))
            .flat_map(|v| split_genres(&v))
            .flat_map(|v| split_genres(&v.replace('/', ";")))
            .collect(),
        // Other taggers leave blanks around values ('Rock  '); shown trimmed,
        // as the other slots' values are.
        Slot::Vorbis | Slot::Mp4Gen => values
            .iter()
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .collect(),
        Slot::Mp4Gnre => values
            .iter()
            .filter_map(|v| v.parse::<usize>().ok())
            .filter_map(|n| lofty::id3::v1::GENRES.get(n.checked_sub(1)?))
            .map(|s| s.to_string())
            .collect(),
        Slot::RiffInfo => values.iter().flat_map(|v| split_genres(v)).collect(),
        Slot::Id3v1 => values
            .iter()
            .filter_map(|v| v.parse::<usize>().ok())
            .filter_map(|n| lofty::id3::v1::GENRES.get(n))
            .map(|s| s.to_string())
            .collect(),
    }
}

/// The ID3v1 genre code for the first of `genres` that ID3v1's list holds
/// ("Hip Hop" is its "Hip-Hop"), as decimal text; none when no genre is in
/// it, so an old genre does not outlive the write there.
fn id3v1_code(genres: &[String]) -> Option<String> {
    genres.iter().find_map(|g| {
        lofty::id3::v1::GENRES
            .iter()
            .position(|v1| crate::vocab::library::same_genre(v1, g))
            .map(|n| n.to_string())
    })
}

/// A genre list as typed or stored: `Rock; Jazz` → [Rock, Jazz] (blanks
/// dropped). ID3v2.4 separates values with NUL; people and RIFF INFO use ';'.
pub fn split_genres(v: &str) -> Vec<String> {
    v.split(['\0', ';'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Genres as one line, the way [`split_genres`] reads them back.
pub fn join_genres(genres: &[String]) -> String {
    genres.join("; ")
}

/// An ID3 genre part as a name: "17" → "Rock", "RX" → "Remix", "CR" → "Cover";
/// "255", ID3v1's "no genre", is none (blank, dropped by the split after).
fn id3_genre_name(part: &str) -> String {
    if part == "255" {
        return String::new();
    }
    if part.len() <= 3 {
        if let Ok(n) = part.parse::<usize>()
            && let Some(name) = lofty::id3::v1::GENRES.get(n)
        {
            return name.to_string();
        }
        match part {
            "RX" => return "Remix".into(),
            "CR" => return "Cover".into(),
            _ => {}
        }
    }
    part.to_string()
}

/// Split an ID3v2 `TCON` text into its parts: NUL-separated values (v2.4) and
/// `(n)` references (v2.3), keeping numbers as numbers. Mirrors how lofty
/// itself reads and writes the frame, so a value round-trips exactly.
pub(crate) fn split_tcon(raw: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = raw;
    while !rest.is_empty() {
        if let Some(idx) = rest.find('\0') {
            out.push(rest[..idx].to_string());
            rest = &rest[idx + 1..];
            continue;
        }
        if rest.starts_with('(')
            && let Some(close) = rest.find(')')
        {
            // "((" escapes a literal parenthesis: keep it in the part.
            let end = if rest.starts_with("((") {
                close + 1
            } else {
                close
            };
            out.push(rest[1..end.min(rest.len())].to_string());
            rest = &rest[(close + 1).min(rest.len())..];
            continue;
        }
        out.push(rest.to_string());
        break;
    }
    out.retain(|p| !p.is_empty());
    out
}

/// The first spelling of each genre: `Hip Hop` and `Hip-Hop`, `rock` and
/// `Rock`, `R&B` and `R and B` are one genre (the vocabulary's key); names
/// of symbols only compare case aside.
fn dedupe(names: impl Iterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for n in names {
        if !out.iter().any(|o| crate::vocab::library::same_genre(o, &n)) {
            out.push(n);
        }
    }
    out
}

/// Check and tidy genre names given by a user: trimmed, non-empty, no
/// control characters and no ';' (which readers treat as a separator).
pub fn clean_genres(genres: &[String]) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for g in genres {
        let t = g.trim();
        if t.is_empty() {
            return Err("empty genre name".into());
        }
        if t.chars().any(char::is_control) {
            return Err(format!("genre {t:?} contains a control character"));
        }
        if t.chars().all(|c| c.is_ascii_digit()) {
            // ID3 readers take a bare number as an ID3v1 genre code ("0" is
            // Blues), Vorbis and MP4 readers as text: the same write would
            // mean different things.
            return Err(format!(
                "genre {t:?} is a number, which ID3 readers take as a genre code; give the genre's name"
            ));
        }
        if t.contains(';') {
            return Err(format!(
                "genre {t:?} contains ';' (give several genres separately)"
            ));
        }
        if t.starts_with('(') {
            // ID3 reads `(17)`, `(RX)`, even `(Live) Jazz` as references
            // before a name: the write would not read back as typed.
            return Err(format!(
                "genre {t:?} begins with '(', which ID3 readers take as a genre code; put the name first"
            ));
        }
        out.push(t.to_string());
    }
    Ok(dedupe(out.into_iter()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn tcon_parts() {
        assert_eq!(split_tcon("Rock"), s(&["Rock"]));
        assert_eq!(split_tcon("Rock\0Pop"), s(&["Rock", "Pop"]));
        assert_eq!(split_tcon("(24)Soundtrack"), s(&["24", "Soundtrack"]));
        assert_eq!(split_tcon("(17)(RX)"), s(&["17", "RX"]));
        assert_eq!(split_tcon("(Rock)(Pop)Jazz"), s(&["Rock", "Pop", "Jazz"]));
        assert_eq!(split_tcon(""), Vec::<String>::new());
    }

    #[test]
    fn v23_slash_lists_are_shown_as_lists() {
        let st = GenreState {
            slots: vec![SlotValues {
                slot: Slot::Id3v23,
                values: s(&["Rock/Pop", "17"]),
            }],
        };
        assert_eq!(st.display(), s(&["Rock", "Pop"]), "each genre once");
        // Appending keeps the stored name whole ('/' is in names such as
        // iTunes' Hip-Hop/Rap) and adds only what is not shown already.
        let t = st.target(&s(&["Jazz"]), GenreMode::Append);
        assert_eq!(t.get(Slot::Id3v23).unwrap(), s(&["Rock/Pop; Jazz"]));
        let t = st.target(&s(&["Pop"]), GenreMode::Append);
        assert_eq!(t.get(Slot::Id3v23).unwrap(), s(&["Rock/Pop"]));
        assert!(t.shows_same(&st), "nothing to write");
        let v24 = GenreState {
            slots: vec![SlotValues {
                slot: Slot::Id3v2,
                values: s(&["AC/DC-core"]),
            }],
        };
        assert_eq!(v24.display(), s(&["AC/DC-core"]), "v2.4 has NUL for lists");
    }

    /// From the vocabulary review: appending keeps the slot's own values
    /// (`Jazz` and `jazz` both: one was dropped), and a genre held inside
    /// one value (`Rock; Pop`, `Rap/Hip Hop`) is not added again.
    #[test]
    fn appending_keeps_own_values_and_sees_genres_inside_one() {
        let vorbis = |v: &[&str]| GenreState {
            slots: vec![SlotValues {
                slot: Slot::Vorbis,
                values: s(v),
            }],
        };
        let st = vorbis(&["Jazz", "jazz"]);
        let t = st.target(&s(&["Blues"]), GenreMode::Append);
        assert_eq!(t.get(Slot::Vorbis).unwrap(), s(&["Jazz", "jazz", "Blues"]));
        for (held, genre) in [
            ("Rock; Pop", "Pop"),
            ("Rock; Pop", "rock"),
            ("Rap/Hip Hop", "Hip-Hop"),
        ] {
            let st = vorbis(&[held]);
            let t = st.target(&s(&[genre]), GenreMode::Append);
            assert_eq!(t.get(Slot::Vorbis).unwrap(), s(&[held]), "{held} + {genre}");
            assert!(t.shows_same(&st));
        }
    }

    /// A genre asked with a '/' whose parts are each held adds nothing
    /// (v2.4's `[Rock, hip hop]` + `Rock/hip hop` added a third value).
    #[test]
    fn appending_a_slash_name_whose_parts_are_held_adds_nothing() {
        let st = GenreState {
            slots: vec![SlotValues {
                slot: Slot::Id3v2,
                values: s(&["Rock", "hip hop"]),
            }],
        };
        let t = st.target(&s(&["Rock/hip hop"]), GenreMode::Append);
        assert_eq!(t.get(Slot::Id3v2).unwrap(), s(&["Rock", "hip hop"]));
        let t = st.target(&s(&["Rock/Jazz"]), GenreMode::Append);
        assert_eq!(
            t.get(Slot::Id3v2).unwrap(),
            s(&["Rock", "hip hop", "Rock/Jazz"])
        );
    }

    /// MP4's legacy `gnre` counts as a genre beside `©gen` (a `--auto`
    /// without `--overwrite` wrote over it as "Jazz → Jazz"), and a `gnre`
    /// moved to `©gen` unchanged is no change.
    #[test]
    fn mp4_gnre_is_shown_and_moving_it_is_no_change() {
        let mp4 = |cgen: &[&str], gnre: &[&str]| GenreState {
            slots: vec![
                SlotValues {
                    slot: Slot::Mp4Gen,
                    values: s(cgen),
                },
                SlotValues {
                    slot: Slot::Mp4Gnre,
                    values: s(gnre),
                },
            ],
        };
        // gnre 18 is ID3v1's 17, Rock (gnre counts from 1)
        let both = mp4(&["Jazz"], &["18"]);
        assert_eq!(both.display(), s(&["Jazz", "Rock"]));
        let only = mp4(&[], &["25"]);
        assert_eq!(only.display(), s(&["Soundtrack"]));
        let t = only.target(&s(&["Soundtrack"]), GenreMode::Replace);
        assert!(t.shows_same(&only), "{t:?}");
        let t = both.target(&s(&["Jazz"]), GenreMode::Replace);
        assert!(!t.shows_same(&both), "Rock goes: a change");
        let same = mp4(&["Rock"], &["18"]);
        let t = same.target(&s(&["Pop"]), GenreMode::Append);
        assert_eq!(t.get(Slot::Mp4Gen).unwrap(), s(&["Rock", "Pop"]));
    }

    /// Appending a genre the file already has in another spelling adds
    /// nothing (`Hip Hop; Hip-Hop` was written); symbols-only names still
    /// differ.
    #[test]
    fn appending_a_genre_spelled_otherwise_adds_nothing() {
        let st = GenreState {
            slots: vec![SlotValues {
                slot: Slot::Vorbis,
                values: s(&["Hip Hop", "R&B"]),
            }],
        };
        let t = st.target(&s(&["Hip-Hop", "R and B", "hiphop"]), GenreMode::Append);
        assert_eq!(t.get(Slot::Vorbis).unwrap(), s(&["Hip Hop", "R&B"]));
        let t = st.target(&s(&["!!!", "???"]), GenreMode::Replace);
        assert_eq!(t.get(Slot::Vorbis).unwrap(), s(&["!!!", "???"]));
    }

    /// Blanks other taggers leave around Vorbis and MP4 values are not
    /// shown ('Rock  ' → Rock; a blank value is no genre), as ID3's are not;
    /// a write still replaces the stored value exactly.
    #[test]
    fn vorbis_and_mp4_values_are_shown_trimmed() {
        for slot in [Slot::Vorbis, Slot::Mp4Gen] {
            let st = GenreState {
                slots: vec![SlotValues {
                    slot,
                    values: s(&["Rock  ", " ", " Jazz"]),
                }],
            };
            assert_eq!(st.display(), s(&["Rock", "Jazz"]), "{slot:?}");
            let t = st.target(&s(&["Rock"]), GenreMode::Replace);
            assert_eq!(t.get(slot).unwrap(), s(&["Rock"]), "{slot:?}");
        }
    }

    /// ID3v1 holds one code from its list: the first genre it has, in any
    /// spelling; none (255 on disk) when it has none of them.
    #[test]
    fn the_id3v1_slot_takes_the_first_genre_its_list_holds() {
        let st = GenreState {
            slots: vec![
                SlotValues {
                    slot: Slot::Id3v2,
                    values: Vec::new(),
                },
                SlotValues {
                    slot: Slot::Id3v1,
                    values: s(&["17"]),
                },
            ],
        };
        assert_eq!(st.display(), s(&["Rock"]), "shown where ID3v2 has none");
        let code = |g: &[&str]| {
            st.target(&s(g), GenreMode::Replace)
                .get(Slot::Id3v1)
                .unwrap()
                .to_vec()
        };
        assert_eq!(code(&["Hip Hop"]), s(&["7"]));
        assert_eq!(code(&["Musique Française", "Drum & Bass"]), s(&["127"]));
        assert_eq!(code(&["Musique Française"]), Vec::<String>::new());
        assert_eq!(code(&[]), Vec::<String>::new());
    }

    #[test]
    fn display_decodes_numbers_and_riff() {
        let st = GenreState {
            slots: vec![
                SlotValues {
                    slot: Slot::Id3v2,
                    values: s(&["17", "RX", "Ambient"]),
                },
                SlotValues {
                    slot: Slot::RiffInfo,
                    values: s(&["Jazz; Blues"]),
                },
            ],
        };
        assert_eq!(st.display(), s(&["Rock", "Remix", "Ambient"]));
        // ID3v1's 255 is "no genre", not a genre named "255"
        let none = GenreState {
            slots: vec![SlotValues {
                slot: Slot::Id3v23,
                values: s(&["255"]),
            }],
        };
        assert!(none.display().is_empty(), "{:?}", none.display());
        let riff_only = GenreState {
            slots: vec![
                SlotValues {
                    slot: Slot::Id3v2,
                    values: vec![],
                },
                SlotValues {
                    slot: Slot::RiffInfo,
                    values: s(&["Jazz; Blues"]),
                },
            ],
        };
        assert_eq!(riff_only.display(), s(&["Jazz", "Blues"]));
        let gnre = GenreState {
            slots: vec![
                SlotValues {
                    slot: Slot::Mp4Gen,
                    values: vec![],
                },
                SlotValues {
                    slot: Slot::Mp4Gnre,
                    values: s(&["18"]),
                },
            ],
        };
        assert_eq!(gnre.display(), s(&["Rock"]));
    }

    #[test]
    fn targets() {
        let st = GenreState {
            slots: vec![
                SlotValues {
                    slot: Slot::Id3v2,
                    values: s(&["24"]),
                },
                SlotValues {
                    slot: Slot::RiffInfo,
                    values: vec![],
                },
            ],
        };
        let t = st.target(&s(&["Ambient"]), GenreMode::Append);
        assert_eq!(
            t.get(Slot::Id3v2).unwrap(),
            s(&["Soundtrack", "Ambient"]).as_slice()
        );
        assert_eq!(
            t.get(Slot::RiffInfo).unwrap(),
            s(&["Soundtrack; Ambient"]).as_slice()
        );
        let v23 = GenreState {
            slots: vec![SlotValues {
                slot: Slot::Id3v23,
                values: s(&["24"]),
            }],
        };
        let t = v23.target(&s(&["Ambient"]), GenreMode::Append);
        assert_eq!(
            t.get(Slot::Id3v23).unwrap(),
            s(&["Soundtrack; Ambient"]).as_slice()
        );
        assert_eq!(t.display(), s(&["Soundtrack", "Ambient"]));
        let t = st.target(&s(&["soundtrack"]), GenreMode::Append);
        assert_eq!(t.display(), s(&["Soundtrack"]));
        // Slots that disagree (a WAV's ID3 chunk and its RIFF INFO) each
        // keep their own genre; an empty slot starts from what is shown.
        let wav = GenreState {
            slots: vec![
                SlotValues {
                    slot: Slot::Id3v2,
                    values: s(&["Blues"]),
                },
                SlotValues {
                    slot: Slot::RiffInfo,
                    values: s(&["Rock"]),
                },
                SlotValues {
                    slot: Slot::Vorbis,
                    values: vec![],
                },
            ],
        };
        let t = wav.target(&s(&["Jazz"]), GenreMode::Append);
        assert_eq!(t.get(Slot::Id3v2).unwrap(), s(&["Blues", "Jazz"]));
        assert_eq!(t.get(Slot::RiffInfo).unwrap(), s(&["Rock; Jazz"]));
        assert_eq!(t.get(Slot::Vorbis).unwrap(), s(&["Blues", "Jazz"]));
        // MP4: the legacy `gnre`'s genre moves into `©gen` beside its own
        let mp4 = GenreState {
            slots: vec![
                SlotValues {
                    slot: Slot::Mp4Gen,
                    values: s(&["Rock"]),
                },
                SlotValues {
                    slot: Slot::Mp4Gnre,
                    values: s(&["9"]),
                },
            ],
        };
        let t = mp4.target(&s(&["Pop"]), GenreMode::Append);
        assert_eq!(t.get(Slot::Mp4Gen).unwrap(), s(&["Rock", "Jazz", "Pop"]));
        assert_eq!(t.get(Slot::Mp4Gnre).unwrap(), &[] as &[String]);
        let t = st.target(&s(&["Jazz"]), GenreMode::Replace);
        assert_eq!(t.display(), s(&["Jazz"]));
        let t = st.target(&[], GenreMode::Replace);
        assert!(t.display().is_empty());
        assert_eq!(t.get(Slot::RiffInfo).unwrap(), &[] as &[String]);
        assert_eq!(GenreState::from_json(&t.to_json()), Some(t));
    }

    #[test]
    fn cleaning() {
        assert_eq!(
            clean_genres(&s(&[" Jazz ", "jazz", "Rock"])).unwrap(),
            s(&["Jazz", "Rock"])
        );
        assert!(clean_genres(&s(&[""])).is_err());
        assert!(clean_genres(&s(&["a;b"])).is_err());
        assert!(clean_genres(&s(&["a\nb"])).is_err());
        assert!(clean_genres(&s(&["0"])).is_err());
        assert!(clean_genres(&s(&["2 Step"])).is_ok());
        assert!(clean_genres(&s(&["(Live) Jazz"])).is_err());
        assert!(clean_genres(&s(&["Jazz (Live)"])).is_ok());
    }
}
