"""The Training memory page and the architecture pages' training memory, in Chromium at a phone's
width (390 px) and a laptop's (1280 px): formulas laid out as MathML, the figures the command
prints, and no page that scrolls sideways (a wide table scrolls in its own box)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from cnnmacros.engine import summarize

from .conftest import ARCHITECTURES
from .test_browser import browser, local_only, server  # noqa: F401 - the fixtures
from .test_memory import run_cli

pytestmark = [pytest.mark.browser, pytest.mark.slow]
BUDGETS = ("16GiB", "24GiB", "40GiB", "80GiB")


@pytest.fixture(params=[390, 1280], ids=["390px", "1280px"])
def tab(browser: object, request: pytest.FixtureRequest) -> Iterator[object]:  # noqa: F811
    context = browser.new_context(viewport={"width": request.param, "height": 900})  # type: ignore[attr-defined]
    page = local_only(context.new_page())
    page.width = request.param  # type: ignore[attr-defined]
    yield page
    context.close()


def _no_sideways_scroll(page: object) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")  # type: ignore[attr-defined]
    assert width <= page.width, f"the page is {width} px wide at {page.width} px"  # type: ignore[attr-defined]


def _largest_batches() -> list[str]:
    out = []
    for size in BUDGETS:
        done = run_cli("summary", "architectures/resnet18.yaml", "--fits", size)
        out.append(re.search(r"Largest batch that fits in [\d,]+ bytes: ([\d,]+)", done.stdout).group(1))
    return out


def test_training_memory_page(tab: object, server: str) -> None:  # noqa: F811
    tab.goto(f"{server}/training-memory/")  # type: ignore[attr-defined]
    boxes = tab.evaluate(  # type: ignore[attr-defined]
        "() => [...document.querySelectorAll('article math')].map(m => m.getBoundingClientRect().height)"
    )
    assert len(boxes) > 40 and all(h > 0 for h in boxes if h)
    # every layer type of the rules table, its formulas as MathML in the cells
    rules = tab.locator("article .cnn-memory-rules table")  # type: ignore[attr-defined]
    assert "maxpool2d" in rules.inner_text() and rules.locator("math").count() >= 20
    # the worked example's largest batches are what `cnnmacros summary --fits` prints
    fits = tab.locator("article table", has_text="Largest batch").last  # type: ignore[attr-defined]
    cells = fits.evaluate("t => [...t.tBodies[0].rows].map(r => [...r.cells].map(c => c.textContent))")
    assert [c[0].strip() for c in cells] == ["16 GiB", "24 GiB", "40 GiB", "80 GiB"]
    assert [c[2].strip() for c in cells] == _largest_batches()
    layers = tab.locator("article table", has_text="What is kept").last  # type: ignore[attr-defined]
    last = summarize(ARCHITECTURES / "resnet18.yaml").rows[-1].name
    assert "indices of the maxima" in layers.inner_text() and last in layers.inner_text()
    _no_sideways_scroll(tab)
    assert tab.blocked == []  # type: ignore[attr-defined]


def test_architecture_page_gives_the_memory_in_the_batch_size(tab: object, server: str) -> None:  # noqa: F811
    tab.goto(f"{server}/architectures/resnet18/")  # type: ignore[attr-defined]
    text = tab.locator("article p", has_text="The largest batch that fits").first.inner_text()  # type: ignore[attr-defined]
    words = tab.locator("article p", has_text="For a batch of").first  # type: ignore[attr-defined]
    assert words.locator("math").count() == 1  # B; the step's bytes as an expression in it follow
    equation = words.locator("xpath=following-sibling::*[1]")
    assert "cnn-eq" in equation.get_attribute("class") and equation.locator("math").count() >= 2
    box = equation.bounding_box()
    assert box["x"] + box["width"] <= tab.width  # type: ignore[attr-defined]  # it breaks, not overflows
    assert all(f"{n} in {size[:-3]} GiB" in text for n, size in zip(_largest_batches(), BUDGETS, strict=True))
    saved = tab.locator("article .cnn-memory table")  # type: ignore[attr-defined]
    rows = len(summarize(ARCHITECTURES / "resnet18.yaml").rows)
    assert saved.locator("tbody tr").count() == rows + 1  # every layer of the file, and the total
    box = saved.bounding_box()
    assert box["width"] <= tab.width  # type: ignore[attr-defined]
    _no_sideways_scroll(tab)
