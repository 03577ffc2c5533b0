"""`newsbot`: the command line over the engine. With --json a command prints only JSON on stdout.

One typer app; each commands module adds its commands in `register(app)`, called here in help order.
"""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer

from ..runtime import tune_process
from . import answer_commands, digest_command, engine_commands, feed_commands, run_command

app = typer.Typer(
    help="newsbot: answers questions about the news with cited, verbatim excerpts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
engine_commands.register(app)
answer_commands.register(app)
digest_command.register(app)
feed_commands.register(app)
run_command.register(app)


@app.callback()
def options(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log what happens (to stderr).")] = False,
) -> None:
    if verbose:
        logging.getLogger().setLevel(logging.INFO)


def main() -> None:
    logging.basicConfig(
        level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    tune_process()
    app()
