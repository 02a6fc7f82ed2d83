"""MathML set aside while MkDocs converts Markdown, and put back in the finished page.

A page of worked formulas is mostly MathML. Left in the Markdown, every element of it is parsed by
Python-Markdown's raw-HTML handling and again by the search plugin, which more than doubled the
site's build time (and the wait under ``mkdocs serve``). The macros hand Markdown a short
placeholder instead; the plugin swaps the MathML back in as the last step of each page. Formulas
stay out of the search index, where their symbols were noise.
"""

from __future__ import annotations

import hashlib
import re

_MATH = re.compile(r'<math\b.*?</math>|<svg\b.*?</svg>|<div class="cnn-table[^"]*"><table>.*?</table></div>', re.S)
"""What is set aside: MathML, the figures' SVG and the tables of layers, which Markdown would only
parse as raw HTML (and the search plugin index as noise)."""
_PLACEHOLDER = re.compile(r'<span class="cnn-m" data-m="([0-9a-f]{20})"></span>')
_store: dict[str, str] = {}


def _placeholder(match: re.Match[str]) -> str:
    markup = match.group(0)
    key = hashlib.blake2b(markup.encode(), digest_size=10).hexdigest()
    _store[key] = markup
    return f'<span class="cnn-m" data-m="{key}"></span>'


def hide(html: str) -> str:
    """Every ``<math>`` and ``<svg>`` element, and every table of layers, replaced by a placeholder
    that Markdown passes through untouched."""
    return _MATH.sub(_placeholder, html)


def restore(html: str) -> str:
    """The placeholders of ``hide`` replaced by their MathML again."""
    return _PLACEHOLDER.sub(lambda m: _store.get(m.group(1), m.group(0)), html)
