"""One family of errors for bad architecture files.

Every problem carries its file, line and key path, and reads like mkdocs' config validation:
``architectures/vgg16.yaml:14: layers[3] (conv3_1) kernel: expected a positive integer, got 0``.
All problems of a file travel together in one ``ArchitectureError``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One fault in one file, at one line, under one key path."""

    file: str
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:"
        return f"{where} {self.path}: {self.message}" if self.path else f"{where} {self.message}"


class ArchitectureError(Exception):
    """Every problem found in one or more architecture files."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def layer_path(index: int, name: str | None, key: str | None = None) -> str:
    """``layers[3] (conv3_1) kernel``: the index always, the name when known, then the key."""
    path = f"layers[{index}]"
    if name:
        path += f" ({name})"
    if key:
        path += f" {key}"
    return path
