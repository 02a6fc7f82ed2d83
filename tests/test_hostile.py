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
