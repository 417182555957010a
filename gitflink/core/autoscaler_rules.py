"""`job.autoscaler.*` options, after the operator's AutoscalerValidator: ranges, parallelism
bounds, the excluded periods and the metric window against the reconcile interval."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from gitflink.core import quantities
from gitflink.core.parsing import CONFIG, Desired
from gitflink.model.problems import Problem

PREFIX = "job.autoscaler."
ENABLED = PREFIX + "enabled"
TARGET = (PREFIX + "utilization.target", PREFIX + "target.utilization")
DEFAULT_TARGET = Decimal("0.7")
WINDOW, DEFAULT_WINDOW = PREFIX + "metrics.window", Decimal(15 * 60)
RECONCILE, DEFAULT_RECONCILE = "kubernetes.operator.reconcile.interval", Decimal(60)
EXCLUDED = PREFIX + "excluded.periods"
MIN_PARALLELISM, MAX_PARALLELISM = (
    PREFIX + "vertex.min-parallelism",
    PREFIX + "vertex.max-parallelism",
)
# (option, lowest, highest, the feature flag it needs); None: unbounded / always checked.
RANGES: tuple[tuple[str, Decimal | None, Decimal | None, str | None], ...] = (
    (PREFIX + "scale-down.max-factor", Decimal(0), None, None),
    (PREFIX + "scale-up.max-factor", Decimal(0), None, None),
    (PREFIX + "target.utilization.boundary", Decimal(0), None, None),
    (PREFIX + "memory.gc-pressure.threshold", Decimal(0), Decimal(1), None),
    (PREFIX + "memory.heap-usage.threshold", Decimal(0), Decimal(1), None),
    (
        PREFIX + "observed-scalability.coefficient-min",
        Decimal("0.01"),
        Decimal(1),
        PREFIX + "observed-scalability.enabled",
    ),
    (
        PREFIX + "scaling.effectiveness.threshold",
        Decimal(0),
        Decimal(1),
        PREFIX + "scaling.effectiveness.detection.enabled",
    ),
    (PREFIX + "memory.tuning.overhead", Decimal(0), Decimal(1), PREFIX + "memory.tuning.enabled"),
)
Report = Callable[[str, str], None]  # (configuration key, message)
_DAILY = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?-(\d{1,2}):(\d{2})(?::(\d{2}))?$")
_CRON_FIELD = re.compile(r"^[0-9A-Za-z*?,/#\-]+$")


def autoscaler_problems(item: Desired, conf: Mapping[str, Any]) -> list[Problem]:
    """Problems of the effective configuration (a session job's merged over its cluster's)."""
    if not _true(conf.get(ENABLED)):
        return []  # upstream checks nothing while the autoscaler is off
    problems: list[Problem] = []

    def problem(key: str, message: str) -> None:
        problems.append(item.problem(f"{CONFIG}.{key}", message))

    target_key = next((key for key in TARGET if key in conf), TARGET[0])
    given = _number(conf, target_key, problem)
    _check(target_key, given, Decimal(0), Decimal(1), problem)
    target = DEFAULT_TARGET if given is None else given
    for key, low, high in (
        (PREFIX + "utilization.max", target, Decimal(1)),
        (PREFIX + "utilization.min", Decimal(0), target),
    ):
        _check(key, _number(conf, key, problem), low, high, problem)
    for key, lowest, highest, feature in RANGES:
        if feature is None or _true(conf.get(feature)):
            _check(key, _number(conf, key, problem), lowest, highest, problem)
    _parallelism_bounds(conf, problem)
    _window(conf, problem)
    for period in _periods(conf.get(EXCLUDED)):
        if not _valid_period(period):
            message = (
                f"{period!r} is neither a daily time range (HH:mm-HH:mm, start before end) "
                "nor a cron expression"
            )
            problem(EXCLUDED, message)
    return problems


def _number(conf: Mapping[str, Any], key: str, problem: Report) -> Decimal | None:
    if conf.get(key) is None:
        return None
    try:
        value = Decimal(str(conf[key]).strip())
    except InvalidOperation:
        problem(key, f"invalid value {str(conf[key])!r}: not a number")
        return None
    return value if value.is_finite() else None


def _check(
    key: str, value: Decimal | None, low: Decimal | None, high: Decimal | None, problem: Report
) -> None:
    if value is None or ((low is None or value >= low) and (high is None or value <= high)):
        return
    bounds = (
        f"[{low if low is not None else '-Infinity'}, {high if high is not None else '+Infinity'}]"
    )
    problem(key, f"{value} is out of range: must be within {bounds}")


def _parallelism_bounds(conf: Mapping[str, Any], problem: Report) -> None:
    low = _number(conf, MIN_PARALLELISM, problem)
    high = _number(conf, MAX_PARALLELISM, problem)
    for key, value in ((MIN_PARALLELISM, low), (MAX_PARALLELISM, high)):
        if value is not None and (value < 1 or value != value.to_integral_value()):
            problem(key, f"{value} is out of range: must be a whole number of at least 1")
    if low is not None and high is not None and low > high:
        problem(MIN_PARALLELISM, f"{low} is above {MAX_PARALLELISM} ({high})")


def _window(conf: Mapping[str, Any], problem: Report) -> None:
    """A window shorter than the reconcile interval holds fewer than two metric samples, and
    the autoscaler then never scales (FLINK-39826)."""
    window = _seconds(conf, WINDOW, DEFAULT_WINDOW, problem)
    interval = _seconds(conf, RECONCILE, DEFAULT_RECONCILE, problem)
    if window is not None and interval is not None and window < interval:
        problem(
            WINDOW,
            f"{conf.get(WINDOW, '15 min')} is shorter than the reconcile interval "
            f"({conf.get(RECONCILE, '60 s')}): the autoscaler would never collect enough metrics",
        )


def _seconds(
    conf: Mapping[str, Any], key: str, default: Decimal, problem: Report
) -> Decimal | None:
    if conf.get(key) is None:
        return default
    try:
        return quantities.seconds(str(conf[key]))
    except ValueError as error:
        problem(key, f"invalid value: {error}")
        return None


def _periods(value: Any) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else str(value).split(";")
    return [str(item).strip() for item in items if str(item).strip()]


def _valid_period(period: str) -> bool:
    daily = _DAILY.match(period.replace(" ", ""))
    if daily is not None:
        start = _daytime(daily.group(1), daily.group(2), daily.group(3))
        end = _daytime(daily.group(4), daily.group(5), daily.group(6))
        return start is not None and end is not None and start < end
    fields = period.split()
    return 6 <= len(fields) <= 7 and all(_CRON_FIELD.match(field) for field in fields)


def _daytime(hours: str, minutes: str, secs: str | None) -> int | None:
    h, m, s = int(hours), int(minutes), int(secs or 0)
    if h > 23 or m > 59 or s > 59:
        return None
    return h * 3600 + m * 60 + s


def _true(value: Any) -> bool:
    return value is True or str(value).strip().lower() == "true"
