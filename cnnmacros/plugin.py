"""The MkDocs plugin: a page for every architecture file, the macros, and build errors for broken files.

A site needs only ``cnnmacros`` (and ``macros``, for pages that call the macros) under ``plugins``,
in any order. The plugin owns everything on the site side: one library of architecture files,
the macros it registers with mkdocs-macros, the pages it generates and renders itself (in memory,
``File.generated``, so an author adds a YAML file and nothing else), its stylesheet and other
assets, and the stash that keeps MathML out of Markdown. Broken files are logged as errors:
``mkdocs build --strict`` stops on them, while ``mkdocs serve`` keeps serving and shows the errors
on the page until the file is fixed.

State lives on the plugin instance, never in a module. ``on_startup`` makes MkDocs keep the one
instance for every rebuild of ``mkdocs serve``, so the library's per-file results, the generated
pages of unchanged files (with the markup they hid) and the compiled theme templates carry over
from one build to the next; the stash itself is per build.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import jinja2
import jinja2.bccache
from mkdocs.config import config_options
from mkdocs.config.base import Config, ValidationError
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

from cnnmacros.forks import in_order
from cnnmacros.library import Library, is_stem
from cnnmacros.macros import Macros
from cnnmacros.pagecache import PageCache
from cnnmacros.render import plain_title
from cnnmacros.rows import Summary
from cnnmacros.stash import Stash

log = logging.getLogger("mkdocs.plugins.cnnmacros")

ASSETS = Path(__file__).with_name("assets")
"""Files every site gets under ``assets/cnnmacros/``: the stylesheet, and the math font (Latin Modern
Math, GUST Font License) with its licence files."""
ASSET_URI = "assets/cnnmacros"


def asset_files() -> list[Path]:
    """Every file the package ships for the site, in a stable order."""
    return sorted(p for p in ASSETS.rglob("*") if p.is_file()) if ASSETS.is_dir() else []


def _uris(nav: list[Any]) -> set[str]:
    """Every page path in a part of the nav, sections included."""
    out: set[str] = set()
    for item in nav:
        if isinstance(item, str):
            out.add(item)
        elif isinstance(item, dict):
            for value in item.values():
                out |= _uris(value) if isinstance(value, list) else {value} if isinstance(value, str) else set()
    return out


class _MemoryBytecodeCache(jinja2.BytecodeCache):
    """Compiled theme templates kept in memory between the rebuilds of one ``mkdocs serve``.

    MkDocs makes a new template environment for every build, so each rebuild compiled the theme's
    templates again: the largest single cost of the wait after saving a file. Jinja checks each
    entry against its template's source, so an edited template is compiled again.
    """

    def __init__(self) -> None:
        self.store: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if bucket.key in self.store:
            bucket.bytecode_from_string(self.store[bucket.key])

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.store[bucket.key] = bucket.bytecode_to_string()


class _Folder(config_options.Type):
    """A folder below the one of mkdocs.yml, in forward slashes: its path is the generated pages' path too."""

    def run_validation(self, value: object) -> str:
        text = super().run_validation(value).replace("\\", "/")
        folder = PurePosixPath(text)
        if folder.is_absolute() or ".." in folder.parts or not folder.parts:
            raise ValidationError(f"expected a folder below the one of mkdocs.yml, such as 'models', got {value!r}")
        return folder.as_posix()


class CnnMacrosConfig(Config):
    directory = _Folder(str, default="architectures")
    """The folder of architecture files, relative to mkdocs.yml; their pages go under the same path."""
    section = config_options.Type(str, default="Architectures")
    """The section of an explicit ``nav`` that the generated pages are added to."""
    cache = config_options.Type(bool, default=True)
    """Keep the generated pages in the user's cache folder, so that the next build renders only
    the pages of changed files (``cnnmacros.pagecache``)."""


