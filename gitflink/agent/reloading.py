"""The config file, watched: before each pass the agent looks whether its bytes changed (a
Kubernetes ConfigMap update swaps a symlink, so content, not mtime, is compared) and applies
what can change in a running agent; the rest is logged as needing a restart. A file that no
longer reads is logged and the settings in force are kept: a typo never stops the agent."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Callable
from pathlib import Path

from gitflink.settings import Settings, SettingsError

log = logging.getLogger("gitflink.agent")

# Settings a running agent takes on at the next pass; everything else needs a restart
# (the repository, the listen address, the status branch, credentials, listeners ...).
RELOADABLE = frozenset(
    {
        "default_flink_configuration",
        "log_level",
        "log_format",
        "self_heal",
        "restart_failed",
        "restart_backoff_seconds",
        "restart_backoff_max_seconds",
        "stability_window_seconds",
        "allow_mass_prune",
        "max_prune_share",
        "drift_interval_seconds",
    }
)


def _stamp(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "unreadable"


class ConfigWatch:
    """`build` reads the settings again (environment, file, flags), as at start."""

    def __init__(self, current: Settings, build: Callable[[], Settings]) -> None:
        self.current = current
        self._build = build
        self._stamp = _stamp(current.config_file)

    def changed(self) -> Settings | None:
        """The settings with the file's reloadable changes applied, when there are any."""
        stamp = _stamp(self.current.config_file)
        if stamp == self._stamp:
            return None
        self._stamp = stamp
        try:
            new = self._build()
        except (SettingsError, OSError) as error:
            log.error("config file not reloaded, the settings in force stay: %s", error)
            return None
        names = {f.name for f in dataclasses.fields(Settings)}
        differs = {n for n in names if getattr(new, n) != getattr(self.current, n)}
        fixed = sorted(differs - RELOADABLE)
        if fixed:
            log.warning("config file changed %s: restart the agent to apply", ", ".join(fixed))
        applied = {n: getattr(new, n) for n in differs & RELOADABLE}
        if not applied:
            return None
        self.current = dataclasses.replace(self.current, **applied)
        log.info("config file reloaded: %s", ", ".join(sorted(applied)))
        return self.current
