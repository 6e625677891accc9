//! Where heads live: `<data dir>/vocab/<root hash>-<model>.json` (the data
//! dir is `$XDG_DATA_HOME/earmark` unless `$EARMARK_DATA_DIR` says otherwise),
//! one per library root and model. The file name hashes the root's canonical
//! path, so the head itself holds no path.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::VocabError;
use super::head::Head;

/// The vocab directory (not created).
pub fn vocab_dir() -> Result<PathBuf, VocabError> {
    let base = crate::cache::data_dir().ok_or(VocabError::NoDataDir)?;
    Ok(base.join("vocab"))
}

/// The head file for a library root and a model name.
pub fn head_path(root: &Path, model_name: &str) -> Result<PathBuf, VocabError> {
    let canonical = std::fs::canonicalize(root).map_err(|e| VocabError::Io {
        path: root.to_path_buf(),
        reason: crate::library::io_reason(&e),
    })?;
    let digest = Sha256::digest(crate::cache::path_to_blob(&canonical));
    let safe: String = model_name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    Ok(vocab_dir()?.join(format!("{}-{safe}.json", &hex::encode(digest)[..16])))
}

pub fn save(head: &Head, path: &Path) -> Result<(), VocabError> {
    let io = |e: std::io::Error| VocabError::Io {
        path: path.to_path_buf(),
        reason: crate::library::io_reason(&e),
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let json = serde_json::to_string_pretty(head).map_err(|e| VocabError::Io {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, json).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

pub fn load(path: &Path) -> Result<Head, VocabError> {
    let text =
        crate::small_file::read_text_at_most(path, crate::small_file::DATA_LIMIT).map_err(|e| {
            VocabError::Io {
                path: path.to_path_buf(),
                reason: crate::library::io_reason(&e),
            }
        })?;
    let head: Head = serde_json::from_str(&text).map_err(|e| VocabError::Io {
        path: path.to_path_buf(),
        reason: format!("not a learned head: {e}"),
    })?;
    if head.version != Head::VERSION
        || head.weights.len() != head.dim
        || head.mean.len() != head.dim
        || head.scale.len() != head.dim
        || head.vocabulary.len() != head.intercept.len()
        || head
            .weights
            .iter()
            .any(|r| r.len() != head.vocabulary.len())
    {
        return Err(VocabError::Io {
            path: path.to_path_buf(),
            reason: "a learned head with inconsistent sizes; run `earmark learn` again".into(),
        });
    }
    Ok(head)
}

/// Heads learned for a library root above `path` with other models than
/// `model_name`: `(root, the head's model name)`, closest root first. For
/// advice only ("learned with the `fast` model").
pub fn find_for_other_models(path: &Path, model_name: &str) -> Vec<(PathBuf, String)> {
    let (Ok(canonical), Ok(dir)) = (std::fs::canonicalize(path), vocab_dir()) else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let names: Vec<String> = entries
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    let mut found = Vec::new();
    for root in canonical.ancestors() {
        let Ok(own) = head_path(root, model_name) else {
            continue;
        };
        let Some(prefix) = own
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.get(..17))
        else {
            continue;
        };
        for n in names
            .iter()
            .filter(|n| n.starts_with(prefix) && n.ends_with(".json"))
        {
            if let Ok(head) = load(&dir.join(n))
                && head.model_name != model_name
            {
                found.push((root.to_path_buf(), head.model_name));
            }
        }
    }
    found
}

/// The head learned for the closest library root above `path` (or `path`
/// itself), for this model; None when there is none.
pub fn find_for(path: &Path, model_name: &str) -> Option<(PathBuf, PathBuf)> {
    let canonical = std::fs::canonicalize(path).ok()?;
    canonical.ancestors().find_map(|root| {
        let file = head_path(root, model_name).ok()?;
        file.is_file().then(|| (root.to_path_buf(), file))
    })
}
