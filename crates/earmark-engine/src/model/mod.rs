//! Genre model: load the ONNX file and its card once, check they agree, run
//! segments in batches with tract, combine segment outputs into a prediction.

mod card;
mod combine;
mod embedding;
mod locate;

pub use card::{Combine, EmbeddingSpec, ModelCard, TensorSpec};
pub use combine::{combine, top_k};
pub use embedding::{SegmentOutputs, mean_rows};
pub use locate::{
    DEFAULT_MODEL, MODEL_NAMES, default_card, default_card_path, default_model_dir, find_card,
    is_model_name, load_embedded, load_model, load_shipped, missing_model, model_dir, models_root,
    shipped_card, shipped_name_of,
};

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tract_onnx::prelude::*;
use tract_onnx::tract_hir::internal::{DimLike, Factoid};

use crate::analysis::{SegmentRef, TrackFeatures, track_features_cancellable};
use crate::audio::{AnalysisPlan, AudioError, SourceInfo};
use crate::features::MelExtractor;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("model card {}: {reason}", crate::library::shown(path.as_os_str()))]
    Card { path: PathBuf, reason: String },
    #[error("model {}: {reason}", crate::library::shown(path.as_os_str()))]
    Load { path: PathBuf, reason: String },
    /// `--model` names neither a shipped model nor a path that exists (a
    /// usage error to the CLI).
    #[error("model {}: no such file or folder (a shipped model is named {})", crate::library::shown(path.as_os_str()), locate::MODEL_NAMES.join(" or "))]
    NoSuchModel { path: PathBuf },
    #[error("model does not match its card: {0}")]
    Mismatch(String),
    #[error("inference failed: {0}")]
    Run(String),
    #[error("cancelled")]
    Cancelled,
}

/// Segments per tract call. One: the cancel flag is checked between calls, so
/// a batch is how long a cancelled job keeps running, and batching buys
/// nothing here (32 segments, batch 1 vs 16: fast 3.3 vs 3.1 ms/segment,
/// accurate 417 vs 467 ms/segment on a loaded 2-core machine, within noise).
/// The plan is built for exactly this batch: with every shape concrete tract
/// picks lazy im2col for the convolutions, which made `accurate` 1.3× faster
/// than a symbolic batch (`cargo bench --bench model_profile`).
const BATCH: usize = 1;

pub struct GenreModel {
    card: ModelCard,
    sha256: String,
    plan: Arc<TypedRunnableModel>,
    extractor: MelExtractor,
    source: PathBuf,
}

impl std::fmt::Debug for GenreModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GenreModel")
            .field("name", &self.card.name)
            .field("sha256", &self.sha256)
            .finish()
    }
}

/// Everything the model said about one track.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Prediction {
    pub labels: Vec<String>,
    /// Track-level probabilities, in label order.
    pub probs: Vec<f32>,
    /// Per-segment probabilities, in label order, with where each segment lies.
    pub segments: Vec<SegmentPrediction>,
    /// Track-level embedding: the raw mean of the segment rows, when the model
    /// has an embedding output. The cache keeps it in its own table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedding: Option<Vec<f32>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SegmentPrediction {
    pub start_s: f64,
    pub probs: Vec<f32>,
}

impl Prediction {
    pub fn top(&self, k: usize) -> Vec<(&str, f32)> {
        top_k(&self.probs, k)
            .into_iter()
            .map(|i| (self.labels[i].as_str(), self.probs[i]))
            .collect()
    }
}

/// A classified track: what it is, what the model heard, and the features behind it.
#[derive(Debug, Clone)]
pub struct TrackAnalysis {
    pub info: SourceInfo,
    pub duration_s: f64,
    pub features: TrackFeatures,
    pub prediction: Prediction,
}

#[derive(Debug, thiserror::Error)]
pub enum AnalyseError {
    #[error(transparent)]
    Audio(#[from] AudioError),
    #[error("{}: {source}", crate::library::shown(path.as_os_str()))]
    Model { path: PathBuf, source: ModelError },
}

impl GenreModel {
    /// Load `model.json` from `dir` and the ONNX file it names.
    pub fn from_dir(dir: &Path) -> Result<Self, ModelError> {
        let card_path = dir.join("model.json");
        let card_text =
            crate::small_file::read_text_at_most(&card_path, crate::small_file::DATA_LIMIT)
                .map_err(|e| ModelError::Card {
                    path: card_path.clone(),
                    reason: e.to_string(),
                })?;
        let card: ModelCard = serde_json::from_str(&card_text).map_err(|e| ModelError::Card {
            path: card_path.clone(),
            reason: e.to_string(),
        })?;
        let onnx_path = dir.join(&card.file);
        let bytes = crate::small_file::read_at_most(&onnx_path, crate::small_file::MODEL_LIMIT)
            .map_err(|e| ModelError::Load {
                path: onnx_path.clone(),
                reason: e.to_string(),
            })?;
        Self::from_parts(card, &bytes, onnx_path)
    }

