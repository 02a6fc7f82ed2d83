"""All architecture files of a directory, each computed once per change.

The site asks for architectures by file stem (``alexnet`` for ``architectures/alexnet.yaml``). The
plugin keeps one ``Library`` for as long as ``mkdocs serve`` runs and calls ``refresh`` before each
build: a file whose name, size and modification time are unchanged keeps its results, so a
rebuild after saving one file recomputes that file only. Nothing is kept at module level.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path

from cnnmacros.architecture import Architecture, read
from cnnmacros.conventions import recount
from cnnmacros.engine import compute, concrete_inputs, read_and_compute
from cnnmacros.errors import ArchitectureError, Problem
from cnnmacros.rows import Size, Summary, Training

STEM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
"""One part of a stem: a file name without its suffix, or a subfolder's name."""


def is_stem(stem: str) -> bool:
    """``alexnet``, or ``torchvision/resnet50`` for a file in a subfolder: every part a plain name."""
    return all(STEM.match(part) for part in stem.split("/"))


def stem_of(name: str) -> str:
    """The stem of a file's path relative to the directory: ``torchvision/resnet50.yaml`` gives
    ``torchvision/resnet50``."""
    return name.rsplit(".", 1)[0]


Result = Summary | ArchitectureError
Stamp = tuple[int, int]
"""A file's size and modification time: a file with the same stamp is not read again."""


def _stamps(directory: Path) -> dict[str, Stamp]:
    """Each file's path relative to ``directory`` (subfolders too, ``torchvision/resnet50.yaml``) and stamp."""
    files = sorted([*directory.rglob("*.yaml"), *directory.rglob("*.yml")]) if directory.is_dir() else []
    out = {}
    for path in files:
        try:
            stat = path.stat()
        except OSError:  # e.g. a dangling symbolic link: reading it reports the problem
            stat = path.lstat()
        out[path.relative_to(directory).as_posix()] = (stat.st_size, stat.st_mtime_ns)
    return out


def _read(file: tuple[Path, str]) -> tuple[Architecture | None, Result]:
    """A file's validated architecture and summary, or its errors. (Sharing this among forked
    processes was slower: pickling a summary back costs more than computing it.)"""
    try:
        return read_and_compute(*file)
    except ArchitectureError as exc:
        return None, exc


