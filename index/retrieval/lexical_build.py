"""The impact index built in a process of its own, which reads SQLite itself and saves what it built.

A build is seconds of numpy and Python over every posting. Run in a thread of the bot's process, its
Python parts (the postings read batch by batch, the vocabulary grown term by term) hold the interpreter
in slices long enough to stall the bot's event loop past its ceiling, and an ingest rebuilds the index
while a poll cycle runs (docs/feeds.md has the figures). In a child process it holds only its own
interpreter; the caller waits on a pipe (the GIL released) and reads the child's progress from it.

The child saves under the data folder's lock, replacing the saved index only by a newer build (as any
writer does); the caller then serves the saved version, memory-mapped. A child that dies (killed, out of
memory) saves nothing: FTS5 keeps ranking the passages the served index lacks, and the next build tries
again.

    python -m index.retrieval.lexical_build DB_PATH DATA_DIR LEXICAL_DIR

prints `progress N` lines (postings read) and a last line, `saved PID` or `kept PID` (a newer index
was already saved).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING

from ..storage.folder_lock import folder_lock
from .lexical import ImpactIndex, saved_seq

if TYPE_CHECKING:
    from ..storage.store import Store

log = logging.getLogger(__name__)


CHILD_URL = "NEWSBOT_LEXICAL_BUILD_DATABASE_URL"  # the store a child opens when it is not an SQLite file


class BuildFailed(RuntimeError):
    """The build's process died or failed: nothing was saved."""


def build_in_child(
    db_path: Path | str,
    data_dir: Path,
    lexical_dir: Path,
    progress: Callable[[int], None],
    *,
    database_url: str | None = None,
) -> str:
    """Build and save the impact index in a child process, waiting for it; its last line. With
    `database_url` the child opens that PostgreSQL store (handed over in its environment, never on a
    command line others may read) and builds from its full-text copy in `data_dir`."""
    # The child imports this package from where this process did (a worktree, a benchmark's sys.path).
    package_root = str(Path(__file__).resolve().parents[2])
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])),
    }
    env.pop(CHILD_URL, None)
    if database_url:
        env[CHILD_URL] = database_url
    command = [sys.executable, "-m", __name__, str(db_path), str(data_dir), str(lexical_dir)]
    with tempfile.TemporaryFile() as errors:
        child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, text=True, env=env)
        last = ""
        try:
            for line in child.stdout:  # (a blocking read: the GIL is released while the child works)
                if line.startswith("progress "):
                    progress(int(line.split()[1]))
                else:
                    last = line.strip()
        finally:
            child.stdout.close()
            code = child.wait()
        if code != 0 or not last:
            errors.seek(0)
            tail = errors.read()[-2000:].decode(errors="replace").strip()
            raise BuildFailed(
                f"the keyword index build (pid {child.pid}) exited with {code}: {tail or 'no output'}"
            )
    return last


def build_and_save(store: Store, data_dir: Path, lexical_dir: Path, progress: Callable[[int], None]) -> bool:
    """Build from SQLite and save, unless a newer build was saved meanwhile; whether it was saved."""
    index = ImpactIndex.build(store.lexical_corpus(), progress)
    with folder_lock(data_dir):  # replaced only by a newer build (another process's?)
        saved = saved_seq(lexical_dir)
        if saved is None or saved < index.seq:
            index.save(lexical_dir)
            return True
    return False


def main(argv: list[str]) -> int:
    from ..runtime import tune_process
    from ..storage.store import Store

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    tune_process()
    # Background work: on a busy machine the serving process's event loop gets the CPU first.
    os.nice(10)
    db_path, data_dir, lexical_dir = argv
    url = os.environ.get(CHILD_URL)
    if url:
        from ..storage.postgres import PgStore

        opened: Store = PgStore(url, data_dir)
    else:
        opened = Store(db_path)
    with closing(opened) as store:
        saved = build_and_save(
            store, Path(data_dir), Path(lexical_dir), lambda n: print(f"progress {n}", flush=True)
        )
    print(f"{'saved' if saved else 'kept'} {os.getpid()}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
