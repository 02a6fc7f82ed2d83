"""Safe YAML loading with lines: what is kept, what is refused."""

from __future__ import annotations

import math

import pytest

from cnnmacros.errors import ArchitectureError
from cnnmacros.yamlnodes import MAX_NODES, Refused, YMap, YScalar, YSeq, describe, load


def messages(text: str | bytes) -> list[str]:
    with pytest.raises(ArchitectureError) as info:
        load("f.yaml", text.encode() if isinstance(text, str) else text)
    return [str(p) for p in info.value.problems]


def test_values_keep_their_lines() -> None:
    tree = load("f.yaml", b"name: x\n\ninput:\n  - 3\n  - H\nlayers: []\n")
    assert isinstance(tree, YMap)
    assert tree.key_lines == {"name": 1, "input": 3, "layers": 6}
    seq = tree.items["input"]
    assert isinstance(seq, YSeq) and [i.line for i in seq.items] == [4, 5]
    assert [i.value for i in seq.items if isinstance(i, YScalar)] == [3, "H"]


def test_merge_keys_and_explicit_keys_win() -> None:
    tree = load("f.yaml", b"base: &b {kernel: 3, stride: 1}\nlayer: {<<: *b, stride: 2}\n")
    layer = tree.items["layer"]
    assert {k: v.value for k, v in layer.items.items()} == {"stride": 2, "kernel": 3}
    assert layer.key_lines == {"stride": 2, "kernel": 1}


def test_duplicate_keys_are_errors() -> None:
    assert messages("a: 1\nb:\n  k: 1\n  k: 2\n") == ["f.yaml:4: b k: duplicate key (first at line 3)"]


def test_object_tags_are_refused_with_their_path() -> None:
    assert messages("layers:\n  - !!python/name:os.system x\n") == [
        "f.yaml:2: layers[0]: YAML tag !!python/name:os.system is not allowed: architecture files hold only plain "
        "values, lists and mappings"
    ]
    assert messages("a: !custom 1\n") == [
        "f.yaml:1: a: YAML tag !custom is not allowed: architecture files hold only plain values, lists and mappings"
    ]
    assert messages("a: !!binary aGk=\n")[0].startswith("f.yaml:1: a: YAML tag !!binary is not allowed")


def test_recursive_alias_is_an_error_not_a_hang() -> None:
    assert messages("a: &a [1, *a]\n") == [
        "f.yaml:1: expected no YAML alias inside the value it names, got one that would repeat it without end"
    ]


def test_byte_order_mark_is_accepted() -> None:
    assert isinstance(load("f.yaml", "\ufeffname: x\n".encode()), YMap)


def test_syntax_error_names_the_line() -> None:
    assert messages("a: [1, 2\nb: 3\n")[0].startswith("f.yaml:2: YAML syntax error: while parsing a flow sequence")


def test_empty_and_comment_only_files() -> None:
    expected = ["f.yaml:1: file is empty: expected a mapping with name, input and layers"]
    assert messages("") == expected
    assert messages("# nothing\n") == expected


def test_describe_quotes_what_the_author_wrote() -> None:
    tree = load("f.yaml", b"a: [0, 2.50, true, null, 'x', '', [1], {k: 1}]\n")
    described = [describe(n) for n in tree.items["a"].items]
    assert described == ["0", "2.50", "true", "null", "'x'", "an empty string", "[1]", "a mapping"]


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

PLAIN = st.one_of(
    st.from_regex(r"\A[-+]?[0-9_]{1,6}\Z"),
    st.from_regex(r"\A0[box]?[0-9a-fA-F_]{1,4}\Z"),
    st.from_regex(r"\A[0-9]{1,3}(\.[0-9]*)?([eE][-+][0-9])?\Z"),
    st.from_regex(r"\A[A-Za-z][A-Za-z0-9_]{0,6}\Z"),
    st.sampled_from(["yes", "No", "TRUE", "off", "On", "y", "N", "null", "~", "Null", "yEs", ".inf", "1:30", "0"]),
)


