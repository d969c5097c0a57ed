"""The login throttle's window, with a clock the test moves (the API tests use real time)."""

from __future__ import annotations

import pytest

from tether.services import LoginThrottle, LoginThrottled


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_key_is_throttled_after_the_limit_until_its_oldest_failure_leaves_the_window() -> None:
    clock = Clock()
    throttle = LoginThrottle(limit=3, window=60, clock=clock)
    for _ in range(3):
        throttle.check("Ada", "10.0.0.1")
        throttle.failed("Ada", "10.0.0.1")
        clock.now += 10
    with pytest.raises(LoginThrottled) as raised:
        throttle.check(" ada ", "10.0.0.9")  # the same user name, however spelled, from anywhere
    assert raised.value.status == 429 and raised.value.retry_after == 30
    clock.now += 30
    throttle.check("ada", "10.0.0.9")  # the first failure has left the window


def test_an_address_is_throttled_across_user_names_and_success_clears_only_the_user() -> None:
    throttle = LoginThrottle(limit=2, window=60, clock=Clock())
    throttle.failed("a", "10.0.0.1")
    throttle.failed("b", "10.0.0.1")
    with pytest.raises(LoginThrottled):
        throttle.check("c", "10.0.0.1")
    throttle.check("c", "10.0.0.2")
    throttle.failed("d", "10.0.0.3")
    throttle.succeeded("d")
    throttle.failed("d", "10.0.0.4")
    throttle.check("d", "10.0.0.5")  # one failure since the success
