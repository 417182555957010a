"""Which job artifacts gitflink may fetch: an agent setting, never a resource's (the rules that
read it are in core.artifacts)."""

from __future__ import annotations

from dataclasses import dataclass, field

LOCAL = "local"  # the embedded runtime's job directory (upstream: a path inside the image)
DEFAULT_SCHEMES = frozenset({"https"})


@dataclass(frozen=True, slots=True)
class ArtifactPolicy:
    """`schemes`: what may be fetched (`local` is always allowed); `restricted_hosts`: refuse
    hosts on loopback, link-local (cloud metadata), private or otherwise internal addresses."""

    schemes: frozenset[str] = field(default_factory=lambda: DEFAULT_SCHEMES)
    restricted_hosts: bool = True

    def describe(self) -> str:
        return ", ".join(sorted(self.schemes | {LOCAL}))


DEFAULT_POLICY = ArtifactPolicy()
