"""The shape of the tree stays readable: short modules, and every package says what it holds."""

import ast

from tests.support import REPO_ROOT

MOST_LINES = 400


def product_modules():
    for package in ("videochat", "desktop"):
        yield from sorted((REPO_ROOT / package).rglob("*.py"))


def test_no_module_of_the_app_is_over_400_lines():
    long = {str(path.relative_to(REPO_ROOT)): count for path in product_modules() if (count := len(path.read_text().splitlines())) > MOST_LINES}
    assert not long, f"split these by job: {long}"


def test_every_module_and_package_opens_with_a_docstring():
    missing = [str(path.relative_to(REPO_ROOT)) for path in product_modules() if path.stat().st_size and ast.get_docstring(ast.parse(path.read_text())) is None]
    assert not missing, missing


def _imported_modules(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def test_no_test_module_imports_another_test_module():
    """What tests share lives in tests/support or a conftest: a test module imported by another runs its
    module-level code twice and pulls its fixtures in under the importer's name."""
    crossing = {
        str(path.relative_to(REPO_ROOT)): name
        for path in sorted((REPO_ROOT / "tests").rglob("test_*.py"))
        for name in _imported_modules(ast.parse(path.read_text()))
        if name.startswith("tests.") and name.rsplit(".", 1)[-1].startswith("test_")
    }
    assert not crossing, crossing
