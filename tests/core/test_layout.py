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
