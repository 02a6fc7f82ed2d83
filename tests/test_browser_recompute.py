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


def cli(stem: str, shape: list, *options: str) -> dict:
    """The command line's JSON, or its error lines (argparse's without its usage and prefix)."""
    out, err = io.StringIO(), io.StringIO()
    argv = ["summary", f"architectures/{stem}.yaml", "--input", ",".join(map(str, shape)), *options, "--json"]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse refused an option
            code = exc.code
            lines = err.getvalue().splitlines()
            return {"errors": [lines[-1].removeprefix("cnnmacros summary: error: ")]}
    return json.loads(out.getvalue()) if code == 0 else {"errors": err.getvalue().splitlines()}


def shapes(stem: str, rng: random.Random) -> list[list]:
    """Sizes near the file's own (often valid), far from it (often errors), and bad values."""
    base = ARCHITECTURES.get(stem) or MEMORY[stem]
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


MEMORY = {"alexnet": (227, 227, 3), "resnet18": (224, 224, 3), "batchnorm-2d": (6, 6, 3), "unet": (572, 572, 1)}
OTHER = {"alexnet": [200, 180, 2], "resnet18": [200, 240, 2], "batchnorm-2d": [6, 6, 2], "unet": [380, 380, 1]}
"""A size each network takes (U-Net's crops take few; its channel is 1, as at its page's own size)."""
SIZES = ("16GiB", "24GiB", "1.5GB", "300MiB", "4KB", "80 gib")


@pytest.mark.parametrize("stem", list(MEMORY))
def test_memory_at_any_batch_and_the_largest_batch_equal_the_command_line(page, server: str, stem: str) -> None:  # noqa: F811
    errors = open_page(page, server, stem, 1280)
    rng = random.Random(f"memory-{stem}")
    compared = 0
    for shape in [*shapes(stem, rng), OTHER[stem]]:
        batch, size = rng.choice([1, 2, 3, rng.randint(4, 600)]), rng.choice(SIZES)
        want = cli(stem, shape, "--batch", str(batch), "--fits", size)
        got = page.evaluate("([s, b]) => window.cnnmacros.recompute(s, b)", [shape, str(batch)])
        fits = page.evaluate("([s, m]) => window.cnnmacros.fits(s, m)", [shape, size])
        if "errors" in want:
            assert got == fits == want, (stem, shape)
            continue
        assert fits == want.pop("fits"), (stem, shape, size)
        assert got == want, (stem, shape, batch)
        compared += 1
    assert compared >= (1 if stem == "batchnorm-2d" else 2) and errors == []  # its count allows one size


@pytest.mark.parametrize(
    ("option", "value"),
    [("--batch", v) for v in ("0", "-3", "2.5", " 4", "x y", "²")]
    + [("--fits", v) for v in ("0.1KiB", "24 PB", "0GB", "abc", "1.5", "0.0001KB", "3 GiB x")],
)
def test_a_bad_batch_or_memory_gets_the_command_lines_message(page, server: str, option: str, value: str) -> None:  # noqa: F811
    open_page(page, server, "alexnet", 1280)
    want = cli("alexnet", [227, 227, 3], option, value)
    assert len(want["errors"]) == 1 and want["errors"][0].startswith(f"argument {option}: ")
    if option == "--batch":
        got = page.evaluate("b => window.cnnmacros.recompute([227, 227, 3], b)", value)
    else:
        got = page.evaluate("m => window.cnnmacros.fits([227, 227, 3], m)", value)
    assert got == want


def test_a_batch_name_is_for_the_command_line(page, server: str) -> None:  # noqa: F811
    open_page(page, server, "alexnet", 1280)
    assert "batch" in cli("alexnet", [227, 227, 3], "--batch", "B")  # the command line prints expressions in B
    assert page.evaluate("() => window.cnnmacros.recompute([227, 227, 3], 'B')") == {
        "errors": [
            "argument --batch: the page counts numbers, expected a positive integer, got 'B' "
            "(cnnmacros summary --batch B gives the expressions in it)"
        ]
    }


