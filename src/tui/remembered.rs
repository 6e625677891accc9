//! What the app keeps from one session to the next that is not a setting:
//! the volume, as music players keep it, and the Genre pane's view (`y`)
//! (`app.toml` in earmark's data folder, beside the journal). Best effort both ways: a missing or damaged
//! file starts at the defaults, a failed save costs only that.

use std::path::{Path, PathBuf};

use serde::Serialize;

const FILE: &str = "app.toml";

#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct Remembered {
    /// 0.0 to 1.0.
    pub volume: Option<f32>,
    /// The Genre pane showed GTZAN's genres where yours are learned (`y`).
    #[serde(rename = "gtzan-pane", skip_serializing_if = "Option::is_none")]
    pub gtzan_pane: Option<bool>,
}

fn path() -> Option<PathBuf> {
    crate::cache::data_dir().map(|d| d.join(FILE))
}

/// What the last session left (defaults when nothing or nothing readable).
pub fn load() -> Remembered {
    path().map(|p| load_from(&p)).unwrap_or_default()
}

pub fn load_from(path: &Path) -> Remembered {
    let Ok(text) = crate::small_file::read_text_at_most(path, crate::small_file::SETTINGS_LIMIT)
    else {
        return Remembered::default();
    };
    // read by hand: `volume = 1` (an integer, as a person edits it) is a
    // volume too, which serde's f32 refused
    let Ok(table) = text.parse::<toml::Table>() else {
        return Remembered::default();
    };
    let volume = match table.get("volume") {
        Some(toml::Value::Float(v)) => Some(*v),
        Some(toml::Value::Integer(v)) => Some(*v as f64),
        _ => None,
    };
    Remembered {
        volume: volume
            .filter(|v| v.is_finite())
            .map(|v| v.clamp(0.0, 1.0) as f32),
        gtzan_pane: table.get("gtzan-pane").and_then(toml::Value::as_bool),
    }
}

/// Keep `r` for the next session, when it differs from how this one began.
pub fn save(r: &Remembered, started: &Remembered) {
    if r != started
        && let Some(p) = path()
    {
        let _ = save_to(&p, r);
    }
}

pub fn save_to(path: &Path, r: &Remembered) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let text = toml::to_string(r).map_err(std::io::Error::other)?;
    let tmp = path.with_extension("toml.tmp");
    let written = std::fs::write(&tmp, format!("# kept by earmark between sessions\n{text}"))
        .and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_volume_comes_back_and_a_bad_file_is_the_default() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("data").join(FILE);
        assert_eq!(load_from(&p), Remembered::default());
        let kept = Remembered {
            volume: Some(0.35),
            gtzan_pane: None,
        };
        save_to(&p, &kept).unwrap();
        assert_eq!(load_from(&p), kept);
        // the Genre pane's view comes back too (`y`)
        let gtzan = Remembered {
            volume: Some(0.35),
            gtzan_pane: Some(true),
        };
        save_to(&p, &gtzan).unwrap();
        assert_eq!(load_from(&p), gtzan);
        std::fs::write(&p, "volume = 7.0\n").unwrap();
        assert_eq!(load_from(&p).volume, Some(1.0));
        std::fs::write(&p, "volume = -3\n").unwrap();
        assert_eq!(load_from(&p).volume, Some(0.0), "an integer is a volume");
        std::fs::write(&p, "volume = nan\n").unwrap();
        assert_eq!(load_from(&p), Remembered::default());
        std::fs::write(&p, "volume = \"loud\"\n").unwrap();
        assert_eq!(load_from(&p), Remembered::default());
        std::fs::write(&p, b"\xff\x00").unwrap();
        assert_eq!(load_from(&p), Remembered::default());
        // a folder in its place: the save fails and leaves no temp file
        std::fs::remove_file(&p).unwrap();
        std::fs::create_dir(&p).unwrap();
        std::fs::write(p.join("x"), "").unwrap();
        assert!(save_to(&p, &kept).is_err());
        assert!(!p.with_extension("toml.tmp").exists());
    }
}
