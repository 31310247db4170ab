"""Run the report assistant's web app: ``python app.py [--host 127.0.0.1] [--port 7860] [--public]``.

Honours GRADIO_SERVER_NAME / GRADIO_SERVER_PORT. Logins: ASSISTANT_APP_USERS=path to a users file
(``assistant users add NAME``) and/or ASSISTANT_APP_AUTH="user:password". Without a login the app serves
only this machine (127.0.0.1, ::1, localhost) unless --public is given.
The first start builds the index (with progress in this terminal); later starts load it in seconds.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", "7860")))
    parser.add_argument("--public", action="store_true", help="serve a non-loopback host even without a login")
    args = parser.parse_args()

    from assistant.cli import _quiet_libraries

    _quiet_libraries()
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.WARNING)
    logging.getLogger("assistant").setLevel(logging.INFO)
    from assistant import Assistant, AssistantError
    from assistant.app.accounts import Accounts
    from assistant.app.security import check_host
    from assistant.config import AppSettings

    try:
        settings = AppSettings.from_env()
        check_host(args.host, Accounts.from_settings(settings), args.public)  # before the index: fail fast
        assistant = Assistant.load(progress=True)
        # Importing gradio after the index, not in a thread beside it: the two contend for the GIL and the
        # start was ~1 s slower that way (`assistant bench --only startup`).
        from assistant.app.launch import launch

        print(f"Open http://{args.host}:{args.port} (Ctrl-C to stop)", flush=True)
        launch(assistant, host=args.host, port=args.port, settings=settings, public=args.public)
    except AssistantError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
