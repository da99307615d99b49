"""The floors of the house and who may import whom (every import: module level, function bodies and
TYPE_CHECKING blocks alike, since an import inside a function is still an import).

- ``common/`` imports nothing outside itself (the runner finds the Ray scale-out through an entry point) and
  nothing in it imports the runner; every module of ``common/`` is on the run path (reached from the runner)
  or used by a benchmark.
- ``scaleout/`` (Ray) imports only ``common/``; of the tools only ``tools/cli.py`` imports it (its options).
- ``vision/`` and ``translation/`` import only ``common/`` (and themselves), never each other.
- ``compliance/`` imports only ``common/``.
- ``tools/*`` import ``common/`` and ``compliance/``; only ``tools/cli.py`` imports another tool, and nothing
  imports the command line.
- ``bench/`` may import anything; nothing imports it.
- No import circle, no private name imported from another module, no ``sys.path`` patch.

:func:`violations` takes the repository root, so the rules can be checked on any checkout of the tree.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("common", "scaleout", "compliance", "tools", "vision", "translation", "bench")
ALLOWED = {  # top folder -> top folders it may import
    "common": {"common"},
    "vision": {"common", "vision"},
    "translation": {"common", "translation"},
    "scaleout": {"common", "scaleout"},
    "compliance": {"common", "compliance"},
    "tools": {"common", "compliance", "scaleout", "tools"},
    "bench": set(PACKAGES),
}
RUN_PATH = "common.runner"
COMMAND_LINE = "tools.cli"


def modules(root: Path) -> dict[str, Path]:
    """Every module of the packages under ``root``, by dotted name (a package by its own name)."""
    found = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def imports(name: str, path: Path, known: dict[str, Path]) -> tuple[set[str], list[str]]:
    """The project modules ``name`` imports anywhere in its file, and the private names it imports."""
    base = name if _is_package(path) else name.rpartition(".")[0]
    found: set[str] = set()
    private: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = alias.name
                while target and target not in known:
                    target = target.rpartition(".")[0]
                if target:
                    found.add(target)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = base.split(".")[: len(base.split(".")) - (node.level - 1)]
                module = ".".join([*anchor, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            for alias in node.names:
                if f"{module}.{alias.name}" in known:
                    found.add(f"{module}.{alias.name}")
                elif module in known:
                    found.add(module)
                    if alias.name.startswith("_") and module != "__future__":
                        private.append(f"{module}.{alias.name}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):  # "module:attr", loaded by name
            module = node.value.partition(":")[0]
            if ":" in node.value and module in known:
                found.add(module)
    found.discard(name)
    return found, private


def graph(root: Path) -> tuple[dict[str, set[str]], dict[str, list[str]]]:
    known = modules(root)
    edges, private = {}, {}
    for name, path in known.items():
        edges[name], private[name] = imports(name, path, known)
    return edges, private


def _top(module: str) -> str:
    return module.split(".")[0]


def _tool(module: str) -> str:
    """Which tool a module of tools/ belongs to: tools.cli, tools.submission, ..."""
    return ".".join(module.split(".")[:2])


def _inside(module: str, package: str) -> bool:
    return module == package or module.startswith(f"{package}.")


def edge_problems(edges: dict[str, set[str]]) -> list[str]:
    problems = []
    for source, targets in sorted(edges.items()):
        for target in sorted(targets):
            top, other = _top(source), _top(target)
            where = f"{source} imports {target}"
            if other not in ALLOWED[top]:
                problems.append(f"{where}: {top}/ may import only {', '.join(sorted(ALLOWED[top]))}")
            if other == "bench" and top != "bench":
                problems.append(f"{where}: nothing imports bench/")
            if target == COMMAND_LINE:
                problems.append(f"{where}: no module but tools/cli.py imports the command line")
            elif top == "tools" and other == "tools" and _tool(source) not in (COMMAND_LINE, _tool(target)) \
                    and _tool(target) != "tools":
                problems.append(f"{where}: only tools/cli.py imports another tool")
            if other == "scaleout" and top == "tools" and source != COMMAND_LINE:
                problems.append(f"{where}: of the tools only tools/cli.py imports scaleout/")
            if top == "common" and target == RUN_PATH:
                problems.append(f"{where}: nothing in common/ imports the runner")
    return problems


def circles(edges: dict[str, set[str]]) -> list[str]:
    """Each strongly connected group of modules (Tarjan), as one path around it."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return [" -> ".join(_cycle(edges, group)) for group in groups]


def _cycle(edges: dict[str, set[str]], group: list[str]) -> list[str]:
    """One path from the group's first module back to it, inside the group (breadth first)."""
    start, members = group[0], set(group)
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for target in sorted(edges[node] & members):
                if target == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [*reversed(path), start]
                if target not in came_from:
                    came_from[target] = node
                    following.append(target)
        frontier = following
    return group


