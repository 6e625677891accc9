//! The model card (`model.json`): labels, feature parameters, segmenting and
//! how segment outputs combine. The runtime trusts nothing it does not check.

use serde::{Deserialize, Serialize};

use crate::features::{FeatureParams, SegmentSpec};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TensorSpec {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frames: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n_mels: Option<usize>,
}

/// The model's second output: the backbone's embedding, one row per segment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmbeddingSpec {
    /// The ONNX output's name (`embedding` in the shipped models).
    pub name: String,
    /// Values per row.
    pub dim: usize,
}

/// How per-segment probabilities become one track prediction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Combine {
    /// Arithmetic mean of the segment probabilities.
    MeanProbs,
    /// Mean of log-probabilities, renormalised (a geometric mean).
    MeanLogProbs,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelCard {
    pub name: String,
    pub file: String,
    #[serde(default)]
    pub sha256: Option<String>,
    pub labels: Vec<String>,
    pub features: FeatureParams,
    pub input: TensorSpec,
    pub output: TensorSpec,
    pub segment: SegmentSpec,
    pub combine: Combine,
    /// The embedding output, when the model has one (`learn`, `similar`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedding: Option<EmbeddingSpec>,
    /// The evaluation report on the validation split (see `eval`), if recorded.
    #[serde(default)]
    pub metrics: Option<serde_json::Value>,
    /// Hashes of earlier graphs whose outputs this one reproduces (exact
    /// rewrites, `models/train/optimise_graph.py`): cached results and learned
    /// heads made with them stay valid.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub equivalent_sha256: Vec<String>,
    /// Hashes of earlier models whose `embedding` output this one reproduces
    /// while its genres differ (a retrained genre output beside the same
    /// embedding): learned heads and cached embeddings made with them stay
    /// valid, cached genre results do not.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub embedding_equivalent_sha256: Vec<String>,
}

impl ModelCard {
    /// Internal consistency: what a card says must agree with itself.
    pub fn validate(&self) -> Result<(), String> {
        self.features.validate()?;
        if self.labels.len() < 2 {
            return Err("the card lists fewer than two labels".into());
        }
        if let Some(n) = self.input.n_mels
            && n != self.features.n_mels
        {
            return Err(format!(
                "input.n_mels = {n} but features.n_mels = {}",
                self.features.n_mels
            ));
        }
        if let Some(f) = self.input.frames
            && f != self.segment.frames
        {
            return Err(format!(
                "input.frames = {f} but segment.frames = {}",
                self.segment.frames
            ));
        }
        if let Some(e) = &self.embedding
            && (e.dim == 0 || e.name == self.output.name)
        {
            return Err(format!(
                "embedding output '{}' must have a positive dim and differ from the genre output",
                e.name
            ));
        }
        if self.segment.frames == 0 || self.segment.hop_frames == 0 {
            return Err("segment frames and hop must be positive".into());
        }
        Ok(())
    }
}