    /// Load an ONNX file with an explicit card (e.g. evaluating a candidate model).
    pub fn from_file(onnx_path: &Path, card: ModelCard) -> Result<Self, ModelError> {
        let bytes = crate::small_file::read_at_most(onnx_path, crate::small_file::MODEL_LIMIT)
            .map_err(|e| ModelError::Load {
                path: onnx_path.to_path_buf(),
                reason: e.to_string(),
            })?;
        Self::from_parts(card, &bytes, onnx_path.to_path_buf())
    }

    pub fn from_parts(card: ModelCard, onnx: &[u8], source: PathBuf) -> Result<Self, ModelError> {
        card.validate().map_err(|reason| ModelError::Card {
            path: source.clone(),
            reason,
        })?;
        let sha256 = hex::encode(Sha256::digest(onnx));
        let load_err = |e: TractError| ModelError::Load {
            path: source.clone(),
            reason: format!("{e:#}"),
        };
        let mut model = tract_onnx::onnx()
            .model_for_read(&mut &onnx[..])
            .map_err(load_err)?;
        check_declared_shape(&model, &card)?;
        let fact = f32::fact(tvec![
            BATCH.to_dim(),
            card.segment.frames.to_dim(),
            card.features.n_mels.to_dim()
        ]);
        model.set_input_fact(0, fact.into()).map_err(load_err)?;
        if let Some(e) = &card.embedding {
            embedding::select_outputs(&mut model, &card.output.name, &e.name)?;
        }
        let typed = model.into_optimized().map_err(load_err)?;
        if let Some(e) = &card.embedding {
            embedding::check_dim(&typed, e)?;
        }
        let out_fact = typed.output_fact(0).map_err(load_err)?;
        let n_out = out_fact.shape.last().and_then(|d| d.to_usize().ok());
        if n_out != Some(card.labels.len()) {
            return Err(ModelError::Mismatch(format!(
                "the model outputs {} values per segment but the card lists {} labels",
                n_out.map_or("an unknown number of".to_string(), |n| n.to_string()),
                card.labels.len()
            )));
        }
        let plan = typed.into_runnable().map_err(load_err)?;
        let extractor =
            MelExtractor::new(card.features.clone()).map_err(|reason| ModelError::Card {
                path: source.clone(),
                reason,
            })?;
        Ok(GenreModel {
            card,
            sha256,
            plan,
            extractor,
            source,
        })
    }

    pub fn card(&self) -> &ModelCard {
        &self.card
    }

    pub fn labels(&self) -> &[String] {
        &self.card.labels
    }

    /// sha256 of the ONNX bytes: part of every cache key.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// Whether `sha256` names this model or a graph whose outputs it
    /// reproduces (the card's `equivalent_sha256`): what a learned head or a
    /// cached result made with it may be used with.
    pub fn answers_for(&self, sha256: &str) -> bool {
        self.sha256 == sha256 || self.card.equivalent_sha256.iter().any(|s| s == sha256)
    }

    /// Whether `sha256` names a model whose embedding this one reproduces
    /// (`answers_for`, or the card's `embedding_equivalent_sha256`): what a
    /// learned head, which reads only the embedding, may be used with.
    pub fn embeds_like(&self, sha256: &str) -> bool {
        self.embedding_hashes().any(|s| s == sha256)
    }

    /// This model's hash and those `embeds_like` accepts.
    pub fn embedding_hashes(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.sha256.as_str())
            .chain(self.card.equivalent_sha256.iter().map(String::as_str))
            .chain(
                self.card
                    .embedding_equivalent_sha256
                    .iter()
                    .map(String::as_str),
            )
    }

    pub fn source(&self) -> &Path {
        &self.source
    }

    pub fn extractor(&self) -> &MelExtractor {
        &self.extractor
    }

    /// Probabilities for each segment of a flattened `[n][frames][n_mels]` batch.
    pub fn run_segments(&self, data: &[f32]) -> Result<Vec<Vec<f32>>, ModelError> {
        Ok(self.run_segment_outputs(data)?.probs)
    }

    /// Probabilities and (when the card declares them) embeddings for each
    /// segment, from one forward pass per batch.
    pub fn run_segment_outputs(&self, data: &[f32]) -> Result<SegmentOutputs, ModelError> {
        self.run_segment_outputs_cancellable(data, &crate::audio::NEVER_CANCELLED)
    }

