"""Run every benchmark and print a table: medians of several runs, ratios measured in the same run.

    .venv/bin/python benchmarks/run.py [--repeat N] [--json FILE]

1. ``cnnmacros summary`` of AlexNet as a whole process, against ``torchinfo.summary`` of the same
   network (when PyTorch and torchinfo are installed): time and peak memory.
2. Summaries of synthetic networks of 100, 1,000 and 10,000 layers: time, peak memory, and how
   time grows with the number of layers; the same blocks on a symbolic input (H x W), 640 and
   6,400 layers (budget: 6,400 under 5 s).
3. ``mkdocs build`` of the whole site, and the share of it spent in cnnmacros.
4. Under ``mkdocs serve``: from saving an architecture file to the rebuilt page being served.

Nothing here asserts an absolute time; the budgets are read off the table (see README.md).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
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


def measure(command: list[str], cwd: Path = ROOT) -> tuple[float, float]:
    """Wall time (s) and peak resident memory (MiB) of one whole process.

    The peak is the kernel's high-water mark (VmHWM), sampled every millisecond until the process
    ends; wait4's ru_maxrss would include this runner's own size, inherited at fork.
    """
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
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


def medians(command: list[str], repeat: int) -> tuple[float, float]:
    runs = [measure(command) for _ in range(repeat)]
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def synthetic(layers: int, directory: Path, size: str = "32, 32") -> Path:
    """A network of conv/batch-norm/ReLU blocks that keep a 32x32x16 tensor, ``layers`` long
    (``size`` "H, W": the same blocks on a symbolic input)."""
    kinds = [
        "{name: c%d, type: conv2d, filters: 16, kernel: 3, padding: 1}",
        "{name: b%d, type: batchnorm}",
        "{name: r%d, type: relu}",
    ]
    lines = ["name: synthetic", f"input: [{size}, 16]", "layers:"]
    lines += ["  - " + kinds[i % 3] % i for i in range(layers)]
    path = directory / f"synthetic-{layers}{'-symbolic' if not size[0].isdigit() else ''}.yaml"
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


def bench_alexnet(repeat: int, rows: list, results: dict) -> None:
    ours = medians([str(BIN / "cnnmacros"), "summary", "architectures/alexnet.yaml"], repeat)
    rows.append(("1", "cnnmacros summary alexnet (process)", ours[0], ours[1], ""))
    results["alexnet"] = {"cnnmacros_s": ours[0], "cnnmacros_mib": ours[1]}
    python = medians([sys.executable, "-c", "pass"], repeat)
    rows.append(("1", "python -c pass (start-up, reference)", python[0], python[1], ""))
    if not has_torchinfo():
        rows.append(
            ("1", "torchinfo.summary alexnet", math.nan, math.nan, "not installed: pip install '.[bench,oracle]'")
        )
        return
    theirs = medians([sys.executable, "benchmarks/torchinfo_summary.py", "architectures/alexnet.yaml"], repeat)
    ratio = theirs[0] / ours[0]
    rows.append(("1", "torchinfo.summary alexnet (process)", theirs[0], theirs[1], f"cnnmacros is {ratio:.1f}x faster"))
    results["alexnet"].update(torchinfo_s=theirs[0], torchinfo_mib=theirs[1], speedup=ratio)


def bench_synthetic(repeat: int, rows: list, results: dict, work: Path) -> None:
    inside = {}
    for layers in (100, 1_000, 10_000):
        path = synthetic(layers, work)
        t, mib = medians([str(BIN / "cnnmacros"), "summary", str(path)], repeat)
        runs = [
            float(
                subprocess.run(
                    [sys.executable, "-c", INSIDE, str(path)], env=ENV, capture_output=True, text=True, check=True
                ).stdout
            )
            for _ in range(repeat)
        ]
        inside[layers] = statistics.median(runs)
        rows.append(
            ("2", f"summary of {layers:,} layers (process)", t, mib, f"{inside[layers] * 1000:.0f} ms in-process")
        )
        results[f"synthetic_{layers}"] = {"s": t, "mib": mib, "in_process_s": inside[layers]}
    growth = math.log(inside[10_000] / inside[1_000], 10)
    rows.append(("2", "growth exponent, 1,000 -> 10,000 layers", growth, math.nan, "in-process; 1.0 is linear"))
    results["growth_exponent"] = growth


def bench_symbolic(repeat: int, rows: list, results: dict, work: Path) -> None:
    inside = {}
    for layers in (640, 6_400):
        path = synthetic(layers, work, "H, W")
        t, mib = medians([str(BIN / "cnnmacros"), "summary", str(path)], repeat)
        runs = [
            float(
                subprocess.run(
                    [sys.executable, "-c", INSIDE, str(path)], env=ENV, capture_output=True, text=True, check=True
                ).stdout
            )
            for _ in range(repeat)
        ]
        inside[layers] = statistics.median(runs)
        note = f"{inside[layers] * 1000:.0f} ms in-process"
        rows.append(("2", f"summary of {layers:,} symbolic layers (process)", t, mib, note))
        results[f"symbolic_{layers}"] = {"s": t, "mib": mib, "in_process_s": inside[layers]}
    growth = math.log(inside[6_400] / inside[640], 10)
    rows.append(("2", "growth exponent, 640 -> 6,400 symbolic", growth, math.nan, "in-process; 1.0 is linear"))
    results["symbolic_growth_exponent"] = growth


def bench_build(repeat: int, rows: list, results: dict, work: Path) -> None:
    """The whole ``mkdocs build`` process, timed from outside; cnnmacros' part reported from inside."""
    totals, ours, imports = [], [], []
    for _ in range(repeat):
        started = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "benchmarks/build_share.py", str(work / "site")],
            cwd=ROOT,
            env=ENV,
            capture_output=True,
            text=True,
            check=True,
        )
        totals.append(time.perf_counter() - started)
        inside = json.loads(out.stdout.strip().splitlines()[-1])
        ours.append(inside["cnnmacros"])
        imports.append(inside["cnnmacros_imports"])
    total, mine = statistics.median(totals), statistics.median(ours)
    share = statistics.median(o / t for o, t in zip(ours, totals))
    whole = medians([str(BIN / "mkdocs"), "build", "-q", "-d", str(work / "site2")], repeat)
    rows.append(("3", "mkdocs build (process)", whole[0], whole[1], ""))
    rows.append(
        (
            "3",
            "  of which cnnmacros",
            mine,
            math.nan,
            f"{share:.0%} of {total:.2f} s (imports {statistics.median(imports):.2f} s)",
        )
    )
    results["build"] = {
        "process_s": whole[0],
        "process_mib": whole[1],
        "instrumented_s": total,
        "cnnmacros_s": mine,
        "cnnmacros_imports_s": statistics.median(imports),
        "share": share,
    }


