"""Generated pages kept on disk from one build to the next, by what they are made from.

An architecture page is a function of its file's bytes, its name, where the site links to, and
the code that makes it: this package's source, and the versions of SymPy, PyYAML and Python. A
build finds the page of an unchanged file under that key, so the second ``mkdocs build`` (or a
restarted ``mkdocs serve``) renders only what changed. Nothing else is kept: errors are worked out again.

The cache lives in the user's cache folder (``$XDG_CACHE_HOME/cnnmacros``, else ``~/.cache``),
one folder per site, never in the repository: a pull request cannot plant a page there. Entries
are JSON (markup as text, never code) written whole or not at all; an entry that does not read
back as a page is ignored. A build removes its site's entries that no page used.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

import sympy
import yaml

PACKAGE = Path(__file__).parent

Page = tuple[str, dict[str, tuple[str, set[str] | None]]]
"""A page's Markdown and the markup it hid (``Stash.parts``)."""


def user_cache() -> Path:
    """The user's cache folder for cnnmacros."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "cnnmacros"


def code_version() -> str:
    """A digest of what makes the pages besides the file: this package's source and assets, and
    the versions of SymPy (which prints the formulas), PyYAML (which reads the files) and Python."""
    versions = f"{sys.version}\0{sympy.__version__}\0{yaml.__version__}"
    digest = hashlib.blake2b(versions.encode(), digest_size=16)
    for path in sorted(p for p in PACKAGE.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(PACKAGE).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


class PageCache:
    """The kept pages of one site (``root``, the folder of its mkdocs.yml)."""

    def __init__(self, root: Path, folder: Path | None = None) -> None:
        self.root = root
        site = hashlib.blake2b(str(root.resolve()).encode(), digest_size=8).hexdigest()
        self.folder = (folder or user_cache()) / "pages" / site
        self.version = code_version()
        self.used: set[str] = set()

    def key(self, stem: str, made_from: tuple[bytes, str, str]) -> str:
        data, directory, blob = made_from
        digest = hashlib.blake2b(self.version.encode(), digest_size=20)
        for part in (stem.encode(), directory.encode(), blob.encode(), data):
            digest.update(len(part).to_bytes(8, "little") + part)
        return digest.hexdigest()

    def get(self, key: str) -> Page | None:
        self.used.add(key)
        try:
            data = json.loads((self.folder / f"{key}.json").read_text(encoding="utf-8"))
            markdown, parts = data["markdown"], data["parts"]
            return markdown, {k: (markup, None if ids is None else set(ids)) for k, (markup, ids) in parts.items()}
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, key: str, page: Page) -> None:
        """Write an entry whole (a temporary file renamed into place); a cache that cannot be
        written only makes the next build slower."""
        self.used.add(key)
        markdown, parts = page
        text = json.dumps(
            {"markdown": markdown, "parts": {k: [m, None if a is None else sorted(a)] for k, (m, a) in parts.items()}}
        )
        target = self.folder / f"{key}.json"
        temporary = target.with_name(f"{key}.{os.getpid()}.tmp")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            temporary.write_text(text, encoding="utf-8")
            temporary.replace(target)
        except OSError:
            temporary.unlink(missing_ok=True)

    def prune(self) -> None:
        """Remove the entries no page of this build used (pages of older versions of the files)."""
        try:
            entries = list(self.folder.iterdir())
        except OSError:
            return
        for path in entries:
            if path.name.split(".", 1)[0] not in self.used:
                path.unlink(missing_ok=True)
        self.used = set()
