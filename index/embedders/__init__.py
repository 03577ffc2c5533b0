"""Embedding backends for the sentence-transformers model: which exist, and what each one is called.

`torch` is plain sentence-transformers in fp32 (the reference). The others run a graph exported once,
offline, from the same packaged model into a cache folder (see `export.py`):

- `onnx`        ONNX Runtime, fp32: the same vectors as torch (cosine 1.0000), without torch at run time.
- `onnx-int8`   ONNX Runtime, int8 weights and dynamically quantised activations on every large linear
                layer, after a rewrite that moves each feed-forward block's few outlier channels to a
                small fp32 path; checked at export time to keep a mean cosine ≥ 0.99 to fp32 on news
                passages, none below 0.98 (else more stays fp32, and failing that it is fp32).
- `openvino`    OpenVINO, fp32 (bf16 where the CPU has it natively), from the same ONNX file.

All backends tokenize with the model's own tokenizer (tokenizer.json), so token counts and chunk budgets
are identical. A backend whose vectors differ from fp32 carries it in its name ("model@onnx-int8"), so
the vector index and the embedding cache are keyed on it and a change needs `newsbot reindex`.
This module stays light: nothing heavy is imported until a backend is built.
"""

from __future__ import annotations

BACKENDS = ("torch", "onnx", "onnx-int8", "openvino")
DEFAULT_BACKEND = "onnx-int8"
EXACT_BACKENDS = frozenset({"torch", "onnx", "openvino"})  # vectors equal to fp32 torch (cos > 0.9999)


def embedder_name(model: str, backend: str) -> str:
    """The name vectors are keyed on: the model alone when the backend reproduces fp32 vectors."""
    return model if backend in EXACT_BACKENDS else f"{model}@{backend}"


def check_backend(backend: str) -> str:
    backend = backend.strip().lower()
    if backend not in BACKENDS:
        raise ValueError(f"unknown embedding backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    return backend
