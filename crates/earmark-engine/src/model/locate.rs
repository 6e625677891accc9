//! Finding the model to use.
//!
//! Two models ship, by name: `accurate` (the default: musicnn MSD + a genre
//! head) and `fast` (a small CNN distilled from it, ~20× faster end to end
//! but about 4 points behind it in cross-validation, so not the default until
//! it is within one: the README's model table). `--model`
//! takes a name, or a path: a folder holding `model.json`, or an `.onnx` file.
//! A name is looked up in the models root — `$EARMARK_MODEL_DIR`, else the
//! `models/` folder of the source tree earmark was built from or one beside
//! the binary — as `<root>/<name>/model.json`; when no models root is found on
//! disk, the copies embedded in the binary are used, so an installed binary
//! works offline anywhere.

use std::path::{Path, PathBuf};

use super::{GenreModel, ModelCard, ModelError};

/// The shipped models, by name; the first is the default.
pub const MODEL_NAMES: &[&str] = &["accurate", "fast"];

/// The model earmark uses unless told otherwise: accuracy decides, and the
/// distilled student is not yet within a point of its teacher.
pub const DEFAULT_MODEL: &str = "accurate";

/// The shipped models' cards and weights, compiled into the binary.
mod embedded {
    pub const FAST_CARD: &str = include_str!("../../../../models/fast/model.json");
    pub const FAST_ONNX: &[u8] = include_bytes!("../../../../models/fast/genre.onnx");
    pub const ACCURATE_CARD: &str = include_str!("../../../../models/accurate/model.json");
    pub const ACCURATE_ONNX: &[u8] = include_bytes!("../../../../models/accurate/genre.onnx");
}

/// The embedded card text and ONNX bytes of a shipped model.
fn embedded(name: &str) -> Option<(&'static str, &'static [u8])> {
    match name {
        "fast" => Some((embedded::FAST_CARD, embedded::FAST_ONNX)),
        "accurate" => Some((embedded::ACCURATE_CARD, embedded::ACCURATE_ONNX)),
        _ => None,
    }
}

/// Whether `spec` names a shipped model rather than a path. A folder in the
/// current directory called `fast` is reached as `./fast`.
pub fn is_model_name(spec: &Path) -> bool {
    spec.to_str().is_some_and(|s| MODEL_NAMES.contains(&s))
}

/// The folder holding the shipped models (`fast/`, `accurate/`), if one is on disk.
pub fn models_root() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("EARMARK_MODEL_DIR") {
        return Some(PathBuf::from(dir));
    }
    let mut candidates = vec![crate::repo_root().join("models")];
    if let Ok(exe) = std::env::current_exe() {
        for dir in exe.ancestors().skip(1).take(4) {
            candidates.push(dir.join("models"));
        }
    }
    candidates.into_iter().find(|d| {
        MODEL_NAMES
            .iter()
            .any(|n| d.join(n).join("model.json").is_file())
    })
}

/// The on-disk folder of the shipped model `name`, if there is one. A models
/// root laid out the old way (`model.json` directly inside) serves as the default model.
pub fn model_dir(name: &str) -> Option<PathBuf> {
    let root = models_root()?;
    let dir = root.join(name);
    if dir.join("model.json").is_file() {
        return Some(dir);
    }
    (name == DEFAULT_MODEL && root.join("model.json").is_file()).then_some(root)
}

/// Where the default model lives on disk, if it can be found.
pub fn default_model_dir() -> Option<PathBuf> {
    model_dir(DEFAULT_MODEL)
}

/// The default model's card on disk, if any (the embedded copy otherwise: see [`default_card`]).
pub fn default_card_path() -> Option<PathBuf> {
    default_model_dir().map(|d| d.join("model.json"))
}

/// The card of the default model (its evaluation metrics included): from
/// disk when the models folder is found, else the copy embedded in the binary.
pub fn default_card() -> Result<ModelCard, ModelError> {
    shipped_card(DEFAULT_MODEL)
}

