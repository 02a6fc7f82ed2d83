"""Mutation testing of the formulas, the layer registry, the engine and the rows, with mutmut.

``bash benchmarks/mutation`` runs this. mutmut 3 writes every mutant into a copy of the project
(``mutants/``) behind a trampoline that picks the mutant named by ``MUTANT_UNDER_TEST`` at call
time, and runs the tests that reached each function in a process forked from one that has already
imported cnnmacros. That misses code that runs at import: ``FORMULAS = _build()`` and the
``register(Conv(rank))`` lines of the registry have run before any mutant is chosen, so mutmut
reports every mutant of them as surviving. This script runs those mutants itself, each in fresh
processes with ``MUTANT_UNDER_TEST`` set, so the mutant is what the import builds:

1. a mutant of ``formulas._build`` first regenerates ``_compiled.py`` from the mutated formulas
   (``python -m cnnmacros.codegen``), as a developer who edits a formula must; otherwise the
   drift test alone would fail and the numbers, which come from ``_compiled.py``, would not change;
2. then the same test selection as mutmut's runs (``-x``: the first failure kills it), including
   the tests that run the command in a subprocess, which inherit the mutant.

A mutant is killed when a test fails (or codegen refuses the mutated formula), and survives when
every test passes. Verdicts of import-time mutants are cached in ``mutants/import-time.json``: a
kill is kept while the mutated sources, conftest.py, pyproject.toml and the killing test's file are
unchanged; every other verdict is worked out again.
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "mutants"
MUTMUT = [sys.executable, "-m", "mutmut"]
CACHE = MUTANTS / "import-time.json"
SKIP = {"import-time.json", "mutmut-stats.json", "mutmut-cicd-stats.json", "__pycache__", ".hypothesis"}

# Functions whose body runs only while cnnmacros is imported (formulas.FORMULAS, layers.REGISTRY).
IMPORT_TIME = (
    "cnnmacros.formulas.x__build__mutmut_",
    "cnnmacros.layers.xǁConvǁ__init____mutmut_",
    "cnnmacros.layers.xǁPoolǁ__init____mutmut_",
    "cnnmacros.layers.xǁShapeKeepingǁ__init____mutmut_",
    "cnnmacros.layers.x_register__mutmut_",
)

# Test files that kill most mutants quickly come first, so -x stops early.
FIRST = [
    "tests/test_formulas.py",
    "tests/test_layers.py",
    "tests/test_engine.py",
    "tests/test_rows.py",
    "tests/test_mutants.py",
    "tests/test_codegen.py",
    "tests/test_schema.py",
]


def selection() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mutmut"]
    args = list(config["pytest_add_cli_args_test_selection"])
    first = [f for f in FIRST if (MUTANTS / f).exists()]
    return first + args + list(config.get("pytest_add_cli_args", []))


def mutmut_results() -> dict[str, str]:
    done = subprocess.run([*MUTMUT, "results", "--all", "true"], cwd=ROOT, capture_output=True, text=True, check=True)
    out = {}
    for line in done.stdout.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep and name.startswith("cnnmacros."):
            out[name] = status
    return out


def show(name: str) -> str:
    return subprocess.run([*MUTMUT, "show", name], cwd=ROOT, capture_output=True, text=True, check=True).stdout


def function_line(module: str, mangled: str) -> int:
    """The line of the mutated function's ``def`` in the original source."""
    tree = ast.parse((ROOT / (module.replace(".", "/") + ".py")).read_text(encoding="utf-8"))
    if mangled.startswith("xǁ"):
        cls, func = mangled[2:].split("ǁ", 1)
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and node.name == cls:
                for item in node.body:
                    if isinstance(item, ast.FunctionDef) and item.name == func:
                        return item.lineno
    else:
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name == mangled[2:]:
                return node.lineno
    raise LookupError(mangled)


def describe(name: str) -> tuple[str, str]:
    """``cnnmacros/layers.py:196`` and the change, ``old -> new``, from mutmut's diff."""
    module, _, mutant = name.rpartition(".")
    mangled = mutant.rsplit("__mutmut_", 1)[0]
    diff = show(name).splitlines()
    start = function_line(module, mangled)
    line, old, new = None, [], []
    n = 0
    for text in diff:
        hunk = re.match(r"@@ -(\d+)", text)
        if hunk:
            n = int(hunk.group(1))
            continue
        if text.startswith(("---", "+++", "#")):
            continue
        if text.startswith("-"):
            line = line or start + n - 1
            old.append(text[1:].strip())
            n += 1
        elif text.startswith("+"):
            line = line or start + n - 1
            new.append(text[1:].strip())
        else:
            n += 1
    return f"{module.replace('.', '/')}.py:{line}", f"{' '.join(old)}  ->  {' '.join(new)}"


