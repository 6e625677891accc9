//! From a library's tags to training data: which genres each file carries
//! (multi-value genres count for each), in the library's own spelling, and
//! which genres have enough tracks.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::spelling::{Spellings, is_placeholder, key, split};

/// The genres read from each file, and the vocabulary they make.
#[derive(Debug, Default, Clone)]
pub struct TaggedLibrary {
    /// (file, genre keys), only files with at least one kept genre.
    pub files: Vec<(PathBuf, Vec<String>)>,
    /// Kept genre keys, sorted by key; their display spelling and track count.
    pub vocabulary: Vec<(String, String, usize)>,
    /// Genres with too few tracks: (spelling, tracks, reason).
    pub left_out: Vec<(String, usize, String)>,
}

/// Group the files' raw genre values into a vocabulary of genres with at
/// least `min_tracks` tracks.
pub fn vocabulary(raw: &[(PathBuf, Vec<String>)], min_tracks: usize) -> TaggedLibrary {
    let mut spellings = Spellings::default();
    let mut per_file: Vec<(PathBuf, Vec<String>)> = Vec::new();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    // placeholders (`Other`, `Unknown`): their spelling and how many files
    let mut placeholders: BTreeMap<String, (String, usize)> = BTreeMap::new();
    for (path, values) in raw {
        let mut keys: Vec<String> = Vec::new();
        for v in values {
            for g in split(v) {
                if is_placeholder(&g) {
                    let e = placeholders.entry(key(&g)).or_insert((g.clone(), 0));
                    e.1 += 1;
                    continue;
                }
                let k = spellings.add(&g);
                if !k.is_empty() && !keys.contains(&k) {
                    keys.push(k);
                }
            }
        }
        for k in &keys {
            *counts.entry(k.clone()).or_default() += 1;
        }
        per_file.push((path.clone(), keys));
    }
    let mut lib = TaggedLibrary::default();
    for (k, n) in &counts {
        let name = spellings.display(k).unwrap_or_else(|| k.clone());
        if let Err(why) = crate::tags::clean_genres(std::slice::from_ref(&name)) {
            // `tag --auto --genres mine` would learn a name it must refuse
            // to write (a control character, a bare number, a `;`)
            lib.left_out
                .push((name, *n, format!("earmark does not write it: {why}")));
        } else if *n >= min_tracks {
            lib.vocabulary.push((k.clone(), name, *n));
        } else {
            lib.left_out
                .push((name, *n, format!("fewer than {min_tracks} tagged tracks")));
        }
    }
    for (name, n) in placeholders.into_values() {
        lib.left_out
            .push((name, n, "a placeholder, not a genre".to_string()));
    }
    let kept = |k: &String| lib.vocabulary.iter().any(|(v, _, _)| v == k);
    lib.files = per_file
        .into_iter()
        .map(|(p, ks)| (p, ks.into_iter().filter(|k| kept(k)).collect::<Vec<_>>()))
        .filter(|(_, ks)| !ks.is_empty())
        .collect();
    lib
}

impl TaggedLibrary {
    /// Why there is nothing to learn when fewer than two genres have
    /// `min_tracks` tagged tracks: what the tags hold, so the user sees which
    /// genre needs more (None: there are two).
    pub fn too_few_genres(&self, files: usize, min_tracks: usize) -> Option<String> {
        if self.vocabulary.len() >= 2 {
            return None;
        }
        let mut found: Vec<(&str, usize)> = self
            .vocabulary
            .iter()
            .map(|(_, n, c)| (n.as_str(), *c))
            .chain(self.left_out.iter().map(|(n, c, _)| (n.as_str(), *c)))
            .collect();
        if files == 0 {
            return Some("no audio files found".into());
        }
        if let [(name, count)] = found[..] {
            return Some(format!(
                "only one genre is tagged ({name}, {}): learn needs two; tag a few tracks \
                 of another genre",
                crate::text::plural(count, "track")
            ));
        }
        if found.is_empty() {
            return Some(format!(
                "no genre tags in {} (learn reads each file's genre tag, not its folder's \
                 name: tag a few tracks of each genre first)",
                crate::text::plural(files, "audio file")
            ));
        }
        found.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        let shown: Vec<String> = found
            .iter()
            .take(4)
            .map(|(n, c)| format!("{n} {c}"))
            .collect();
        let more = found.len().saturating_sub(4);
        Some(format!(
            "needs two genres with at least {min_tracks} tagged tracks each; found {}{}: \
             tag more tracks of each",
            shown.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        ))
    }

    /// The class index of a genre key.
    pub fn index(&self, k: &str) -> Option<usize> {
        self.vocabulary.iter().position(|(v, _, _)| v == k)
    }

    /// The display names, in class order.
    pub fn names(&self) -> Vec<String> {
        self.vocabulary.iter().map(|(_, n, _)| n.clone()).collect()
    }
}

