"""Author strings reach HTML as text: a site built with hostile names shows them and runs nothing."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from .conftest import CHROMIUM, NO_CHROMIUM, build_site, copy_project, require

pytestmark = pytest.mark.slow  # every test here reads a site built for it

EVIL = """\
name: "<script>alert('name')</script> {{ 7*7 }} | *star*"
description: "<img src=x onerror=alert(1)> [click](javascript:alert(2)) **bold** {% raw %} {# c #}"
source: "<b>Source</b> & co"
input: [8, 8, 3]
layers:
  - {name: "<i>c1</i>|x", type: conv2d, filters: 2, kernel: 3}
  - {name: "{{ config }}", type: relu}
  - {name: "[a](javascript:alert(3))", type: dense, units: 2}
"""


@pytest.fixture(scope="module")
def evil_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = copy_project(tmp_path_factory.mktemp("evil"))
    (project / "architectures" / "evil.yaml").write_text(EVIL, encoding="utf-8")
    done = build_site(project / "mkdocs.yml", project / "site")
    assert done.returncode == 0, done.stderr
    return project / "site"


def test_hostile_strings_are_shown_as_text(evil_site: Path) -> None:
    page = (evil_site / "architectures" / "evil" / "index.html").read_text(encoding="utf-8")
    article = page[page.index("<article") : page.index("</article>")]
    # the page's own recompute program, whose strings escape every <, > and &: the only script
    programs = re.findall(r"<script>\(window\.cnnmacrosPages .*?</script>", article, re.S)
    assert len(programs) == 1
    assert "\\u003ci\\u003ec1\\u003c/i\\u003e|x" in programs[0] and "<i>" not in programs[0]
    article = article.replace(programs[0], "")
    # and the memory calculator's formula, from the formula module: no author's string in it
    formulas = re.findall(r"<script>\(window\.cnnmacrosFormulas .*?</script>", article, re.S)
    assert len(formulas) == 1 and '["largest_batch"] = function (F, a_Z_M, a_Z_0, a_Z_1)' in formulas[0]
    article = article.replace(formulas[0], "")
    assert "<script" not in article and "<img" not in article and "<b>" not in article and "<i>" not in article
    assert not re.search(r"""(href|src)\s*=\s*["']?\s*javascript:""", article, re.I)
    assert "49" not in re.sub(r"<[^>]+>", " ", article)  # {{ 7*7 }} was not evaluated
    text = html.unescape(re.sub(r"<[^>]+>", "", article))
    for shown in (
        "<script>alert('name')</script> {{ 7*7 }} | *star*",
        "<i>c1</i>|x",
        "{{ config }}",
        "<img src=x onerror=alert(1)>",
        "{% raw %} {# c #}",
        "<b>Source</b> & co",
        "[a](javascript:alert(3))",
    ):
        assert shown in text, shown
    title = re.search(r"<title>(.*?)</title>", page, re.S).group(1)
    assert "<script" not in title


@pytest.mark.browser
def test_hostile_page_runs_no_script_in_chromium(evil_site: Path) -> None:
    require(Path(CHROMIUM).exists(), NO_CHROMIUM)
    from playwright.sync_api import sync_playwright

    dialogs: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort())
        page.goto((evil_site / "architectures" / "evil" / "index.html").as_uri())
        heading = page.locator("article h1").inner_text()
        page.locator("article a", has_text="click").click()
        browser.close()
    assert dialogs == []
    assert heading.rstrip("¶") == "<script>alert('name')</script> {{ 7*7 }} | *star*"


def test_a_line_break_in_a_name_fails_the_strict_build(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    (project / "architectures" / "split.yaml").write_text(
        'name: Split\ninput: [8, 8, 3]\nlayers:\n  - {name: "a\\r| forged | row", type: relu}\n', encoding="utf-8"
    )
    done = build_site(project / "mkdocs.yml", project / "site")
    assert done.returncode != 0
    assert (
        "architectures/split.yaml:4: layers[0] name: expected one line of printable text, got "
        "'a\\r| forged | row' (a line break (U+000D) at character 2)"
    ) in done.stderr