def _grouped(value: int) -> str:
    return f"{value:,}"


@pytest.mark.parametrize("width", WIDTHS)
def test_the_memory_calculator_fills_in_its_lines_and_the_saved_table(page, server: str, width: int) -> None:  # noqa: F811
    errors = open_page(page, server, "resnet18", width)
    assert text(page, ".cnn-memory .cnn-saved-batch") == "32"  # the calculator's first batch, from the start
    form = page.query_selector("form.cnn-memory-form")
    assert form.is_visible()
    form.query_selector('input[name="batch"]').fill("48")
    form.query_selector('input[name="memory"]').fill("40GiB")
    form.query_selector('button[type="submit"]').click()
    want = cli("resnet18", [224, 224, 3], "--batch", "48", "--fits", "40GiB")
    one = cli("resnet18", [224, 224, 3], "--batch", "1")["totals"]["train_bytes"]
    two = cli("resnet18", [224, 224, 3], "--batch", "2")["totals"]["train_bytes"]
    shown = page.eval_on_selector_all(".cnn-memory-result p", "ps => ps.map(p => p.innerText)")
    lines = [" ".join(p.split()) for p in shown]
    train = want["totals"]["train_bytes"]
    assert lines[0].startswith(f"One training step at batch 48, input 224×224×3: {_grouped(train)} bytes")
    assert f"{_grouped(want['totals']['saved_bytes'])}" in lines[0]
    # the step is linear in B: Z_1 = step(2) - step(1), Z_0 = step(1) - Z_1
    assert lines[1] == f"For a batch of B: {_grouped(two - one)} B + {_grouped(2 * one - two)} bytes"
    largest = (40 * 2**30 - (2 * one - two)) // (two - one)
    assert want["fits"]["largest_batch"] == largest
    assert lines[2] == f"The largest batch that fits in 40 GiB ({_grouped(40 * 2**30)} bytes): {_grouped(largest)}"
    # the table of what each layer keeps, at batch 48; the bars by bytes per example
    assert text(page, ".cnn-memory .cnn-saved-batch") == "48"
    cells = page.eval_on_selector_all(
        ".cnn-memory tr[data-row] td.cnn-saved-bytes", "cs => cs.map(c => c.innerText.replace(/,/g, ''))"
    )
    layers = want["layers"]
    assert cells == [str(x["saved_bytes"]) for x in layers] + [str(want["totals"]["saved_bytes"])]
    per_layer = [
        (a["saved_bytes"] - b["saved_bytes"]) // 47  # batch 48 against batch 1: statistics cancel
        for a, b in zip(layers, cli("resnet18", [224, 224, 3], "--batch", "1")["layers"], strict=True)
    ]
    total = sum(per_layer)
    conv1 = page.get_attribute('.cnn-memory tr[data-row="1"] .cnn-bar', "title")
    tenths = (2000 * per_layer[0] + total) // (2 * total)
    assert conv1 == f"{tenths // 10}.{tenths % 10} % of the bytes kept"
    box = form.bounding_box()
    assert box["x"] + box["width"] <= width
    assert page.evaluate("f => f.scrollWidth <= f.clientWidth", form)
    # another input size above the table: the calculator follows it
    page.fill('form.cnn-recompute-form input[name="H"]', "200")
    page.fill('form.cnn-recompute-form input[name="W"]', "200")
    page.click('form.cnn-recompute-form button[type="submit"]')
    smaller = cli("resnet18", [200, 200, 3], "--batch", "48")["totals"]["train_bytes"]
    assert f"input 200×200×3: {_grouped(smaller)} bytes" in text(page, ".cnn-memory-result")
    # a bad memory size: the command line's message, and the table as it was built
    form.query_selector('input[name="memory"]').fill("12XB")
    form.query_selector('button[type="submit"]').click()
    assert text(page, ".cnn-memory-result") == cli("resnet18", [200, 200, 3], "--fits", "12XB")["errors"][0]
    assert text(page, ".cnn-memory .cnn-saved-batch") == "\N{MATHEMATICAL ITALIC CAPITAL B}"  # as built: in B
    assert errors == []