@settings(max_examples=500)
@given(PLAIN)
def test_fast_scalar_path_reads_exactly_as_yaml(word: str) -> None:
    """YAML 1.1's reading, except what it reads unlike a person: integers in another base are
    refused, and yes/no/on/off are text (as in YAML 1.2)."""
    import re

    import yaml

    try:
        expected = yaml.safe_load(f"v: {word}\n")["v"]
    except ValueError:  # PyYAML resolves some words (0b_) as numbers it then cannot read
        assert messages(f"v: {word}\n")[0].startswith("f.yaml:1: v: expected a readable ")
        return
    got = load("f.yaml", f"v: {word}\n".encode()).items["v"].value
    if isinstance(expected, int) and not isinstance(expected, bool):
        if not re.fullmatch(r"[-+]?(0|[1-9][0-9_]*)", word):
            assert isinstance(got, Refused), word
            assert got.why.endswith(f"({expected}): write the number in plain decimal digits"), got
            return
    if isinstance(expected, bool) and word.lower() not in ("true", "false"):
        assert got == word
        return
    assert type(got) is type(expected)
    if isinstance(expected, float) and math.isnan(expected):
        assert math.isnan(got)
    else:
        assert got == expected


def test_unreadable_number_is_an_error_not_a_crash() -> None:
    assert messages("v: 0b_\n") == ["f.yaml:1: v: expected a readable int, got '0b_'"]


def test_a_large_plain_document_is_not_an_alias_bomb() -> None:
    # 10,000 layers of 12 values each: more values than the alias budget, and not one alias.
    text = "layers:\n" + "".join(
        f"  - {{name: c{i}, type: conv2d, filters: 1, kernel: 1, stride: 1}}\n" for i in range(10_000)
    )
    tree = load("f.yaml", text.encode())
    assert len(tree.items["layers"].items) == 10_000
    assert 12 * 10_000 > MAX_NODES


def test_an_alias_may_repeat_values_up_to_the_budget() -> None:
    # a1 holds 1 + 100 values; 99 aliases of it add 99 * 101 = 9,999 values: within the budget.
    text = "a: &a1 [" + ", ".join(["x"] * 100) + "]\nb: [" + ", ".join(["*a1"] * 99) + "]\n"
    assert len(load("f.yaml", text.encode()).items["b"].items) == 99


def test_aliases_cannot_nest_deeper_than_the_limit() -> None:
    # Each anchor nests the one before a level deeper: 70 levels once expanded, 2 as written.
    lines = ["a0: &a0 [x]"] + [f"a{i}: &a{i} [*a{i - 1}]" for i in range(1, 70)]
    assert messages("\n".join(lines) + "\n") == [
        "f.yaml:64: expected lists and mappings nested at most 64 deep, got deeper nesting (the limit is 64 levels)"
    ]


def test_nesting_at_the_limit_is_read() -> None:
    text = "a: " + "[" * 63 + "1" + "]" * 63 + "\n"
    node = load("f.yaml", text.encode()).items["a"]
    for _ in range(63):
        node = node.items[0]
    assert node.value == 1
    assert messages("a: " + "[" * 64 + "]" * 64 + "\n")[0].startswith("f.yaml:1: expected lists and mappings nested")


def test_numbers_of_many_digits_are_refused_unread() -> None:
    tree = load("f.yaml", f"a: {'9' * 100}\nb: {'9' * 101}\nc: 0x{'f' * 200}\n".encode())
    assert tree.items["a"].value == 10**100 - 1
    assert describe(tree.items["b"]) == "a number of 101 digits (the limit is 100 digits)"
    assert describe(tree.items["c"]) == "a number of 200 digits (the limit is 100 digits)"


def test_describe_quotes_only_an_excerpt() -> None:
    tree = load("f.yaml", f"a: {'x' * 1400}\nb: [[[1, [2]]]]\n".encode())
    assert describe(tree.items["a"]) == repr("x" * 40) + "... (1,400 characters)"
    assert describe(tree.items["b"]) == "[[[...]]]"


def test_yaml11_words_other_than_true_and_false_are_text() -> None:
    tree = load("f.yaml", b"a: yes\nb: Off\nc: true\nd: FALSE\n")
    assert [tree.items[k].value for k in "abcd"] == ["yes", "Off", True, False]
