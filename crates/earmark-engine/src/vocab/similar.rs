//! "Sounds like this": brute-force cosine similarity over a library's cached
//! embeddings. 100 000 vectors are one pass of dot products (see the
//! `similar` bench); no index to build or keep fresh.

use super::head::l2_normalised;

/// Unit-length embeddings, one row per track, in one flat buffer.
#[derive(Debug, Clone, Default)]
pub struct SimilarityIndex {
    dim: usize,
    rows: Vec<f32>,
}

impl SimilarityIndex {
    /// An empty index for `dim`-long embeddings.
    pub fn new(dim: usize) -> Self {
        SimilarityIndex {
            dim,
            rows: Vec::new(),
        }
    }

    /// Add a row (normalised here); returns its index, or None for a vector of
    /// the wrong size.
    pub fn push(&mut self, embedding: &[f32]) -> Option<usize> {
        if embedding.len() != self.dim || self.dim == 0 {
            return None;
        }
        self.rows.extend(l2_normalised(embedding));
        Some(self.len() - 1)
    }

    pub fn len(&self) -> usize {
        self.rows.len().checked_div(self.dim).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The `top` rows most similar to `query` (cosine), best first; ties by
    /// row order. Rows in `skip` are left out (e.g. the query itself).
    pub fn nearest(&self, query: &[f32], top: usize, skip: &[usize]) -> Vec<(usize, f32)> {
        if query.len() != self.dim || self.dim == 0 {
            return Vec::new();
        }
        let q = l2_normalised(query);
        let mut scored: Vec<(usize, f32)> = self
            .rows
            .chunks_exact(self.dim)
            .map(|row| row.iter().zip(&q).map(|(a, b)| a * b).sum::<f32>())
            .enumerate()
            .filter(|(i, _)| !skip.contains(i))
            .collect();
        let order = |a: &(usize, f32), b: &(usize, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
        if top < scored.len() {
            scored.select_nth_unstable_by(top, order);
            scored.truncate(top);
        }
        scored.sort_by(order);
        scored
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_is_by_direction_and_skips() {
        let mut ix = SimilarityIndex::new(2);
        ix.push(&[1.0, 0.0]);
        ix.push(&[0.0, 1.0]);
        ix.push(&[10.0, 0.5]);
        ix.push(&[-1.0, 0.0]);
        assert_eq!(ix.push(&[1.0]), None);
        let n = ix.nearest(&[2.0, 0.0], 2, &[]);
        assert_eq!(n.iter().map(|x| x.0).collect::<Vec<_>>(), vec![0, 2]);
        assert!((n[0].1 - 1.0).abs() < 1e-6);
        let n = ix.nearest(&[2.0, 0.0], 10, &[0]);
        assert_eq!(n.iter().map(|x| x.0).collect::<Vec<_>>(), vec![2, 1, 3]);
    }
}
