"""One family of errors for bad architecture files.

Every problem carries its file, line and key path, and reads like mkdocs' config validation:
``architectures/vgg16.yaml:14: layers[3] (conv3_1) kernel: expected a positive integer, got 0``.
All problems of a file travel together in one ``ArchitectureError``.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

BIDI = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C))
"""The bidirectional embedding, override, isolate and mark characters: text that reorders a line."""


def _escaped(c: str) -> str:
    code = ord(c)
    if c in "\n\r\t":
        return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}[c]
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def printable(text: str) -> str:
    """Author text made safe for a terminal: every character Python does not call printable
    (C0 and C1 controls, DEL, bidirectional overrides, line separators, lone surrogates) becomes
    its escape, as ``repr`` writes it (``\\x1b``, ``\\r``, ``\\u202e``); the rest is kept."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _escaped(c) for c in text)


def unprintable(text: str, allowed: str = "", prose: bool = False) -> str | None:
    """What is wrong with ``text`` as one line of printable text (characters in ``allowed`` are
    accepted too), e.g. ``a control character (U+001B) at character 3``; None when nothing is.

    ``prose`` lets through the invisible characters that prose may use (no-break spaces, soft
    hyphens, zero-width joiners) and refuses only controls, bidirectional controls, line
    separators and lone surrogates."""
    if text.isprintable():
        return None
    for i, c in enumerate(text, 1):
        if c.isprintable() or c in allowed:
            continue
        category = unicodedata.category(c)
        if prose and category not in ("Cc", "Cs", "Zl", "Zp") and c not in BIDI:
            continue
        if c in "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029":
            what = "a line break"
        elif c in BIDI:
            what = "a bidirectional-text control"
        elif category == "Cc":
            what = "a control character"
        elif category == "Cs":
            what = "a lone surrogate"
        elif category in ("Zs",):
            what = "a space other than the plain space"
        else:
            what = "an invisible or unassigned character"
        return f"{what} (U+{ord(c):04X}) at character {i}"
    return None


@dataclass(frozen=True, order=True)
class Problem:
    """One fault in one file, at one line, under one key path."""

    file: str
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        """One line, printable: the file name, the layer names in the path and any author text
        quoted in the message are escaped (``printable``), so a file cannot print a line of its own."""
        where = f"{self.file}:{self.line}:"
        text = f"{where} {self.path}: {self.message}" if self.path else f"{where} {self.message}"
        return printable(text)


@dataclass(frozen=True, order=True)
class NodeProblem(Problem):
    """One fault in a model file (ONNX), which has nodes rather than lines: ``line`` is the node's
    position plus one (0 for the file as a whole), so that problems sort in graph order, and is
    not printed: ``model.onnx: node 15 (n15) Reshape: ...``."""

    def __str__(self) -> str:
        text = f"{self.file}: {self.path}: {self.message}" if self.path else f"{self.file}: {self.message}"
        return printable(text)


class ArchitectureError(Exception):
    """Every problem found in one or more architecture files."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class ImportTorchError(Exception):
    """Everything of a PyTorch model that ``import-torch`` cannot write as an architecture file, one
    line each (the module path, its type and what is missing): the command prints them and writes
    nothing."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def short(text: str, limit: int = 60) -> str:
    """A key as a path names it: whole when short, else its first characters and an ellipsis."""
    return text if len(text) <= limit else text[: limit - 20] + "..."


def layer_path(index: int, name: str | None, key: str | None = None) -> str:
    """``layers[3] (conv3_1) kernel``: the index always, the name when known, then the key."""
    path = f"layers[{index}]"
    if name:
        path += f" ({name})"
    if key:
        path += f" {short(key)}"
    return path
