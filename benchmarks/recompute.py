"""Recomputing ResNet-50 in the browser: the page's generated program and the shared runtime,
in headless Chromium, timed call by call with performance.now(); and the program's generation.

    .venv/bin/python benchmarks/recompute.py              # prints the figures
    .venv/bin/python benchmarks/recompute.py --json -     # the raw runs as JSON (run.py keeps them)

Each call is ``window.cnnmacros.recompute([H, W, 3])`` for a new size (224 to 1023), which
evaluates the program, checks every layer's conditions, builds the JSON object and fills the
page's table and totals (the page here is the program alone, so the table part costs nothing;
the site's test pages measure it with the table). The budget is 50 ms a call.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CHROMIUM = "/usr/bin/chromium"


def generation(stem: str) -> dict[str, float]:
    """Seconds of CPU to generate the program: with an empty cache, and with every layer cached."""
    from cnnmacros import recompute
    from cnnmacros.architecture import read
    from cnnmacros.engine import summarize

    path = ROOT / "architectures" / f"{stem}.yaml"
    architecture, summary = read(path, f"architectures/{stem}.yaml"), summarize(path, f"architectures/{stem}.yaml")
    cache: dict = {}
    started = time.process_time()
    recompute.script(architecture, summary, cache)
    cold = time.process_time() - started
    started = time.process_time()
    text = recompute.script(architecture, summary, cache)
    return {"cold_s": cold, "cached_s": time.process_time() - started, "bytes": len(text)}


def browser(stem: str, calls: int) -> list[float]:
    """Milliseconds of each recompute call in Chromium."""
    from playwright.sync_api import sync_playwright

    from cnnmacros import recompute
    from cnnmacros.architecture import read
    from cnnmacros.engine import summarize

    path = ROOT / "architectures" / f"{stem}.yaml"
    display = f"architectures/{stem}.yaml"
    script = recompute.script(read(path, display), summarize(path, display))
    runtime = (ROOT / "cnnmacros" / "assets" / "recompute.js").read_text(encoding="utf-8")
    html = f"<!doctype html><html><body>{script}<script>{runtime}</script></body></html>"
    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = instance.new_page()
        page.set_content(html)
        times = page.evaluate(
            """calls => {
                for (let i = 0; i < 5; i++) window.cnnmacros.recompute([224, 224, 3]);  // warm-up
                const out = [];
                for (let i = 0; i < calls; i++) {
                    const size = 224 + (i * 37) % 800;
                    const started = performance.now();
                    const result = window.cnnmacros.recompute([size, size + 1, 3]);
                    out.push(performance.now() - started);
                    if (result.errors) throw new Error(result.errors.join("\\n"));
                }
                return out;
            }""",
            calls,
        )
        instance.close()
    return times


def on_site(site: Path, stem: str, calls: int) -> list[float]:
    """Milliseconds of each call on the built page, its table and totals filled in."""
    import functools
    import http.server
    import threading

    from playwright.sync_api import sync_playwright

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))

    class Quiet(handler.func):  # type: ignore[name-defined, misc]
        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as p:
            instance = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            page = instance.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"http://127.0.0.1:{httpd.server_address[1]}/architectures/{stem}/")
            times = page.evaluate(
                """calls => {
                    const out = [];
                    for (let i = 0; i < calls; i++) {
                        const size = 224 + (i * 37) % 800;
                        const started = performance.now();
                        window.cnnmacros.recompute([size, size + 1, 3]);
                        document.body.offsetHeight;  // the layout of the filled table, too
                        out.push(performance.now() - started);
                    }
                    return out;
                }""",
                calls,
            )
            instance.close()
    finally:
        httpd.shutdown()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--json", metavar="FILE", help="write the raw runs here ('-': standard output)")
    parser.add_argument("--site", type=Path, help="a built site: also time the page itself, table and all")
    args = parser.parse_args()
    raw = {"generation": generation("resnet50"), "calls_ms": browser("resnet50", args.calls)}
    if args.site:
        raw["page_ms"] = on_site(args.site, "resnet50", args.calls // 4)
    if args.json:
        text = json.dumps(raw)
        if args.json == "-":
            print(text)
        else:
            Path(args.json).write_text(text + "\n", encoding="utf-8")
        return 0
    calls = raw["calls_ms"]
    if "page_ms" in raw:
        page = raw["page_ms"]
        print(f"on the built page, table and totals filled in and laid out, {len(page)} calls: median")
        print(f"  {statistics.median(page):.2f} ms, worst {max(page):.2f} ms")
    g = raw["generation"]
    print(f"ResNet-50 recompute in Chromium, {len(calls)} calls: median {statistics.median(calls):.2f} ms, ")
    print(f"  best {min(calls):.2f} ms, worst {max(calls):.2f} ms (budget 50 ms)")
    print(f"program generation: {g['cold_s'] * 1000:.0f} ms cold, {g['cached_s'] * 1000:.0f} ms with its layers")
    print(f"  cached; {g['bytes']:,} bytes of JavaScript")
    return 0


if __name__ == "__main__":
    sys.exit(main())
