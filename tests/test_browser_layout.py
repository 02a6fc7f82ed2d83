"""The site fits the screen: measured in Debian's Chromium at 390, 1024 and 1280 px, network blocked.

At 1024 px and wider every per-layer table shows all its columns without scrolling sideways; at
390 px a table keeps each layer's name, output and parameters in view. No math is cut at 1280 px,
nor on the worked pages at 390 px; math is set in the font the site serves, at the x-height of the
text around it; the figures fit their column.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .conftest import ARCHITECTURES
from .test_browser import browser, local_only, server  # noqa: F401 - the module's fixtures, shared

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARCHITECTURE_PAGES = [f"architectures/{p.stem}/" for p in sorted(ARCHITECTURES.glob("*.yaml"))]
WORKED_PAGES = ["", "alexnet/", "mnist/", "batchnorm/"]
OTHER_PAGES = ["formulas/", "conventions/", "training-memory/", "architectures/", "adding/", "own-site/"]


@pytest.fixture
def at(browser: object, server: str) -> Iterator[object]:  # noqa: F811
    """``at(width)``: a tab of that width, every request off 127.0.0.1 refused and recorded."""
    contexts = []

    def open_tab(width: int) -> object:
        context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme="light")  # type: ignore[attr-defined]
        contexts.append(context)
        tab = local_only(context.new_page())
        tab.fonts = []  # type: ignore[attr-defined]
        tab.on("response", lambda r: tab.fonts.append((r.url, r.status)) if r.url.endswith(".otf") else None)  # type: ignore[attr-defined]
        tab.server = server  # type: ignore[attr-defined]
        return tab

    yield open_tab
    for context in contexts:
        context.close()


def visit(tab: object, path: str, open_details: bool = False) -> None:
    tab.goto(f"{tab.server}/{path}")  # type: ignore[attr-defined]
    tab.evaluate("() => document.fonts.ready")  # type: ignore[attr-defined]
    if open_details:
        tab.evaluate("() => document.querySelectorAll('article details').forEach(d => d.open = true)")  # type: ignore[attr-defined]


TABLES_JS = """() => {
  const out = [];
  const page = document.documentElement;
  if (page.scrollWidth > page.clientWidth + 1) out.push(`page scrolls sideways: ${page.scrollWidth}`);
  for (const wrap of document.querySelectorAll('article .cnn-table')) {
    if (!wrap.offsetParent) continue;  // a tab not shown
    const table = wrap.querySelector('table');
    const scroller = table.parentElement;
    const first = table.rows[1].cells[0].textContent.trim();
    if (table.getBoundingClientRect().width > wrap.clientWidth + 1 || scroller.scrollWidth > scroller.clientWidth + 1)
      out.push(`table at ${first}: ${Math.round(table.getBoundingClientRect().width)} px in ${wrap.clientWidth} px`);
    const hidden = [...table.rows[0].cells].filter(c => !c.offsetWidth).map(c => c.textContent);
    if (hidden.length) out.push(`table at ${first} hides ${hidden.join(', ')}`);
  }
  return out;
}"""

PHONE_JS = """() => {
  const out = [];
  const page = document.documentElement;
  const width = page.clientWidth;
  if (page.scrollWidth > width + 1) out.push(`page scrolls sideways: ${page.scrollWidth} > ${width}`);
  for (const table of document.querySelectorAll('article .cnn-table table')) {
    if (!table.closest('.cnn-table').offsetParent) continue;
    const heads = [...table.rows[0].cells];
    const kept = heads.filter(c => c.classList.contains('cnn-p1')).map(c => c.textContent);
    const shown = heads.filter(c => c.offsetWidth).map(c => c.textContent);
    if (kept.join() !== shown.filter(t => kept.includes(t)).join()) out.push(`hides ${kept} (shows ${shown})`);
    for (const row of table.rows) for (const cell of row.cells) {
      if (!cell.offsetWidth) continue;
      const r = cell.getBoundingClientRect();
      if (r.right > width + 1 || cell.scrollWidth > cell.clientWidth + 1)
        out.push(`cell "${cell.textContent.trim().slice(0, 30)}" cut: right ${Math.round(r.right)} of ${width}`);
    }
  }
  return out;
}"""

MATH_JS = """() => {
  const out = [];
  for (const m of document.querySelectorAll('article math')) {
    const r = m.getBoundingClientRect();
    if (!r.width) continue;  // in a tab not shown
    let box = m.parentElement;
    while (box && getComputedStyle(box).overflowX === 'visible' && box.tagName !== 'ARTICLE') box = box.parentElement;
    const limit = box.getBoundingClientRect().right;
    if (m.scrollWidth > m.clientWidth + 1 || r.right > limit + 1)
      out.push(`right ${Math.round(r.right)} > ${Math.round(limit)}: ${m.textContent.slice(0, 40)}`);
  }
  return out;
}"""


def test_every_table_shows_all_its_columns_at_1024_px(at: object) -> None:
    tab = at(1024)  # type: ignore[operator]
    problems = {}
    for path in [*ARCHITECTURE_PAGES, *WORKED_PAGES, "architectures/"]:
        visit(tab, path)
        found = tab.evaluate(TABLES_JS)
        if path == "batchnorm/":  # the 3D tab's table, shown
            tab.locator(".tabbed-labels label").nth(1).click()
            found += tab.evaluate(TABLES_JS)
        if found:
            problems[path] = found
    assert not problems, problems
    assert tab.blocked == []


def test_every_table_shows_all_its_columns_and_no_math_is_cut_at_1280_px(at: object) -> None:
    tab = at(1280)  # type: ignore[operator]
    problems = {}
    for path in [*WORKED_PAGES, *OTHER_PAGES, *ARCHITECTURE_PAGES]:
        visit(tab, path, open_details=True)
        found = tab.evaluate(TABLES_JS) + tab.evaluate(MATH_JS)
        if path == "batchnorm/":
            tab.locator(".tabbed-labels label").nth(1).click()
            found += tab.evaluate(TABLES_JS) + tab.evaluate(MATH_JS)
        if found:
            problems[path] = found[:5]
    assert not problems, problems
    assert tab.blocked == []


def test_a_phone_keeps_each_layers_name_output_and_parameters(at: object) -> None:
    tab = at(390)  # type: ignore[operator]
    problems = {}
    for path in [*ARCHITECTURE_PAGES, *WORKED_PAGES, "architectures/"]:
        visit(tab, path)
        found = tab.evaluate(PHONE_JS)
        if found:
            problems[path] = found[:5]
    assert not problems, problems
    # and the three columns are those: on AlexNet's page, its first layer's row reads so
    visit(tab, "architectures/alexnet/")
    row = tab.evaluate(
        "() => [...document.querySelector('article .cnn-layers table').rows[2].cells]"
        ".filter(c => c.offsetWidth).map(c => c.textContent)"
    )
    assert row == ["Conv-1", "55×55×96", "34,944"]


def test_worked_steps_break_at_equals_signs_on_a_phone(at: object) -> None:
    tab = at(390)  # type: ignore[operator]
    problems = {}
    for path in ["", "alexnet/", "mnist/"]:
        visit(tab, path, open_details=True)
        found = tab.evaluate(MATH_JS)
        if found:
            problems[path] = found[:5]
    assert not problems, problems
    # AlexNet's Conv-1 output size takes several lines, each continued line starting with its "="
    visit(tab, "alexnet/")
    lines = tab.evaluate(
        """() => { const eq = document.querySelector('.cnn-step[data-formula="conv_output_size_d1"] .cnn-eq');
        const rhs = [...eq.querySelectorAll('.cnn-rhs > .cnn-side')];
        const tops = new Map();
        for (const m of rhs) { const t = Math.round(m.getBoundingClientRect().top);
          if (!tops.has(t)) tops.set(t, [m.getBoundingClientRect().left, m.textContent.trim()[0]]); }
        return [...tops.values()]; }"""
    )
    assert len(lines) >= 2
    assert all(first == "=" for _, first in lines), lines  # a side moves to the next line whole
    assert max(left for left, _ in lines) - min(left for left, _ in lines) < 1  # aligned


def _x_height(tab: object, selector: str) -> tuple[float, float]:
    """The x-height of the first element matching ``selector``'s math, and of the text around it."""
    return tab.evaluate(  # type: ignore[attr-defined]
        """(selector) => { const m = document.querySelector(selector);
        const c = document.createElement('canvas').getContext('2d');
        const x = (el) => { const s = getComputedStyle(el); c.font = `${s.fontSize} ${s.fontFamily}`;
          return c.measureText('x').actualBoundingBoxAscent; };
        return [x(m), x(m.parentElement.closest('p, td, div, summary'))]; }""",
        selector,
    )


