"""Import Gradio without two costs the app never needs: 1.5–2 s off the start, 0.3 s off the first answer.

- On every import, each Gradio component class re-parses its own source file with ``ast`` and rewrites the
  ``.pyi`` type stub beside it (``gradio.component_meta.create_or_modify_pyi``). That is for Gradio's own
  developers' editors; the running app never reads the stubs, and it is half of ``import gradio`` (about
  1.7 of 3.5 s on the 2-core machine). It becomes a no-op.
- Around every event, Gradio imports matplotlib to pin its backend to "agg"
  (``gradio.utils.MatplotlibBackendMananger``): 0.3 s on the first request, for an app that draws nothing.
  The guard now acts only when matplotlib is already imported (by something that does draw).

``patch_gradio`` installs a one-shot import hook that applies both as those modules load. If Gradio is already
imported, nothing changes; if a later Gradio drops either name, that patch does nothing.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import sys
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any


def _no_stub(*args: Any, **kwargs: Any) -> None:
    return None


def _skip_stub_writing(module: ModuleType) -> None:
    if callable(getattr(module, "create_or_modify_pyi", None)):
        module.create_or_modify_pyi = _no_stub  # type: ignore[attr-defined]


def _matplotlib_only_if_loaded(module: ModuleType) -> None:
    manager = getattr(module, "MatplotlibBackendMananger", None)  # sic: Gradio's spelling
    if manager is None:
        return
    enter, leave = manager.__enter__, manager.__exit__

    def __enter__(self: Any) -> None:
        self._active = "matplotlib" in sys.modules
        if self._active:
            enter(self)

    def __exit__(self: Any, *exc: object) -> None:
        if getattr(self, "_active", False):
            leave(self, *exc)

    manager.__enter__ = __enter__
    manager.__exit__ = __exit__


PATCHES: dict[str, Callable[[ModuleType], None]] = {
    "gradio.component_meta": _skip_stub_writing,
    "gradio.utils": _matplotlib_only_if_loaded,
}


class _PatchGradio(importlib.abc.MetaPathFinder):
    def __init__(self) -> None:
        self.pending = dict(PATCHES)

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        patch = self.pending.pop(fullname, None)
        if patch is None:
            return None
        if not self.pending:
            with contextlib.suppress(ValueError):
                sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        loader = spec.loader if spec is not None else None
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        run = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            run(module)
            patch(module)

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def patch_gradio() -> None:
    """Before Gradio's first import: load it without the stub writer and the eager matplotlib. Idempotent."""
    if "gradio" in sys.modules or any(isinstance(f, _PatchGradio) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _PatchGradio())
