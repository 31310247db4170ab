"""The Gradio app: cited chat, passage search and the evaluation view. ``build_app`` builds, ``launch`` serves.

``build_app`` is imported on first use, so ``assistant users`` (which only needs ``accounts``) starts without Gradio.
"""

from __future__ import annotations

from typing import Any

from assistant.app.gradio_import import patch_gradio

patch_gradio()

__all__ = ["build_app"]


def __getattr__(name: str) -> Any:
    if name == "build_app":
        from assistant.app.ui import build_app

        return build_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
