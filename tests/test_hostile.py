"""Hostile architecture files: what cannot be a file in tests/broken (links, FIFOs, devices, sizes),
the escaping of author text in a terminal, and a property test over the hostile alphabet."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cnnmacros.architecture import MAX_BYTES
from cnnmacros.errors import Problem, printable, unprintable

from .conftest import run_cli

LAYER = "name: x\ninput: [8, 8, 3]\nlayers:\n  - {name: r, type: relu}\n"


def check(*paths: Path | str, cwd: Path | None = None) -> list[str]:
    done = run_cli("check", *map(str, paths), **({"cwd": cwd} if cwd else {}))
    assert done.returncode == 1, done.stdout
    assert "Traceback" not in done.stderr
    assert done.stdout == ""
    return done.stderr.splitlines()


def test_a_link_out_of_the_directory_is_refused_unquoted(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n" * 50)
    (tmp_path / "architectures").mkdir()
    (tmp_path / "architectures" / "passwd.yaml").symlink_to(secret)
    assert check("architectures/passwd.yaml", cwd=tmp_path) == [
        "architectures/passwd.yaml:1: expected a file in architectures, got a symbolic link that leads out of it "
        "(links must stay inside the architecture directory)",
        "1 of 1 files have errors",
    ]
    assert check("architectures", cwd=tmp_path)[0].startswith("architectures/passwd.yaml:1: expected a file in")


def test_a_link_inside_the_directory_is_read(tmp_path: Path) -> None:
    (tmp_path / "real.yaml").write_text(LAYER)
    (tmp_path / "alias.yaml").symlink_to("real.yaml")
    done = run_cli("check", str(tmp_path / "alias.yaml"))
    assert (done.returncode, done.stdout) == (0, "1 files checked, all valid\n")


def test_a_dangling_link_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "gone.yaml").symlink_to("nowhere.yaml")
    assert check(tmp_path / "gone.yaml") == [
        f"{tmp_path}/gone.yaml:1: cannot read the file: No such file or directory",
        "1 of 1 files have errors",
    ]


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    assert check(fifo) == [f"{fifo}:1: expected a regular file, got a FIFO (named pipe)", "1 of 1 files have errors"]


def test_a_device_is_refused_unread() -> None:
    assert check("/dev/zero") == [
        "/dev/zero:1: expected a regular file, got a character device",
        "1 of 1 files have errors",
    ]


def test_a_directory_named_like_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "d.yaml").mkdir()
    assert check(tmp_path) == [
        f"{tmp_path}/d.yaml:1: expected a regular file, got a directory",
        "1 of 1 files have errors",
    ]


def test_a_file_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text(LAYER + "description: " + "x" * MAX_BYTES + "\n")
    size = path.stat().st_size
    assert check(path) == [
        f"{path}:1: expected a file of at most 1,048,576 bytes (1 MiB), got {size:,} bytes",
        "1 of 1 files have errors",
    ]
    path.write_text(LAYER.replace("name: x", "name: x\ndescription: " + "y" * (MAX_BYTES - len(LAYER) - 14)))
    assert path.stat().st_size == MAX_BYTES
    done = run_cli("check", str(path))
    assert done.returncode == 0, done.stderr


def test_twenty_thousand_plain_layers_meet_the_layer_limit_not_the_alias_budget(tmp_path: Path) -> None:
    path = tmp_path / "many.yaml"
    layers = "".join(f"  - {{name: r{i}, type: relu}}\n" for i in range(20_000))
    path.write_text("name: x\ninput: [8, 8, 3]\nlayers:\n" + layers)
    assert check(path) == [
        f"{path}:4: layers: expected at most 10,000 layers, got 20,000 (the limit is 10,000)",
        "1 of 1 files have errors",
    ]


def test_printable_escapes_what_a_terminal_would_obey() -> None:
    assert printable("plain, é, 漢字 and \\x1b as typed") == "plain, é, 漢字 and \\x1b as typed"
    assert printable("\x1b[2J\rFAKE\n\x00\x7f\x9b\u202e\u2066\u2028\ud800") == (
        "\\x1b[2J\\rFAKE\\n\\x00\\x7f\\x9b\\u202e\\u2066\\u2028\\ud800"
    )
    assert unprintable("a\u202eb") == "a bidirectional-text control (U+202E) at character 2"
    assert unprintable("a\u00a0b") == "a space other than the plain space (U+00A0) at character 2"
    assert unprintable("soft\u00adhyphen", prose=True) is None
    assert unprintable("two\nlines\ttabbed", "\n\t") is None


def test_a_problem_prints_as_one_printable_line() -> None:
    problem = Problem("x\r.yaml", 2, "layers[0] (\x1b[2J)", "got '\u202e'")
    assert str(problem) == "x\\r.yaml:2: layers[0] (\\x1b[2J): got '\\u202e'"


@pytest.mark.parametrize("command", ["check", "summary"])
def test_a_forged_line_is_never_printed(tmp_path: Path, command: str) -> None:
    path = tmp_path / "forge.yaml"
    path.write_text(
        'name: "\\e[2J\\rFAKE.yaml:1: all good"\ninput: [8, 8, 3]\nlayers:\n'
        '  - {name: "c\\r\\nFAKE.yaml:2: all good\\u202e", type: relu}\n'
    )
    done = run_cli(command, str(path))
    assert done.returncode == 1 and done.stdout == "" and "Traceback" not in done.stderr
    assert all(line.startswith(f"{path}:") for line in done.stderr.splitlines()[:2])
    assert not any(c in done.stderr for c in "\x1b\r\u202e")
    assert "\nFAKE" not in done.stderr


# The property: any file made of the hostile alphabet gives rows or located errors ---------------

import contextlib  # noqa: E402
import gc  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import tempfile  # noqa: E402

import yaml  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from cnnmacros.cli import main  # noqa: E402

HOSTILE_CHARACTERS = st.one_of(
    st.characters(min_codepoint=0, max_codepoint=0x1F),  # C0 controls, NUL included
    st.characters(min_codepoint=0x7F, max_codepoint=0x9F),  # DEL and C1 controls
    st.characters(min_codepoint=0x202A, max_codepoint=0x202E),  # bidirectional embeddings, overrides
    st.characters(min_codepoint=0x2066, max_codepoint=0x2069),  # bidirectional isolates
    st.sampled_from(["\u2028", "\u2029", "\ufeff", "\u200b", "\xa0", "|", "*", "<", "{", "#", ":", "-", "'", '"']),
    st.characters(codec="utf-8"),
)
HOSTILE_TEXT = st.text(HOSTILE_CHARACTERS, max_size=12) | st.sampled_from(["", "input", "x" * 300, "\x1b[2J", "a\rb"])
HUGE = st.sampled_from([0, -1, 1, 2, 10**100 - 1, 10**100, 10**4000, 2**64])
RAW = st.sampled_from(
    [
        "064", "010", "0x10", "0b11", "1:30", "1:30.5", "yes", "No", "on", "OFF", "~", ".inf", "-.nan", "1.0e+400",
        "9" * 5000, "[" * 200 + "]" * 200, "{a: " * 80 + "1" + "}" * 80, "&a [1, *a]", "!!python/name:os.system",
        '"\\e[2J\\rFAKE.yaml:1: all good"', '"\\u202e"', '"\\0"', '"\\ud800"', "H", "pi", "E", "I", "floor", "H__2",
    ]
)  # fmt: skip
SIZES = st.one_of(HUGE, st.sampled_from(["H", "W", "pi", "N", "x" * 250]), HOSTILE_TEXT)
VALUE = st.one_of(HUGE, HOSTILE_TEXT, st.booleans(), st.lists(HUGE, max_size=3), st.none())
PLAIN_LAYERS = [
    {"type": "conv2d", "filters": 4, "kernel": 3},
    {"type": "conv2d", "filters": 4, "kernel": 3, "padding": 1},
    {"type": "maxpool2d", "pool": 2},
    {"type": "batchnorm"},
    {"type": "relu"},
    {"type": "add"},
    {"type": "concat"},
    {"type": "flatten"},
    {"type": "dense", "units": 4, "inputs": 16},
    {"type": "dense", "units": 4},
]
KEYS = st.sampled_from(["filters", "kernel", "stride", "padding", "pool", "units", "inputs", "bias", "type", "from"])


@st.composite
def documents(draw: st.DrawFn) -> dict:
    """A plausible architecture (so that some are valid), then a few hostile mutations of it."""
    names = [f"l{i}" for i in range(draw(st.integers(1, 6)))]
    layers = []
    for i, name in enumerate(names):
        layer = {"name": name, **draw(st.sampled_from(PLAIN_LAYERS))}
        if layer["type"] in ("add", "concat"):
            layer["from"] = [names[i - 1] if i else "input", "input"]
        layers.append(layer)
    shape = draw(st.sampled_from([[16, 16, 3], ["H", "W", 3], ["H", "H", 3], [8, 8, 4]]))
    document = {"name": "Hostile", "input": list(shape), "layers": layers}
    for _ in range(draw(st.integers(0, 3))):
        where = draw(st.sampled_from(["name", "description", "source", "input", "layer name", "layer key"]))
        if where in ("name", "description", "source"):
            document[where] = draw(HOSTILE_TEXT)
        elif where == "input":
            document["input"][draw(st.integers(0, len(shape) - 1))] = draw(SIZES)
        else:
            layer = draw(st.sampled_from(layers))
            key = "name" if where == "layer name" else draw(KEYS | HOSTILE_TEXT)
            layer[key] = draw(HOSTILE_TEXT) if key == "name" else draw(VALUE)
    return document


@st.composite
def hostile_files(draw: st.DrawFn) -> str:
    """A YAML document of hostile values, with raw YAML (octal, deep nesting, escapes) spliced in."""
    text = yaml.safe_dump(draw(documents()), allow_unicode=draw(st.booleans()), width=10**6, sort_keys=False)
    for _ in range(draw(st.sampled_from([0, 0, 1, 2]))):
        lines = text.splitlines()
        at = draw(st.integers(0, max(0, len(lines) - 1)))
        if lines and ": " in lines[at]:
            key = lines[at].split(": ")[0]
            lines[at] = f"{key}: {draw(RAW)}"
        text = "\n".join(lines) + "\n"
    return text


LOCATED = re.compile(r"^\S.*?:\d+: \S")


def run_in_process(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(list(argv))
        finally:
            gc.enable()  # main() pauses the cycle collector for its short run
    return status, out.getvalue(), err.getvalue()


def printable_lines(text: str) -> bool:
    return all(line.isprintable() for line in text.split("\n"))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_files())
def test_any_hostile_file_gives_rows_or_located_errors(text: str) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "hostile.yaml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        checked = run_in_process("check", str(path))
        summary = run_in_process("summary", str(path))
        as_json = run_in_process("summary", "--json", str(path))
    # check and summary agree on whether the file is valid; errors are located; nothing unprintable
    assert checked[0] == summary[0] == as_json[0] and checked[0] in (0, 1)
    for _status, out, err in (checked, summary, as_json):
        assert printable_lines(out) and printable_lines(err)
    if checked[0] == 0:
        assert checked[1] == "1 files checked, all valid\n" and summary[2] == as_json[2] == ""
        assert json.loads(as_json[1])["layers"]
    else:
        assert checked[1] == summary[1] == as_json[1] == ""
        errors = checked[2].splitlines()
        assert errors[-1] == "1 of 1 files have errors" and errors[:-1] == summary[2].splitlines()
        assert errors[:-1] and all(LOCATED.match(line) and line.startswith(f"{path}:") for line in errors[:-1])
