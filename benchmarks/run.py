"""Run every benchmark, keep every raw run, and print the table computed from them.

    .venv/bin/python benchmarks/run.py [--repeat N] [--json FILE]   # measure (about 5 minutes)
    .venv/bin/python benchmarks/run.py --report FILE                # the table of a kept run

1. Whole processes, as a terminal user runs them: ``cnnmacros summary`` of AlexNet against a
   process that builds the same network and prints ``torchinfo.summary``; run by run, alternated,
   with ``python -c "import torch"`` and ``python -c pass`` as reference lines.
2. In one process, after the imports (a notebook, the MkDocs plugin): ``summarize``, ``compute``
   and the printed table against ``torchinfo.summary`` of AlexNet (``in_process.py``).
3. Summaries of synthetic networks of 100, 1,000 and 10,000 layers, and how time grows with them.
4. ``mkdocs build`` of the whole site, and the share of it spent in cnnmacros.
5. Under ``mkdocs serve``: from saving an architecture file to the rebuilt page being served.
6. How both sides grow with the input: VGG-16's convolutions at 224, 512 and 1024 px and a 3D
   network at 32, 64 and 128 voxels a side, in process (with 2.); drawn in ``growth.svg``.

Every raw run goes to a JSON file (by default ``benchmarks/raw/DATE.json``, meant to be
committed); the table and ``growth.svg`` are computed from that file alone. Nothing here asserts
an absolute time; the budgets are read off the table (see README.md).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ENV = dict(os.environ, NO_MKDOCS_2_WARNING="1", PYTHONPATH=str(ROOT))
# Measure as installed code runs: from cached bytecode (pip compiles what it installs; this
# machine's PYTHONDONTWRITEBYTECODE would otherwise recompile cnnmacros in every process).
ENV.pop("PYTHONDONTWRITEBYTECODE", None)
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

ALEXNET = "architectures/alexnet.yaml"


def _peak_mib(pid: int, command: list[str]) -> float | None:
    """VmHWM of the process once it runs ``command`` (before its exec, /proc shows the parent's)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[:-1]
        # a console script runs as [python, script, ...]: compare the end of the command line
        if [c.decode() for c in cmdline][-len(command) :] != command:
            return None
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        return None
    return None


def measure(command: list[str], cwd: Path = ROOT, env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall time (s) and peak resident memory (MiB) of one whole process.

    The peak is the kernel's high-water mark (VmHWM), sampled every millisecond until the process
    ends; wait4's ru_maxrss would include this runner's own size, inherited at fork.
    """
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env or ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0.0
    while process.poll() is None:
        sample = _peak_mib(process.pid, command)
        if sample is not None:
            peak = max(peak, sample)
        time.sleep(0.001)
    elapsed = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {process.stderr.read().decode()[-2000:]}")
    process.stderr.close()
    return elapsed, peak


def synthetic(layers: int, directory: Path) -> Path:
    """A network of conv/batch-norm/ReLU blocks that keep a 32x32x16 tensor, ``layers`` long."""
    kinds = [
        "{name: c%d, type: conv2d, filters: 16, kernel: 3, padding: 1}",
        "{name: b%d, type: batchnorm}",
        "{name: r%d, type: relu}",
    ]
    lines = ["name: synthetic", "input: [32, 32, 16]", "layers:"]
    lines += ["  - " + kinds[i % 3] % i for i in range(layers)]
    path = directory / f"synthetic-{layers}.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def shrinking(layers: int, directory: Path, symbolic: bool) -> Path:
    """``layers`` unpadded 3x3 convolutions, each taking 2 from H and W: on [H, W, 3] every size is
    a new expression (the hostile-input issue's slow case), or its twin on numbers."""
    size = "[H, W, 3]" if symbolic else f"[{2 * layers + 1}, {2 * layers + 1}, 3]"
    lines = ["name: shrinking", f"input: {size}", "layers:"]
    lines += [f"  - {{name: c{i}, type: conv2d, filters: 3, kernel: 3}}" for i in range(layers)]
    path = directory / f"shrinking-{layers}-{'symbolic' if symbolic else 'numbers'}.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# The command's own work, timed inside a fresh process: what remains once start-up is left out.
INSIDE = """
import sys, time, io, contextlib
import cnnmacros.engine, cnnmacros.text  # imports are start-up, not work
from cnnmacros.cli import main
out = io.StringIO()
started = time.perf_counter()
with contextlib.redirect_stdout(out):
    main(["summary", sys.argv[1]])
print(time.perf_counter() - started)
"""


def has_torchinfo() -> bool:
    probe = subprocess.run([sys.executable, "-c", "import torch, torchinfo"], capture_output=True)
    return probe.returncode == 0


# ---------------------------------------------------------------------------------------------
# Measuring: each function adds raw runs to ``raw`` and nothing else.


def bench_process(repeat: int, raw: dict, torch: bool) -> None:
    """Whole processes, alternated run by run: ours, theirs, the two references; again."""
    commands = {"cnnmacros": [str(BIN / "cnnmacros"), "summary", ALEXNET]}
    if torch:
        commands["torchinfo"] = [sys.executable, "benchmarks/torchinfo_summary.py", ALEXNET]
        commands["import_torch"] = [sys.executable, "-c", "import torch"]
    commands["python"] = [sys.executable, "-c", "pass"]
    runs: dict[str, list[list[float]]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, command in commands.items():
            runs[name].append(list(measure(command)))
    raw["process"] = {"commands": commands, "runs": runs}


def bench_in_process(repeat: int, raw: dict, work: Path) -> None:
    out = subprocess.run(
        [sys.executable, "benchmarks/in_process.py", str(repeat), str(work)],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise RuntimeError(f"in_process.py failed: {out.stderr[-2000:]}")
    raw["in_process"] = json.loads(out.stdout.strip().splitlines()[-1])


def bench_synthetic(repeat: int, raw: dict, work: Path) -> None:
    raw["synthetic"] = {}
    for layers in (100, 1_000, 10_000):
        path = synthetic(layers, work)
        process = [list(measure([str(BIN / "cnnmacros"), "summary", str(path)])) for _ in range(repeat)]
        inside = [
            float(
                subprocess.run(
                    [sys.executable, "-c", INSIDE, str(path)], env=ENV, capture_output=True, text=True, check=True
                ).stdout
            )
            for _ in range(repeat)
        ]
        raw["synthetic"][str(layers)] = {"process": process, "in_process_s": inside}


def bench_symbolic(repeat: int, raw: dict, work: Path) -> None:
    """``summary`` of 6,400 shrinking layers on symbols and on numbers, alternated run by run."""
    files = {kind: shrinking(6_400, work, kind == "symbolic") for kind in ("symbolic", "numbers")}
    runs: dict[str, list[list[float]]] = {kind: [] for kind in files}
    for _ in range(repeat):
        for kind, path in files.items():
            runs[kind].append(list(measure([str(BIN / "cnnmacros"), "summary", str(path)])))
    raw["symbolic"] = {"layers": 6_400, "runs": runs}


def bench_blocks(repeat: int, raw: dict, work: Path) -> None:
    """``check`` of a file written with blocks against its expansion, alternated run by run: the
    same layers, so the ratio is the cost of placing the blocks."""
    written = ROOT / "tests" / "blocks" / "resnet50-issue.yaml"
    flat = work / "resnet50-expanded.yaml"
    expanded = subprocess.run([str(BIN / "cnnmacros"), "expand", str(written)], capture_output=True, text=True)
    flat.write_text(expanded.stdout, encoding="utf-8")
    files = {"blocks": written, "flat": flat}
    runs: dict[str, list[list[float]]] = {kind: [] for kind in files}
    for _ in range(repeat):
        for kind, path in files.items():
            runs[kind].append(list(measure([str(BIN / "cnnmacros"), "check", str(path)])))
    raw["blocks"] = {"runs": runs}


def bench_check(repeat: int, raw: dict) -> None:
    """``cnnmacros check architectures/`` (the zoo included: about 90 files, 21,000 layers), as a
    user runs it (its files shared among the cores) and on one core (``taskset -c 0``: one process,
    as before it shared them), alternated run by run. Budget: 2 s."""
    command = [str(BIN / "cnnmacros"), "check", "architectures/"]
    runs: dict[str, list[list[float]]] = {"cores": [], "one_core": []}
    one = shutil.which("taskset")
    for _ in range(repeat):
        runs["cores"].append(list(measure(command)))
        if one:
            runs["one_core"].append(list(measure([one, "-c", "0", *command])))
    raw["check"] = {"runs": runs, "files": len(list((ROOT / "architectures").rglob("*.yaml")))}


def bench_build(repeat: int, raw: dict, work: Path) -> None:
    """The whole ``mkdocs build`` process, timed from outside; cnnmacros' part reported from inside.
    Cold: every run with an empty page cache (a first build, or CI); warm: every run after one that
    filled it (the next build, with no file changed)."""
    cache = work / "page-cache"

    def env(fresh: bool) -> dict[str, str]:
        if fresh:
            shutil.rmtree(cache, ignore_errors=True)
        return dict(ENV, XDG_CACHE_HOME=str(cache))

    instrumented = []
    for _ in range(repeat):
        started = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "benchmarks/build_share.py", str(work / "site")],
            cwd=ROOT,
            env=env(fresh=True),
            capture_output=True,
            text=True,
            check=True,
        )
        total = time.perf_counter() - started
        inside = json.loads(out.stdout.strip().splitlines()[-1])
        instrumented.append(
            {"total_s": total, "cnnmacros_s": inside["cnnmacros"], "imports_s": inside["cnnmacros_imports"]}
        )
    command = [str(BIN / "mkdocs"), "build", "-q", "-d", str(work / "site2")]
    process = [list(measure(command, env=env(fresh=True))) for _ in range(repeat)]
    warm = [list(measure(command, env=env(fresh=False))) for _ in range(repeat)]  # the last cold run filled it
    raw["build"] = {"instrumented": instrumented, "process": process, "warm": warm}


def bench_recompute(repeat: int, raw: dict, work: Path) -> None:
    """ResNet-50 recomputed in Chromium (benchmarks/recompute.py): the program alone, and on the
    site that bench_build built, table and totals filled in."""
    if not Path("/usr/bin/chromium").exists():
        return
    out = subprocess.run(
        [sys.executable, "benchmarks/recompute.py", "--json", "-", "--site", str(work / "site"), "--calls", "200"],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        check=True,
    )
    raw["recompute"] = json.loads(out.stdout.strip().splitlines()[-1])


def bench_serve(repeat: int, raw: dict, work: Path) -> None:
    from tests.conftest import copy_project
    from tests.test_serve import free_port, served_path, wait_for

    project = work / "serve"
    project.mkdir()
    copy_project(project)
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "mkdocs"), "serve", "-a", f"127.0.0.1:{port}"],
        cwd=project,
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}{served_path()}architectures/mnist/"
    mnist = project / "architectures" / "mnist.yaml"
    original = mnist.read_text(encoding="utf-8")
    latencies = []
    try:
        wait_for(url, "4,058", timeout=60)
        for i in range(repeat):
            units = 17 + i  # FC: (144 + 1) x units; the output layer: (units + 1) x 10
            total = 104 + 296 + 1168 + 145 * units + (units + 1) * 10
            time.sleep(1.0)  # let the watcher settle between edits
            started = time.perf_counter()
            mnist.write_text(
                original.replace("{name: FC, type: dense, units: 16}", f"{{name: FC, type: dense, units: {units}}}"),
                encoding="utf-8",
            )
            wait_for(url, f"{total:,}", timeout=60, poll=0.02)
            latencies.append(time.perf_counter() - started)
    finally:
        server.terminate()
        server.wait(timeout=30)
    raw["serve"] = {"latencies_s": latencies}