/// The card of a shipped model, from disk or embedded.
pub fn shipped_card(name: &str) -> Result<ModelCard, ModelError> {
    if let Some(dir) = model_dir(name) {
        return read_card(&dir.join("model.json"));
    }
    let (text, _) = embedded(name).ok_or_else(|| unknown(name))?;
    parse_card(text, &embedded_path(name, "model.json"))
}

/// The shipped model (`fast`, `accurate`) whose card is called `card_name`,
/// for advice such as "add `--model fast`".
pub fn shipped_name_of(card_name: &str) -> Option<&'static str> {
    // the embedded cards, parsed once (the app's Genre pane asks each frame)
    static CARD_NAMES: std::sync::OnceLock<Vec<(String, &'static str)>> =
        std::sync::OnceLock::new();
    CARD_NAMES
        .get_or_init(|| {
            MODEL_NAMES
                .iter()
                .filter_map(|&n| shipped_card(n).ok().map(|c| (c.name, n)))
                .collect()
        })
        .iter()
        .find(|(card, _)| card == card_name)
        .map(|&(_, n)| n)
}

/// Load a shipped model by name: from disk when found, else the embedded copy.
pub fn load_shipped(name: &str) -> Result<GenreModel, ModelError> {
    if let Some(dir) = model_dir(name) {
        return GenreModel::from_dir(&dir);
    }
    if let Some(root) = std::env::var_os("EARMARK_MODEL_DIR") {
        return Err(ModelError::Load {
            path: PathBuf::from(root).join(name),
            reason: "no model.json here (EARMARK_MODEL_DIR points at the models root, \
                     holding fast/ and accurate/)"
                .into(),
        });
    }
    load_embedded(name)
}

/// Load the copy of a shipped model compiled into the binary.
pub fn load_embedded(name: &str) -> Result<GenreModel, ModelError> {
    let (text, onnx) = embedded(name).ok_or_else(|| unknown(name))?;
    let card = parse_card(text, &embedded_path(name, "model.json"))?;
    GenreModel::from_parts(card, onnx, embedded_path(name, "genre.onnx"))
}

/// Load the model named by `spec`: a shipped model's name, a folder, or an
/// `.onnx` file (None: the default model).
pub fn load_model(spec: Option<&Path>) -> Result<GenreModel, ModelError> {
    let spec = match spec {
        None => return load_shipped(DEFAULT_MODEL),
        Some(s) if is_model_name(s) => return load_shipped(&s.to_string_lossy()),
        Some(s) => s,
    };
    if spec.is_dir() {
        return GenreModel::from_dir(spec);
    }
    if let Some(e) = missing_model(Some(spec)) {
        return Err(e);
    }
    GenreModel::from_file(spec, find_card(spec)?)
}

/// `--model` naming neither a shipped model nor anything on disk: said before
/// any work (the CLI calls it a usage error).
pub fn missing_model(spec: Option<&Path>) -> Option<ModelError> {
    let spec = spec?;
    (!is_model_name(spec) && !spec.exists()).then(|| ModelError::NoSuchModel {
        path: spec.to_path_buf(),
    })
}

/// The card of the model `spec` names, found the way [`load_model`] finds it:
/// a shipped name, a folder's `model.json`, or for an `.onnx` file
/// `<stem>.json` beside it, else `model.json` beside it, else the card of
/// the shipped model it is (a link to or a copy of `models/fast/genre.onnx`),
/// else the default model's card (same inputs, new weights).
pub fn find_card(spec: &Path) -> Result<ModelCard, ModelError> {
    if is_model_name(spec) {
        return shipped_card(&spec.to_string_lossy());
    }
    if spec.is_dir() {
        return read_card(&spec.join("model.json"));
    }
    let beside = |name: &str| spec.parent().map(|p| p.join(name)).filter(|p| p.is_file());
    let stem = spec
        .file_stem()
        .map(|s| format!("{}.json", s.to_string_lossy()));
    match stem
        .as_deref()
        .and_then(beside)
        .or_else(|| beside("model.json"))
    {
        Some(path) => read_card(&path),
        None => shipped_card_of(spec).map_or_else(default_card, Ok),
    }
}

