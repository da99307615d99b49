"""The v0.5 rules as ``common/mlperf.conf`` states them, read without LoadGen.

The conf is the one source of the v0.5 numbers: LoadGen loads it for every run (common/settings.py),
and the facts a benchmark reports about itself (its latency bounds, percentile and performance sample
count) are read from it here, so the two cannot disagree.

Format, as LoadGen's ``TestSettings.FromConfig`` reads it: one ``model.scenario.key = value`` per line,
``#`` starts a comment, a later line overrides an earlier one, and ``*`` stands for any model or any
scenario. A lookup tries ``model.scenario``, then ``*.scenario``, then ``model.*``, then ``*.*``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

MLPERF_CONF = Path(__file__).with_name("mlperf.conf")

Value = int | float


def parse_conf(text: str, source: str = "conf") -> dict[str, Value]:
    """``{"model.scenario.key": value}`` of a conf's lines (ValueError naming the line that is not one)."""
    rules: dict[str, Value] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        content = line.split("#", 1)[0].strip()
        if not content:
            continue
        key, equals, value = (part.strip() for part in content.partition("="))
        if not equals or len(key.split(".")) != 3 or not value:
            raise ValueError(f"{source}:{number}: expected 'model.scenario.key = value', got {line.strip()!r}")
        rules[key] = _number(value, f"{source}:{number}")
    return rules


def _number(text: str, where: str) -> Value:
    """An integer where the text is one (base prefixes too, as LoadGen's strtoull), else a float."""
    try:
        return int(text, 0)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{where}: {text!r} is not a number") from None


@cache
def _rules(conf: Path) -> dict[str, Value]:
    return parse_conf(conf.read_text(encoding="utf-8"), str(conf))


def lookup(rules: dict[str, Value], model: str, scenario: str, key: str) -> Value:
    """The value LoadGen would take for ``key`` of ``model`` in ``scenario`` (KeyError if no line sets it)."""
    for candidate in (f"{model}.{scenario}", f"*.{scenario}", f"{model}.*", "*.*"):
        if f"{candidate}.{key}" in rules:
            return rules[f"{candidate}.{key}"]
    raise KeyError(f"no rule sets {model}.{scenario}.{key}")


def v05_rule(model: str, scenario: str, key: str, conf: Path | None = None) -> Value:
    """One v0.5 value, e.g. ``v05_rule("resnet50", "Server", "target_latency")`` -> 15 (ms)."""
    return lookup(_rules(Path(conf or rules_file())), model, scenario, key)


def rules_file() -> Path:
    """The LoadGen rules file every run reads (looked up at each use: a test may point it at another)."""
    return MLPERF_CONF
