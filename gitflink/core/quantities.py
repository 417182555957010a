"""Memory, CPU and storage amounts and Flink durations, read as the operator and Flink read them.

Pure. Each reader returns the amount, or raises ValueError with a message fit for a Problem.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

# Flink's MemorySize: digits, optional blanks, an optional unit (case-insensitive).
_FLINK_MEMORY = re.compile(r"^\s*(\d+)\s*([a-zA-Z]*)\s*$")
_FLINK_UNITS = {
    **dict.fromkeys(("", "b", "bytes"), 1),
    **dict.fromkeys(("k", "kb", "kibibytes"), 1 << 10),
    **dict.fromkeys(("m", "mb", "mebibytes"), 1 << 20),
    **dict.fromkeys(("g", "gb", "gibibytes"), 1 << 30),
    **dict.fromkeys(("t", "tb", "tebibytes"), 1 << 40),
}
# A Kubernetes quantity: a signed decimal number, then a binary or decimal SI suffix or an
# exponent.
_QUANTITY = re.compile(
    r"^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$"
)
_SUFFIXES = {
    "": Decimal(1),
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
    **{f"{p}i": Decimal(1 << (10 * (i + 1))) for i, p in enumerate("KMGTPE")},
}
# Flink's Duration option syntax: a number and an optional unit (milliseconds when none).
_DURATION = re.compile(r"^\s*(\d+)\s*([a-zA-Zµ]*)\s*$")
_DURATION_UNITS = {
    **dict.fromkeys(("ns", "nano", "nanos", "nanosecond", "nanoseconds"), Decimal("1e-9")),
    **dict.fromkeys(
        ("us", "µs", "micro", "micros", "microsecond", "microseconds"), Decimal("1e-6")
    ),
    **dict.fromkeys(("", "ms", "milli", "millis", "millisecond", "milliseconds"), Decimal("1e-3")),
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), Decimal(1)),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), Decimal(60)),
    **dict.fromkeys(("h", "hour", "hours"), Decimal(3600)),
    **dict.fromkeys(("d", "day", "days"), Decimal(86400)),
}


def quantity(text: str) -> Decimal:
    """A Kubernetes quantity (`500m`, `2Gi`, `1e3`, `1.5`) as a number."""
    found = _QUANTITY.match(text.strip())
    if found is None:
        raise ValueError(f"{text!r} is not a Kubernetes quantity (like 500m, 2Gi or 1.5)")
    number, suffix = found.group(1), found.group(2) or ""
    try:
        if suffix[:1] in ("e", "E"):
            return Decimal(number) * Decimal(10) ** int(suffix[1:])
        return Decimal(number) * _SUFFIXES[suffix]
    except (InvalidOperation, OverflowError) as error:
        raise ValueError(f"{text!r} is out of range") from error


def memory(text: str) -> Decimal:
    """Bytes of a memory amount as the operator reads `resource.memory`: Flink's MemorySize
    (`2048m` is 2048 MiB), else a Kubernetes quantity (`2Gi`; a trailing `b`/`B` dropped)."""
    found = _FLINK_MEMORY.match(text)
    if found is not None and found.group(2).lower() in _FLINK_UNITS:
        return Decimal(int(found.group(1)) * _FLINK_UNITS[found.group(2).lower()])
    k8s = re.sub(r"\s", "", text).upper()
    k8s = k8s[:-1] if k8s.endswith("B") else k8s
    k8s = k8s[:-1] + "i" if k8s.endswith("I") else k8s
    # Upper-casing turns `k` into `K`, which only the binary `Ki` spells so.
    k8s = re.sub(r"K$", "k", k8s)
    try:
        return quantity(k8s)
    except ValueError:
        message = f"{text!r} is neither a Flink memory size (like 2048m) nor a quantity (2Gi)"
        raise ValueError(message) from None


def seconds(text: str) -> Decimal:
    """Seconds of a Flink duration option (`15 min`, `60s`, `1000`: milliseconds)."""
    found = _DURATION.match(text)
    unit = found.group(2).lower() if found is not None else None
    if found is None or unit not in _DURATION_UNITS:
        raise ValueError(f"{text!r} is not a duration (like 60 s or 15 min)")
    return Decimal(found.group(1)) * _DURATION_UNITS[unit]
