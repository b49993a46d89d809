"""dataclasses, imported without importing `inspect` (and `ast`, `dis`, `tokenize`) with it.

`import dataclasses` imports `inspect`, which imports `ast`, `dis`, `tokenize` and more: 25 M of
the 28 M instructions the import costs (Python 3.11), a tenth of an `extract-notes` run on a
small changelog. dataclasses uses `inspect` in one place only: `inspect.signature(cls)`, to write
the `__doc__` of a dataclass that has no docstring. So dataclasses is imported here with a
stand-in as its `inspect`: a module that forwards every attribute asked of it to the real
`inspect`, imported on that first use (PEP 562 `__getattr__`). The stand-in is in `sys.modules`
only while dataclasses imports, so any later `import inspect` is the real module; what
dataclasses does is unchanged, and a run whose dataclasses all have docstrings (every one
`extract-notes` makes: tests/test_startup.py) never imports `inspect`.

`release/__init__.py` imports this module, so it runs before anything of ours imports
dataclasses. When dataclasses (or `inspect`) is already imported, it does nothing.
"""

from __future__ import annotations

import sys
import types


def _forward(name: str) -> object:
    """The real `inspect`'s `name` (PEP 562: called for what the stand-in does not hold)."""
    if sys.modules.get("inspect") is _STAND_IN:  # asked while dataclasses imports
        del sys.modules["inspect"]
    import inspect  # noqa: PLC0415 (the point: imported when first used)

    return getattr(inspect, name)


_STAND_IN = types.ModuleType("inspect", "`inspect`, imported when first used (fast_dataclasses).")
vars(_STAND_IN)["__getattr__"] = _forward  # PEP 562: what the module lacks


def _import_dataclasses() -> None:
    if "dataclasses" in sys.modules or "inspect" in sys.modules:
        return
    sys.modules["inspect"] = _STAND_IN
    try:
        import dataclasses  # noqa: F401, PLC0415 (inside the patch)
    finally:
        if sys.modules.get("inspect") is _STAND_IN:
            del sys.modules["inspect"]


_import_dataclasses()
