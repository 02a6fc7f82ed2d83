"""Blocks and repeats: expansion into flat layers, the names it gives, and its located errors."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from cnnmacros.engine import summarize

from .conftest import ARCHITECTURES, ROOT, run_cli

BLOCKS = ROOT / "tests" / "blocks"

UNIT = """\
name: T
input: [8, 8, 3]
blocks:
  unit:
    params: {width: null, stride: 1, project: false}
    layers:
      - {name: conv, type: conv2d, filters: $width, kernel: 3, stride: $stride, padding: 1}
      - {name: relu, type: relu}
      - {name: skip, type: conv2d, filters: $width, kernel: 1, stride: $stride, from: input, when: $project}
      - {name: add, type: add, from: [relu, skip]}
layers:
"""


def layers(tmp_path: Path, text: str) -> list[dict]:
    path = tmp_path / "t.yaml"
    path.write_text(text, encoding="utf-8")
    return summarize(path).to_json()["layers"]


def test_a_repeat_is_a_chain_of_copies_named_as_pytorch_names_modules(tmp_path: Path) -> None:
    """Copy 0 projects (first: project) and halves the size with stride 2; copies 1 and 2 keep it,
    and their add reads the copy's input itself, as torchvision's downsample=None does."""
    got = layers(
        tmp_path, UNIT + "  - {name: s, block: unit, repeat: 3, width: 4, first: {project: true, stride: 2}}\n"
    )
    names = [(r["name"], r["block"], r.get("from")) for r in got]
    assert names == [
        ("s.0.conv", "s.0", None),
        ("s.0.relu", "s.0", None),
        ("s.0.skip", "s.0", ["input"]),
        ("s.0.add", "s.0", ["s.0.relu", "s.0.skip"]),
        ("s.1.conv", "s.1", None),
        ("s.1.relu", "s.1", None),
        ("s.1.add", "s.1", ["s.1.relu", "s.0.add"]),
        ("s.2.conv", "s.2", None),
        ("s.2.relu", "s.2", None),
        ("s.2.add", "s.2", ["s.2.relu", "s.1.add"]),
    ]
    # 8x8x3 -> stride 2, padding 1, kernel 3: floor((8 + 2 - 3)/2) + 1 = 4; weights 3*3*3*4 = 108
    assert got[0]["output"] == [4, 4, 4] and got[0]["weights"] == 108
    assert got[2]["output"] == [4, 4, 4] and got[2]["weights"] == 3 * 4  # the 1x1 projection
    assert got[4]["weights"] == 3 * 3 * 4 * 4 and got[-1]["output"] == [4, 4, 4]


def test_from_may_name_a_placed_block_a_copy_or_an_inner_layer(tmp_path: Path) -> None:
    text = UNIT + (
        "  - {name: s, block: unit, repeat: 2, width: 3}\n"
        "  - {name: a, type: add, from: [s.0, s]}\n"
        "  - {name: b, type: concat, from: [s.1.conv, s.0.relu]}\n"
        "  - {name: c, type: relu, from: s.1.skip}\n"  # left out: it stands for its first input, the copy's input
    )
    got = {r["name"]: r for r in layers(tmp_path, text)}
    assert got["a"]["from"] == ["s.0.add", "s.1.add"]
    assert got["b"]["from"] == ["s.1.conv", "s.0.relu"] and got["b"]["output"] == [8, 8, 6]
    assert got["c"]["from"] == ["s.0.add"] and got["c"]["block"] is None


def test_blocks_place_blocks_with_two_inputs_and_parameters_passed_on(tmp_path: Path) -> None:
    text = """\
name: T
input: [8, 8, 4]
blocks:
  join:
    inputs: [left, right]
    params: {act: relu}
    layers:
      - {name: sum, type: add, from: [left, right]}
      - {name: act, type: $act}
  pair:
    params: {act: null, units: null}
    layers:
      - {name: a, type: conv2d, filters: $units, kernel: 1}
      - {name: b, type: conv2d, filters: $units, kernel: 1, from: input}
      - {name: j, block: join, from: [a, b], act: $act}
      - {name: out, type: relu, from: j.sum}
layers:
  - {name: p, block: pair, act: sigmoid, units: 4}
