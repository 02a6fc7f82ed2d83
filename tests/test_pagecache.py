"""The disk cache of generated pages: a key for everything a page is made from, entries that
read back exactly or not at all, and pruning of what no page used."""

from __future__ import annotations

from pathlib import Path

import pytest

from cnnmacros.pagecache import PageCache, user_cache

PAGE = (
    '# Net\n\n<div class="cnn-m" data-m="k1"></div>\n',
    {"k1": ('<table id="a"></table>', {"a"}), "k2": ("<math></math>", None)},
)


def test_the_key_changes_with_every_part_a_page_is_made_from(tmp_path: Path) -> None:
    cache = PageCache(tmp_path / "site", tmp_path / "cache")
    made_from = (b"name: Net\n", "architectures", "https://x/blob/main/")
    keys = {
        cache.key("net", made_from),
        cache.key("other", made_from),
        cache.key("net", (b"name: Net2\n", *made_from[1:])),
        cache.key("net", (made_from[0], "models", made_from[2])),
        cache.key("net", (*made_from[:2], "")),
        # the parts are delimited: moving a byte from one part to the next is another key
        cache.key("ne", (b"tname: Net\n", *made_from[1:])),
    }
    assert len(keys) == 6
    assert cache.key("net", made_from) == PageCache(tmp_path / "site", tmp_path / "cache").key("net", made_from)


def test_an_entry_reads_back_as_written(tmp_path: Path) -> None:
    cache = PageCache(tmp_path / "site", tmp_path / "cache")
    assert cache.get("abc") is None
    cache.put("abc", PAGE)
    assert PageCache(tmp_path / "site", tmp_path / "cache").get("abc") == PAGE
    assert [p.name for p in cache.folder.iterdir()] == ["abc.json"]  # no temporary file left


def test_an_entry_that_is_not_a_page_is_ignored(tmp_path: Path) -> None:
    cache = PageCache(tmp_path / "site", tmp_path / "cache")
    cache.put("abc", PAGE)
    entry = cache.folder / "abc.json"
    for text in ('{"markdown": ', "[1, 2]", '{"markdown": "x"}', '{"markdown": "x", "parts": {"k": 5}}', "\xff"):
        entry.write_text(text, encoding="utf-8")
        assert cache.get("abc") is None, text


def test_prune_removes_what_no_page_used(tmp_path: Path) -> None:
    cache = PageCache(tmp_path / "site", tmp_path / "cache")
    for key in ("a", "b", "c"):
        cache.put(key, PAGE)
    later = PageCache(tmp_path / "site", tmp_path / "cache")
    later.get("b")
    later.prune()
    assert sorted(p.name for p in later.folder.iterdir()) == ["b.json"]
    other = PageCache(tmp_path / "other-site", tmp_path / "cache")  # another site's entries are its own
    other.put("a", PAGE)
    later.prune()
    assert other.get("a") == PAGE


def test_the_cache_folder_is_the_users(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert user_cache() == tmp_path / "cnnmacros"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert user_cache() == Path.home() / ".cache" / "cnnmacros"
