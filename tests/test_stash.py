"""MathML and finished HTML set aside for Markdown and put back: exactly the same markup, nothing else touched."""

from __future__ import annotations

import markdown

from cnnmacros.mathml import formula_math
from cnnmacros.stash import Stash


def test_round_trip_through_markdown() -> None:
    stash = Stash()
    math = formula_math("conv_output_size_d1", display=False)
    block = f'<details id="layer-1-c1"><summary>C1</summary>{math}<p data-id="y" id="x">*not emphasis*</p></details>'
    table = f"| a | b |\n| --- | --- |\n| x {math} | *y* |"
    page = f"{table}\n\nText {math} and <b>html</b>.\n\n{stash.hide_block(block)}\n"
    hidden = stash.hide(page)
    assert "<math" not in hidden and "<details" not in hidden and hidden.count('class="cnn-m"') == 3
    html = markdown.markdown(hidden, extensions=["tables", "md_in_html"])
    assert stash.anchors_in(html) == {"layer-1-c1", "x"}
    restored = stash.restore(html)
    assert restored.count(math) == 3 and block in restored
    assert "<em>y</em>" in restored and "<b>html</b>" in restored and "<em>not" not in restored


def test_unknown_placeholders_and_plain_text_are_left_alone() -> None:
    text = 'no math here <span class="cnn-m" data-m="00000000000000000000"></span>'
    assert Stash().hide("no math here") == "no math here"
    assert Stash().restore(text) == text and Stash().anchors_in(text) == set()


def test_each_build_has_its_own_stash() -> None:
    """What one build hid is not restored by the next: nothing is kept at module level."""
    first = Stash()
    hidden = first.hide(formula_math("conv_biases", display=False))
    assert Stash().restore(hidden) == hidden and "<math" in first.restore(hidden)


def test_a_kept_page_is_restored_by_the_next_builds_stash() -> None:
    """``mkdocs serve`` keeps the page of an unchanged file: its placeholders, with the markup and
    anchors they stand for, carry over to the next build's stash and nothing else does."""
    first = Stash()
    math = formula_math("conv_biases", display=False)
    page = first.hide(f"Text {math}.") + "\n\n" + first.hide_block('<details id="a"><summary>s</summary></details>')
    first.hide("Another page's " + formula_math("conv_output_size_d1", display=False))
    parts = first.parts(page)
    assert len(parts) == 2 and len(first.markup) == 3
    second = Stash()
    second.adopt(parts)
    assert second.restore(page) == first.restore(page) and math in second.restore(page)
    assert second.anchors_in(page) == {"a"} and len(second.markup) == 2
