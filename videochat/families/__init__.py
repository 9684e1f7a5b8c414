"""The model families, each declared once in a module of this package, and the registry that finds them.

A family module defines `FAMILY = Family(...)`: its video rule (frame count, sampler, transform),
its backends ("module:Class", imported only when a model loads, so importing the core stays
free of torch), whether they run the model folder's code, and how a config.json is recognised.
Every module of this package that defines `FAMILY` is one (found with pkgutil, so adding a family
is one module here plus its catalog entries); nothing else branches on family names.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from functools import cache

from videochat.errors import UnknownModel
from videochat.families.family import Backend, Family, ModelConfig
from videochat.safe_text import one_line

__all__ = ["Backend", "Family", "ModelConfig", "all_backends", "all_families", "backend_for_config", "get_family"]


@cache
def all_families() -> dict[str, Family]:
    """Every family module's `FAMILY` by name, in module-name order."""
    found: dict[str, Family] = {}
    for name in _module_names():
        family = getattr(importlib.import_module(name), "FAMILY", None)
        if family is None:
            continue
        if family.name in found:
            raise ValueError(f"two family modules declare {family.name!r}: {name} and another")
        found[family.name] = family
    return found


def _module_names() -> list[str]:
    """This package's modules, sorted: listed by pkgutil, or in the bundle by PyInstaller's archive table
    (its pkgutil hook is not always installed, and then pkgutil lists nothing in a frozen app)."""
    names = {info.name for info in pkgutil.iter_modules(__path__, f"{__name__}.")}
    if not names and getattr(sys, "frozen", False):
        import pyimod02_importers  # PyInstaller's bootstrap module, present only in its bundles

        node = pyimod02_importers.get_pyz_toc_tree()
        for part in __name__.split("."):
            node = node.get(part, {}) if isinstance(node, dict) else {}
        names = {f"{__name__}.{name}" for name in node} if isinstance(node, dict) else set()
    return sorted(names)


@cache
def all_backends() -> dict[str, Backend]:
    """Every family's backends by name; families sharing a backend must declare the same target."""
    found: dict[str, Backend] = {}
    for family in all_families().values():
        for backend in family.backends:
            earlier = found.setdefault(backend.name, backend)
            if earlier.target != backend.target:
                raise ValueError(f"backend {backend.name!r} is declared as {earlier.target} and as {backend.target}")
    return found


def __getattr__(name: str):
    # FAMILIES reads as the dict it always was, filled on first use rather than at import.
    if name == "FAMILIES":
        return all_families()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def get_family(name: str) -> Family:
    families = all_families()
    try:
        return families[name]
    except KeyError:
        raise KeyError(f"unknown model family {name!r}; known: {', '.join(families)}") from None


def runs_model_code(backend: str) -> bool:
    """Whether the backend named `backend` loads with trust_remote_code=True."""
    return any(family.runs_model_code and any(b.name == backend for b in family.backends) for family in all_families().values())


def backend_for_config(config: dict, folder_name: str = "") -> tuple[str, str]:
    """(backend, family) for a model known only by its config.json (and the name of its folder).

    A backend that claims the config's `model_type` wins (where families of two runtimes claim it,
    the one of the runtime whose transformers wrote the config: `transformers_version`); else the
    first family (in module-name order) whose backend recognises it.
    """
    facts = ModelConfig(config, folder_name)
    candidates = [(backend, family) for family in all_families().values() for backend in family.backends]
    claiming = [(backend, family) for backend, family in candidates if backend.model_type and backend.model_type == facts.model_type]
    if claiming:
        from videochat.runtimes import runtime_for_version

        written_in = runtime_for_version(facts.written_by)
        backend, family = min(claiming, key=lambda pair: pair[1].runtime != written_in)  # the first of that runtime, else the first
        return backend.name, family.name
    for backend, family in candidates:
        if backend.recognises is not None and backend.recognises(facts):
            return backend.name, family.name
    shown = [backend.shown for backend, _ in candidates if backend.shown]
    raise UnknownModel(
        f"The model's config (model_type {one_line(repr(facts.model_type or 'unset'))}, architectures {one_line(repr(facts.architectures[:4]))}) is not one this app "
        f"can run: choose an {', '.join(shown[:-1])} or {shown[-1]} model."
    )
