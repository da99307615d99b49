"""EngineThreads: work runs on the engine's own threads, nested calls inline, errors come back."""

from __future__ import annotations

import threading

import pytest

from common.backends.engine_threads import EngineThreads


def _thread_name() -> str:
    return threading.current_thread().name


def test_work_runs_on_one_long_lived_engine_thread() -> None:
    engine = EngineThreads(1, "test-engine")
    names = {engine.run(_thread_name) for _ in range(5)}
    assert len(names) == 1
    assert names.pop().startswith("test-engine")
    assert _thread_name() == "MainThread"


def test_a_call_from_an_engine_thread_runs_inline() -> None:
    engine = EngineThreads(1, "test-engine")
    # with one thread, a nested submit would wait for itself forever
    outer, inner = engine.run(lambda: (_thread_name(), engine.run(_thread_name)))
    assert outer == inner


def test_prepare_runs_once_on_each_engine_thread_before_any_work() -> None:
    prepared: list[str] = []
    engine = EngineThreads(2, "test-engine", prepare=lambda: prepared.append(_thread_name()))
    gate = threading.Barrier(2)  # two calls at once: both threads must start
    callers = [threading.Thread(target=lambda: engine.run(gate.wait, 5)) for _ in range(2)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    engine.run(_thread_name)
    assert sorted(prepared) == sorted(set(prepared)) and len(prepared) == 2


def test_the_callers_exception_is_the_engines() -> None:
    engine = EngineThreads(1, "test-engine")
    with pytest.raises(ZeroDivisionError):
        engine.run(lambda: 1 / 0)
    assert engine.run(lambda: 7) == 7  # the thread survives