def digest(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for path in paths:
        h.update(path.read_bytes())
    return h.hexdigest()


def run_import_time(name: str, worker: Path, tests: list[str], timeout: float) -> tuple[str, str]:
    """The verdict and what decided it: the failing test's file, ``codegen``, or ``""``."""
    env = dict(os.environ, MUTANT_UNDER_TEST=name, PYTHONPATH=str(worker))
    compiled = worker / "cnnmacros" / "_compiled.py"
    original = compiled.read_bytes()
    try:
        if name.startswith("cnnmacros.formulas."):
            gen = subprocess.run(
                [sys.executable, "-m", "cnnmacros.codegen"], cwd=worker, env=env, capture_output=True, timeout=timeout
            )
            if gen.returncode != 0:
                return "killed", "codegen"  # the mutated formulas cannot even be compiled to integer code
        try:
            done = subprocess.run(
                [sys.executable, "-m", "pytest", "-x", "-q", *tests],
                cwd=worker,
                env=env,
                capture_output=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            return "timeout", ""
        if done.returncode == 1:
            failed = re.search(rb"^FAILED (tests/[^:\s]+)", done.stdout, re.MULTILINE)
            return "killed", failed.group(1).decode() if failed else "tests"
        return {0: "survived"}.get(done.returncode, f"suspicious (pytest exit {done.returncode})"), ""
    finally:
        compiled.write_bytes(original)


def workers(count: int) -> list[Path]:
    """Private copies of mutants/, so that two formula mutants never share one _compiled.py."""
    out = []
    for i in range(count):
        path = ROOT / f".mutants-worker-{i}"
        shutil.rmtree(path, ignore_errors=True)
        shutil.copytree(MUTANTS, path, ignore=lambda d, names: [n for n in names if n in SKIP])
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(path / "cnnmacros")], check=True)
        out.append(path)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2, help="parallel processes (default 2)")
    parser.add_argument("--timeout", type=float, default=300, help="seconds for one import-time mutant")
    parser.add_argument("--markdown", type=Path, help="also write the survivors as a Markdown table here")
    args = parser.parse_args()

    started = time.monotonic()
    subprocess.run([*MUTMUT, "run", "--max-children", str(args.jobs)], cwd=ROOT, check=True)
    mutmut_seconds = time.monotonic() - started
    results = mutmut_results()

    tests = selection()
    key_files = sorted((MUTANTS / "cnnmacros").glob("*.py")) + [ROOT / "tests" / "conftest.py", ROOT / "pyproject.toml"]
    key = digest(key_files)
    cache = json.loads(CACHE.read_text(encoding="utf-8")) if CACHE.exists() else {}
    if cache.get("key") != key:
        cache = {"key": key, "results": {}}
    files = {str(p.relative_to(ROOT)): digest([p]) for p in sorted((ROOT / "tests").glob("*.py"))}
    files["codegen"] = ""
    for name, (status, by, by_digest) in list(cache["results"].items()):
        if status != "killed" or files.get(by) != by_digest:
            del cache["results"][name]
    todo = [n for n in results if n.startswith(IMPORT_TIME) and n not in cache["results"]]
    started_import = time.monotonic()
    if todo:
        print(f"running {len(todo)} import-time mutants in fresh processes ({args.jobs} at a time)", flush=True)
        pool_dirs = workers(args.jobs)
        free = list(pool_dirs)
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            pending = {}
            queue = list(todo)
            done_count = 0
            while queue or pending:
                while queue and free:
                    name = queue.pop(0)
                    worker = free.pop()
                    pending[pool.submit(run_import_time, name, worker, tests, args.timeout)] = (name, worker)
                finished, _ = concurrent.futures.wait(pending, return_when=concurrent.futures.FIRST_COMPLETED)
                for future in finished:
                    name, worker = pending.pop(future)
                    free.append(worker)
                    status, by = future.result()
                    cache["results"][name] = (status, by, files.get(by, ""))
                    done_count += 1
                    if done_count % 25 == 0 or done_count == len(todo):
                        print(f"  {done_count}/{len(todo)}", flush=True)
                        CACHE.write_text(json.dumps(cache, indent=1), encoding="utf-8")
        for path in pool_dirs:
            shutil.rmtree(path, ignore_errors=True)
        CACHE.write_text(json.dumps(cache, indent=1), encoding="utf-8")
    import_seconds = time.monotonic() - started_import
    for name in results:
        if name.startswith(IMPORT_TIME):
            results[name] = cache["results"][name][0]

    total = len(results)
    killed = sum(s == "killed" for s in results.values())
    timeouts = sum(s == "timeout" for s in results.values())
    others = sorted(n for n, s in results.items() if s not in ("killed", "timeout"))
    rows = []
    for name in others:
        where, change = describe(name)
        rows.append((where, results[name], name, change))
    rows.sort(key=lambda r: (r[0].split(":")[0], int(r[0].split(":")[1]), r[2]))
    print()
    print(f"mutmut run: {mutmut_seconds:.0f} s; import-time mutants: {import_seconds:.0f} s")
    print(f"score: {killed + timeouts} / {total} killed ({killed} by a failing test, {timeouts} by timeout)")
    print(f"not killed: {len(rows)}")
    for where, status, name, change in rows:
        print(f"  {where}  {status}  {name}\n      {change}")
    if args.markdown:
        lines = ["| where | mutant | change | status |", "| --- | --- | --- | --- |"]
        for where, status, name, change in rows:
            short = name.rpartition(".")[2]
            cell = change.replace("|", "\\|")
            lines.append(f"| {where} | `{short}` | `{cell}` | {status} |")
        args.markdown.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
