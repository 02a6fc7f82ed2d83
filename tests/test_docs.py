"""What the authors' documentation shows is what the tools do."""

from __future__ import annotations

import re
from pathlib import Path

from cnnmacros.engine import summarize

from .conftest import ARCHITECTURES, ROOT, run_cli


def _yaml_block(text: str) -> str:
    return re.search(r"```yaml\n(.*?)```", text, re.S).group(1)


def _dedent(block: str) -> str:
    indent = min(len(line) - len(line.lstrip()) for line in block.splitlines() if line.strip())
    return "\n".join(line[indent:] for line in block.splitlines()) + "\n"


def test_example_files_in_the_docs_are_the_lenet5_file() -> None:
    shipped = (ARCHITECTURES / "lenet5.yaml").read_text(encoding="utf-8")
    shipped_layers = shipped[shipped.index("layers:") :]
    for page in (ROOT / "docs" / "adding.md", ROOT / "CONTRIBUTING.md"):
        block = _dedent(_yaml_block(page.read_text(encoding="utf-8")))
        layers = re.sub(r" +#.*", "", block[block.index("layers:") :])
        assert layers.strip() == shipped_layers.strip(), page.name
    # The classic figure for LeNet-5 with C5 as a 400 -> 120 layer:
    # 156 + 2,416 + 48,120 + 10,164 + 850 = 61,706.
    assert summarize(ARCHITECTURES / "lenet5.yaml").total_params == 61_706


def _documented_error(page: Path, tmp_path: Path) -> None:
    text = page.read_text(encoding="utf-8")
    message = re.search(
        r"`?(architectures/lenet5\.yaml:\d+: layers\[\d\] \((\w+)\) (\w+): expected .*?, got 0)`?", text
    )
    assert message, page.name
    line, name, key = message.group(1), message.group(2), message.group(3)
    block = _dedent(_yaml_block(text))
    broken = re.sub(rf"(\{{name: {name}, [^}}]*\b{key}: )\d+", r"\g<1>0", block)
    assert broken != block
    (tmp_path / "architectures").mkdir(exist_ok=True)
    (tmp_path / "architectures" / "lenet5.yaml").write_text(broken, encoding="utf-8")
    done = run_cli("check", "architectures/lenet5.yaml", cwd=tmp_path)
    assert done.stderr.splitlines()[0] == line.rstrip("`")


def test_documented_error_messages_are_real(tmp_path: Path) -> None:
    _documented_error(ROOT / "docs" / "adding.md", tmp_path)
    _documented_error(ROOT / "CONTRIBUTING.md", tmp_path)


def _signature(function: object) -> str:
    """``total(arch, field='params', layer_type=None, input=None)``: a macro as the docs write it."""
    import inspect

    signature = inspect.signature(function)
    parts = []
    for p in signature.parameters.values():
        if p.name == "self":
            continue
        if p.kind is p.VAR_KEYWORD:
            parts.append(f"**{p.name}")
        else:
            parts.append(p.name if p.default is p.empty else f"{p.name}={p.default!r}")
    return f"{function.__name__}({', '.join(parts)})"


def test_every_macro_is_documented_with_its_signature() -> None:
    from cnnmacros.macros import FIELDS, MACROS, Macros

    text = (ROOT / "docs" / "own-site.md").read_text(encoding="utf-8")
    documented = re.findall(r"^- `(\w+)\(", text, re.M)
    assert sorted(documented) == sorted(MACROS), "each macro documented once, and nothing else"
    for name in MACROS:
        assert f"- `{_signature(getattr(Macros, name))}`" in text, name
    fields = re.search(r"`field` is one of\s+(.*?)\.", text, re.S).group(1)
    assert re.findall(r"`(\w+)`", fields) == list(FIELDS)


def test_every_plugin_option_is_documented_with_its_default() -> None:
    from cnnmacros.plugin import CnnMacrosConfig

    text = (ROOT / "docs" / "own-site.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `(\w+)` \| `([^`]*)` \|", text, re.M))
    options = {name: option.default for name, option in CnnMacrosConfig._schema}
    assert sorted(rows) == sorted(options)
    for name, default in options.items():
        assert rows[name] == (str(default).lower() if isinstance(default, bool) else str(default)), name