"""
    got = [(r["name"], r["type"], r["block"], r.get("from")) for r in layers(tmp_path, text)]
    assert got == [
        ("p.a", "conv2d", "p", None),
        ("p.b", "conv2d", "p", ["input"]),
        ("p.j.sum", "add", "p.j", ["p.a", "p.b"]),
        ("p.j.act", "sigmoid", "p.j", None),
        ("p.out", "relu", "p", ["p.j.sum"]),
    ]


def test_unless_keeps_a_layer_where_the_parameter_is_false(tmp_path: Path) -> None:
    text = UNIT.replace("when: $project", "unless: $project") + "  - {name: s, block: unit, width: 3}\n"
    assert [r["name"] for r in layers(tmp_path, text)] == ["s.conv", "s.relu", "s.skip", "s.add"]


def test_the_issues_resnet50_has_torchvisions_counts_layer_for_layer() -> None:
    """tests/blocks/resnet50-issue.yaml is the blocks issue's example, completed: 28 lines. Its
    layers match architectures/resnet50.yaml (checked against torchvision by the oracle) by
    position, and torchvision's total is 25,557,032."""
    blocks = summarize(BLOCKS / "resnet50-issue.yaml").to_json()
    flat = summarize(ARCHITECTURES / "resnet50.yaml").to_json()
    assert blocks["totals"]["params"] == 25_557_032
    assert len((BLOCKS / "resnet50-issue.yaml").read_text().splitlines()) <= 40
    keys = ("type", "output", "weights", "biases", "params", "non_trainable", "macs")
    for ours, theirs in zip(blocks["layers"][:-2], flat["layers"][:-3], strict=True):
        assert {k: ours[k] for k in keys} == {k: theirs[k] for k in keys}, ours["name"]
        assert ours["name"] == theirs["name"].replace("relu(", "relu").replace(")", "")


def test_expand_prints_a_flat_file_with_the_same_summary(tmp_path: Path) -> None:
    path = BLOCKS / "resnet50-issue.yaml"
    expanded = run_cli("expand", str(path))
    assert expanded.returncode == 0, expanded.stderr
    assert "  # layer2.0: block bottleneck\n" in expanded.stdout
    assert "block:" not in expanded.stdout and "$" not in expanded.stdout
    flat = tmp_path / "flat.yaml"
    flat.write_text(expanded.stdout, encoding="utf-8")
    assert run_cli("summary", str(flat)).stdout == run_cli("summary", str(path)).stdout
    ours, theirs = summarize(path).to_json(), summarize(flat).to_json()
    assert [r.pop("block") for r in theirs["layers"]] == [None] * len(theirs["layers"])
    for r in ours["layers"]:
        r.pop("block")
    assert ours == theirs


def test_expand_quotes_author_text_so_that_it_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "q.yaml"
    path.write_text(
        'name: "yes: no"\ndescription: "two\\nlines # not a comment"\ninput: [4, 3]\n'
        "layers:\n  - {name: 'true', type: relu}\n  - {name: '010', type: dropout, rate: 0.25}\n",
        encoding="utf-8",
    )
    expanded = run_cli("expand", str(path))
    flat = tmp_path / "flat.yaml"
    flat.write_text(expanded.stdout, encoding="utf-8")
    again = summarize(flat)
    assert again.name == "yes: no" and [r.name for r in again.rows] == ["true", "010"]
    assert "rate: 0.25}" in expanded.stdout


ERRORS = {
    "bad-value.yaml": [
        "bad-value.yaml:8: layers[0] (s.0.conv) stride: expected a positive integer, got 0 "
        "(block unit, placed at line 13)"
    ],
    "copy-name.yaml": [
        "copy-name.yaml:14: layers[1] (s) name: expected a name not used before, got 's.0' (already used at line 13)"
    ],
    "cycle.yaml": ["cycle.yaml:10: blocks.b: expected a block that does not place itself, got the cycle a -> b -> a"],
    "deep.yaml": [
        "deep.yaml:28: layers[0] (x) block: expected blocks placed at most 8 deep, got a placement 9 deep "
        "(block b7, placed at line 25; block b6, placed at line 22; block b5, placed at line 19; "
        "block b4, placed at line 16; block b3, placed at line 13; block b2, placed at line 10; "
        "block b1, placed at line 7; block b0, placed at line 39)"
    ],
    "dollar-name.yaml": [
        "dollar-name.yaml:8: blocks.u.layers[0] ($n) name: expected a plain name (a `$` is not replaced in name), "
        "got '$n'",
        "dollar-name.yaml:11: layers[1] (t) filters: expected a value, got '$n' (a `$NAME` is replaced only "
        "inside a block, by its parameter)",
    ],
    "dollar-unknown.yaml": [
        "dollar-unknown.yaml:8: blocks.unit.layers[0] (conv) filters: expected a parameter of block unit "
        "(width, stride, project), got '$widht'"
    ],
    "first-norepeat.yaml": [
        "first-norepeat.yaml:13: layers[0] (s) first: expected first only with repeat, which it changes copy 0 of"
    ],
    "missing-param.yaml": ["missing-param.yaml:13: layers[0] (s) width: required parameter of block unit is missing"],
    "repeat0.yaml": ["repeat0.yaml:13: layers[0] (s) repeat: expected a positive integer of at most 10,000, got 0"],
    "unknown-block.yaml": [
        "unknown-block.yaml:13: layers[0] (s) block: expected the name of a block (unit), got 'nope'"
    ],
    "unknown-param.yaml": [
        "unknown-param.yaml:13: layers[0] (s) depth: unknown parameter of block unit; expected one of "
        "width, stride, project"
    ],
    "when-nonbool.yaml": [
        "when-nonbool.yaml:10: layers[2] (skip) when: expected a boolean parameter (true or false), got 1 "
        "(block unit, placed at line 13)"
    ],
}