/// The card of the shipped model whose graph `onnx` is, by its sha256: its
/// name and evaluation are that model's (the default's card named the fast
/// graph "accurate" and showed accurate's evaluation).
fn shipped_card_of(onnx: &Path) -> Option<ModelCard> {
    use sha2::{Digest, Sha256};
    let bytes = crate::small_file::read_at_most(onnx, crate::small_file::MODEL_LIMIT).ok()?;
    let sha = hex::encode(Sha256::digest(&bytes));
    MODEL_NAMES
        .iter()
        .filter_map(|name| shipped_card(name).ok())
        .find(|card| card.sha256.as_deref() == Some(sha.as_str()))
}

fn read_card(path: &Path) -> Result<ModelCard, ModelError> {
    let text =
        crate::small_file::read_text_at_most(path, crate::small_file::DATA_LIMIT).map_err(|e| {
            ModelError::Card {
                path: path.to_path_buf(),
                reason: e.to_string(),
            }
        })?;
    parse_card(&text, path)
}

fn parse_card(text: &str, path: &Path) -> Result<ModelCard, ModelError> {
    serde_json::from_str(text).map_err(|e| ModelError::Card {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

fn embedded_path(name: &str, file: &str) -> PathBuf {
    PathBuf::from(format!("<embedded>/{name}/{file}"))
}

fn unknown(name: &str) -> ModelError {
    ModelError::Load {
        path: PathBuf::from(name),
        reason: format!("no shipped model of that name ({})", MODEL_NAMES.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_names_and_paths_are_paths() {
        assert!(is_model_name(Path::new("fast")));
        assert!(is_model_name(Path::new("accurate")));
        assert!(!is_model_name(Path::new("./fast")));
        assert!(!is_model_name(Path::new("models/fast")));
        assert!(!is_model_name(Path::new("genre.onnx")));
        assert_eq!(MODEL_NAMES[0], DEFAULT_MODEL);
    }

    #[test]
    fn both_models_load_from_the_embedded_bytes() {
        for name in MODEL_NAMES {
            let m = load_embedded(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(m.labels().len(), 10, "{name}");
            assert!(m.source().starts_with("<embedded>"));
            // The embedded bytes are the shipped file: same hash as the card records.
            assert_eq!(m.card().sha256.as_deref(), Some(m.sha256()), "{name}");
            let seg = m.card().segment.frames * m.card().features.n_mels;
            let probs = m.run_segments(&vec![0.5; 2 * seg]).unwrap();
            assert_eq!(probs.len(), 2);
            for p in probs {
                assert_eq!(p.len(), 10);
                assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-4, "{name}: {p:?}");
            }
        }
    }

    /// A shipped graph linked or copied alone takes its own card, not the
    /// default's; another graph alone takes the default's (same inputs).
    #[test]
    fn a_bare_shipped_graph_takes_its_own_card() {
        let dir = tempfile::tempdir().unwrap();
        let fast = crate::repo_root().join("models/fast/genre.onnx");
        let copy = dir.path().join("student.onnx");
        std::fs::copy(&fast, &copy).unwrap();
        assert_eq!(
            find_card(&copy).unwrap().name,
            shipped_card("fast").unwrap().name
        );
        let mut other = std::fs::read(&fast).unwrap();
        other.extend_from_slice(&[0x32, 4]);
        other.extend_from_slice(b"redo");
        std::fs::write(&copy, other).unwrap();
        assert_eq!(find_card(&copy).unwrap().name, default_card().unwrap().name);
    }

    #[test]
    fn embedded_models_differ() {
        let fast = load_embedded("fast").unwrap();
        let accurate = load_embedded("accurate").unwrap();
        assert_ne!(fast.sha256(), accurate.sha256());
        assert!(shipped_card("nope").is_err());
    }
}
