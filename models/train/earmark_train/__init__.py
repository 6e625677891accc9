"""earmark's training recipe as a small package; the scripts in models/train/ are thin entry points.

Modules: log (timestamped progress), cache (content-hash keyed arrays), onnx_utils (onnxruntime
sessions and graph tidy-up), cards (model-card JSON), data (GTZAN feature folders), metrics
(`earmark eval --json` layout), groups (artist-conscious CV groups), embed (backbone outputs),
cv (grouped, repeated k-fold cross-validation of the heads).
"""
