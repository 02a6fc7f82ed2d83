"""``mkdocs build`` as a user runs it (the same CLI, in this process), reporting the time spent in cnnmacros.

cnnmacros' time is the import of its modules (SymPy included; the modules MkDocs, its theme and
mkdocs-macros import for this site anyway are imported first and not charged),
every macro call and every plugin hook, each timed with ``perf_counter``. Prints JSON; the caller
divides by the whole process's wall time.
"""

from __future__ import annotations

import functools
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

spent = 0.0
depth = 0


def timed(function):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        global spent, depth
        depth += 1
        t0 = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            depth -= 1
            if depth == 0:  # nested calls (a macro calling a macro) are counted once
                spent += time.perf_counter() - t0

    return wrapper


# What MkDocs imports to build this site with or without cnnmacros comes first, uncharged.
import markdown  # noqa: E402, F401
import material.plugins.search.plugin  # noqa: E402, F401
import mkdocs.commands.build  # noqa: E402, F401
import mkdocs.config.defaults  # noqa: E402, F401
import mkdocs.structure.files  # noqa: E402, F401
import mkdocs.structure.pages  # noqa: E402, F401
import mkdocs_macros.plugin  # noqa: E402, F401
import pymdownx.tabbed  # noqa: E402, F401
from mkdocs.__main__ import cli  # noqa: E402

t0 = time.perf_counter()
import cnnmacros.macros as macros  # noqa: E402
import cnnmacros.plugin as plugin  # noqa: E402

imports = time.perf_counter() - t0
spent += imports

for name in dir(macros.Macros):
    if not name.startswith("_"):
        setattr(macros.Macros, name, timed(getattr(macros.Macros, name)))
for hook in ("on_config", "on_pre_build", "on_files", "on_page_markdown", "on_page_content", "on_post_page"):
    setattr(plugin.CnnMacrosPlugin, hook, timed(getattr(plugin.CnnMacrosPlugin, hook)))

try:
    cli(["build", "-q", "-f", str(ROOT / "mkdocs.yml"), "-d", sys.argv[1]], standalone_mode=False)
finally:
    print(json.dumps({"cnnmacros": spent, "cnnmacros_imports": imports}))
