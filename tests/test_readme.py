"""The README's example table is the command's real output, and its two commands exist."""

from __future__ import annotations

import re

from .conftest import ROOT, run_cli


def test_readme_table_is_the_real_output() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"checked by tests/test_readme.py.*?\n```text\n(.*?)\n```", readme, re.S)
    assert block, "README lost its example table"
    done = run_cli("summary", "architectures/alexnet.yaml")
    assert done.returncode == 0, done.stderr
    assert block.group(1) == done.stdout.rstrip("\n")
    assert "62,378,344" in block.group(1)  # the total of 000_11af97326fab15c6.txt


def test_readme_commands_are_the_scripts_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "bash scripts/serve" in readme and "bash scripts/test" in readme
    assert "bash scripts/test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
