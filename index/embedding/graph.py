"""A prepared graph opened to run: the model's tokenizer and an ONNX Runtime or OpenVINO session."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import openvino


class Tokens:
    """The model's fast tokenizer: batches padded to their longest text, truncated like the model."""

    def __init__(self, tokenizer_file: Path, manifest: dict):
        from tokenizers import Tokenizer

        self.encoder = Tokenizer.from_file(str(tokenizer_file))
        self.encoder.enable_truncation(int(manifest["max_seq_length"]))
        self.encoder.enable_padding(pad_id=int(manifest.get("pad_id", 0)))
        self.counter = Tokenizer.from_file(str(tokenizer_file))
        self.counter.no_truncation()
        self.counter.no_padding()

    def batch(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Token ids, attention mask and each token's (start, end) characters in its text."""
        encoded = self.encoder.encode_batch(list(texts))
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        offsets = np.array([e.offsets for e in encoded], dtype=np.int64).reshape(len(encoded), -1, 2)
        return ids, mask, offsets

    def count(self, texts: Sequence[str]) -> list[int]:
        return [len(e.ids) for e in self.counter.encode_batch(list(texts), add_special_tokens=False)]


class OnnxRuntimeGraph:
    def __init__(self, path: Path, threads: int | None = None):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.inter_op_num_threads = 1
        # No busy-waiting between runs: the bot's event loop and other work share the cores.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.has_tokens = len(self.session.get_outputs()) > 1

    def __call__(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return self.session.run(["embedding"], {"input_ids": ids, "attention_mask": mask})[0]

    def with_tokens(self, ids: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The embeddings and the token embeddings they were pooled from."""
        embedding, tokens = self.session.run(None, {"input_ids": ids, "attention_mask": mask})
        return embedding, tokens


def open_graph(folder: Path, manifest: dict, backend: str, threads: int | None = None) -> Any:
    """The runnable graph of `backend` in a prepared folder (ONNX Runtime or OpenVINO)."""
    if backend == "onnx":
        return OnnxRuntimeGraph(folder / "model.onnx", threads)
    if backend == "onnx-int8":
        return OnnxRuntimeGraph(folder / manifest["int8"]["file"], threads)
    if backend == "openvino":
        return openvino.OpenVinoGraph(folder / "model.onnx", threads)
    if backend == "openvino-int8":
        return openvino.OpenVinoGraph(folder / manifest["openvino"]["int8"]["file"], threads)
    raise ValueError(f"no graph for backend {backend!r}")


def recorded_cosine(manifest: dict, backend: str) -> tuple[float, float]:
    section = {
        "onnx": {"cosine_mean": 1.0, "cosine_min": 1.0},
        "onnx-int8": manifest.get("int8", {}),
        "openvino": manifest.get("openvino", {}).get("plain", {}),
        "openvino-int8": manifest.get("openvino", {}).get("int8", {}),
    }[backend]
    return round(float(section["cosine_mean"]), 4), round(float(section["cosine_min"]), 4)