@dataclass
class Library:
    """The architectures of one directory; ``display_root`` is what file names in messages are relative to."""

    directory: Path
    display_root: Path
    _stamps: dict[str, Stamp] | None = field(default=None, init=False, repr=False)
    _files: dict[str, tuple[Stamp, Result]] = field(default_factory=dict, init=False, repr=False)
    _results: dict[str, Result] = field(default_factory=dict, init=False, repr=False)
    # Pages ask for the same file, or the same file at another input size, more than once; these
    # are by stem and dropped with the stem's results when its file changes.
    _architectures: dict[str, Architecture] = field(default_factory=dict, init=False, repr=False)
    _variants: dict[tuple[str, tuple[int, ...], str], Summary] = field(default_factory=dict, init=False, repr=False)
    _macs: dict[tuple[str, str, tuple[int, ...] | None], Size] = field(default_factory=dict, init=False, repr=False)
    _training: dict[tuple[str, Training, str], Summary] = field(default_factory=dict, init=False, repr=False)
    _examples: dict[tuple[str, int], list[tuple[int, ...]]] = field(default_factory=dict, init=False, repr=False)
    pages: dict[str, tuple[tuple[bytes, str, str], str, dict]] = field(default_factory=dict, init=False, repr=False)
    """Each generated page's Markdown and the markup it hid, by stem, with what it was made from
    (the file's bytes): ``mkdocs serve`` renders again only the pages of files whose bytes changed."""
    programs: dict = field(default_factory=dict, init=False, repr=False)
    """The layers that cnnmacros.recompute has printed, by their options and inputs: whatever the
    file, a layer with the same options and inputs prints the same program text."""

    def refresh(self) -> None:
        """Read the directory again before a build: changed, new and removed files only; what
        was worked out from a changed file is dropped at once."""
        self._load()

    def results(self) -> dict[str, Result]:
        """Every file's summary or errors, by stem."""
        if self._stamps is None:
            self._load()
        return self._results

    def _load(self) -> None:
        stamps = _stamps(self.directory)
        self._stamps = stamps
        before = {name: stamp for name, (stamp, _result) in self._files.items()}
        changed = {stem_of(name) for name in {*stamps, *before} if stamps.get(name) != before.get(name)}
        files = {name: self._files[name] for name in stamps if stamps[name] == before.get(name)}
        needed = [name for name in stamps if name not in files and is_stem(stem_of(name))]
        read_now: dict[str, Architecture] = {}
        for name in needed:
            architecture, result = _read((self.directory / name, self._display(self.directory / name)))
            files[name] = (stamps[name], result)
            if architecture is not None:
                read_now[stem_of(name)] = architecture
        results: dict[str, Result] = {}
        for name in stamps:
            path = self.directory / name
            stem = stem_of(name)
            display = self._display(path)
            if not is_stem(stem):
                results[stem] = ArchitectureError(
                    [Problem(display, 1, "", "expected a file name of letters, digits, '-' and '_', got " + repr(name))]
                )
                continue
            if stem in results:
                results[stem] = ArchitectureError(
                    [Problem(display, 1, "", f"expected one file per name, got both {stem}.yaml and {stem}.yml")]
                )
                continue
            results[stem] = files[name][1]
        self._files, self._results = files, results
        for stem in [s for s in self.pages if s not in results]:
            del self.pages[stem]
        for cache in (self._architectures, self._variants, self._macs, self._training, self._examples):
            for key in [k for k in cache if (k if isinstance(k, str) else k[0]) in changed]:
                del cache[key]
        self._architectures.update(read_now)

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
        """The validated (not computed) architecture of a valid file, read once per change."""
        if stem not in self._architectures:
            self.summary(stem)  # the file itself must be valid
            path = self.path(stem)
            self._architectures[stem] = read(path, self._display(path))
        return self._architectures[stem]

    def variant(self, stem: str, shape: tuple[int, ...], convention: str = "cnnmacros") -> Summary:
        """The same file computed for another input shape (e.g. AlexNet at 224x224x3), once per change."""
        key = (stem, tuple(shape), convention)
        if key not in self._variants:
            self._variants[key] = compute(dataclasses.replace(self.architecture(stem), input=key[1]), convention)
        return self._variants[key]

    def macs(self, stem: str, convention: str, shape: tuple[int, ...] | None = None) -> Size | ArchitectureError:
        """The file's multiply-accumulates counted by ``convention`` (at ``shape``, for a symbolic
        file), once per change; a broken file gives its errors."""
        result = self.get(stem)
        if isinstance(result, ArchitectureError):
            return result
        key = (stem, convention, shape)
        if key not in self._macs:
            summary = result if shape is None else self.variant(stem, shape)
            architecture = self.architecture(stem)
            if shape is not None:
                architecture = dataclasses.replace(architecture, input=shape)
            self._macs[key] = recount(architecture, summary, convention)
        return self._macs[key]

    def training(self, stem: str, training: Training, dtype: str = "float32") -> Summary:
        """The file's summary with its memory counted for another training step (a batch size,
        numeric or a symbol; a device; an optimizer), once per build."""
        key = (stem, training, dtype)
        if key not in self._training:
            self._training[key] = compute(self.architecture(stem), dtype=dtype, training=training)
        return self._training[key]

    def examples(self, stem: str, how_many: int) -> list[tuple[int, ...]]:
        """The smallest numeric inputs for which a (symbolic) file is valid, once per change."""
        key = (stem, how_many)
        if key not in self._examples:
            self._examples[key] = concrete_inputs(self.architecture(stem), how_many)
        return self._examples[key]

    def errors(self) -> list[ArchitectureError]:
        return [r for r in self.results().values() if isinstance(r, ArchitectureError)]
