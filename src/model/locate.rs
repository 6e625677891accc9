//! Finding the model to use: `--model` (a folder with model.json, or an .onnx
//! file), else `$EARMARK_MODEL_DIR`, else the `models/` folder of the source
//! tree earmark was built from or that sits beside the binary.

use std::path::{Path, PathBuf};

use super::{GenreModel, ModelCard, ModelError};

/// Where the shipped model lives, if it can be found.
pub fn default_model_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("EARMARK_MODEL_DIR") {
        return Some(PathBuf::from(dir));
    }
    let mut candidates = vec![PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models")];
    if let Ok(exe) = std::env::current_exe() {
        for dir in exe.ancestors().skip(1).take(4) {
            candidates.push(dir.join("models"));
        }
    }
    candidates
        .into_iter()
        .find(|d| d.join("model.json").is_file())
}

/// Load the model named by `spec` (None: the default one).
pub fn load_model(spec: Option<&Path>) -> Result<GenreModel, ModelError> {
    let Some(spec) = spec else {
        let dir = default_model_dir().ok_or_else(|| ModelError::Load {
            path: PathBuf::from("models/model.json"),
            reason: "no model found (set EARMARK_MODEL_DIR or pass --model)".into(),
        })?;
        return GenreModel::from_dir(&dir);
    };
    if spec.is_dir() {
        return GenreModel::from_dir(spec);
    }
    // An .onnx file: its card is `<stem>.json` beside it, else `model.json`
    // beside it, else the default model's card (same architecture, new weights).
    let beside = |name: &str| spec.parent().map(|p| p.join(name)).filter(|p| p.is_file());
    let stem = spec
        .file_stem()
        .map(|s| format!("{}.json", s.to_string_lossy()));
    let card_path = stem
        .as_deref()
        .and_then(beside)
        .or_else(|| beside("model.json"))
        .or_else(|| default_model_dir().map(|d| d.join("model.json")))
        .ok_or_else(|| ModelError::Card {
            path: spec.to_path_buf(),
            reason: "no model.json found for this .onnx file".into(),
        })?;
    let text = std::fs::read_to_string(&card_path).map_err(|e| ModelError::Card {
        path: card_path.clone(),
        reason: e.to_string(),
    })?;
    let card: ModelCard = serde_json::from_str(&text).map_err(|e| ModelError::Card {
        path: card_path.clone(),
        reason: e.to_string(),
    })?;
    GenreModel::from_file(spec, card)
}
