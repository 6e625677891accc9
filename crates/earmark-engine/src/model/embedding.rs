//! The model's second output: per-segment embeddings from the same forward
//! pass as the genre probabilities, and the track-level mean of them.

use tract_onnx::prelude::*;
use tract_onnx::tract_hir::internal::DimLike;

use super::{EmbeddingSpec, ModelError};

/// What one run gives per segment: probabilities, and embeddings when the
/// card declares an embedding output (else empty).
#[derive(Debug, Default, Clone)]
pub struct SegmentOutputs {
    pub probs: Vec<Vec<f32>>,
    pub embeddings: Vec<Vec<f32>>,
}

/// The raw mean of equal-length rows (None when there are none). Cosine
/// similarity normalises at use, so no normalisation here.
pub fn mean_rows(rows: &[Vec<f32>]) -> Option<Vec<f32>> {
    let first = rows.first()?;
    let mut sum = vec![0.0f64; first.len()];
    for row in rows {
        for (s, v) in sum.iter_mut().zip(row) {
            *s += f64::from(*v);
        }
    }
    let n = rows.len() as f64;
    Some(sum.into_iter().map(|s| (s / n) as f32).collect())
}

/// Make the plan return `[probs, embedding]`, in that order.
pub(super) fn select_outputs(
    model: &mut InferenceModel,
    probs: &str,
    embedding: &str,
) -> Result<(), ModelError> {
    model
        .select_outputs_by_name([probs, embedding])
        .map_err(|e| {
            ModelError::Mismatch(format!(
                "the card names outputs '{probs}' and '{embedding}' but the model lacks one: {e}"
            ))
        })
}

/// The embedding output's last dimension must be the card's `dim`.
pub(super) fn check_dim(model: &TypedModel, spec: &EmbeddingSpec) -> Result<(), ModelError> {
    let fact = model
        .output_fact(1)
        .map_err(|e| ModelError::Mismatch(format!("embedding output: {e}")))?;
    let dim = fact.shape.last().and_then(|d| d.to_usize().ok());
    if dim != Some(spec.dim) {
        return Err(ModelError::Mismatch(format!(
            "the embedding output has {} values per segment but the card says {}",
            dim.map_or("an unknown number of".to_string(), |n| n.to_string()),
            spec.dim
        )));
    }
    Ok(())
}

/// A `[n, width]` f32 output as one flat row-major vector, checked for size.
pub(super) fn rows(tensor: &TValue, n: usize, width: usize) -> Result<Vec<f32>, ModelError> {
    let view = tensor
        .to_plain_array_view::<f32>()
        .map_err(|e| ModelError::Run(e.to_string()))?;
    let flat: Vec<f32> = view.iter().copied().collect();
    if flat.len() != n * width {
        return Err(ModelError::Run(format!(
            "expected {} outputs, got {}",
            n * width,
            flat.len()
        )));
    }
    Ok(flat)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_of_rows_is_per_column() {
        let m = mean_rows(&[vec![1.0, -2.0], vec![3.0, 4.0]]).unwrap();
        assert_eq!(m, vec![2.0, 1.0]);
        assert!(mean_rows(&[]).is_none());
    }
}
