"""The Gradio app: cited chat, passage search and the evaluation view. ``build_app`` builds, app.py launches."""

from assistant.app.ui import build_app

__all__ = ["build_app"]
