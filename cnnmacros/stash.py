"""Finished HTML set aside while MkDocs converts Markdown, and put back in the finished page.

A page of worked formulas is mostly MathML. Left in the Markdown, every element of it is parsed by
Python-Markdown's raw-HTML handling and again by the search plugin, which more than doubled the
site's build time (and the wait under ``mkdocs serve``). The macros hand Markdown a short
placeholder instead; the plugin swaps the markup back in as the last step of each page. Formulas
stay out of the search index, where their symbols were noise.

One ``Stash`` serves one build: the plugin makes a new one for each, so nothing a page hid
outlives the build.
"""

from __future__ import annotations

import hashlib
import re

_MATH = re.compile(
    r'<div class="cnn-table[^"]*"><table>.*?</table></div>'
    r'|<div class="cnn-eq">.*?</div></div>'
    r'|<figure class="cnn-figure\b.*?</figure>'
    r"|<math\b.*?</math>|<svg\b.*?</svg>",
    re.S,
)
"""What ``hide`` sets aside, whole: tables of layers, worked equations, figures, and any other MathML
or SVG. Markdown would only parse them as raw HTML, and the search plugin index them as noise. None
holds a nested element of its own kind."""
_BLOCK = ("<div", "<figure")
_ID = re.compile(r'id="([^"]+)"')
"""An ``id`` attribute once the character before it is checked to be a space (see ``_ids``): a
pattern that starts with ``\b`` or a class of characters is scanned for character by character,
twenty times slower on a page of megabytes."""
_PLACEHOLDER = re.compile(r'<(span|div) class="cnn-m" data-m="([0-9a-f]{20})"></\1>')


def _ids(html: str) -> set[str]:
    """The values of the ``id`` attributes in ``html`` (not ``data-id`` and the like)."""
    return {m.group(1) for m in _ID.finditer(html) if m.start() and html[m.start() - 1].isspace()}


class Stash:
    """Markup by key, for one build."""

    def __init__(self) -> None:
        self.markup: dict[str, str] = {}
        self.anchors: dict[str, set[str]] = {}  # the ids in each hidden block, for MkDocs' link checks

    def _key(self, markup: str) -> str:
        key = hashlib.blake2b(markup.encode(), digest_size=10).hexdigest()
        self.markup[key] = markup
        return key

    def hide(self, html: str) -> str:
        """Every ``<math>`` and ``<svg>`` element, table of layers, worked equation and figure replaced
        by a placeholder that Markdown passes through untouched: a block's by a ``div``."""

        def placeholder(match: re.Match[str]) -> str:
            tag = "div" if match.group(0).startswith(_BLOCK) else "span"
            return f'<{tag} class="cnn-m" data-m="{self._key(match.group(0))}"></{tag}>'

        return _MATH.sub(placeholder, html)

    def hide_block(self, html: str) -> str:
        """A whole block of finished HTML (no Markdown in it) as one empty block element, which
        Markdown passes through as raw HTML; it must stand on lines of its own."""
        key = self._key(html)
        self.anchors[key] = _ids(html)
        return f'<div class="cnn-m" data-m="{key}"></div>'

    def anchors_in(self, html: str) -> set[str]:
        """The ids inside the blocks that ``html`` holds placeholders of: the anchors the page will have."""
        return {a for m in _PLACEHOLDER.finditer(html) for a in self.anchors.get(m.group(2), ())}

    def parts(self, html: str) -> dict[str, tuple[str, set[str] | None]]:
        """The markup (and a block's anchors) that the placeholders in ``html`` stand for: what a
        page rendered in one build needs to be served again in the next (``adopt``)."""
        keys = (m.group(2) for m in _PLACEHOLDER.finditer(html))
        return {key: (self.markup[key], self.anchors.get(key)) for key in keys if key in self.markup}

    def adopt(self, parts: dict[str, tuple[str, set[str] | None]]) -> None:
        """Markup that another build's stash hid (``parts``), for a page kept from that build."""
        for key, (markup, anchors) in parts.items():
            self.markup[key] = markup
            if anchors is not None:
                self.anchors[key] = anchors

    def restore(self, html: str) -> str:
        """The placeholders of ``hide`` and ``hide_block`` replaced by their markup again."""
        return _PLACEHOLDER.sub(lambda m: self.markup.get(m.group(2), m.group(0)), html)
