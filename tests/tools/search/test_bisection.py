"""find_edge, the bounded bracket-and-bisect both searches use: hand-worked cases and its trial cap."""

from __future__ import annotations

import math

import pytest

from tools.search.bisection import find_edge


def _qps_search(passes, start: float, max_trials: int, precision: float = 0.02):
    tried: list[float] = []

    def recorded(qps: float) -> bool:
        tried.append(qps)
        return passes(qps)

    edge = find_edge(recorded, start, widen=lambda q: q * 2 if q * 2 <= 1e6 else None,
                     narrow=lambda q: q / 2 if q / 2 >= 0.01 else None, middle=lambda g, b: math.sqrt(g * b),
                     close=lambda g, b: b <= g * (1 + precision), max_trials=max_trials)
    return edge, tried


def test_the_edge_of_a_threshold_within_the_precision() -> None:
    """Threshold 37.3 from 10: 10, 20, 40 pass, pass, fail; then 6 bisections of [20, 40] in log space
    (2^(1/64) = 1.011 <= 1.02 after the sixth) end at 20 * 2^(57/64), 57 = floor(64 log2(37.3 / 20))."""
    edge, tried = _qps_search(lambda q: q <= 37.3, 10, max_trials=20)
    assert tried[:3] == [10, 20, 40] and len(tried) == 9
    assert edge.good <= 37.3 < edge.bad and edge.bad / edge.good <= 1.02
    assert edge.good == pytest.approx(20 * 2 ** (57 / 64)) and edge.trials == 9 and not edge.capped


def test_a_failing_start_is_halved_until_one_passes() -> None:
    edge, tried = _qps_search(lambda q: q <= 3.0, 100, max_trials=20, precision=0.1)
    assert tried[:6] == [100, 50, 25, 12.5, 6.25, 3.125]
    assert edge.good <= 3.0 < edge.bad <= edge.good * 1.1


def test_the_cap_holds_when_everything_passes_or_fails() -> None:
    edge, tried = _qps_search(lambda q: True, 1, max_trials=7)
    assert tried == [1, 2, 4, 8, 16, 32, 64] and edge.good == 64 and edge.bad is None and edge.capped
    edge, tried = _qps_search(lambda q: False, 1, max_trials=5)
    assert tried == [1, 0.5, 0.25, 0.125, 0.0625] and edge.good is None and edge.capped
    edge, tried = _qps_search(lambda q: False, 0.04, max_trials=5)  # the floor 0.01 ends it before the cap
    assert tried == [0.04, 0.02, 0.01] and edge.good is None and not edge.capped
    edge, tried = _qps_search(lambda q: q < 50, 1, max_trials=8)  # bisecting when the budget ends
    assert len(tried) == 8 and edge.capped and edge.good < 50 <= edge.bad


def test_integer_steps_as_the_multistream_search_takes_them() -> None:
    tried: list[int] = []

    def passes(n: int) -> bool:
        tried.append(n)
        return n <= 5

    edge = find_edge(passes, 1, widen=lambda n: n * 2 if n < 4096 else None, narrow=lambda n: None,
                     middle=lambda g, b: (g + b) // 2, close=lambda g, b: b - g <= 1, max_trials=32)
    assert tried == [1, 2, 4, 8, 6, 5] and (edge.good, edge.bad, edge.trials, edge.capped) == (5, 6, 6, False)


def test_no_budget_is_refused() -> None:
    with pytest.raises(ValueError, match="max_trials 0"):
        find_edge(lambda q: True, 1.0, widen=lambda q: None, narrow=lambda q: None, middle=lambda g, b: g,
                  close=lambda g, b: True, max_trials=0)
