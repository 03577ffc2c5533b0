"""The README and .env.example stay true to the code (after sqlite-utils' tests/test_docs.py)."""

import re

from index.config import Settings
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text()


def readme_commands() -> list[str]:
    return re.findall(r"```sh\n(.+?)\n```", README)


def test_readme_has_two_quick_start_commands_and_ci_runs_the_test_one():
    setup, tests = readme_commands()[:2]
    assert "newsbot ingest news" in setup and "pytest" in tests
    ci = (ROOT / ".ci" / "run").read_text()
    assert tests in ci.splitlines()


def test_every_setting_is_documented():
    example = (ROOT / ".env.example").read_text()
    for name in Settings.model_fields:
        variable = f"NEWSBOT_{name.upper()}"
        assert variable in README, variable
        assert variable in example, variable
