"""The agent's Prometheus metrics: one catalogue (docs/observability.md lists the same names,
checked by a test) and `PrometheusMeter`, the `Meter` port over it. A measurement the catalogue
does not know, or with the wrong labels, is logged and dropped: metrics never break a pass."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import cast

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.metrics import MetricWrapperBase

log = logging.getLogger(__name__)

SECONDS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
LONG = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400)

# name as exposed -> (type, help, labels, buckets)
CATALOGUE: dict[str, tuple[str, str, tuple[str, ...], tuple[float, ...]]] = {
    "gitflink_passes_total": ("counter", "Reconcile passes, by result", ("result",), ()),
    "gitflink_pass_duration_seconds": ("histogram", "Wall time of one pass", (), SECONDS),
    "gitflink_pass_stage_duration_seconds": (
        "histogram",
        "Time a pass spent per stage: fetch, parse, plan (statuses, observation, planning), "
        "execute, status (reporting and saving)",
        ("stage",),
        SECONDS,
    ),
    "gitflink_last_successful_pass_timestamp_seconds": ("gauge", "Unix time", (), ()),
    "gitflink_wakeups_total": ("counter", "Why passes ran", ("reason",), ()),
    "gitflink_webhook_requests_total": ("counter", "Webhook requests", ("outcome",), ()),
    "gitflink_status_documents_unreadable": (
        "gauge",
        "Status documents the last pass could not read (their resources are held)",
        (),
        (),
    ),
    "gitflink_commit_age_seconds": (
        "histogram",
        "Age of a commit when a pass applied a change from it (commit time to applied)",
        (),
        LONG,
    ),
    "gitflink_resources": ("gauge", "Resources by lifecycle state", ("state",), ()),
    "gitflink_upgrades_total": (
        "counter",
        "Upgrades, redeploys and rescales carried out, by upgrade mode and outcome",
        ("mode", "outcome"),
        (),
    ),
    "gitflink_recoveries_total": (
        "counter",
        "Recoveries (action recover) carried out, by outcome",
        ("outcome",),
        (),
    ),
    "gitflink_snapshot_duration_seconds": (
        "histogram",
        "From trigger to completion of a savepoint or checkpoint, by kind and outcome",
        ("kind", "outcome"),
        SECONDS,
    ),
    "gitflink_flink_rest_requests_total": (
        "counter",
        "Flink REST calls by verb and status code (timeout, unreachable: no answer)",
        ("verb", "code"),
        (),
    ),
    "gitflink_retries_total": ("counter", "Retried operations, by cause", ("cause",), ()),
    "gitflink_git_fetch_duration_seconds": (
        "histogram",
        "Time to bring the followed ref up to date (ls-remote, and fetch when it moved)",
        (),
        SECONDS,
    ),
    "gitflink_git_fetch_errors_total": (
        "counter",
        "Git fetches that failed, by error",
        ("error",),
        (),
    ),
    "gitflink_listener_failures_total": (
        "counter",
        "Resource listener calls that failed, by listener and reason (error, timeout, busy, load)",
        ("listener", "reason"),
        (),
    ),
    "gitflink_leader": (
        "gauge",
        "1 while this agent holds the leader Lease, else 0 (leader election only)",
        (),
        (),
    ),
    "gitflink_leader_transitions_total": (
        "counter",
        "Times this agent acquired or lost the leader Lease, by change (acquired, lost)",
        ("change",),
        (),
    ),
    "gitflink_fenced_writes_total": (
        "counter",
        "Writes refused because this agent could not prove it holds the leader Lease",
        (),
        (),
    ),
}


def _build(registry: CollectorRegistry) -> dict[str, MetricWrapperBase]:
    built: dict[str, MetricWrapperBase] = {}
    for name, (kind, text, labels, buckets) in CATALOGUE.items():
        if kind == "counter":
            built[name] = Counter(name.removesuffix("_total"), text, labels, registry=registry)
        elif kind == "gauge":
            built[name] = Gauge(name, text, labels, registry=registry)
        else:
            built[name] = Histogram(name, text, labels, buckets=buckets, registry=registry)
    return built


class PrometheusMeter:
    """Implements gitflink.ports.Meter over the catalogue's metrics."""

    def __init__(self, metrics: Mapping[str, MetricWrapperBase]) -> None:
        self._metrics = metrics

    def _child(self, name: str, labels: Mapping[str, str] | None) -> MetricWrapperBase | None:
        metric = self._metrics.get(name)
        if metric is None:
            log.debug("no metric %s: measurement dropped", name)
            return None
        try:
            return metric.labels(**labels) if labels else metric
        except ValueError as error:
            log.warning("metric %s: %s: measurement dropped", name, error)
            return None

    def count(self, name: str, labels: Mapping[str, str] | None = None, amount: float = 1) -> None:
        child = self._child(name, labels)
        if isinstance(child, Counter):
            child.inc(amount)

    def observe(self, name: str, value: float, labels: Mapping[str, str] | None = None) -> None:
        child = self._child(name, labels)
        if isinstance(child, Histogram):
            child.observe(value)

    def set(self, name: str, value: float, labels: Mapping[str, str] | None = None) -> None:
        child = self._child(name, labels)
        if isinstance(child, Gauge):
            child.set(value)


@dataclass
class Metrics:
    """The agent's registry, every metric of the catalogue, and the meter over them."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.by_name = _build(self.registry)
        self.meter = PrometheusMeter(self.by_name)
        by = self.by_name
        self.passes = cast(Counter, by["gitflink_passes_total"])
        self.duration = cast(Histogram, by["gitflink_pass_duration_seconds"])
        self.last_success = cast(Gauge, by["gitflink_last_successful_pass_timestamp_seconds"])
        self.wakeups = cast(Counter, by["gitflink_wakeups_total"])
        self.webhooks = cast(Counter, by["gitflink_webhook_requests_total"])
        self.unreadable = cast(Gauge, by["gitflink_status_documents_unreadable"])

    def exposed(self) -> set[str]:
        """Every metric family the registry exposes, counters with their `_total`."""
        names = set()
        for family in self.registry.collect():
            names.add(f"{family.name}_total" if family.type == "counter" else family.name)
        return names
