"""timm.models of the test-only stub (see timm/__init__.py)."""
