"""The built site in Debian's Chromium, headless, with every request outside 127.0.0.1 blocked.

Checks what a reader sees: formulas laid out as MathML (not raw text), the tables, navigation, the
light/dark toggle, and a layer's worked formulas opened from the table. Screenshots of the AlexNet
page go to tests/artifacts/.
"""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from .conftest import CHROMIUM, NO_CHROMIUM, ROOT, require

ARTIFACTS = ROOT / "tests" / "artifacts"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(site: Path) -> Iterator[str]:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))

    class Quiet(handler.func):  # type: ignore[name-defined, misc]
        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    require(Path(CHROMIUM).exists(), NO_CHROMIUM)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "playwright is not installed")
        raise
    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, color_scheme="light")  # type: ignore[attr-defined]
    tab = local_only(context.new_page())
    yield tab
    context.close()


def local_only(tab: object) -> object:
    """``tab`` with every request off 127.0.0.1 refused and recorded in ``tab.blocked``: no page
    may need the network."""
    tab.blocked = []  # type: ignore[attr-defined]

    def only_local(route: object) -> None:
        url = route.request.url  # type: ignore[attr-defined]
        if urlparse(url).hostname == "127.0.0.1" or url.startswith(("data:", "blob:", "about:")):
            route.continue_()  # type: ignore[attr-defined]
        else:
            tab.blocked.append(url)  # type: ignore[attr-defined]
            route.abort()  # type: ignore[attr-defined]

    tab.route("**/*", only_local)  # type: ignore[attr-defined]
    return tab


def test_formulas_are_laid_out_math(page: object, server: str) -> None:
    page.goto(f"{server}/alexnet/")  # type: ignore[attr-defined]
    boxes = page.evaluate(  # type: ignore[attr-defined]
        """() => [...document.querySelectorAll('math')].map(m => {
             const r = m.getBoundingClientRect(); return [r.width, r.height, m.namespaceURI]; })"""
    )
    assert len(boxes) > 50
    assert all(ns == "http://www.w3.org/1998/Math/MathML" for _, _, ns in boxes)
    visible = [(w, h) for w, h, _ in boxes if w or h]
    assert visible and all(w > 0 and h > 0 for w, h in visible)
    # A fraction laid out as MathML stacks its numerator over its denominator: taller than a line.
    heights = page.evaluate(  # type: ignore[attr-defined]
        "() => [...document.querySelectorAll('.cnn-step math mfrac')].map(f => f.getBoundingClientRect().height)"
    )
    assert heights and max(heights) > 1.5 * 16
    body = page.inner_text("article")  # type: ignore[attr-defined]
    assert "<mrow>" not in body and "<math" not in body
    assert page.blocked == []  # type: ignore[attr-defined]


def test_tables_and_worked_rows(page: object, server: str) -> None:
    page.goto(f"{server}/alexnet/")  # type: ignore[attr-defined]
    table = page.locator("article table", has_text="MaxPool-3").last  # type: ignore[attr-defined]
    assert "62,378,344" in table.inner_text()
    details = page.locator("details#layer-0-conv-1")  # type: ignore[attr-defined]
    assert details.get_attribute("open") is None
    table.get_by_role("link", name="Conv-1").click()
    page.wait_for_function("() => document.querySelector('details#layer-0-conv-1').open")  # type: ignore[attr-defined]
    assert details.locator("math").count() >= 3


def test_navigation_and_dark_mode(page: object, server: str) -> None:
    page.goto(f"{server}/")  # type: ignore[attr-defined]
    nav = page.locator("nav.md-nav--primary")  # type: ignore[attr-defined]
    nav.get_by_role("link", name="MNIST CNN, four questions", exact=True).first.click()
    page.wait_for_url("**/mnist/")  # type: ignore[attr-defined]
    assert page.locator("h1").first.inner_text().rstrip("¶") == "A small network for MNIST"  # type: ignore[attr-defined]
    scheme = "() => document.body.getAttribute('data-md-color-scheme')"
    assert page.evaluate(scheme) == "default"  # type: ignore[attr-defined]
    page.locator("label[title='Switch to dark mode']").first.click()  # type: ignore[attr-defined]
    page.wait_for_function(f"() => ({scheme})() === 'slate'")  # type: ignore[attr-defined]
    page.locator("label[title='Switch to light mode']").first.click()  # type: ignore[attr-defined]
    page.wait_for_function(f"() => ({scheme})() === 'default'")  # type: ignore[attr-defined]
    assert page.blocked == []  # type: ignore[attr-defined]


