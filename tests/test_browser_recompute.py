"""The pages recompute in the browser exactly as the command line computes (headless Chromium,
every request outside 127.0.0.1 blocked, at 390 and 1280 px).

For seeded random input sizes, ``window.cnnmacros.recompute(shape)`` on an architecture page must
equal ``cnnmacros summary FILE --input H,W,C --json``, errors included, and the page's table and
totals must then show those figures. The table's stages and blocks fold, and their subtotals are
checked against sums worked here from the command line's own rows.
"""

from __future__ import annotations

import contextlib
import io
import json
import random
import re

import pytest

from cnnmacros.cli import main

from .test_browser import browser, page, server  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WIDTHS = (390, 1280)
ARCHITECTURES = {  # stem: sizes that the network takes (a random walk around them), channels last
    "resnet50": (224, 224, 3),
    "unet": (572, 572, 1),
    "unet3d": (64, 64, 64, 1),
    "batchnorm-2d": (6, 6, 3),  # symbolic [H, W, 3]: 6x6 is the size its declared count allows
    "alexnet": (227, 227, 3),
    "googlenet-stem": (224, 224, 3),
    "densenet121": (224, 224, 3),
}


def cli(stem: str, shape: list) -> dict:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["summary", f"architectures/{stem}.yaml", "--input", ",".join(map(str, shape)), "--json"])
    return json.loads(out.getvalue()) if code == 0 else {"errors": err.getvalue().splitlines()}


def shapes(stem: str, rng: random.Random) -> list[list]:
    """Sizes near the file's own (often valid), far from it (often errors), and bad values."""
    base = ARCHITECTURES[stem]
    out = [list(base)]
    for _ in range(5):
        spatial = [max(1, round(v * rng.uniform(0.1, 2.0)) + rng.randint(-3, 3)) for v in base[:-1]]
        out.append([*spatial, rng.choice([base[-1], rng.randint(1, 16)])])
    out.append([*(2 for _ in base[:-1]), base[-1]])  # too small for any of these networks
    out.append(list(base[:-1]))  # one size short
    out.append([*base[:-2], "0", "abc"])  # not positive integers
    return out


def open_page(tab, address: str, stem: str, width: int) -> list[str]:
    tab.set_viewport_size({"width": width, "height": 900})
    errors: list[str] = []
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.goto(f"{address}/architectures/{stem}/")
    assert tab.evaluate("typeof window.cnnmacros.recompute") == "function"
    return errors


def text(tab, selector: str) -> str:
    return " ".join(tab.inner_text(selector).split())


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("stem", list(ARCHITECTURES))
def test_recompute_equals_the_command_line(page, server: str, stem: str, width: int) -> None:  # noqa: F811
    errors = open_page(page, server, stem, width)
    rng = random.Random(f"{stem}-{width}")
    agree = failures = 0
    for shape in shapes(stem, rng):
        want = cli(stem, shape)
        got = page.evaluate("s => window.cnnmacros.recompute(s)", shape)
        assert got == want, (stem, shape)
        agree += 1
        failures += "errors" in want
        if "errors" in want:  # the page lists the command line's lines
            shown = page.eval_on_selector_all(".cnn-recompute-errors li", "items => items.map(i => i.textContent)")
            assert shown == want["errors"]
        else:  # and the table shows the new figures
            params = text(page, '.cnn-layers tr[data-row="total"] td.cnn-params')
            assert params.replace(",", "") == str(want["totals"]["params"])
            shape_text = text(page, '.cnn-layers tr[data-row="input"] td.cnn-shape').replace(",", "")
            assert shape_text == "×".join(map(str, want["input"]))
            last = want["layers"][-1]
            cell = text(page, f'.cnn-layers tr[data-row="{len(want["layers"])}"] td.cnn-params')
            assert cell.replace(",", "") == str(last["params"])
    assert errors == []
    assert failures >= 2 and agree - failures >= 1  # both kinds were compared


