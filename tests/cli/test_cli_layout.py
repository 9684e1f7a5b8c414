"""The command line's modules import each other one way, and read the core's lists and defaults
rather than copies of them."""

from __future__ import annotations

import ast

from tests.support import REPO_ROOT


def imports_within(package: str) -> dict[str, set[str]]:
    """Each module of `package` (dotted) → the modules of that package it imports, at the top or
    inside a function: a cycle through a function-level import is a cycle still."""
    folder = REPO_ROOT.joinpath(*package.split("."))
    modules = {f"{package}.{path.stem}" if path.stem != "__init__" else package: path for path in folder.glob("*.py")}
    graph = {}
    for name, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                found |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
            elif isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
        graph[name] = {module for module in found & set(modules) if module not in (name, package)}
    return graph


def a_cycle(graph: dict[str, set[str]]) -> list[str]:
    visiting, done = [], set()

    def visit(module):
        if module in visiting:
            return visiting[visiting.index(module):] + [module]
        if module in done:
            return []
        visiting.append(module)
        for imported in sorted(graph[module]):
            if cycle := visit(imported):
                return cycle
        visiting.pop()
        done.add(module)
        return []

    for module in sorted(graph):
        if cycle := visit(module):
            return cycle
    return []


def test_the_cli_modules_import_each_other_without_a_cycle():
    graph = imports_within("videochat.cli")
    assert "videochat.cli.arguments" in graph["videochat.cli.batch"]
    assert a_cycle(graph) == []


def test_the_cycle_finder_finds_one():
    assert a_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_the_cli_offers_every_reader_the_core_has_and_auto():
    from videochat.cli.commands import build_parser
    from videochat.video.source import READERS

    commands = build_parser()._subparsers._group_actions[0].choices
    for name in ("sample", "preprocess", "ask", "batch"):
        (reader,) = [action for action in commands[name]._actions if action.dest == "reader"]
        assert reader.choices == ["auto", *READERS], name


def test_the_cli_s_generation_defaults_are_the_core_s():
    from videochat.cli.commands import build_parser
    from videochat.generation import GenerationSettings
    from videochat.settings import Settings

    for command in ("ask", "batch"):
        args = build_parser().parse_args([command, *(["clip.mp4", "q"] if command == "ask" else ["clips", "--questions", "q", "--out", "o"]), "--model", "m"])
        assert (args.max_new_tokens, args.temperature) == (GenerationSettings().max_new_tokens, GenerationSettings().temperature)
    assert (Settings().max_new_tokens, Settings().temperature) == (GenerationSettings().max_new_tokens, GenerationSettings().temperature)
