"""Shared test set-up. In CI (``CI`` set) a skipped test is an error: browser and PyTorch tests must run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARCHITECTURES = ROOT / "architectures"
IN_CI = bool(os.environ.get("CI"))


def require(ok: bool, reason: str) -> None:
    """Skip locally when a tool is missing; fail in CI, where everything must be installed."""
    if not ok:
        if IN_CI:
            pytest.fail(f"{reason} (CI is set, so this cannot be skipped)")
        pytest.skip(reason)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> object:
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, which is an error: {report.longrepr}"


def run_cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """``python -m cnnmacros ARGS`` as a user runs it from ``cwd``, output captured."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "cnnmacros", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


PYTHON = sys.executable


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test that reads the built site must be marked slow, so ``-m "not slow"`` really is fast."""
    uses_site = [i for i in items if "site" in getattr(i, "fixturenames", ())]
    unmarked = [i.nodeid for i in uses_site if not i.get_closest_marker("slow")]
    if unmarked:
        raise pytest.UsageError("tests that use the built site need @pytest.mark.slow: " + ", ".join(unmarked))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--regen-golden",
        action="store_true",
        help="rewrite the golden files in tests/golden from the current output (then review the diff)",
    )


@pytest.fixture
def golden(request: pytest.FixtureRequest):
    """Compare text with tests/golden/NAME, or rewrite it with --regen-golden."""
    regen = request.config.getoption("--regen-golden")

    def check(name: str, text: str) -> None:
        path = ROOT / "tests" / "golden" / name
        if regen:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            return
        assert path.exists(), f"no golden file {path}; run pytest --regen-golden and review it"
        assert text == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"

    return check


# Upstream banners, not about this site, each silenced the way its own text says: Material's
# end-of-life notice ("set NO_MKDOCS_2_WARNING=1") and ProperDocs' notice, which a plugin may opt
# into under the mkdocs command ("set the environment variable DISABLE_MKDOCS_2_WARNING=true").
QUIET = {"NO_MKDOCS_2_WARNING": "1", "DISABLE_MKDOCS_2_WARNING": "true"}


def build_site(config: Path, out: Path, engine: str = "mkdocs") -> subprocess.CompletedProcess[str]:
    """``mkdocs build --strict`` as a user runs it, in a subprocess (or ``properdocs build --strict``)."""
    env = dict(os.environ, **QUIET, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", engine, "build", "--strict", "-f", str(config), "-d", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real site, built once per test run with --strict."""
    out = tmp_path_factory.mktemp("site")
    done = build_site(ROOT / "mkdocs.yml", out)
    assert done.returncode == 0, done.stderr
    return out


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The oracle's report: what was compared with PyTorch in this run, and the mismatches (must be 0)."""
    oracle = sys.modules.get("tests.oracle")
    if oracle is None or not oracle.REPORT:
        return
    report = oracle.REPORT
    terminalreporter.section("PyTorch oracle")
    fixed = (
        "architectures checked",
        "layers checked",
        "random cases checked",
        "random cases computed by both",
        "random cases rejected by both",
        "random cases refused by the engine only (joined inputs with different jumps)",
        "mismatches",
    )
    for key in (*fixed, *sorted(k for k in report if k not in fixed)):
        terminalreporter.write_line(f"{key}: {report.get(key, 0):,}")


def copy_project(tmp: Path) -> Path:
    """A scratch copy of the site's sources (docs, architectures, mkdocs.yml) that a test may edit."""
    import shutil

    for name in ("docs", "architectures", "overrides"):
        shutil.copytree(ROOT / name, tmp / name)
    shutil.copy(ROOT / "mkdocs.yml", tmp / "mkdocs.yml")
    (tmp / "cnnmacros").symlink_to(ROOT / "cnnmacros")
    return tmp
