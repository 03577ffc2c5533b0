"""Embedding backends for the sentence-transformers model: which exist, and what each one is called.

`torch` is plain sentence-transformers in fp32 (the reference). The others run a graph prepared once,
offline, from the same packaged model into the user's cache folder, for this CPU (`export.py`):

- `auto`           (default) the fastest accurate path measured on this CPU at first run (`choose.py`).
- `onnx`           ONNX Runtime, fp32: the same vectors as torch (cosine 1.0000), without torch at run time.
- `onnx-int8`      ONNX Runtime dynamic int8 after a rewrite of the graph (`onnx_int8.py`, `rewrite.py`).
- `openvino`       OpenVINO at the CPU's default precision (bf16 where native): cosine ≥ 0.999 to fp32.
- `openvino-int8`  OpenVINO static int8, quantised by NNCF on news passages.

An int8 path is used only when it keeps a mean cosine ≥ 0.99 to fp32 on news passages (none below
0.98) on this machine; otherwise fp32 runs, and says so. All backends tokenize with the model's own
tokenizer (tokenizer.json), so token counts and chunk budgets are identical. A backend whose vectors
differ from fp32 carries it in its name ("model@onnx-int8"), so the vector index and the embedding cache
are keyed on it and a change needs `newsbot reindex`; `auto` keeps to the path an existing index was
built with while that path is accurate on the machine. Nothing heavy is imported here.
"""

from __future__ import annotations

BACKENDS = ("auto", "torch", "onnx", "onnx-int8", "openvino", "openvino-int8")
DEFAULT_MODEL = "all-MiniLM-L6-v2"
DEFAULT_BACKEND = "auto"
EXACT_BACKENDS = frozenset({"torch", "onnx", "openvino"})  # vectors equal to fp32 torch (cos ≥ 0.999)


def embedder_name(model: str, backend: str) -> str:
    """The name vectors are keyed on: the model alone when the backend reproduces fp32 vectors."""
    return model if backend in EXACT_BACKENDS else f"{model}@{backend}"


def check_backend(backend: str) -> str:
    backend = backend.strip().lower()
    if backend not in BACKENDS:
        raise ValueError(f"unknown embedding backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    return backend
