"""Which path runs the model on this CPU: the fastest that stays accurate, measured here, once.

Candidates, each checked against the fp32 graph's vectors on news passages held out from calibration:

- `onnx`           ONNX Runtime fp32: the reference, always accurate; chosen when nothing faster is.
- `onnx-int8`      ONNX Runtime dynamic int8 (onnx_int8.py), when a plan keeps the gate.
- `openvino`       OpenVINO at the CPU's default precision: bf16 where the CPU has it natively, else
                   fp32; it must stay within EXACT_COSINE of fp32, as its vectors are keyed as fp32's.
- `openvino-int8`  OpenVINO static int8 quantised by NNCF (and bf16 elsewhere where the CPU has it).

The gate for the int8 paths is MIN_COSINE mean and MIN_COSINE_ANY worst. The accurate candidates are
then timed in alternating rounds on the same passages (so a busy machine slows them alike), and the
fastest is recorded in the manifest as the choice.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from . import EXACT_BACKENDS as EXACT
from . import cpu, openvino
from .graph import Tokens, recorded_cosine
from .onnx import GraphEmbedder
from .onnx_int8 import MIN_COSINE, MIN_COSINE_ANY
from .texts import calibration_texts

log = logging.getLogger(__name__)

CANDIDATES = ("onnx", "onnx-int8", "openvino", "openvino-int8")
EXACT_COSINE = 0.999  # worst cosine for a path whose vectors are keyed as fp32's
TIMED_PASSAGES = 24
ROUNDS = 3


def accurate(manifest: dict) -> list[str]:
    """The candidates that kept their gate on the CPU this folder was prepared on."""
    found = ["onnx"]
    if manifest.get("int8", {}).get("file"):
        found.append("onnx-int8")
    ov = manifest.get("openvino", {})
    if ov.get("plain", {}).get("accurate"):
        found.append("openvino")
    if ov.get("int8", {}).get("file"):
        found.append("openvino-int8")
    return found


def check_openvino(work: Path, manifest: dict, texts: list[str], reference: np.ndarray) -> dict:
    """OpenVINO's plain and int8 graphs checked against fp32 on `texts` (none if it is not installed)."""
    if not openvino.available():
        log.info("openvino is not installed: its paths are not candidates")
        return {"available": False}
    tokens = Tokens(work / "tokenizer.json", manifest)
    result: dict = {
        "available": True,
        "plain": {"accurate": False},
        "int8": {"file": None, "required": {"mean": MIN_COSINE, "min": MIN_COSINE_ANY}},
    }
    try:
        plain = openvino.OpenVinoGraph(work / "model.onnx")
        cos = _cosine(plain, tokens, texts, reference)
        result["plain"] = {
            "precision": plain.precision,
            "cosine_min": float(cos.min()),
            "cosine_mean": float(cos.mean()),
            "accurate": bool(cos.min() >= EXACT_COSINE),
        }
    except Exception as exc:  # OpenVINO cannot run this graph on this CPU: not a candidate
        log.warning("OpenVINO cannot run this model here: %s", exc)
        result["plain"]["error"] = str(exc)[:200]
    out = work / openvino.INT8_FILE
    try:
        openvino.quantise(work / "model.onnx", out, tokens, calibration_texts(set(texts)))
        graph = openvino.OpenVinoGraph(out)
        cos = _cosine(graph, tokens, texts, reference)
        result["int8"].update(
            precision=graph.precision, cosine_min=float(cos.min()), cosine_mean=float(cos.mean())
        )
        if cos.mean() >= MIN_COSINE and cos.min() >= MIN_COSINE_ANY:
            result["int8"]["file"] = out.name
    except Exception as exc:  # NNCF or OpenVINO could not handle this graph: not a candidate
        log.warning("OpenVINO int8 not available for this model: %s", exc)
        result["int8"]["error"] = str(exc)[:200]
    if not result["int8"]["file"]:
        out.unlink(missing_ok=True)
        out.with_suffix(".bin").unlink(missing_ok=True)
    log.info("OpenVINO on this CPU: %s", result)
    return result


def fastest(work: Path, manifest: dict, texts: list[str]) -> dict:
    """Time every accurate candidate on the same passages, alternating; the fastest is the choice."""
    passages = texts[:TIMED_PASSAGES]
    embedders = {b: GraphEmbedder("probe", work, manifest, b) for b in accurate(manifest)}
    best: dict[str, float] = {}
    for embedder in embedders.values():  # first runs prepare kernels: not timed
        embedder.embed(passages[:2])
    for _ in range(ROUNDS):
        for backend, embedder in embedders.items():
            started = time.perf_counter()
            embedder.embed(passages)
            rate = len(passages) / (time.perf_counter() - started)
            best[backend] = max(best.get(backend, 0.0), rate)
    for embedder in embedders.values():
        embedder.close()
    chosen = max(best, key=best.__getitem__)
    cosine = recorded_cosine(manifest, chosen)
    return {
        "backend": chosen,
        "cpu": cpu.describe(manifest["cpu"]),
        "cosine_mean": cosine[0],
        "cosine_min": cosine[1],
        "checked_on": len(texts),
        "passages_per_s": {b: round(r, 1) for b, r in best.items()},
        "speedup_vs_fp32": round(best[chosen] / best["onnx"], 2),
    }


def resolve(manifest: dict, requested: str, *, model: str, keyed_as: str | None = None) -> str:
    """The backend to run: the requested one if accurate here (else fp32). For `auto`, the path an
    existing index's vectors were made with (`keyed_as`, its embedder name) when accurate here, so a
    data folder keeps working on another machine; otherwise the fastest measured."""
    usable = accurate(manifest)
    if requested != "auto":
        if requested not in usable:
            log.warning("the %s embedding path is not accurate on this CPU: using fp32 (onnx)", requested)
            return "onnx"
        return requested
    rates = manifest["choice"]["passages_per_s"]
    if keyed_as == model:  # fp32-keyed vectors: the fastest path that reproduces fp32
        return max((b for b in usable if b in EXACT), key=lambda b: rates.get(b, 0.0))
    if keyed_as and keyed_as.startswith(f"{model}@") and keyed_as[len(model) + 1 :] in usable:
        return keyed_as[len(model) + 1 :]
    return manifest["choice"]["backend"]


def summary(manifest: dict) -> str:
    """One line for the user: the path chosen and its accuracy."""
    choice = manifest["choice"]
    if choice["backend"] == "onnx":
        return "no accurate faster path on this CPU: embedding in fp32 (ONNX Runtime)"
    return (
        f"embedding with {choice['backend']} on this CPU: cosine to fp32 {choice['cosine_mean']:.3f} mean, "
        f"{choice['cosine_min']:.3f} worst on {choice['checked_on']} news passages; "
        f"{choice['speedup_vs_fp32']:.1f}x the fp32 graph's speed"
    )


def _cosine(graph, tokens, texts: list[str], reference: np.ndarray) -> np.ndarray:
    vectors = np.concatenate([graph(*tokens.batch(texts[i : i + 8])[:2]) for i in range(0, len(texts), 8)])
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    return np.sum(vectors * reference, axis=1)