/// The folder that groups a file for cross-validation (its album, usually).
pub fn group_of(path: &Path) -> String {
    path.parent()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Does `genre` name one of this vocabulary's genres (any spelling)? Names
/// of symbols only have no key: they compare case aside (`!!!` is not `???`).
pub fn same_genre(a: &str, b: &str) -> bool {
    let (ka, kb) = (key(a), key(b));
    if ka.is_empty() || kb.is_empty() {
        a.to_lowercase() == b.to_lowercase()
    } else {
        ka == kb
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(p: &str, g: &[&str]) -> (PathBuf, Vec<String>) {
        (
            PathBuf::from(p),
            g.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        )
    }

    #[test]
    fn placeholders_and_names_earmark_does_not_write_are_never_learned() {
        // `Other` and `Unknown` are what taggers write for no genre: never
        // learned, however many files hold them, and said why
        let placeholders = vocabulary(
            &[
                f("/d/1", &["Other"]),
                f("/d/2", &["other; Jazz"]),
                f("/d/3", &["Unknown"]),
                f("/d/4", &["Ｊａｚｚ"]),
            ],
            2,
        );
        assert_eq!(
            placeholders.vocabulary,
            vec![("jazz".to_string(), "Jazz".to_string(), 2)]
        );
        assert_eq!(
            placeholders.left_out,
            vec![
                (
                    "Other".to_string(),
                    2,
                    "a placeholder, not a genre".to_string()
                ),
                (
                    "Unknown".to_string(),
                    1,
                    "a placeholder, not a genre".to_string()
                ),
            ]
        );
        assert_eq!(placeholders.files.len(), 2);
        // a name the writer refuses is never learned, so `tag --auto` cannot
        // pick it; the reason is the writer's own
        let unwritable = vocabulary(
            &[
                f("/e/1", &["Jazz\u{7}"]),
                f("/e/2", &["Jazz\u{7}"]),
                f("/e/3", &["1984"]),
                f("/e/4", &["1984"]),
            ],
            2,
        );
        assert!(unwritable.vocabulary.is_empty());
        assert_eq!(unwritable.left_out.len(), 2);
        assert!(
            unwritable.left_out[0]
                .2
                .starts_with("earmark does not write it: genre \"1984\" is a number"),
            "{:?}",
            unwritable.left_out
        );
        assert!(unwritable.left_out[1].2.contains("control character"));
    }

    #[test]
    fn multi_value_genres_count_for_each_and_thin_ones_are_left_out() {
        let raw = vec![
            f("/a/1", &["Hip-Hop; Jazz"]),
            f("/a/2", &["hip hop"]),
            f("/a/3", &["Hip Hop; Jazz"]),
            f("/b/4", &["jazz"]),
            f("/b/5", &["Polka"]),
            f("/b/6", &[]),
        ];
        let lib = vocabulary(&raw, 2);
        assert_eq!(
            lib.vocabulary,
            vec![
                ("hiphop".to_string(), "Hip Hop".to_string(), 3),
                ("jazz".to_string(), "Jazz".to_string(), 3)
            ]
        );
        assert_eq!(lib.left_out.len(), 1);
        assert_eq!(lib.left_out[0].0, "Polka");
        // a '/' is inside one name (the tag reader split ID3v2.3's lists)
        let lib2 = vocabulary(
            &[
                f("/c/1", &["Singer/Songwriter"]),
                f("/c/2", &["Singer/Songwriter"]),
            ],
            2,
        );
        assert_eq!(lib2.vocabulary[0].1, "Singer/Songwriter");
        assert_eq!(lib.files.len(), 4);
        assert_eq!(lib.files[0].1, vec!["hiphop", "jazz"]);
        assert_eq!(lib.too_few_genres(6, 2), None);
        // Too few tracks of each: the counts say which genre needs more.
        let thin = vocabulary(&raw, 4);
        assert_eq!(
            thin.too_few_genres(6, 4).unwrap(),
            "needs two genres with at least 4 tagged tracks each; \
             found Hip Hop 3, Jazz 3, Polka 1: tag more tracks of each"
        );
        let untagged = vocabulary(&[f("/a/1", &[])], 5);
        assert!(
            untagged
                .too_few_genres(1, 5)
                .unwrap()
                .starts_with("no genre tags in 1 audio file ("),
        );
        // one genre only: fewer tracks per genre would not help
        let one = vocabulary(&[f("/a/1", &["Jazz"]), f("/a/2", &["jazz"])], 1);
        assert_eq!(
            one.too_few_genres(2, 1).unwrap(),
            "only one genre is tagged (Jazz, 2 tracks): learn needs two; tag a few tracks \
             of another genre"
        );
        assert_eq!(
            untagged.too_few_genres(0, 5).unwrap(),
            "no audio files found"
        );
    }
}
