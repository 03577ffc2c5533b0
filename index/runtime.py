"""Process-wide settings for a process that serves questions: set once by an entry point (the CLI,
the bot, a benchmark), never by importing or constructing the engine."""

from __future__ import annotations

import sys

# A search runs BM25 in Python while another thread embeds the question and searches FAISS outside the
# GIL; coming back from the model, that thread waits for the GIL, which Python hands over only every
# switch interval (5 ms by default; docs/performance.md has the effect measured).
SWITCH_INTERVAL = 0.0005  # seconds


def one_blas_thread() -> bool:
    """Keep numpy's BLAS to one thread (not FAISS's, which trains and builds indexes on every core).

    numpy runs even small products (an answer's pooled vectors through their map, a passage's token
    embeddings pooled per sentence) on every core, and its threads then spin for a while waiting for
    more, taking a core from the embedding sessions working beside them (docs/performance.md)."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # a dependency; without it, numpy keeps its threads
        return False
    controller = ThreadpoolController()
    mine = [i["filepath"] for i in controller.info() if i["user_api"] == "blas" and "numpy" in i["filepath"]]
    if mine:
        controller.select(filepath=mine).limit(limits=1)
    return bool(mine)


def tune_process() -> None:
    """Short GIL hand-overs and one numpy BLAS thread, for the rest of this process."""
    sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))
    one_blas_thread()
