"""Logging, configured once per command from Settings: level, console or JSON lines on stderr.

Flink REST calls (httpx, httpcore) stay at WARNING unless asked for (`-vv`): an agent makes
thousands of them an hour, and one line each drowns what happened to the resources.
"""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

from gitflink.settings import Settings

CONSOLE = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Libraries whose per-request lines are noise at INFO.
CHATTY = ("httpx", "httpcore", "urllib3", "git")


class _Stderr:
    """Writes to whatever sys.stderr is at the time (a test's capture, a redirected stream)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


class _Handler(logging.StreamHandler[_Stderr]):
    """Ours: found and replaced on reconfiguration, leaving other handlers (pytest's) alone."""


def configure(settings: Settings) -> None:
    handler = _Handler(_Stderr())
    if settings.log_format == "json":
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(logging.Formatter(CONSOLE))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    chatty = logging.INFO if settings.log_requests else logging.WARNING
    for name in CHATTY:
        logging.getLogger(name).setLevel(max(chatty, root.level))
