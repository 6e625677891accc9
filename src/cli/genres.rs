//! `--genres mine|gtzan`: which vocabulary a command speaks. `gtzan` is the
//! model's own head; `mine` is the head `earmark learn` made for the library
//! root above each file. Both apply per-genre thresholds: below them the
//! answer is `unsure`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use clap::ValueEnum;

use crate::model::{GenreModel, Prediction};
use crate::vocab::{Head, Suggestion, gtzan, store, suggest_from};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Genres {
    /// The genres this library already uses (learned with `earmark learn`).
    Mine,
    /// The model's ten GTZAN genres.
    Gtzan,
}

/// Heads found so far, by root; and the GTZAN thresholds.
pub struct Vocabularies {
    choice: Genres,
    model_name: String,
    /// The model's hash and those whose embedding it reproduces (`embeds_like`):
    /// the models a learned head may come from.
    model_hashes: Vec<String>,
    gtzan_thresholds: Vec<Option<f32>>,
    heads: HashMap<PathBuf, Head>,
    /// One head for every file (`--head FILE`), and its file.
    fixed: Option<(Head, PathBuf)>,
    /// How many files `preflight` looked a head up for.
    #[cfg(test)]
    preflight_lookups: usize,
}

/// What a file's answer is in the chosen vocabulary.
pub struct Answer {
    pub ranked: Vec<(String, f32)>,
    pub suggestion: Suggestion,
    /// When unsure: the top genre's threshold (None: it is never confident),
    /// so that a table can say why 47 % was not enough.
    pub top_threshold: Option<Option<f32>>,
}

impl Vocabularies {
    pub fn new(choice: Genres, model: &GenreModel) -> Self {
        Vocabularies {
            choice,
            model_name: model.card().name.clone(),
            model_hashes: model.embedding_hashes().map(str::to_string).collect(),
            gtzan_thresholds: gtzan::card_thresholds(model.card(), 0.9),
            heads: HashMap::new(),
            fixed: None,
            #[cfg(test)]
            preflight_lookups: 0,
        }
    }

    /// Always answer with `head`, read from `file`.
    pub fn fixed(head: Head, file: &Path, model: &GenreModel) -> Self {
        let mut v = Vocabularies::new(Genres::Mine, model);
        v.fixed = Some((head, file.to_path_buf()));
        v
    }

