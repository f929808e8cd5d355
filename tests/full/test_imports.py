"""The layering of full/ read from its source (issue 11 §1): no module imports the entry point
``full.train``, and full/ imports nothing from the toy runner (``common/`` holds what they share).

Under ``python -m full.train`` the entry point runs as ``__main__``; a module importing
``full.train`` gets a second copy of it, and ``except Stop`` in ``__main__`` stopped matching the
``Stop`` the trainer raised (a traceback instead of one line).
"""

from __future__ import annotations

import ast
import pathlib

FULL = pathlib.Path(__file__).resolve().parents[2] / "full"


def is_entry_point(path: pathlib.Path) -> bool:
    """A module run with ``python -m`` (it has an ``if __name__ == "__main__":`` block)."""
    return any(isinstance(node, ast.If) and "__main__" in ast.unparse(node.test)
               for node in ast.parse(path.read_text()).body)


def imported_modules(path: pathlib.Path) -> set[str]:
    """Every module named by an import anywhere in ``path`` (also inside functions), with
    ``from package import module`` counted as ``package.module`` and relative imports resolved."""
    package = "full"
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # from . import x / from .x import y, inside full/
                base = ".".join(filter(None, [package, base]))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def modules() -> dict[str, set[str]]:
    return {f"full.{p.stem}" if p.stem != "__init__" else "full": imported_modules(p)
            for p in sorted(FULL.glob("*.py"))}


def test_no_module_of_full_imports_the_entry_point():
    # Only another entry point may: full.paper_table and full.claims run full.train's ``main``
    # once per recipe, as a user would, and nothing full.train imports is one of them (below).
    importers = {name for name, imports in modules().items() if "full.train" in imports}
    library = {name for name in importers
               if not is_entry_point(FULL / f"{name.removeprefix('full.') or '__init__'}.py")}
    assert library == set(), f"library modules importing the entry point full.train: {library}"


def test_full_train_is_not_imported_back_by_anything_it_imports():
    graph = modules()
    seen, todo = set(), ["full.train"]
    while todo:
        for target in graph.get(todo.pop(), set()):
            if target in graph and target not in seen:
                seen.add(target)
                todo.append(target)
    assert "full.train" not in seen  # an import circle through the entry point


def test_full_imports_nothing_from_the_toy():
    offenders = {name: sorted(i for i in imports if i == "toy" or i.startswith("toy."))
                 for name, imports in modules().items()}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_reader_sees_imports_inside_functions(tmp_path):
    # The checks above are only as good as this reader: an import in a function body, a
    # "from full import train" and a relative import must all be seen.
    source = tmp_path / "m.py"
    source.write_text("def f():\n    from full import train\n    from .trainer import Trainer\n"
                      "import toy.run\n")
    assert {"full.train", "full.trainer", "toy.run"} <= imported_modules(source)
