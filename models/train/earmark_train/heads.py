"""Heads on backbone embeddings: sample weights, logistic regression and a small MLP.

Each head keeps its layers as plain (W, b, activation) arrays with the standardisation folded
into the first layer, so export (train.export_head) is MatMul + Add (+ Relu) + Softmax."""

import numpy as np

from .data import K


def sample_weights(y_clip, owner, is_excerpt_clip, excerpt_weight, balanced=True):
    """Per-patch weights: every clip weighs 1 (an excerpt `excerpt_weight`), spread over its
    patches; then classes are balanced; mean weight 1 (so C means the same across configs)."""
    n_clip = len(y_clip)
    per_clip = np.where(is_excerpt_clip, excerpt_weight, 1.0).astype(np.float64)
    npatch = np.bincount(owner, minlength=n_clip).astype(np.float64)
    w = per_clip[owner] / npatch[owner]
    yp = y_clip[owner]
    if balanced:
        tot = np.bincount(yp, weights=w, minlength=K)
        present = tot > 0
        cw = np.zeros(K)
        cw[present] = w.sum() / (present.sum() * tot[present])
        w = w * cw[yp]
    keep = w > 0
    return w / w[keep].mean(), keep


class LinearHead:
    """Standardise -> logistic regression (multinomial). Exported as MatMul + Add + Softmax
    with the scaler folded into the weights."""

    kind = "linear"

    def __init__(self, C: float, seed: int):
        self.C, self.seed = C, seed

    def fit(self, X, y, w):
        from sklearn.linear_model import LogisticRegression
        self.mu = X.mean(0)
        self.sd = X.std(0) + 1e-6
        Z = (X - self.mu) / self.sd
        self.lr = LogisticRegression(C=self.C, max_iter=3000, random_state=self.seed)
        self.lr.fit(Z, y, sample_weight=w)
        # Expand to all K labels (classes absent from the fit get -inf-ish bias).
        W = np.zeros((X.shape[1], K))
        b = np.full(K, -30.0)
        for j, c in enumerate(self.lr.classes_):
            W[:, c] = self.lr.coef_[j]
            b[c] = self.lr.intercept_[j]
        if len(self.lr.classes_) == 2:  # sklearn's binary layout
            raise ValueError("need >2 classes")
        self.W = (W / self.sd[:, None]).astype(np.float32)
        self.b = (b - (self.mu / self.sd) @ W).astype(np.float32)
        return self

    def predict_proba(self, X):
        z = X.astype(np.float64) @ self.W + self.b
        z -= z.max(1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(1, keepdims=True)

    def layers(self):
        return [(self.W, self.b, None)]


class MLPHead:
    """Standardise (folded) -> Dense(h, relu) -> Dropout -> Dense(K) softmax, in Keras."""

    kind = "mlp"

    def __init__(self, hidden: int, l2: float, dropout: float, epochs: int, seed: int):
        self.hidden, self.l2, self.dropout, self.epochs, self.seed = hidden, l2, dropout, epochs, seed

    def fit(self, X, y, w):
        import tensorflow as tf
        tf.keras.utils.set_random_seed(self.seed)
        self.mu = X.mean(0)
        self.sd = X.std(0) + 1e-6
        Z = ((X - self.mu) / self.sd).astype(np.float32)
        reg = tf.keras.regularizers.l2(self.l2)
        m = tf.keras.Sequential([
            tf.keras.layers.Input((X.shape[1],)),
            tf.keras.layers.Dropout(0.2),
            tf.keras.layers.Dense(self.hidden, activation="relu", kernel_regularizer=reg),
            tf.keras.layers.Dropout(self.dropout),
            tf.keras.layers.Dense(K, kernel_regularizer=reg),
        ])
        m.compile(optimizer=tf.keras.optimizers.Adam(1e-3),
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        m.fit(Z, y, sample_weight=w.astype(np.float32), epochs=self.epochs, batch_size=64,
              shuffle=True, verbose=0)
        (W1, b1), (W2, b2) = m.layers[1].get_weights(), m.layers[3].get_weights()
        self.W1 = (W1 / self.sd[:, None]).astype(np.float32)
        self.b1 = (b1 - (self.mu / self.sd) @ W1).astype(np.float32)
        self.W2, self.b2 = W2.astype(np.float32), b2.astype(np.float32)
        return self

    def predict_proba(self, X):
        h = np.maximum(X.astype(np.float64) @ self.W1 + self.b1, 0)
        z = h @ self.W2 + self.b2
        z -= z.max(1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(1, keepdims=True)

    def layers(self):
        return [(self.W1, self.b1, "Relu"), (self.W2, self.b2, None)]