    /// [`Self::run_segment_outputs`], checking `cancel` between batches.
    pub fn run_segment_outputs_cancellable(
        &self,
        data: &[f32],
        cancel: &AtomicBool,
    ) -> Result<SegmentOutputs, ModelError> {
        let seg_len = self.card.segment.frames * self.card.features.n_mels;
        if seg_len == 0 || !data.len().is_multiple_of(seg_len) {
            return Err(ModelError::Run("segment data has the wrong length".into()));
        }
        let mut out = SegmentOutputs::default();
        for chunk in data.chunks(seg_len * BATCH) {
            if cancel.load(Ordering::Relaxed) {
                return Err(ModelError::Cancelled);
            }
            let n = chunk.len() / seg_len;
            let input = Tensor::from_shape(
                &[n, self.card.segment.frames, self.card.features.n_mels],
                chunk,
            )
            .map_err(|e| ModelError::Run(e.to_string()))?;
            let result = self
                .plan
                .run(tvec![input.into()])
                .map_err(|e| ModelError::Run(format!("{e:#}")))?;
            let k = self.card.labels.len();
            let flat = embedding::rows(&result[0], n, k)?;
            out.probs
                .extend(flat.chunks(k).map(|c| sanitize_probs(c.to_vec())));
            if let Some(e) = &self.card.embedding {
                let tensor = result.get(1).ok_or_else(|| {
                    ModelError::Run("the model returned no embedding output".into())
                })?;
                let flat = embedding::rows(tensor, n, e.dim)?;
                out.embeddings
                    .extend(flat.chunks(e.dim).map(<[f32]>::to_vec));
            }
        }
        Ok(out)
    }

    /// Classify precomputed features.
    pub fn predict(&self, features: &TrackFeatures) -> Result<Prediction, ModelError> {
        self.predict_cancellable(features, &crate::audio::NEVER_CANCELLED)
    }

    fn predict_cancellable(
        &self,
        features: &TrackFeatures,
        cancel: &AtomicBool,
    ) -> Result<Prediction, ModelError> {
        let batch = features.segment_batch(&self.card.segment);
        let outputs = self.run_segment_outputs_cancellable(&batch, cancel)?;
        Ok(self.prediction_from(&features.segments, outputs))
    }

    fn prediction_from(&self, refs: &[SegmentRef], outputs: SegmentOutputs) -> Prediction {
        let per_segment = outputs.probs;
        let probs = combine(&per_segment, self.card.combine);
        Prediction {
            embedding: mean_rows(&outputs.embeddings),
            labels: self.card.labels.clone(),
            probs,
            segments: refs
                .iter()
                .zip(per_segment)
                .map(|(r, probs)| SegmentPrediction {
                    start_s: r.start_s,
                    probs,
                })
                .collect(),
        }
    }

    /// Decode, extract features and classify one file.
    pub fn analyse(&self, path: &Path, plan: &AnalysisPlan) -> Result<TrackAnalysis, AnalyseError> {
        self.analyse_cancellable(path, plan, &crate::audio::NEVER_CANCELLED)
    }

    /// [`Self::analyse`], stopping soon after `cancel` is raised (checked in
    /// decoding, between excerpts and between model batches).
    pub fn analyse_cancellable(
        &self,
        path: &Path,
        plan: &AnalysisPlan,
        cancel: &AtomicBool,
    ) -> Result<TrackAnalysis, AnalyseError> {
        let features =
            track_features_cancellable(path, &self.extractor, plan, &self.card.segment, cancel)?;
        let prediction = self
            .predict_cancellable(&features, cancel)
            .map_err(|source| AnalyseError::Model {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(TrackAnalysis {
            info: features.info.clone(),
            duration_s: features.duration_s,
            features,
            prediction,
        })
    }
}

/// A model whose softmax misbehaves must not poison averages with NaN.
fn sanitize_probs(mut p: Vec<f32>) -> Vec<f32> {
    if p.iter().any(|v| !v.is_finite()) {
        let n = p.len() as f32;
        p.iter_mut().for_each(|v| *v = 1.0 / n);
    }
    p
}

/// Refuse a card whose segment length or band count contradicts the ONNX input.
fn check_declared_shape(model: &InferenceModel, card: &ModelCard) -> Result<(), ModelError> {
    let Ok(fact) = model.input_fact(0) else {
        return Ok(());
    };
    let Some(shape) = fact.shape.concretize() else {
        return Ok(());
    };
    if shape.len() != 3 {
        return Err(ModelError::Mismatch(format!(
            "the model's input has rank {} but earmark feeds [batch, frames, mels]",
            shape.len()
        )));
    }
    let check = |dim: &TDim, want: usize, what: &str| -> Result<(), ModelError> {
        match dim.to_usize() {
            Ok(n) if n != want => Err(ModelError::Mismatch(format!(
                "the model expects {n} {what} per segment but the card's features give {want}"
            ))),
            _ => Ok(()),
        }
    };
    check(&shape[1], card.segment.frames, "frames")?;
    check(&shape[2], card.features.n_mels, "mel bands")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_raised_cancel_flag_stops_the_model_between_batches() {
        let model = load_embedded("fast").unwrap();
        let seg = model.card().segment.frames * model.card().features.n_mels;
        let data = vec![0.0f32; seg * 2];
        assert_eq!(model.run_segments(&data).unwrap().len(), 2);
        let r = model.run_segment_outputs_cancellable(&data, &AtomicBool::new(true));
        assert!(matches!(r, Err(ModelError::Cancelled)), "{r:?}");
    }
}