# ---------------------------------------------------------------------------------------------
# Reporting: computed from the raw file alone.

med = statistics.median


def ms(seconds: float) -> str:
    """Milliseconds to three significant figures (at least one decimal below 10 ms)."""
    value = seconds * 1000
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}" if value >= 1 else f"{value:.3f}"


def pairwise(theirs: list[float], ours: list[float]) -> float:
    """The median of the run-by-run ratios theirs / ours (runs alternated, so pairs are neighbours)."""
    return med(t / o for t, o in zip(theirs, ours))


def faster(runs: dict[str, list[float]]) -> list[float]:
    """torchinfo's faster run of each round: default threads or one thread."""
    return [min(a, b) for a, b in zip(runs["torchinfo"], runs["torchinfo_1_thread"])]


def report(raw: dict) -> str:
    rows: list[tuple[str, str, str, str, str, str]] = []

    def row(number, name, times=None, mib=None, note=""):
        best = ms(min(times)) if times else ""
        middle = ms(med(times)) if times else ""
        rows.append((number, name, best, middle, "" if mib is None else f"{mib:.1f}", note))

    p = raw["process"]["runs"]
    t = {name: [r[0] for r in runs] for name, runs in p.items()}
    m = {name: med(r[1] for r in runs) for name, runs in p.items()}
    row("1", "cnnmacros summary alexnet (process)", t["cnnmacros"], m["cnnmacros"])
    if "torchinfo" in t:
        ratio = pairwise(t["torchinfo"], t["cnnmacros"])
        row("1", "torchinfo.summary alexnet (process)", t["torchinfo"], m["torchinfo"], f"{ratio:.1f}x cnnmacros")
        share = med(i / w for i, w in zip(t["import_torch"], t["torchinfo"]))
        row("1", 'python -c "import torch" (reference)', t["import_torch"], m["import_torch"], f"{share:.0%} of it")
    row("1", "python -c pass (start-up, reference)", t["python"], m["python"])

    inside = raw.get("in_process")
    if inside:
        a = inside["alexnet"]["runs"]
        row("2", f"torchinfo.summary alexnet, {inside['threads']} threads", a["torchinfo"])
        row("2", "torchinfo.summary alexnet, 1 thread", a["torchinfo_1_thread"])
        for key, label in (
            ("cnnmacros_table", "table(summarize(path)), what it prints"),
            ("cnnmacros_summarize", "summarize(path): read, check, compute"),
            ("cnnmacros_compute", "compute(architecture) alone"),
        ):
            row("2", label, a[key], None, f"torchinfo (faster) takes {pairwise(faster(a), a[key]):,.0f}x")

    s = raw["synthetic"]
    for layers, runs in s.items():
        times = [r[0] for r in runs["process"]]
        note = f"{ms(med(runs['in_process_s']))} ms in-process"
        row("3", f"summary of {int(layers):,} layers (process)", times, med(r[1] for r in runs["process"]), note)
    growth = math.log(med(s["10000"]["in_process_s"]) / med(s["1000"]["in_process_s"]), 10)
    rows.append(("3", "growth exponent, 1,000 -> 10,000 layers", "", f"{growth:.3f}", "", "in-process; 1.0 is linear"))

    symbolic = raw.get("symbolic")
    if symbolic:
        times = {kind: [r[0] for r in runs] for kind, runs in symbolic["runs"].items()}
        ratio = pairwise(times["symbolic"], times["numbers"])
        label = f"summary of {symbolic['layers']:,} layers on H, W (process)"
        row("7", label, times["symbolic"], med(r[1] for r in symbolic["runs"]["symbolic"]), f"{ratio:.1f}x numbers")
        row(
            "7",
            "  the same layers on numbers (reference)",
            times["numbers"],
            med(r[1] for r in symbolic["runs"]["numbers"]),
        )

    blocks = raw.get("blocks")
    if blocks:
        times = {kind: [r[0] for r in runs] for kind, runs in blocks["runs"].items()}
        ratio = pairwise(times["blocks"], times["flat"])
        row("8", "check resnet50 written with blocks", times["blocks"], None, f"{ratio:.2f}x its expansion")
        row("8", "  check of its expansion (reference)", times["flat"])

    check = raw.get("check")
    if check:
        times = {kind: [r[0] for r in runs] for kind, runs in check["runs"].items()}
        label = f"check architectures/, {check['files']} files"
        note = f"{pairwise(times['one_core'], times['cores']):.2f}x faster" if times["one_core"] else ""
        row("10", label, times["cores"], med(r[1] for r in check["runs"]["cores"]), note + "; budget 2 s")
        if times["one_core"]:
            row("10", "  the same on one core (reference)", times["one_core"])

    b = raw["build"]
    row("4", "mkdocs build (process), cold", [r[0] for r in b["process"]], med(r[1] for r in b["process"]))
    if "warm" in b:
        warm = [r[0] for r in b["warm"]]
        row("4", "  again, pages from the cache (warm)", warm, med(r[1] for r in b["warm"]), "budget 10 s")
    share = med(r["cnnmacros_s"] / r["total_s"] for r in b["instrumented"])
    total = med(r["total_s"] for r in b["instrumented"])
    imports = med(r["imports_s"] for r in b["instrumented"])
    note = f"{share:.0%} of {total:.2f} s (imports {imports:.2f} s)"
    row("4", "  of which cnnmacros", [r["cnnmacros_s"] for r in b["instrumented"]], None, note)

    latencies = raw["serve"]["latencies_s"]
    row("5", "mkdocs serve: save -> page served", latencies, None, f"worst {ms(max(latencies))} ms")

    recompute = raw.get("recompute")
    if recompute:
        calls = [t / 1000 for t in recompute["calls_ms"]]
        row("9", "recompute resnet50 in Chromium (program)", calls, None, f"{len(calls)} sizes; budget 50 ms")
        if "page_ms" in recompute:
            page = [t / 1000 for t in recompute["page_ms"]]
            row("9", "  on its page, table filled and laid out", page, None, f"worst {ms(max(page))} ms")

    lines = [f"{raw['date']}, {raw['machine']}; {raw['repeat']} runs of each", ""]
    lines.append(f"{'#':<2} {'benchmark':<40} {'best ms':>9} {'median ms':>10} {'peak MiB':>9}  note")
    for number, name, best, middle, mib, note in rows:
        lines.append(f"{number:<2} {name:<40} {best:>9} {middle:>10} {mib:>9}  {note}".rstrip())
    if inside:
        lines += ["", "6  growth with the input, in process: median ms per call", ""]
        threads = f"{inside['threads']} threads"
        lines.append(f"{'':<56} {'-- torchinfo.summary --':>20} {'-- cnnmacros --':>19}")
        head = f"{'network':<20} {'input':>14} {'pixels':>10} {'MACs':>8} {threads:>10} {'1 thread':>9}"
        lines.append(f"{head} {'summarize':>10} {'compute':>8} {'ratio':>7}")
        for c in inside["growth"]:
            r = c["runs"]
            size = "x".join(str(v) for v in c["input"])
            macs = f"{c['torchinfo_mult_adds'] / 1e9:.1f} G"
            ratio = pairwise(faster(r), r["cnnmacros_summarize"])
            lines.append(
                f"{c['network']:<20} {size:>14} {c['pixels']:>10,} {macs:>8} {ms(med(r['torchinfo'])):>10}"
                f" {ms(med(r['torchinfo_1_thread'])):>9} {ms(med(r['cnnmacros_summarize'])):>10}"
                f" {ms(med(r['cnnmacros_compute'])):>8} {ratio:>6,.0f}x"
            )
        lines += ["", "ratio: torchinfo (the faster of its two runs in each round) / summarize, median of the rounds"]
    return "\n".join(lines)