def test_the_control_recomputes_in_place(page, server: str) -> None:  # noqa: F811
    open_page(page, server, "alexnet", 1280)
    page.fill('form.cnn-recompute-form input[name="H"]', "224")
    page.fill('form.cnn-recompute-form input[name="W"]', "224")
    page.click('form.cnn-recompute-form button[type="submit"]')
    want = cli("alexnet", [224, 224, 3])
    total = text(page, '.cnn-layers tr[data-row="total"] td.cnn-params').replace(",", "")
    assert total == str(want["totals"]["params"])
    assert text(page, '[data-total="macs"]').replace(",", "") == str(want["totals"]["macs"])
    assert "224×224×3" in text(page, ".cnn-recompute-status")
    page.fill('form.cnn-recompute-form input[name="H"]', "5")
    page.click('form.cnn-recompute-form button[type="submit"]')
    assert (
        page.eval_on_selector_all(".cnn-recompute-errors li", "i => i.map(x => x.textContent)")
        == cli("alexnet", [5, 224, 3])["errors"]
    )


def _number(cell: str) -> int:
    return int(re.sub(r"[^0-9]", "", cell) or 0)


@pytest.mark.parametrize("width", WIDTHS)
def test_stages_and_blocks_fold_and_their_subtotals_add_up(page, server: str, width: int) -> None:  # noqa: F811
    open_page(page, server, "resnet50", width)
    layers = cli("resnet50", [224, 224, 3])["layers"]
    # the sums, from the command line's rows: every layer whose block is in layer2
    layer2 = sum(x["params"] for x in layers if (x["block"] or "").startswith("layer2."))
    block = sum(x["params"] for x in layers if x["block"] == "layer3.0")
    assert layer2 == 1_219_584  # torchvision's resnet50().layer2: 1,219,584 parameters
    rows = page.query_selector_all(".cnn-layers tr.cnn-group")
    by_name = {" ".join(r.query_selector("td.cnn-name").inner_text().split()).lstrip("▸▾ "): r for r in rows}
    assert _number(by_name["layer2"].query_selector("td.cnn-params").inner_text()) == layer2
    assert _number(by_name["layer3.0"].query_selector("td.cnn-params").inner_text()) == block
    # the stages' subtotals and the layers outside them make the total
    outside = sum(x["params"] for x in layers if not x["block"])
    stages = sum(
        _number(r.query_selector("td.cnn-params").inner_text()) for r in rows if r.get_attribute("data-in") == ""
    )
    total = _number(page.inner_text('.cnn-layers tr[data-row="total"] td.cnn-params'))
    assert stages + outside == total == sum(x["params"] for x in layers)
    # a long table starts with its blocks folded; a block opens and closes
    first = page.query_selector('.cnn-layers tr[data-row="5"]')  # layer1.0.conv1
    assert not first.is_visible()
    button = by_name["layer1.0"].query_selector("button")
    button.click()
    assert first.is_visible() and button.get_attribute("aria-expanded") == "true"
    by_name["layer1"].query_selector("button").click()  # the stage folds its blocks away
    assert not first.is_visible() and not by_name["layer1.0"].is_visible()
    # layer name, output shape and parameters stay visible at every width
    for cell in ("td.cnn-name", "td.cnn-shape", "td.cnn-params"):
        assert by_name["layer2"].query_selector(cell).is_visible(), cell
    table = page.query_selector(".cnn-layers table").bounding_box()
    assert table["x"] + table["width"] <= width
    if width >= 1280:
        for cell in by_name["layer2"].query_selector_all("td"):
            assert cell.is_visible()


def test_formulas_page_calculators_use_the_generated_code(page, server: str) -> None:  # noqa: F811
    page.goto(f"{server}/formulas/")
    form = page.query_selector('form.cnn-calculator[data-formula="conv_output_size"]')
    assert form is not None
    values = {"I": "227", "K": "11", "S": "4", "P": "0", "D": "1"}
    for name, value in values.items():
        form.query_selector(f'input[name="{name}"]').fill(value)
    # floor((227 + 2*0 - 1*(11 - 1) - 1)/4) + 1 = floor(216/4) + 1 = 55 (AlexNet's Conv-1)
    assert form.query_selector("output").inner_text() == "55"
    form.query_selector('input[name="I"]').fill("228")
    assert form.query_selector("output").inner_text() == "55"  # floor(217/4) + 1
    form.query_selector('input[name="I"]').fill("231")
    assert form.query_selector("output").inner_text() == "56"
