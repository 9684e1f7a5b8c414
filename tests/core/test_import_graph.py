"""The import graphs of the core and of the window have no cycle, and every module path written as a string names a module that exists.

Both are read from the source (no imports), so a rename that leaves a string behind, or a new
import that closes a loop, fails here rather than at a user's first load.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIRST_PARTY = ("videochat", "desktop")

# Cycles that another change ends; each names where. Delete the line when it lands.
KNOWN_CYCLES: set[frozenset[str]] = set()


def module_files(package: str) -> dict[str, Path]:
    found = {}
    for path in (ROOT / package).rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _is_type_checking(node: ast.AST) -> bool:
    test = getattr(node, "test", None) if isinstance(node, ast.If) else None
    return isinstance(test, ast.Name) and test.id == "TYPE_CHECKING" or isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _walk_run_time(tree: ast.AST):
    """`ast.walk`, without the bodies of `if TYPE_CHECKING:` (imports for type hints never run)."""
    pending = [tree]
    while pending:
        node = pending.pop()
        yield node
        if _is_type_checking(node):
            pending.extend(node.orelse)
        else:
            pending.extend(ast.iter_child_nodes(node))


def imports_of(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """Every module of `known` that `name` imports, at its top or inside a function (a lazy import still closes a loop)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in _walk_run_time(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in known)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package
                for _ in range(node.level - 1):
                    parent = parent.rpartition(".")[0]
                base = f"{parent}.{base}" if base else parent
            for alias in node.names:
                if f"{base}.{alias.name}" in known:
                    found.add(f"{base}.{alias.name}")
                elif base in known:
                    found.add(base)
    found.discard(name)
    return found


def cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected parts of more than one module (Tarjan's algorithm, without recursion limits)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                part = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    part.add(member)
                    if member == node:
                        break
                if len(part) > 1:
                    found.append(frozenset(part))
    return found


def test_the_cycle_finder_finds_a_loop_through_three_modules():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [frozenset("abc")]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_of_the_core_imports_itself_back():
    known = module_files("videochat")
    graph = {name: imports_of(name, path, known) for name, path in known.items()}
    assert graph["videochat.models.resolve"] >= {"videochat.models.catalog", "videochat.families"}  # the graph sees real edges
    assert set(cycles(graph)) - KNOWN_CYCLES == set()


def test_no_module_of_the_window_imports_itself_back():
    known = {**module_files("videochat"), **module_files("desktop")}
    graph = {name: imports_of(name, path, known) for name, path in known.items()}
    assert "desktop.chat.asking" in graph["desktop.windows.main_window"]  # the graph sees real edges
    assert "desktop.windows.main_window" not in graph["desktop.chat.asking"]  # its type hint's import does not run
    assert set(cycles(graph)) - KNOWN_CYCLES == set()


def module_exists(dotted: str) -> bool:
    """Whether `dotted` ("a.b.c", or "a.b:Name") names a module (and a name defined at its top), found without importing it."""
    module, _, attribute = dotted.partition(":")
    top, *rest = module.split(".")
    if top in FIRST_PARTY:
        places = [ROOT]
        rest = [top, *rest]
    else:
        spec = importlib.util.find_spec(top)
        if spec is None:
            return False
        places = [Path(place) for place in spec.submodule_search_locations or ()]
        if not rest:
            return True
    path = None
    for part in rest:
        path = next(
            (found for place in places for found in (place / part / "__init__.py", place / f"{part}.py", *place.glob(f"{part}.*.so"), *place.glob(f"{part}.*.pyd")) if found.is_file()),
            None,
        )
        if path is None:
            return False
        places = [path.parent] if path.name == "__init__.py" else []
    if not attribute:
        return True
    if path.suffix != ".py":
        return False
    tree = ast.parse(path.read_text(encoding="utf-8"))
    defined = {node.name for node in tree.body if isinstance(node, (ast.ClassDef, ast.FunctionDef))}
    defined |= {target.id for node in tree.body if isinstance(node, ast.Assign) for target in node.targets if isinstance(target, ast.Name)}
    return attribute in defined


def backend_targets() -> list[str]:
    """Every "module:Class" string in the core's source (the family modules declare their backends so)."""
    pattern = re.compile(r"(?:videochat|desktop)(?:\.\w+)+:\w+")
    return [
        node.value
        for path in module_files("videochat").values()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and pattern.fullmatch(node.value)
    ]


def modules_not_imported_before_the_first_paint() -> set[str]:
    """The `later` set of the start-up test, read from the code it runs in a subprocess."""
    source = (ROOT / "tests/desktop/windows/test_main_window.py").read_text(encoding="utf-8")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and "later = {" in node.value:
            for statement in ast.walk(ast.parse(textwrap.dedent(node.value))):
                if isinstance(statement, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "later" for t in statement.targets):
                    return set(ast.literal_eval(statement.value))
    raise AssertionError("the start-up test no longer lists the modules it keeps out of the first paint")


def packages_the_build_collects() -> set[str]:
    """The app's own packages that build/videochat.spec collects (collect_submodules' first arguments; timm is optional there)."""
    tree = ast.parse((ROOT / "build/videochat.spec").read_text(encoding="utf-8"))
    return {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "collect_submodules" and node.args and isinstance(node.args[0], ast.Constant)
        and node.args[0].value.split(".")[0] in FIRST_PARTY
    }


def test_the_existence_check_tells_a_renamed_module_from_a_real_one():
    assert module_exists("videochat.models.resolve") and module_exists("videochat.backends.native:Qwen2VLBackend")
    assert not module_exists("videochat.models.catalog:resolve_model") and not module_exists("videochat.frames.families")
    assert module_exists("PySide6.QtMultimedia") and not module_exists("PySide6.QtNoSuchPart")


def test_every_module_path_written_as_a_string_names_a_module_that_exists():
    targets = backend_targets()
    assert len(targets) >= 4  # the families' backends are found
    later = modules_not_imported_before_the_first_paint()
    assert "videochat.backends" in later
    collected = packages_the_build_collects()
    assert {"videochat", "desktop"} <= collected
    missing = sorted(name for name in {*targets, *later, *collected} if not module_exists(name))
    assert missing == []


def test_every_family_backend_names_a_class_that_exists():
    from videochat.families import all_backends

    assert sorted(name for name, backend in all_backends().items() if not module_exists(backend.target)) == []
