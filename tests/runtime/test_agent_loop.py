"""The agent loop: scheduled and woken passes, one at a time, failures survived, clean stop."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from gitflink.agent.loop import Loop


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.01)


class Passes:
    def __init__(self, duration: float = 0.0, fail: bool = False) -> None:
        self.count = 0
        self.active = 0
        self.max_active = 0
        self.duration = duration
        self.fail = fail
        self.lock = threading.Lock()

    def __call__(self) -> None:
        with self.lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        time.sleep(self.duration)
        with self.lock:
            self.active -= 1
            self.count += 1
        if self.fail:
            raise RuntimeError("remote down")


@pytest.fixture
def running() -> Iterator[Callable[..., tuple[Loop, threading.Thread]]]:
    started: list[tuple[Loop, threading.Thread]] = []

    def start(passes: Passes, **kwargs: object) -> tuple[Loop, threading.Thread]:
        loop = Loop(passes, **kwargs)  # type: ignore[arg-type]
        thread = threading.Thread(target=loop.run, daemon=True)
        thread.start()
        started.append((loop, thread))
        return loop, thread

    yield start
    for loop, thread in started:
        loop.stop()
        thread.join(5)


def test_first_pass_runs_at_start_and_then_every_interval(
    running: Callable[..., tuple[Loop, threading.Thread]],
) -> None:
    passes = Passes()
    running(passes, interval=0.2)
    wait_for(lambda: passes.count >= 1, timeout=0.5)
    wait_for(lambda: passes.count >= 3, timeout=2.0)


def test_wake_runs_a_pass_immediately(
    running: Callable[..., tuple[Loop, threading.Thread]],
) -> None:
    passes = Passes()
    loop, _ = running(passes, interval=3600)
    wait_for(lambda: passes.count == 1)
    loop.wake("webhook")
    wait_for(lambda: passes.count == 2, timeout=1.0)


def test_passes_never_overlap_and_wakes_during_a_pass_coalesce(
    running: Callable[..., tuple[Loop, threading.Thread]],
) -> None:
    passes = Passes(duration=0.2)
    loop, _ = running(passes, interval=3600)
    wait_for(lambda: passes.active == 1)
    for _ in range(20):
        threading.Thread(target=loop.wake, args=("webhook",)).start()
    time.sleep(0.8)
    assert passes.max_active == 1
    assert passes.count == 2  # the start pass and one coalesced follow-up


def test_a_failing_pass_keeps_the_loop_alive(
    running: Callable[..., tuple[Loop, threading.Thread]],
) -> None:
    passes = Passes(fail=True)
    loop, thread = running(passes, interval=0.1)
    wait_for(lambda: passes.count >= 3)
    assert thread.is_alive()
    assert loop.last_error == "RuntimeError: remote down"
    assert loop.metrics.registry.get_sample_value("gitflink_passes_total", {"result": "error"})


def test_stop_lets_the_pass_in_flight_finish_then_flushes(
    running: Callable[..., tuple[Loop, threading.Thread]],
) -> None:
    flushed: list[int] = []
    passes = Passes(duration=0.3)
    loop, thread = running(passes, interval=3600, after_pass=lambda: flushed.append(passes.count))
    wait_for(lambda: passes.active == 1)
    loop.stop()
    thread.join(3)
    assert not thread.is_alive()
    assert passes.count == 1
    assert flushed[-1] == 1  # the final flush saw the finished pass
