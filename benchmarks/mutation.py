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
unchanged, and a survivor is run again only against the test files added or edited since (the
others passed with it); any other change works everything out again.
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures
import difflib
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

# Quick unit tests that kill most mutants come first, so -x stops early; property tests and the
# command's subprocess tests run after them (pytest runs a file named twice once).
FIRST = [
    "tests/test_architecture.py",
    "tests/test_schema.py",
    "tests/test_layers.py",
    "tests/test_formulas.py",
    "tests/test_rows.py",
    "tests/test_mathml.py",
    "tests/test_render.py",
    "tests/test_text.py",
    "tests/test_macros.py",
    "tests/test_library.py",
    "tests/test_source_documents.py",
]


# A mutant of the formula table that changes only a string (a title, a note, a name) runs these
# files, which show the formulas' text, instead of the whole selection: a title or note reaches
# nothing else, and a changed name or letter breaks the import or codegen, which any test sees.
TEXT_TESTS = [
    "tests/test_formulas.py",
    "tests/test_layers.py",
    "tests/test_mathml.py",
    "tests/test_render.py",
    "tests/test_text.py",
    "tests/test_macros.py",
    "tests/test_library.py",
    "tests/test_mutants.py",
]


def string_only_mutants() -> set[str]:
    """Mutants of ``formulas._build`` whose every changed source line holds a string literal."""
    source = (MUTANTS / "cnnmacros" / "formulas.py").read_text(encoding="utf-8")
    all_lines = source.splitlines()
    bodies = {
        node.name: all_lines[node.lineno - 1 : node.end_lineno]
        for node in ast.parse(source).body
        if isinstance(node, ast.FunctionDef) and node.name.startswith("x__build__mutmut_")
    }
    original = bodies.pop("x__build__mutmut_orig")
    out = set()
    for name, lines in bodies.items():
        ops = difflib.SequenceMatcher(None, original[1:], lines[1:], autojunk=False).get_opcodes()
        removed = [line for op, i, j, _, _ in ops if op != "equal" for line in original[1:][i:j]]
        if removed and all(line.strip().startswith('"') for line in removed):
            out.add(f"cnnmacros.formulas.{name}")
    return out


LAST = "tests/test_mutants.py"


def selection() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mutmut"]
    args = list(config["pytest_add_cli_args_test_selection"])
    # test_mutants.py runs last, so a mutant it kills (-x stops at the first failure) is one that
    # every other test let through: one run tells the score with and without it.
    first = [f for f in FIRST if (MUTANTS / f).exists()]
    rest = [str(p.relative_to(MUTANTS)) for p in sorted((MUTANTS / "tests").glob("test_*.py"))]
    rest = [f for f in rest if f not in first and f != LAST]
    assert args[0] == "tests", "the selection is expected to start with the tests folder"
    return first + rest + [LAST] + args[1:] + list(config.get("pytest_add_cli_args", []))


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
            failed = re.search(rb"^(?:FAILED|ERROR) (tests/[^:\s]+)", done.stdout, re.MULTILINE)
            return "killed", failed.group(1).decode() if failed else "tests"
        return {0: "survived"}.get(done.returncode, f"suspicious (pytest exit {done.returncode})"), ""
    finally:
        compiled.write_bytes(original)


def killers(name: str, worker: Path, test_file: str) -> list[str]:
    """The tests of ``test_file`` that fail with mutant ``name`` active (fresh processes, as above)."""
    env = dict(os.environ, MUTANT_UNDER_TEST=name, PYTHONPATH=str(worker))
    compiled = worker / "cnnmacros" / "_compiled.py"
    original = compiled.read_bytes()
    try:
        if name.startswith("cnnmacros.formulas."):
            subprocess.run([sys.executable, "-m", "cnnmacros.codegen"], cwd=worker, env=env, capture_output=True)
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test_file],
            cwd=worker,
            env=env,
            capture_output=True,
            timeout=300,
        )
        return re.findall(r"^(?:FAILED|ERROR) (\S+)", done.stdout.decode(), re.MULTILINE)
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
    parser.add_argument(
        "--which",
        nargs=2,
        metavar=("NAMES", "TEST_FILE"),
        help="only list, for each mutant named in the file NAMES, the tests of TEST_FILE that fail with it",
    )
    args = parser.parse_args()
    if args.which:
        names = Path(args.which[0]).read_text(encoding="utf-8").split()
        dirs = workers(args.jobs)

        def share(i: int) -> list[tuple[str, list[str]]]:  # one worker folder per thread
            return [(n, killers(n, dirs[i], args.which[1])) for n in names[i :: len(dirs)]]

        with concurrent.futures.ThreadPoolExecutor(len(dirs)) as pool:
            found = dict(pair for part in pool.map(share, range(len(dirs))) for pair in part)
        for name in names:
            print(f"{name}: {', '.join(found[name]) or '-'}")
        for path in dirs:
            shutil.rmtree(path, ignore_errors=True)
        return 0

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
    options = tests[tests.index(LAST) + 1 :]  # the selection's marks and deselections, without paths
    jobs: dict[str, list[str]] = {}  # mutant -> the tests to run
    for name in results:
        if not name.startswith(IMPORT_TIME):
            continue
        status, by, seen = cache["results"].get(name, ("", "", None))
        if status == "killed" and files.get(by) == seen:
            continue  # the killing test's file is unchanged
        if status == "survived" and isinstance(seen, dict) and set(seen) <= set(files):
            # it passed every test file then: only new or edited test files can kill it now
            changed = [f for f in files if f.startswith("tests/test_") and seen.get(f) != files[f]]
            if changed:
                jobs[name] = changed + options
            continue
        jobs[name] = tests
    text_only = string_only_mutants()
    text_tests = [f for f in TEXT_TESTS if (MUTANTS / f).exists()] + options
    for name in jobs:
        if name in text_only and jobs[name] is tests:
            jobs[name] = text_tests
    todo = sorted(jobs, key=lambda n: n in text_only)  # display text last
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
                    pending[pool.submit(run_import_time, name, worker, jobs[name], args.timeout)] = (name, worker)
                finished, _ = concurrent.futures.wait(pending, return_when=concurrent.futures.FIRST_COMPLETED)
                for future in finished:
                    name, worker = pending.pop(future)
                    free.append(worker)
                    status, by = future.result()
                    cache["results"][name] = (status, by, files if status == "survived" else files.get(by, ""))
                    done_count += 1
                    CACHE.write_text(json.dumps(cache), encoding="utf-8")  # an interrupted run loses nothing
                    if done_count % 25 == 0 or done_count == len(todo):
                        print(f"  {done_count}/{len(todo)}", flush=True)
        for path in pool_dirs:
            shutil.rmtree(path, ignore_errors=True)
        CACHE.write_text(json.dumps(cache), encoding="utf-8")
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
