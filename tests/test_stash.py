"""MathML set aside for Markdown and put back: exactly the same markup, and nothing else touched."""

from __future__ import annotations

import markdown

from cnnmacros import stash
from cnnmacros.mathml import formula_math


def test_round_trip_through_markdown() -> None:
    math = formula_math("conv_output_size_d1", display=False)
    page = f"| a | b |\n| --- | --- |\n| x {math} | *y* |\n\nText {math} and <b>html</b>."
    hidden = stash.hide(page)
    assert "<math" not in hidden and hidden.count('class="cnn-m"') == 2
    html = markdown.markdown(hidden, extensions=["tables"])
    restored = stash.restore(html)
    assert restored.count(math) == 2
    assert "<em>y</em>" in restored and "<b>html</b>" in restored


def test_unknown_placeholders_and_plain_text_are_left_alone() -> None:
    text = 'no math here <span class="cnn-m" data-m="00000000000000000000"></span>'
    assert stash.hide("no math here") == "no math here"
    assert stash.restore(text) == text
