"""ONNX Runtime's dynamic int8 of the exported graph, with the plans tried in order until one keeps
the accuracy gate on this machine's own kernels.

Why dynamic int8, and how every large layer gets there: dynamic int8 (per-channel weights) was the
fastest accurate ONNX Runtime option, static QDQ calibrated on news lost accuracy, and quantising every
linear layer as exported falls short of the gate: dynamic int8 scales each activation matrix by its
largest value, and in every feed-forward block one channel of the [CLS] token is several times any
other value (the measured cosines: docs/performance.md). The graph is therefore rewritten first
(`rewrite.py`): the
OUTLIER_CHANNELS loudest channels of each feed-forward block, calibrated on news passages, move to a
small fp32 side path, and each attention block becomes one fused operator. Each plan is checked on
news passages held out from the calibration: below a mean of MIN_COSINE (or any passage below
MIN_COSINE_ANY) the next plan keeps more in fp32 (FP32_PLANS), and failing them all int8 is refused.
Which plan passes depends on the CPU's int8 kernels (docs/performance.md).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from . import rewrite
from .graph import OnnxRuntimeGraph, Tokens
from .texts import calibration_texts

log = logging.getLogger(__name__)

FILE = "model-int8.onnx"
MIN_COSINE = 0.99  # mean cosine to fp32 over the check passages
MIN_COSINE_ANY = 0.98  # and no passage below this
# Channels of each feed-forward block moved to an fp32 side path (`rewrite.split_outliers`): the
# first plan tried (8 keeps a little more accuracy than 4; docs/performance.md).
OUTLIER_CHANNELS = 8
# Fallbacks: feed-forward output projections kept in fp32, tried in order until int8 is accurate enough.
FP32_PLANS: tuple[tuple[str, ...], ...] = (
    tuple(f"layer.{i}/output/dense" for i in range(4)),
    ("/output/dense",),  # every feed-forward output projection (attention outputs are named differently)
)


def build(work: Path, manifest: dict, texts: Sequence[str], reference: np.ndarray) -> dict:
    """int8 graph (FILE in `work`) for the first plan that keeps the gate on `texts` (news passages held
    out from calibration; `reference` their fp32 vectors); else no file. Returns what the manifest keeps."""
    import onnx
    from onnxruntime.transformers import optimizer

    optimized = optimizer.optimize_model(
        str(work / "model.onnx"),
        model_type="bert",
        num_heads=manifest["num_heads"],
        hidden_size=manifest["hidden_size"],
        opt_level=1,
        use_gpu=False,
    )
    base = optimized.model
    attention = _fused_attention(base, work, manifest, texts, reference)
    if attention:
        log.info(f"fused {attention} attention blocks (same vectors in fp32)")
    result: dict = {
        "file": None,
        "checked_on": len(texts),
        "required": {"mean": MIN_COSINE, "min": MIN_COSINE_ANY},
        "attention_fused": attention,
        "plans": [],
    }
    channel_max = _channel_max(base, work, manifest, calibration_texts(set(texts)))
    plans: list[tuple[str, object]] = [("outliers", OUTLIER_CHANNELS)] if channel_max else []
    plans += [("fp32_layers", plan) for plan in FP32_PLANS]
    out = work / FILE
    for kind, plan in plans:
        graph = onnx.ModelProto()
        graph.CopyFrom(base)
        if kind == "outliers":
            keep = rewrite.split_outliers(graph, channel_max, int(plan))
            tried: dict = {"outlier_channels": int(plan), "fp32_layers": []}
        else:
            linear = [n.name for n in graph.graph.node if n.op_type in ("MatMul", "Attention")]
            keep = [n for n in linear if any(pattern in n for pattern in plan)]
            tried = {"fp32_layers": keep}
        cos = _quantised_cosine(graph, keep, out, work, manifest, texts, reference)
        tried.update(cosine_min=float(cos.min()), cosine_mean=float(cos.mean()))
        result["plans"].append(tried)
        what = f"{plan} channels per block" if kind == "outliers" else f"{len(keep)} linear layers"
        log.info(
            f"int8 with {what} in fp32: cosine to fp32 min {cos.min():.4f}, mean {cos.mean():.4f} "
            f"on {len(texts)} news passages"
        )
        if cos.mean() >= MIN_COSINE and cos.min() >= MIN_COSINE_ANY:
            result.update(file=out.name, **tried)
            break
        out.unlink()
    else:
        log.info(f"int8 stays below cosine {MIN_COSINE} for this model: using fp32 instead")
    return result


def _fused_attention(model, work: Path, manifest: dict, texts: Sequence[str], reference: np.ndarray) -> int:
    """Fuse the attention blocks in place when the fused graph gives the same fp32 vectors; else 0."""
    import onnx

    fused = onnx.ModelProto()
    fused.CopyFrom(model)
    count = rewrite.fuse_attention(fused, manifest["num_heads"])
    if count:
        onnx.save(fused, str(work / "attention.onnx"))
        try:
            vectors = run(work / "attention.onnx", work, manifest, texts)
            same = np.sum(vectors * reference, axis=1).min() > 0.99999
        except Exception as exc:  # an operator this runtime cannot run: keep the plain graph
            log.info("attention fusion not used: %s", exc)
            same = False
        (work / "attention.onnx").unlink()
        if same:
            model.CopyFrom(fused)
            return count
    return 0


def _channel_max(model, work: Path, manifest: dict, texts: Sequence[str]) -> dict[str, np.ndarray]:
    """Per feed-forward block, the largest |activation| of each channel entering its down projection."""
    import onnx

    blocks = rewrite.feed_forwards(model.graph)
    if not blocks:
        return {}
    probe = work / "probe.onnx"
    onnx.save(rewrite.with_outputs(model, [gelu.output[0] for _, gelu, _ in blocks]), str(probe))
    tokens = Tokens(work / "tokenizer.json", manifest)
    session = OnnxRuntimeGraph(probe).session
    largest: dict[str, np.ndarray] = {}
    for text in texts:
        ids, mask = tokens.batch([text])[:2]
        values = session.run([g.output[0] for _, g, _ in blocks], {"input_ids": ids, "attention_mask": mask})
        for (_, _, down), value in zip(blocks, values, strict=True):
            peak = np.abs(value).reshape(-1, value.shape[-1]).max(axis=0)
            largest[down.name] = np.maximum(largest.get(down.name, peak), peak)
    probe.unlink()
    return largest


def _quantised_cosine(graph, keep, out: Path, work: Path, manifest: dict, texts, reference) -> np.ndarray:
    quantise(graph, out, exclude=keep)
    return np.sum(run(out, work, manifest, texts) * reference, axis=1)


def quantise(graph, out: Path, *, exclude: Sequence[str] = (), only: Sequence[str] | None = None) -> None:
    """Dynamic int8 (per-channel weights) of the graph's matrix products and attention blocks into `out`,
    but those named in `exclude` (or only those in `only`)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    source = out.with_name(f"{out.stem}-source.onnx")
    onnx.save(graph, str(source))
    try:
        quantize_dynamic(
            str(source),
            str(out),
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul", "Attention"],
            nodes_to_exclude=list(exclude),
            nodes_to_quantize=list(only) if only is not None else None,
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},  # BiasGelu has no inferred type
        )
    finally:
        source.unlink(missing_ok=True)


def run(graph: Path, work: Path, manifest: dict, texts: Sequence[str]) -> np.ndarray:
    tokens = Tokens(work / "tokenizer.json", manifest)
    session = OnnxRuntimeGraph(graph)
    batches = (tokens.batch(texts[i : i + 16])[:2] for i in range(0, len(texts), 16))
    return np.concatenate([session(ids, mask) for ids, mask in batches])
