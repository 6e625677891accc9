//! What the app keeps from one session to the next that is not a setting:
//! the volume, as music players keep it, the Genre pane's view (`y`), and
//! where the cursor was in each library, so that a folder tagged over
//! several sessions opens where it was left (`app.toml` in earmark's data
//! folder, beside the journal). Best effort both ways: a missing or damaged
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
    /// Where the cursor was in each library opened, newest first, at most
    /// [`PLACES`] (libraries whose path is not UTF-8 are not kept).
    #[serde(rename = "place", skip_serializing_if = "Vec::is_empty")]
    pub places: Vec<Place>,
}

/// The cursor's entry, relative to the library's folder (canonical).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Place {
    pub library: String,
    pub entry: String,
}

/// How many libraries' places are kept.
pub const PLACES: usize = 20;

impl Remembered {
    /// Where the cursor was in `library` (canonical), as a relative path.
    pub fn place_in(&self, library: &Path) -> Option<PathBuf> {
        let library = library.to_str()?;
        self.places
            .iter()
            .find(|p| p.library == library)
            .map(|p| PathBuf::from(&p.entry))
    }

    /// Keep `entry` as the cursor's place in `library`, first.
    pub fn set_place(&mut self, library: &Path, entry: &Path) {
        let (Some(library), Some(entry)) = (library.to_str(), entry.to_str()) else {
            return;
        };
        self.places.retain(|p| p.library != library);
        if !entry.is_empty() {
            self.places.insert(
                0,
                Place {
                    library: library.to_string(),
                    entry: entry.to_string(),
                },
            );
        }
        self.places.truncate(PLACES);
    }
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
    let places = match table.get("place") {
        Some(toml::Value::Array(list)) => list
            .iter()
            .filter_map(|p| {
                let text = |k: &str| p.get(k).and_then(toml::Value::as_str).map(str::to_string);
                Some(Place {
                    library: text("library")?,
                    entry: text("entry")?,
                })
            })
            // an edited file's `..` or absolute entry would leave the library
            .filter(|p| {
                Path::new(&p.entry)
                    .components()
                    .all(|c| matches!(c, std::path::Component::Normal(_)))
            })
            .take(PLACES)
            .collect(),
        _ => Vec::new(),
    };
    Remembered {
        volume: volume
            .filter(|v| v.is_finite())
            .map(|v| v.clamp(0.0, 1.0) as f32),
        gtzan_pane: table.get("gtzan-pane").and_then(toml::Value::as_bool),
        places,
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
            places: Vec::new(),
        };
        save_to(&p, &kept).unwrap();
        assert_eq!(load_from(&p), kept);
        // the Genre pane's view comes back too (`y`)
        let gtzan = Remembered {
            volume: Some(0.35),
            gtzan_pane: Some(true),
            places: Vec::new(),
        };
        save_to(&p, &gtzan).unwrap();
        assert_eq!(load_from(&p), gtzan);
        // where the cursor was, per library, newest first, at most PLACES
        let mut placed = gtzan.clone();
        placed.set_place(Path::new("/music"), Path::new("Jazz/Album/01 So What.flac"));
        placed.set_place(Path::new("/other"), Path::new("b.ogg"));
        placed.set_place(Path::new("/music"), Path::new("Rock/x.mp3"));
        save_to(&p, &placed).unwrap();
        let back = load_from(&p);
        assert_eq!(back, placed);
        assert_eq!(
            back.place_in(Path::new("/music")),
            Some("Rock/x.mp3".into())
        );
        assert_eq!(back.places.len(), 2);
        for i in 0..30 {
            placed.set_place(Path::new(&format!("/lib{i}")), Path::new("a.ogg"));
        }
        assert_eq!(placed.places.len(), PLACES);
        assert_eq!(placed.place_in(Path::new("/music")), None, "the oldest go");
        // an entry that would leave its library is not taken
        std::fs::write(
            &p,
            "[[place]]\nlibrary = \"/m\"\nentry = \"../../etc/passwd\"\n",
        )
        .unwrap();
        assert_eq!(load_from(&p).place_in(Path::new("/m")), None);
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
