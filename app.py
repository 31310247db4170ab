"""Run the report assistant's web app: ``python app.py [--host 127.0.0.1] [--port 7860]``.

Honours GRADIO_SERVER_NAME / GRADIO_SERVER_PORT; ASSISTANT_APP_AUTH="user:password" adds a login.
The first start builds the index (with progress in this terminal); later starts load it in seconds.
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", "7860")))
    args = parser.parse_args()

    from assistant.cli import _quiet_libraries

    _quiet_libraries()
    from assistant import Assistant, AssistantError
    from assistant.app.launch import launch

    try:
        assistant = Assistant.load(progress=True)
    except AssistantError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    print(f"Open http://{args.host}:{args.port} (Ctrl-C to stop)", flush=True)
    launch(assistant, host=args.host, port=args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