    /// Before any classifying: an error when none of `files` can be answered
    /// (a head learned with another model, no learned genres at all), said
    /// once for the run rather than once per file after all the work.
    pub fn preflight(&mut self, files: &[PathBuf]) -> Result<(), String> {
        if self.choice == Genres::Gtzan {
            return Ok(());
        }
        let mut first = None;
        // Files of one folder share the answer (a head is looked up in the
        // folders above a file), so ask once per folder: a miss reads every
        // folder above it and the other models' heads.
        let mut folders_seen = std::collections::HashSet::new();
        for f in files {
            if !folders_seen.insert(f.parent()) {
                continue;
            }
            #[cfg(test)]
            {
                self.preflight_lookups += 1;
            }
            match self.head_for(f) {
                Ok(_) => return Ok(()),
                Err(e) => {
                    first.get_or_insert(e);
                }
            }
        }
        match first {
            Some(e) if files.len() > 1 && self.fixed.is_none() => Err(format!(
                "{e} (and for the other {})",
                crate::text::plural(files.len() - 1, "file")
            )),
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn head_for(&mut self, path: &Path) -> Result<&Head, String> {
        if let Some((h, file)) = &self.fixed {
            if !self.model_hashes.contains(&h.model_sha256) {
                return Err(format!(
                    "{} was learned with {}; {}",
                    file.display(),
                    model_words(&h.model_name),
                    model_advice(&h.model_name, "run `earmark learn` with this one")
                ));
            }
            return Ok(h);
        }
        // `learn` for the model in use: `--model NAME` unless it is the default.
        let this_model = match crate::model::shipped_name_of(&self.model_name) {
            Some(n) if n != crate::model::DEFAULT_MODEL => format!(" --model {n}"),
            _ => String::new(),
        };
        let (root, file) = store::find_for(path, &self.model_name).ok_or_else(|| {
            match store::find_for_other_models(path, &self.model_name).first() {
                Some((root, other)) => format!(
                    "{}: its library's genres were learned with {}; {}",
                    path.display(),
                    model_words(other),
                    model_advice(
                        other,
                        &format!(
                            "run `earmark learn{this_model} {}` for this one",
                            root.display()
                        )
                    )
                ),
                None => format!(
                    "{}: no learned genres for a library holding it with this model (they are kept \
                     per library folder: a moved library needs `earmark learn{this_model} LIBRARY` \
                     again, or `--head FILE`)",
                    path.display()
                ),
            }
        })?;
        if !self.heads.contains_key(&root) {
            let head = store::load(&file).map_err(|e| e.to_string())?;
            if !self.model_hashes.contains(&head.model_sha256) {
                return Err(format!(
                    "{}: the learned genres were trained on another version of the model; run `earmark learn {}` again",
                    path.display(),
                    root.display()
                ));
            }
            self.heads.insert(root.clone(), head);
        }
        self.heads
            .get(&root)
            .ok_or_else(|| "learned head vanished".to_string())
    }

    /// The answer for `path`, whose prediction (with embedding) is given.
    /// Whether answers are in the library's own genres, to be shown as spelt.
    /// The genres of the heads read so far (after [`Self::preflight`]: at
    /// least the first), so that a table can size its genre columns.
    pub fn known_genres(&self) -> impl Iterator<Item = &str> {
        self.fixed
            .iter()
            .map(|(h, _)| h)
            .chain(self.heads.values())
            .flat_map(|h| h.vocabulary.iter().map(String::as_str))
    }

    pub fn speaks_mine(&self) -> bool {
        matches!(self.choice, Genres::Mine)
    }

    pub fn answer(&mut self, path: &Path, prediction: &Prediction) -> Result<Answer, String> {
        let (labels, probs, thresholds) = match self.choice {
            Genres::Gtzan => (
                prediction.labels.clone(),
                prediction.probs.clone(),
                self.gtzan_thresholds.clone(),
            ),
            Genres::Mine => {
                let embedding = prediction
                    .embedding
                    .as_ref()
                    .ok_or_else(|| format!("{}: no embedding", path.display()))?;
                let head = self.head_for(path)?;
                let probs = head
                    .probs(embedding)
                    .ok_or_else(|| format!("{}: embedding of the wrong size", path.display()))?;
                (head.vocabulary.clone(), probs, head.thresholds.clone())
            }
        };
        let suggestion = suggest_from(&labels, &probs, &thresholds);
        let top = (0..probs.len()).max_by(|&a, &b| probs[a].total_cmp(&probs[b]).then(b.cmp(&a)));
        let top_threshold = match suggestion {
            Suggestion::Unsure { .. } => top.map(|i| thresholds.get(i).copied().flatten()),
            Suggestion::Genre { .. } => None,
        };
        let mut ranked: Vec<(String, f32)> = labels.into_iter().zip(probs).collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
        Ok(Answer {
            ranked,
            suggestion,
            top_threshold,
        })
    }
}

/// "the `fast` model" for a shipped model's card name, else the name quoted.
fn model_words(card_name: &str) -> String {
    match crate::model::shipped_name_of(card_name) {
        Some(n) => format!("the `{n}` model"),
        None => format!("another model ({card_name})"),
    }
}

/// `add --model fast` when the head's model ships, else `otherwise`.
fn model_advice(card_name: &str, otherwise: &str) -> String {
    match crate::model::shipped_name_of(card_name) {
        Some(n) => format!("add `--model {n}` (or {otherwise})"),
        None => otherwise.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Without a learned head, the one-line error comes after one lookup per
    /// folder, not per file: a miss reads every folder above the file.
    #[test]
    fn preflight_looks_once_per_folder() {
        let lib = tempfile::tempdir().unwrap();
        let mut files = Vec::new();
        for folder in ["a", "b"] {
            std::fs::create_dir(lib.path().join(folder)).unwrap();
            for i in 0..50 {
                let f = lib.path().join(folder).join(format!("{i}.ogg"));
                std::fs::write(&f, b"").unwrap();
                files.push(f);
            }
        }
        let model = crate::model::load_embedded("fast").unwrap();
        let mut v = Vocabularies::new(Genres::Mine, &model);
        let err = v.preflight(&files).unwrap_err();
        assert!(err.contains("and for the other 99 files"), "{err}");
        assert_eq!(v.preflight_lookups, 2);
    }
}
