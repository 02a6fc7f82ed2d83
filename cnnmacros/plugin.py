"""The MkDocs plugin: a page for every architecture file, and build errors for broken files.

Pages are generated in memory (``File.generated``), so an author adds a YAML file and nothing
else. Broken files are logged as errors: ``mkdocs build --strict`` stops on them, while ``mkdocs
serve`` keeps serving and shows the errors on the page until the file is fixed.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import jinja2
import jinja2.bccache
from mkdocs.config import config_options
from mkdocs.config.base import Config
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

from cnnmacros import stash
from cnnmacros.library import STEM, Library
from cnnmacros.render import plain_title
from cnnmacros.rows import Summary

log = logging.getLogger("mkdocs.plugins.cnnmacros")

ASSETS = Path(__file__).parent / "assets"
"""The site's stylesheet and its math font (Latin Modern Math, GUST Font License, with its licence
files), served by every site that uses the plugin: the wheel carries them."""
ASSETS_URI = "assets/cnnmacros"


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


_THEME_BYTECODE = _MemoryBytecodeCache()


class CnnMacrosConfig(Config):
    directory = config_options.Type(str, default="architectures")
    section = config_options.Type(str, default="Architectures")


class CnnMacrosPlugin(BasePlugin[CnnMacrosConfig]):
    library: Library
    generated: dict[str, str]  # page path -> architecture stem, for the pages this plugin adds

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        self.generated = {}
        stylesheet = f"{ASSETS_URI}/cnnmacros.css"
        if stylesheet not in config.extra_css:
            config.extra_css.append(stylesheet)
        root = Path(config.config_file_path).resolve().parent
        self.library = Library(root / self.config.directory, root)
        for item in config.nav or []:
            if isinstance(item, dict) and isinstance(item.get(self.config.section), list):
                pages = item[self.config.section]
                pages += [uri for _, uri in self._pages() if uri not in pages]
        return config

    def _pages(self) -> list[tuple[str, str]]:
        """(stem, page path) of every architecture file whose name can be a page."""
        return [
            (stem, f"{self.config.directory}/{stem}.md") for stem in sorted(self.library.results()) if STEM.match(stem)
        ]

    def on_pre_build(self, config: MkDocsConfig) -> None:
        for error in self.library.errors():
            for problem in error.problems:
                log.error(str(problem))

    def on_files(self, files: Files, config: MkDocsConfig) -> Files:
        self.generated = {}
        for stem, uri in self._pages():
            if files.get_file_from_path(uri) is None:
                page = File.generated(config, uri, content=f'{{{{ architecture_page("{stem}") }}}}\n')
                # the page's edit link opens the architecture file, which is what an author edits
                page.edit_uri = Path(os.path.relpath(self.library.path(stem), config.docs_dir)).as_posix()
                files.append(page)
                self.generated[uri] = stem
        for asset in sorted(ASSETS.iterdir()):
            uri = f"{ASSETS_URI}/{asset.name}"
            if asset.is_file() and files.get_file_from_path(uri) is None:
                files.append(File.generated(config, uri, abs_src_path=str(asset)))
        return files

    @event_priority(-100)  # after mkdocs-macros, so that nothing renders the author's text as Jinja
    def on_page_markdown(self, markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
        stem = self.generated.get(page.file.src_uri)
        if stem is not None:
            result = self.library.get(stem)
            page.meta["title"] = plain_title(result.name if isinstance(result, Summary) else stem)
            page.meta.setdefault("hide", ["toc"])  # the per-layer table needs the width more
        return markdown

    def on_env(self, env: jinja2.Environment, config: MkDocsConfig, files: Files) -> jinja2.Environment:
        if env.bytecode_cache is None:
            env.bytecode_cache = _THEME_BYTECODE
        return env

    def on_post_page(self, output: str, page: Page, config: MkDocsConfig) -> str:
        return stash.restore(output)