@pytest.mark.parametrize("name", sorted(ERRORS))
@pytest.mark.parametrize("command", ["check", "summary", "expand"])
def test_bad_block_files_get_located_errors(name: str, command: str) -> None:
    result = run_cli(command, name, cwd=BLOCKS)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if not line.endswith("have errors")]
    assert lines == ERRORS[name]


def test_every_bad_block_file_is_tested() -> None:
    files = {p.name for p in BLOCKS.glob("*.yaml")} - {"resnet50-issue.yaml"}
    assert files == set(ERRORS)


def test_a_problem_found_later_names_the_block_and_the_placement(tmp_path: Path) -> None:
    """The engine's problems (a kernel larger than its input) carry the placement too."""
    path = tmp_path / "k.yaml"
    path.write_text(
        UNIT.replace("input: [8, 8, 3]", "input: [2, 2, 3]").replace("padding: 1}", "padding: 0}")
        + "  - {name: s, block: unit, width: 3}\n",
        encoding="utf-8",
    )
    result = run_cli("check", str(path))
    assert result.returncode == 1
    assert result.stderr.splitlines()[0].startswith(f"{path}:7: layers[0] (s.conv) ")
    assert result.stderr.splitlines()[0].endswith(" (block unit, placed at line 12)")


def _html_rows(page: str) -> list[list[str]]:
    """Every HTML table row of a page, each cell as the text a reader sees."""
    return [
        [
            " ".join(html.unescape(re.sub(r"<[^>]+>", "", c.replace('<span class="cnn-settings">', " "))).split())
            for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", page, re.S)
    ]


def test_the_page_shows_each_block_once_and_the_stage_table_with_subtotals() -> None:
    """Layer1's subtotal by hand: copy 0 has conv1 64*64, conv2 9*64*64, conv3 64*256 and the
    projection 64*256, with batch norms 2*64, 2*64, 2*256, 2*256: 75,008; copies 1 and 2 read 256
    channels, 256*64 + 9*64*64 + 64*256 + 2*(64 + 64 + 256) = 70,400 each: 215,808 in all, as
    torchvision's ResNet-50 layer1 has."""
    from cnnmacros.render import architecture_page

    page = architecture_page(summarize(BLOCKS / "resnet50-issue.yaml"))
    assert page.count("### bottleneck") == 1
    assert "Parameters: `width` (required), `out` (required), `stride` = `1`, `project` = `false`." in page
    rows = _html_rows(page)
    assert ["conv2", "conv2d filters: $width, kernel: 3, stride: $stride, padding: 1, bias: false"] in rows
    copy0 = 64 * 64 + 9 * 64 * 64 + 64 * 256 + 64 * 256 + 2 * (64 + 64 + 256 + 256)
    later = 256 * 64 + 9 * 64 * 64 + 64 * 256 + 2 * (64 + 64 + 256)
    assert copy0 + 2 * later == 215_808
    layer1 = next(r for r in rows if r[:1] == ["layer1"])
    assert layer1[:7] == ["layer1", "bottleneck", "3", "width: 64, out: 256", "project: true", "56×56×256", "215,808"]
    section = page.split("## Blocks")[1].split("### Stages")[0]
    assert [f for f in ("conv2d_weights", "batchnorm_scales", "conv2d_macs") if f'data-formula="{f}"' in section] == [
        "conv2d_weights",
        "batchnorm_scales",
        "conv2d_macs",
    ]