def unused_common(edges: dict[str, set[str]]) -> list[str]:
    """Modules of common/ neither reached from the runner nor from a benchmark's imports."""
    seen: set[str] = set()
    todo = [RUN_PATH] + [t for s, ts in edges.items() if _top(s) in ("vision", "translation") for t in ts]
    while todo:
        node = todo.pop()
        if node in seen or _top(node) != "common":
            continue
        seen.add(node)
        todo.extend(edges.get(node, ()))
    return sorted(m for m in edges if _top(m) == "common" and m not in seen and m != "common"
                  and not m.endswith("__init__") and m.count(".") and m not in _packages(edges))


def _packages(edges: dict[str, set[str]]) -> set[str]:
    return {m.rpartition(".")[0] for m in edges if "." in m}


def path_patches(root: Path) -> list[str]:
    """Modules that change sys.path (a package imports its neighbours by their names instead)."""
    found = []
    for name, path in modules(root).items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr == "path" and isinstance(node.value, ast.Name) \
                    and node.value.id == "sys":
                found.append(f"{name}: changes sys.path")
                break
    return found


def violations(root: Path = REPO) -> list[str]:
    edges, private = graph(root)
    found = [f"import circle: {c}" for c in circles(edges)]
    found += edge_problems(edges)
    found += [f"{m}: on no run path and used by no benchmark" for m in unused_common(edges)]
    found += [f"{m} imports the private {name}" for m, names in sorted(private.items()) for name in names]
    found += path_patches(root)
    return found


def test_the_layers_hold() -> None:
    found = violations()
    assert not found, "\n".join(found)


def test_the_walk_sees_function_bodies_and_type_checking_blocks(tmp_path: Path) -> None:
    (tmp_path / "common").mkdir()
    (tmp_path / "common" / "__init__.py").write_text("")
    (tmp_path / "common" / "runner.py").write_text("from common import report\n")
    (tmp_path / "common" / "report.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from scaleout import pool\n"
        "def f():\n    from common.runner import x\n")
    (tmp_path / "scaleout").mkdir()
    (tmp_path / "scaleout" / "__init__.py").write_text("")
    (tmp_path / "scaleout" / "pool.py").write_text("")
    (tmp_path / "tools" / "search").mkdir(parents=True)
    (tmp_path / "tools" / "search" / "peak.py").write_text("from scaleout import pool\n")
    (tmp_path / "common" / "lonely.py").write_text("")
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "run.py").write_text("import sys\nsys.path.insert(0, '.')\n")
    assert violations(tmp_path) == [
        "import circle: common.report -> common.runner -> common.report",
        "common.report imports common.runner: nothing in common/ imports the runner",
        "common.report imports scaleout.pool: common/ may import only common",
        "tools.search.peak imports scaleout.pool: of the tools only tools/cli.py imports scaleout/",
        "common.lonely: on no run path and used by no benchmark",
        "bench.run: changes sys.path",
    ]


def test_the_run_path_is_walked() -> None:
    edges, _ = graph(REPO)
    assert "common.loadgen_phase" in edges["common.session"]
    assert "common.runner" in edges["tools.cli"] or any("common.runner" in edges[m] for m in edges["tools.cli"])


def test_the_audit_test_names_are_spelled_in_one_module() -> None:
    """The audit facts live once (compliance/definitions.py); every other module names TEST04's runs through it."""
    spelling = [str(path.relative_to(REPO)) for package in PACKAGES for path in sorted((REPO / package).rglob("*.py"))
                if "TEST04-A" in path.read_text(encoding="utf-8")]
    assert spelling == ["compliance/definitions.py"]


COMMON_BUDGET_LINES = 5_600  # the harness a run needs, and no more (issue 20)


def common_lines(root: Path) -> int:
    """Lines of common/'s .py, .sh and .conf files (what the budget counts)."""
    files = [p for suffix in ("*.py", "*.sh", "*.conf") for p in (root / "common").rglob(suffix)]
    return sum(len(p.read_text(encoding="utf-8").splitlines()) for p in files)


def test_common_stays_within_its_line_budget(tmp_path: Path) -> None:
    assert common_lines(REPO) <= COMMON_BUDGET_LINES, (
        f"common/ is {common_lines(REPO):,} lines: move what only a tool uses to tools/ or compliance/")
    (tmp_path / "common" / "accuracy").mkdir(parents=True)
    (tmp_path / "common" / "a.py").write_text("x = 1\n\ny = 2\n")
    (tmp_path / "common" / "accuracy" / "b.sh").write_text("echo\n")
    (tmp_path / "common" / "mlperf.conf").write_text("*.*.k = 1\n")
    (tmp_path / "common" / "notes.md").write_text("not counted\n")
    assert common_lines(tmp_path) == 5