def test_math_is_set_in_the_served_font_at_the_texts_size(at: object) -> None:
    tab = at(1280)  # type: ignore[operator]
    visit(tab, "alexnet/")
    assert tab.fonts and all(status == 200 for _, status in tab.fonts), tab.fonts
    assert all(url.endswith("/assets/cnnmacros/latinmodern-math.otf") for url, _ in tab.fonts)
    cdp = tab.context.new_cdp_session(tab)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": ".cnn-step math mi"})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    assert [(f["familyName"], f["isCustomFont"]) for f in fonts] == [("Latin Modern Math", True)]
    # the math's x-height is the text's: in prose, in a table cell and in a layer's worked box
    tab.evaluate("() => document.querySelectorAll('details.cnn-worked').forEach(d => d.open = true)")
    for selector in ("article p math", "details.cnn-worked .cnn-step math", ".cnn-step math"):
        math, text = _x_height(tab, selector)
        assert 0.9 < math / text < 1.1, (selector, math, text)
    # the text of a worked box is the page's, not a note's
    sizes = tab.evaluate(
        "() => [getComputedStyle(document.querySelector('article > p')).fontSize,"
        " getComputedStyle(document.querySelector('details.cnn-worked .cnn-step')).fontSize]"
    )
    assert sizes[0] == sizes[1]
    visit(tab, "batchnorm/")  # symbolic sizes are math inside table cells
    math, text = _x_height(tab, ".cnn-layers td math")
    assert 0.9 < math / text < 1.1
    assert tab.blocked == []


@pytest.mark.parametrize("width", [390, 1280])
def test_figures_fit_their_column(at: object, width: int) -> None:
    tab = at(width)  # type: ignore[operator]
    for path, least in (("formulas/", 6), ("architectures/resnet18/", 2), ("architectures/inception-3a/", 2)):
        visit(tab, path, open_details=True)
        figures = tab.evaluate(
            """() => [...document.querySelectorAll('article figure.cnn-figure')].map(f => {
              const s = f.querySelector('svg').getBoundingClientRect();
              const a = f.closest('article').getBoundingClientRect();
              return [f.className, s.width, s.height, s.left >= a.left - 1 && s.right <= a.right + 1]; })"""
        )
        assert len(figures) >= least, path
        for css, w, h, inside in figures:
            assert w > 100 and h > 20 and inside, (path, css, w, h)
