"""Import Gradio without its stub writer: 1.5–2 s less start-up, nothing else changed.

On every import, each Gradio component class re-parses its own source file with ``ast`` and rewrites the
``.pyi`` type stub beside it (``gradio.component_meta.create_or_modify_pyi``). That is for Gradio's developers'
editors; the running app never reads the stubs, and it is half of ``import gradio`` (about 1.7 of 3.5 s on
the 2-core machine). ``skip_stub_writing`` installs a one-shot import hook that replaces the function with a
no-op as ``gradio.component_meta`` is loaded. If Gradio is already imported, or a later Gradio drops the
function, nothing happens.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

_MODULE = "gradio.component_meta"
_FUNCTION = "create_or_modify_pyi"


def _no_stub(*args: Any, **kwargs: Any) -> None:
    return None


class _SkipStubWriting(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != _MODULE:
            return None
        _remove(self)
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        loader = spec.loader if spec is not None else None
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        run = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            run(module)
            if callable(getattr(module, _FUNCTION, None)):
                setattr(module, _FUNCTION, _no_stub)

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def _remove(finder: importlib.abc.MetaPathFinder) -> None:
    with contextlib.suppress(ValueError):
        sys.meta_path.remove(finder)


def skip_stub_writing() -> None:
    """Before Gradio's first import: load it without rewriting its type stubs. Idempotent."""
    if _MODULE in sys.modules or any(isinstance(f, _SkipStubWriting) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _SkipStubWriting())