def test_screenshots_of_the_alexnet_page(page: object, server: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(f"{server}/alexnet/")  # type: ignore[attr-defined]
    page.screenshot(path=str(ARTIFACTS / "alexnet-light.png"), full_page=True)  # type: ignore[attr-defined]
    page.locator("label[title='Switch to dark mode']").first.click()  # type: ignore[attr-defined]
    page.wait_for_function("() => document.body.getAttribute('data-md-color-scheme') === 'slate'")  # type: ignore[attr-defined]
    page.locator("h2#the-whole-network").scroll_into_view_if_needed()  # type: ignore[attr-defined]
    page.screenshot(path=str(ARTIFACTS / "alexnet-table-dark.png"))  # type: ignore[attr-defined]
    for name in ("alexnet-light.png", "alexnet-table-dark.png"):
        assert (ARTIFACTS / name).stat().st_size > 10_000


@pytest.mark.parametrize("width", [390, 1280])
def test_the_comparison_page_sorts_filters_and_fits(page: object, server: str, width: int) -> None:
    """Sorting by parameters orders the rows by their exact counts (read from the cells, not from
    the script's data); the filter keeps one family; nothing scrolls sideways at 390 px."""
    page.set_viewport_size({"width": width, "height": 900})  # type: ignore[attr-defined]
    page.goto(f"{server}/comparison/")  # type: ignore[attr-defined]
    rows = page.locator(".cnn-compare tbody tr")  # type: ignore[attr-defined]
    assert rows.count() >= 90
    page.locator(".cnn-compare th", has_text="Parameters").locator("button").click()  # type: ignore[attr-defined]

    def shown_params() -> list[int]:
        cells = page.locator(".cnn-compare tbody tr:not([hidden]) td:nth-child(3)").all_inner_texts()  # type: ignore[attr-defined]
        return [int(c.replace(",", "")) for c in cells if c.strip().replace(",", "").isdigit()]

    ascending = shown_params()
    assert ascending == sorted(ascending) and ascending[-1] == 644_812_894  # RegNetY-128GF, the largest
    page.locator(".cnn-compare th", has_text="Parameters").locator("button").click()  # type: ignore[attr-defined]
    assert shown_params() == sorted(ascending, reverse=True)
    page.locator(".cnn-compare-filter").select_option("ResNet")  # type: ignore[attr-defined]
    visible = page.locator(".cnn-compare tbody tr:not([hidden]) td:first-child").all_inner_texts()  # type: ignore[attr-defined]
    assert sorted(visible) == [f"ResNet{n} (torchvision)" for n in ("101", "152", "18", "34", "50")]
    charts = page.locator("figure.cnn-scatter")  # type: ignore[attr-defined]
    assert charts.count() == 2
    assert charts.first.locator("a circle").count() == 68  # every zoo model has an accuracy
    link = charts.first.locator(
        "a", has=page.locator("title", has_text="ResNet50 (torchvision) (ResNet)")
    ).get_attribute("href")  # type: ignore[attr-defined]
    assert link == "../architectures/torchvision/resnet50/"
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")  # type: ignore[attr-defined]
    assert overflow <= 0
    assert not page.blocked  # type: ignore[attr-defined]
    charts.first.locator("a", has=page.locator("title", has_text="ResNet50 (torchvision) (ResNet)")).dispatch_event(
        "click"
    )  # type: ignore[attr-defined]
    page.wait_for_url("**/architectures/torchvision/resnet50/")  # type: ignore[attr-defined]
