"""The built site as a reader finds it: figures, links, names, the font, and prose that follows the files."""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import pytest
import yaml

from cnnmacros import render
from cnnmacros.engine import summarize
from cnnmacros.library import Library
from cnnmacros.rows import Summary

from .conftest import ARCHITECTURES, ROOT, build_site, copy_project
from .test_site import text_of

pytestmark = pytest.mark.slow
REPO = "https://github.com/cnnmacros/cnnmacros"


def page(site: Path, path: str) -> str:
    return (site / path / "index.html").read_text(encoding="utf-8")


def test_every_architecture_page_has_its_chart_graph_file_and_links(site: Path) -> None:
    for path in sorted(ARCHITECTURES.glob("*.yaml")):
        body = page(site, f"architectures/{path.stem}")
        assert body.count('<figure class="cnn-figure cnn-chart">') == 1, path.stem
        assert body.count('<figure class="cnn-figure cnn-graph">') == 1, path.stem
        # the file, linked where the repository shows it and shown folded, as its author wrote it
        assert f'href="{REPO}/blob/main/architectures/{path.name}"' in body, path.stem
        shown = re.search(r'<details class="cnn-file">.*?<code class="language-yaml">(.*?)</code>', body, re.S)
        assert html.unescape(shown.group(1)) == path.read_text(encoding="utf-8"), path.stem
        # the edit button opens the architecture file, not a page that does not exist
        assert f'href="{REPO}/edit/main/architectures/{path.name}"' in body, path.stem
        # every link the source names is a link on the page
        source = yaml.safe_load(path.read_text(encoding="utf-8"))["source"]
        for url in re.findall(r"\]\((https://[^)]+)\)", source):
            assert f'href="{url}"' in body, (path.stem, url)


def test_hand_written_pages_link_the_repository_and_edit_their_source(site: Path) -> None:
    for name in ("", "formulas", "alexnet", "mnist", "batchnorm"):
        body = page(site, name)
        assert f'href="{REPO}"' in body  # the header's repository link
        source = "index.md" if not name else f"{name}.md"
        assert f'href="{REPO}/edit/main/docs/{source}"' in body, name
        assert '<link rel="canonical" href="https://cnnmacros.github.io/cnnmacros/' in body


def test_every_page_has_a_previous_and_next_footer(site: Path) -> None:
    order = [
        ("", "Home"),
        ("formulas", "Formulas"),
        ("conventions", "Counting conventions"),
        ("training-memory", "Training memory"),
        ("alexnet", "AlexNet, layer by layer"),
        ("mnist", "MNIST CNN, four questions"),
        ("batchnorm", "Batch normalization, 2D and 3D"),
        ("architectures", "Architectures"),
    ]
    for (_, before), (name, _), (_, after) in zip(order, order[1:], order[2:]):
        footer = re.search(r'<nav class="md-footer__inner.*?</nav>', page(site, name), re.S).group(0)
        links = {
            kind: " ".join(re.sub(r"<[^>]+>", " ", body).split())
            for kind, body in re.findall(r'md-footer__link--(prev|next)"(.*?)</a>', footer, re.S)
        }
        assert links["prev"].endswith(f"Previous {before}") or f"Previous {before}" in links["prev"], name
        assert f"Next {after}" in links["next"], name


def test_one_name_per_network_in_the_navigation(site: Path) -> None:
    body = page(site, "architectures")
    body = re.sub(r'<nav class="md-nav md-nav--secondary".*?</nav>', " ", body, flags=re.S)  # a page's contents
    nav = re.search(r'<nav class="md-nav md-nav--primary".*?</nav>\s*</div>', body, re.S).group(0)
    titles = [
        " ".join(html.unescape(re.sub(r"<[^>]+>", " ", t)).split())
        for t in re.findall(r'<span class="md-ellipsis">(.*?)</span>', nav, re.S)
    ]
    titles = [t for t in titles if t]
    assert len(titles) == len(set(titles)), sorted(t for t in titles if titles.count(t) > 1)
    names = {yaml.safe_load(p.read_text(encoding="utf-8"))["name"] for p in ARCHITECTURES.glob("*.yaml")}
    assert names <= set(titles)
    # a worked example is named after its network as its architecture page is, plus what it does
    assert "AlexNet, layer by layer" in titles and "MNIST CNN, four questions" in titles
    assert "MNIST" not in titles


def test_the_math_font_is_served_from_the_site(site: Path) -> None:
    served = site / "assets" / "cnnmacros" / "latinmodern-math.otf"
    shipped = ROOT / "cnnmacros" / "assets" / "latinmodern-math.otf"
    assert served.read_bytes() == shipped.read_bytes() and served.read_bytes()[:4] == b"OTTO"
    assert (site / "assets" / "cnnmacros" / "GUST-FONT-LICENSE.txt").exists()
    css = (site / "assets" / "cnnmacros" / "cnnmacros.css").read_text(encoding="utf-8")
    assert 'src: url("latinmodern-math.otf")' in css
    assert 'href="assets/cnnmacros/cnnmacros.css"' in page(site, "")