def bench_serve(repeat: int, rows: list, results: dict, work: Path) -> None:
    from tests.conftest import copy_project
    from tests.test_serve import free_port, wait_for

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
    url = f"http://127.0.0.1:{port}/architectures/mnist/"
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
    latency = statistics.median(latencies)
    rows.append(("4", "mkdocs serve: save -> page served", latency, math.nan, f"max {max(latencies):.2f} s"))
    results["serve"] = {"median_s": latency, "max_s": max(latencies)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    rows: list[tuple[str, str, float, float, str]] = []
    results: dict = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
    }
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "cnnmacros")], check=True, env=ENV)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        bench_alexnet(args.repeat, rows, results)
        bench_synthetic(args.repeat, rows, results, work)
        bench_symbolic(args.repeat, rows, results, work)
        bench_build(args.repeat, rows, results, work)
        bench_serve(args.repeat, rows, results, work)
    print(f"{results['date']}, {results['machine']}; medians of {args.repeat} runs\n")
    print(f"{'#':<2} {'benchmark':<42} {'time (s)':>9} {'peak MiB':>9}  note")
    for number, name, seconds, mib, note in rows:
        t = "" if math.isnan(seconds) else f"{seconds:9.3f}"
        m = "" if math.isnan(mib) else f"{mib:9.1f}"
        print(f"{number:<2} {name:<42} {t:>9} {m:>9}  {note}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
