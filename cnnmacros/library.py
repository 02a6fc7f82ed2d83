"""All architecture files of a directory, computed once per change.

The site asks for architectures by file stem (``alexnet`` for ``architectures/alexnet.yaml``). The
results are cached under a signature of every file's name, size and modification time, so a
rebuild under ``mkdocs serve`` sees an edited file at once and an unchanged tree costs nothing.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path

from cnnmacros.architecture import Architecture, read
from cnnmacros.engine import compute, summarize
from cnnmacros.errors import ArchitectureError, Problem
from cnnmacros.rows import Summary

STEM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
Result = Summary | ArchitectureError

_cache: dict[Path, tuple[tuple[tuple[str, int, int], ...], dict[str, Result]]] = {}


def _signature(directory: Path) -> tuple[tuple[str, int, int], ...]:
    files = sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]) if directory.is_dir() else []
    out = []
    for path in files:
        try:
            stat = path.stat()
        except OSError:  # e.g. a dangling symbolic link: reading it reports the problem
            stat = path.lstat()
        out.append((path.name, stat.st_size, stat.st_mtime_ns))
    return tuple(out)


@dataclass
class Library:
    """The architectures of one directory; ``display_root`` is what file names in messages are relative to."""

    directory: Path
    display_root: Path
    _results: dict[str, Result] | None = field(default=None, init=False, repr=False)
    # Pages ask for the same file, or the same file at another input size, more than once.
    _architectures: dict[str, Architecture] = field(default_factory=dict, init=False, repr=False)
    _variants: dict[tuple[str, tuple[int, ...], str], Summary] = field(default_factory=dict, init=False, repr=False)
    _conventions: dict[tuple[str, str], Summary] = field(default_factory=dict, init=False, repr=False)

    def results(self) -> dict[str, Result]:
        """Every file's summary or errors, by stem, read once per instance (one instance serves one
        build), and recomputed only when a file changed since an earlier build."""
        if self._results is None:
            self._results = self._load()
        return self._results

    def _load(self) -> dict[str, Result]:
        signature = _signature(self.directory)
        cached = _cache.get(self.directory)
        if cached and cached[0] == signature:
            return cached[1]
        results: dict[str, Result] = {}
        for name, _size, _mtime in signature:
            path = self.directory / name
            stem = path.stem
            display = self._display(path)
            if not STEM.match(stem):
                results[stem] = ArchitectureError(
                    [Problem(display, 1, "", "expected a file name of letters, digits, '-' and '_', got " + repr(name))]
                )
                continue
            if stem in results:
                results[stem] = ArchitectureError(
                    [Problem(display, 1, "", f"expected one file per name, got both {stem}.yaml and {stem}.yml")]
                )
                continue
            try:
                results[stem] = summarize(path, display)
            except ArchitectureError as exc:
                results[stem] = exc
        _cache[self.directory] = (signature, results)
        return results

    def _display(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.display_root))
        except ValueError:
            return str(path)

    def get(self, stem: str) -> Result:
        results = self.results()
        if stem not in results:
            known = ", ".join(sorted(results)) or "none"
            raise KeyError(f"no architecture file {stem!r} in {self.directory}; known: {known}")
        return results[stem]

    def summary(self, stem: str) -> Summary:
        """The summary of a valid file; a broken file raises its ``ArchitectureError``."""
        result = self.get(stem)
        if isinstance(result, ArchitectureError):
            raise result
        return result

    def path(self, stem: str) -> Path:
        """The file of an architecture, ``.yaml`` or ``.yml``."""
        candidates = (self.directory / f"{stem}.yaml", self.directory / f"{stem}.yml")
        return next((p for p in candidates if p.exists() or p.is_symlink()), candidates[0])

    def text(self, stem: str) -> str:
        """The file as its author wrote it, for the page to show."""
        return self.path(stem).read_text(encoding="utf-8")

    def architecture(self, stem: str) -> Architecture:
        """The validated (not computed) architecture of a valid file, read once per build."""
        if stem not in self._architectures:
            self.summary(stem)  # the file itself must be valid
            path = self.path(stem)
            self._architectures[stem] = read(path, self._display(path))
        return self._architectures[stem]

    def variant(self, stem: str, shape: tuple[int, ...], convention: str = "cnnmacros") -> Summary:
        """The same file computed for another input shape (e.g. AlexNet at 224x224x3), once per build."""
        key = (stem, tuple(shape), convention)
        if key not in self._variants:
            self._variants[key] = compute(dataclasses.replace(self.architecture(stem), input=key[1]), convention)
        return self._variants[key]

    def under(self, stem: str, convention: str) -> Result:
        """The file's summary with multiply-accumulates counted by ``convention``, once per build."""
        result = self.get(stem)
        if convention == "cnnmacros" or isinstance(result, ArchitectureError):
            return result
        key = (stem, convention)
        if key not in self._conventions:
            self._conventions[key] = compute(self.architecture(stem), convention=convention)
        return self._conventions[key]

    def errors(self) -> list[ArchitectureError]:
        return [r for r in self.results().values() if isinstance(r, ArchitectureError)]