def test_the_formulas_page_draws_each_kind_of_window(site: Path) -> None:
    captions = re.findall(
        r'<figure class="cnn-figure cnn-slide">.*?<figcaption>(.*?)</figcaption>', page(site, "formulas"), re.S
    )
    text = " ".join(html.unescape(c) for c in captions)
    assert "227 inputs and no padding" in text  # AlexNet Conv-1: stride 4
    assert "2 zeros of padding on each side" in text  # AlexNet Conv-2: padding 2
    assert "its taps 2 apart (dilation 2)" in text  # the dilated context module's Layer-3
    assert "ceil mode still counts it" in text  # GoogLeNet's MaxPool-1
    assert "places a kernel of 4 taps" in text and "8 outputs remain" in text  # DCGAN's deconv1


def test_layers_with_nothing_to_work_get_no_worked_box(site: Path) -> None:
    """An addition counts no parameters and keeps nothing for the backward pass: no box, no link. A
    ReLU keeps its output, so its box shows that."""
    body = page(site, "architectures/resnet18")
    assert 'id="layer-9-layer1-0-add"' not in body and "No parameters" not in body
    assert 'href="#layer-9-layer1-0-add"' not in body and 'id="layer-0-conv1"' in body
    assert 'id="layer-2-relu"' in body


# Prose that follows the files -----------------------------------------------------------------

CHANGES = {
    # file: (layer, key, new value); each change keeps the page's reasoning true
    "mnist.yaml": [("FC", "units", 32), ("Conv-1", "filters", 6)],
    "alexnet.yaml": [("Conv-1", "filters", 64), ("FC-1", "units", 2048), ("FC-2", "units", 2048)],
}


def _changed(text: str, layer: str, key: str, value: int) -> str:
    pattern = re.compile(rf"(\{{name: {re.escape(layer)}, [^}}]*\b{key}: )\d+")
    assert pattern.search(text), (layer, key)
    return pattern.sub(rf"\g<1>{value}", text)


def _figures(summary: Summary) -> dict[tuple[str, str], str]:
    """Every figure a page could cite of one file, as the site writes it."""
    out: dict[tuple[str, str], str] = {}
    for row in summary.rows:
        out[(row.name, "shape")] = render.shape(row.output)
        for key, value in row.figures.items():
            if isinstance(value, int):
                out[(row.name, key)] = f"{value:,}"
        for setting in render.setting_parts(row):
            out[(row.name, "setting " + setting.split()[0])] = setting
    for key, value in summary.totals.items():
        if isinstance(value, int):
            out[("total", key)] = f"{value:,}"
    return out


def test_no_page_keeps_a_figure_of_the_file_it_was_computed_from(tmp_path: Path) -> None:
    """Change the files' settings, build, and find none of the old derived figures on any page."""
    project = copy_project(tmp_path / "project")
    before: dict[tuple[str, str, str], str] = {}
    for name, changes in CHANGES.items():
        file = project / "architectures" / name
        old = summarize(file)
        text = file.read_text(encoding="utf-8")
        for layer, key, value in changes:
            text = _changed(text, layer, key, value)
        file.write_text(text, encoding="utf-8")
        new = summarize(file)
        old_figures, new_figures = _figures(old), _figures(new)
        for where, figure in old_figures.items():
            if new_figures.get(where) != figure:
                before[(name, *where)] = figure
    # a figure that some file still has after the change may rightly stay on a page
    still = set()
    for result in Library(project / "architectures", project).results().values():
        still |= set(_figures(result).values()) if isinstance(result, Summary) else set()
    stale = {where: f for where, f in before.items() if f not in still and (len(f) > 3 or not f.isdigit())}
    # what the check looks for: sizes, counts and settings that changed and are no file's figures
    # any more (at least 20 even with the whole torchvision zoo on the site; the copy keeps the
    # zoo's files that the hand-written pages cite)
    assert len(stale) >= 20
    out = tmp_path / "site"
    done = build_site(project / "mkdocs.yml", out)
    assert done.returncode == 0, done.stderr
    found = []
    # every page that can cite them: the hand-written pages and the changed files' own pages
    pages = [p for p in out.rglob("*.html") if "architectures" not in p.parts and p.parent.name != "search"]
    pages += [out / "architectures" / "index.html"]
    pages += [out / "architectures" / Path(name).stem / "index.html" for name in CHANGES]
    assert len(pages) >= 10
    for html_page in sorted(pages):
        body = html_page.read_text(encoding="utf-8")
        body = re.sub(r'<div class="cnn-description">.*?</div>', " ", body, flags=re.S)  # the author's words
        text = text_of_body(body)
        for where, figure in stale.items():
            plain = html.unescape(re.sub(r"<[^>]+>", "", figure))
            if re.search(rf"(?<![\d,.]){re.escape(plain)}(?![\d,]|\.\d)", text):
                found.append((str(html_page.relative_to(out)), where, plain))
    assert not found, found[:20]
    # and the prose says the new values
    mnist = text_of(out / "mnist" / "index.html")
    assert "a fully connected layer of 32 units" in mnist
    alexnet = text_of(out / "alexnet" / "index.html")
    assert "FC-1 and FC-2 give 2,048 units" in alexnet and "Conv-1 has filters 64, kernel 11×11" in alexnet
    shutil.rmtree(out)


def text_of_body(body: str) -> str:
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S).replace("<wbr>", "")
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())
