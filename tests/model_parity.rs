//! Both shipped models load in tract and match onnxruntime to ≤ 1e-4 on a
//! committed fixture (tests/fixtures/model, made by make_fixture.py from the
//! log-mel fixture in tests/fixtures/mel).
#![allow(clippy::unwrap_used)] // a test (or bench) that cannot unwrap has failed

use std::fs::File;
use std::path::PathBuf;

use earmark::features::npy;
use earmark::model::load_shipped;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn npy(path: PathBuf) -> (Vec<usize>, Vec<f32>) {
    npy::read_f32(File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .expect("valid npy")
}

/// The fixture's patches, rebuilt as make_fixture.py cut them.
fn patches() -> (usize, Vec<f32>) {
    let text = std::fs::read_to_string(root().join("model/fixture.json")).unwrap();
    let info: serde_json::Value = serde_json::from_str(&text).unwrap();
    let frames = info["frames"].as_u64().unwrap() as usize;
    let mut out = Vec::new();
    let list = info["patches"].as_array().unwrap();
    for p in list {
        let clip = p["clip"].as_str().unwrap();
        let start = p["start"].as_u64().unwrap() as usize;
        let scale = p["scale"].as_f64().unwrap() as f32;
        let (shape, mel) = npy(root().join(format!("mel/{clip}_logmel.npy")));
        let n_mels = shape[1];
        out.extend(
            mel[start * n_mels..(start + frames) * n_mels]
                .iter()
                .map(|v| v * scale),
        );
    }
    (list.len(), out)
}

fn check(name: &str) {
    let model = load_shipped(name).unwrap_or_else(|e| panic!("{name}: {e}"));
    let text = std::fs::read_to_string(root().join("model/fixture.json")).unwrap();
    let info: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        info["models"][name]["sha256"].as_str(),
        Some(model.sha256()),
        "{name}: the fixture was made for other weights; rerun tests/fixtures/model/make_fixture.py"
    );
    let (n, data) = patches();
    let got = model.run_segments(&data).unwrap();
    let (shape, want) = npy(root().join(format!("model/probs_{name}.npy")));
    assert_eq!(shape, vec![n, 10], "{name}: fixture shape");
    assert_eq!(got.len(), n);
    let mut max_err = 0.0f32;
    for (i, p) in got.iter().enumerate() {
        assert_eq!(p.len(), 10);
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-4, "{name}: {p:?}");
        for (a, b) in p.iter().zip(&want[i * 10..(i + 1) * 10]) {
            max_err = max_err.max((a - b).abs());
        }
    }
    eprintln!("{name}: tract vs onnxruntime max abs diff {max_err:.1e}");
    assert!(
        max_err <= 1e-4,
        "{name}: tract vs onnxruntime max abs diff {max_err}"
    );
    check_embeddings(name, &model, &data, n);
}

/// The second output, `embedding`, from the same run: onnxruntime's values to
/// 1e-4 relative to the row's largest magnitude, and the probabilities
/// unchanged by asking for it.
fn check_embeddings(name: &str, model: &earmark::model::GenreModel, data: &[f32], n: usize) {
    let spec = model
        .card()
        .embedding
        .clone()
        .expect("shipped cards declare an embedding");
    let got = model.run_segment_outputs(data).unwrap();
    let (shape, want) = npy(root().join(format!("model/embedding_{name}.npy")));
    assert_eq!(shape, vec![n, spec.dim], "{name}: embedding fixture shape");
    assert_eq!(got.embeddings.len(), n);
    assert_eq!(got.probs, model.run_segments(data).unwrap());
    let mut max_rel = 0.0f32;
    for (i, row) in got.embeddings.iter().enumerate() {
        let w = &want[i * spec.dim..(i + 1) * spec.dim];
        let scale = w.iter().fold(1e-6f32, |m, v| m.max(v.abs()));
        for (a, b) in row.iter().zip(w) {
            max_rel = max_rel.max((a - b).abs() / scale);
        }
    }
    eprintln!("{name}: embedding tract vs onnxruntime max rel diff {max_rel:.1e}");
    assert!(max_rel <= 1e-4, "{name}: embedding max rel diff {max_rel}");
}

#[test]
fn fast_model_matches_onnxruntime() {
    check("fast");
}

#[test]
fn accurate_model_matches_onnxruntime() {
    check("accurate");
}