def write_svg(raw: dict, path: Path) -> None:
    from plot import growth_svg

    if raw.get("in_process"):
        title = f"Summary time against input size, in one process ({raw['date']})"
        path.write_text(growth_svg(raw["in_process"]["growth"], title, raw["in_process"]["threads"]), encoding="utf-8")


def machine() -> str:
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 2**20:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    versions = []
    for package in ("torch", "torchinfo"):
        try:
            versions.append(f"{package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            pass
    return f"{platform.machine()}, {os.cpu_count()} cores{memory}, Python {platform.python_version()}" + "".join(
        f", {v}" for v in versions
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--json", type=Path, help="where the raw runs go (default benchmarks/raw/DATE.json)")
    parser.add_argument("--svg", type=Path, default=ROOT / "benchmarks" / "growth.svg")
    parser.add_argument("--report", type=Path, metavar="FILE", help="print the table of a kept run; measure nothing")
    args = parser.parse_args()
    if args.report:
        print(report(json.loads(args.report.read_text(encoding="utf-8"))))
        return 0
    raw: dict = {"date": time.strftime("%Y-%m-%d"), "machine": machine(), "repeat": args.repeat}
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "cnnmacros")], check=True, env=ENV)
    torch = has_torchinfo()
    if not torch:
        print("torchinfo is not installed (pip install '.[bench,oracle]'): cnnmacros' side only", file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        ENV["XDG_CACHE_HOME"] = str(work / "user-cache")  # the site's page cache: the run's own, never the user's
        bench_process(args.repeat, raw, torch)
        if torch:
            bench_in_process(args.repeat, raw, work)
        bench_synthetic(args.repeat, raw, work)
        bench_symbolic(args.repeat, raw, work)
        bench_blocks(args.repeat, raw, work)
        bench_check(args.repeat, raw)
        bench_build(args.repeat, raw, work)
        bench_recompute(args.repeat, raw, work)
        bench_serve(args.repeat, raw, work)
    path = args.json or ROOT / "benchmarks" / "raw" / f"{raw['date']}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(raw, indent=1) + "\n", encoding="utf-8")
    write_svg(raw, args.svg)
    print(report(raw))
    print(f"\nraw runs: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
