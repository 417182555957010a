"""POST with retries: transport errors, timeouts, 429 and 5xx are retried with capped, jittered
exponential backoff; any other 4xx is final. Errors name the host only: a webhook URL's path or
query is often its secret (Slack, Teams), and tokens are in headers that are never shown."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from gitflink.ports import NULL_METER, Meter

RETRIES = "gitflink_retries_total"


class DeliveryFailed(Exception):
    """A notification that could not be delivered after every attempt."""


@dataclass(frozen=True, slots=True)
class Retry:
    attempts: int = 4  # tries in all
    backoff: float = 0.5  # seconds before the second try; doubled each time
    backoff_max: float = 8.0

    def wait(self, attempt: int) -> float:
        """Seconds before try `attempt + 1` (1-based), jittered so senders do not line up."""
        longest = min(self.backoff_max, self.backoff * 2.0 ** (attempt - 1))
        return float(longest * random.uniform(0.5, 1.0))


class Delivery:
    def __init__(
        self,
        *,
        timeout: float = 5.0,
        retry: Retry | None = None,
        sleep: Callable[[float], None] = time.sleep,
        meter: Meter = NULL_METER,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.retry = retry or Retry()
        self._sleep = sleep
        self._meter = meter
        self._client = httpx.Client(timeout=timeout, transport=transport, follow_redirects=False)

    def post(self, url: str, body: Any, headers: Mapping[str, str], *, cause: str) -> None:
        """POST `body` as JSON; `cause` names the retries in `gitflink_retries_total`."""
        content = json.dumps(body, separators=(",", ":")).encode()
        self.post_bytes(url, content, {"Content-Type": "application/json", **headers}, cause=cause)

    def post_bytes(self, url: str, body: bytes, headers: Mapping[str, str], *, cause: str) -> None:
        """POST `body` as it is (a signature covers these exact bytes)."""
        where = _host(url)
        problem = ""
        for attempt in range(1, self.retry.attempts + 1):
            try:
                response = self._client.post(url, content=body, headers=dict(headers))
            except httpx.HTTPError as error:
                problem = f"POST {where}: {type(error).__name__}"
            else:
                code = response.status_code
                if code < 300:
                    return
                problem = f"POST {where} -> {code}"
                if code < 500 and code != 429:
                    raise DeliveryFailed(problem)
            if attempt < self.retry.attempts:
                self._meter.count(RETRIES, {"cause": cause})
                self._sleep(self.retry.wait(attempt))
        raise DeliveryFailed(f"{problem} (after {self.retry.attempts} tries)")

    def close(self) -> None:
        self._client.close()


def _host(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