class CnnMacrosPlugin(BasePlugin[CnnMacrosConfig]):
    def __init__(self) -> None:
        self.library: Library | None = None
        self.stash = Stash()
        self.macros: Macros | None = None
        self.generated: dict[str, str] = {}  # page path -> architecture stem, for the pages this plugin adds
        self.theme_bytecode = _MemoryBytecodeCache()
        self.cache: PageCache | None = None

    def on_startup(self, *, command: Literal["build", "gh-deploy", "serve"], dirty: bool) -> None:
        """Present so that MkDocs keeps this instance across the rebuilds of ``mkdocs serve``."""

    @event_priority(-100)  # after mkdocs-macros' own on_config, wherever either is listed
    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        root = Path(config.config_file_path).resolve().parent
        if self.library is None or self.library.directory != root / self.config.directory:
            self.library = Library(root / self.config.directory, root)
        if not self.config.cache:
            self.cache = None
        elif self.cache is None or self.cache.root != root:
            self.cache = PageCache(root)
        self.library.refresh()
        self.stash = Stash()
        repository = (config.repo_url or "", config.edit_uri or "")
        self.macros = Macros(self.library, self.stash, self.config.directory, *repository)
        for plugin in config.plugins.values():
            if hasattr(plugin, "register_macros"):  # mkdocs-macros' hook for other plugins
                plugin.register_macros(self.macros.registry())
        for path in asset_files():
            url = f"{ASSET_URI}/{path.relative_to(ASSETS).as_posix()}"
            scripts = config.extra_css if path.suffix == ".css" else config.extra_javascript
            if path.suffix in (".css", ".js") and url not in scripts:
                scripts.append(url)
        for item in config.nav or []:
            if isinstance(item, dict) and isinstance(item.get(self.config.section), list):
                pages = item[self.config.section]
                pages += self._nav(_uris(pages))
        return config

    def _nav(self, listed: set[str]) -> list[Any]:
        """The generated pages for the nav: a file's page in the section itself, the files of a
        subfolder in a section named after it, grouped by their ``family`` (so that 68 pages of
        torchvision's zoo do not bury the rest)."""
        assert self.library is not None
        results = self.library.results()
        top: list[Any] = []
        folders: dict[str, dict[str, list[str]]] = {}
        for stem, uri in self._pages():
            if uri in listed:
                continue
            if "/" not in stem:
                top.append(uri)
                continue
            folder = stem.rsplit("/", 1)[0]
            result = results[stem]
            family = result.family if isinstance(result, Summary) else ""
            folders.setdefault(folder, {}).setdefault(family, []).append(uri)
        for folder, families in sorted(folders.items()):
            entries: list[Any] = list(families.pop("", []))
            for family, uris in sorted(families.items(), key=lambda f: f[0].lower()):
                entries += uris if len(uris) == 1 else [{family: uris}]  # a family of one is its page
            top.append({folder: entries})
        return top

    def _pages(self) -> list[tuple[str, str]]:
        """(stem, page path) of every architecture file whose name can be a page."""
        assert self.library is not None and self.macros is not None
        results = self.library.results()
        return [(stem, f"{self.macros.directory}/{stem}.md") for stem in sorted(results) if is_stem(stem)]

    def on_pre_build(self, config: MkDocsConfig) -> None:
        assert self.library is not None
        for error in self.library.errors():
            for problem in error.problems:
                log.error(str(problem))

    def on_files(self, files: Files, config: MkDocsConfig) -> Files:
        self.generated = {}
        for stem, uri in self._pages():
            if files.get_file_from_path(uri) is None:  # a hand-written page of that name wins
                page = File.generated(config, uri, content="")
                # the page's edit link opens the architecture file, which is what an author edits
                page.edit_uri = Path(os.path.relpath(self.library.path(stem), config.docs_dir)).as_posix()
                files.append(page)
                self.generated[uri] = stem
        for path in asset_files():
            uri = f"{ASSET_URI}/{path.relative_to(ASSETS).as_posix()}"
            if files.get_file_from_path(uri) is None:
                files.append(File.generated(config, uri, abs_src_path=str(path)))
        self._render_ahead()
        return files

    @event_priority(-100)  # after mkdocs-macros: nothing renders the author's text as Jinja
    def on_page_markdown(self, markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
        stem = self.generated.get(page.file.src_uri)
        if stem is None:
            return markdown
        assert self.library is not None and self.macros is not None
        result = self.library.get(stem)
        page.meta["title"] = plain_title(result.name if isinstance(result, Summary) else stem)
        page.meta.setdefault("hide", ["toc"])  # Material: the per-layer table needs the width more
        made_from = self._made_from(stem) if isinstance(result, Summary) else None
        if made_from is None:  # errors (which can come from other files, x.yaml and x.yml), or a file gone
            return self.stash.hide(self.macros.architecture_page(stem))
        kept = self.library.pages.get(stem)
        if kept is None or kept[0] != made_from:  # not made ahead (a file saved since), or changed
            kept = self.library.pages[stem] = (made_from, *self._render(stem))
        self.stash.adopt(kept[2])
        return kept[1]

    def _made_from(self, stem: str) -> tuple[bytes, str, str] | None:
        """What a valid file's page is made from: the file's bytes and where the pages link to;
        None for a file gone since the library read it (its page then says what is wrong now)."""
        assert self.library is not None and self.macros is not None
        try:
            return (self.library.path(stem).read_bytes(), self.macros.directory, self.macros.blob)
        except OSError:
            return None

    def _render(self, stem: str) -> tuple[str, dict]:
        """A valid file's page, with the markup it hid; in a forked process too, so it returns
        what the page needs rather than keeping it."""
        assert self.macros is not None
        markdown = self.stash.hide(self.macros.architecture_page(stem))
        return markdown, self.stash.parts(markdown)

    def _render_ahead(self) -> None:
        """The pages of the valid files that are new or changed, made before MkDocs asks for them
        one by one: read from the disk cache where a build made them before (``cnnmacros.pagecache``),
        otherwise shared among the cores (``cnnmacros.forks``). They are the largest part of a build."""
        assert self.library is not None
        todo: list[tuple[str, tuple[bytes, str, str], str]] = []
        for stem in self.generated.values():
            made_from = self._made_from(stem) if isinstance(self.library.get(stem), Summary) else None
            if made_from is None:
                continue
            key = self.cache.key(stem, made_from) if self.cache else ""
            kept = self.library.pages.get(stem)
            if kept is not None and kept[0] == made_from:
                if self.cache:
                    self.cache.used.add(key)
                continue
            found = self.cache.get(key) if self.cache else None
            if found is not None:
                self.library.pages[stem] = (made_from, *found)
            else:
                todo.append((stem, made_from, key))
        layers = {stem: len(self.library.summary(stem).rows) for stem, _, _ in todo}
        pages = in_order(self._render, [stem for stem, _, _ in todo], weight=layers.__getitem__)
        for (stem, made_from, key), page in zip(todo, pages, strict=True):
            self.library.pages[stem] = (made_from, *page)
            if self.cache:
                self.cache.put(key, page)
        if self.cache:
            self.cache.prune()

    def on_page_content(self, html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
        """The ids inside hidden blocks count as the page's anchors for MkDocs' link validation."""
        if page.present_anchor_ids is not None:
            page.present_anchor_ids |= self.stash.anchors_in(html)
        return html

    def on_env(self, env: jinja2.Environment, config: MkDocsConfig, files: Files) -> jinja2.Environment:
        if env.bytecode_cache is None:
            env.bytecode_cache = self.theme_bytecode
        return env

    @event_priority(100)  # first, so that other plugins see the finished page
    def on_post_page(self, output: str, page: Page, config: MkDocsConfig) -> str:
        return self.stash.restore(output)

    def on_serve(self, server: Any, config: MkDocsConfig, builder: Any) -> Any:
        """Rebuild when an architecture file changes."""
        assert self.library is not None
        if self.library.directory.is_dir():
            server.watch(str(self.library.directory))
        return server
