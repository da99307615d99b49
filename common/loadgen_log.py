"""Read what LoadGen wrote: the summary, the effective settings, and why a run is INVALID in plain words.

Two formats are read. Today's (mlcommons-loadgen 6.0.17): ``mlperf_log_detail.txt`` as ``:::MLLOG {json}``
lines. 2019's (the v0.5 LoadGen the published v0.5 results ran on): text lines
``"pid": P, "tid": T, "ts": Nns : message``, the settings as ``key : value`` blocks after ``Effective
Settings:`` and ``Requested Settings:``, and no result entries (the summary alone states the result). The
summary (``mlperf_log_summary.txt``) is text in both; 2019 spells the scenarios ``Single Stream`` and
``Multi Stream``, read here as ``SingleStream`` and ``MultiStream``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common.errors import UsageError

Number = int | float

_MLLOG_PREFIX = ":::MLLOG "
_SECTIONS = {
    "MLPerf Results Summary": "results",
    "Additional Stats": "stats",
    "Test Parameters Used": "parameters",
}
_FLAGS = {
    "Min duration satisfied": "min_duration_satisfied",
    "Min queries satisfied": "min_queries_satisfied",
    "Performance constraints satisfied": "performance_constraints_satisfied",
    "Early stopping satisfied": "early_stopping_satisfied",
}
_LATENCY_STATS = {
    "Min latency (ns)": "min_latency_ns",
    "Max latency (ns)": "max_latency_ns",
    "Mean latency (ns)": "mean_latency_ns",
}
_PERCENTILE_KEY = re.compile(r"^(\d+(?:\.\d+)?) percentile latency \(ns\)$")
_METRIC_PERCENTILE = re.compile(r"^(\d+(?:\.\d+)?)th percentile latency")
_COUNT_LINE = re.compile(r"^(No|\d+) (warning|error)s? encountered", re.IGNORECASE)
_INTEGER = re.compile(r"^[+-]?\d+$")
# "target_latency (ns)" in the summary's Test Parameters is "target_latency_ns" in the detail log.
_PARAMETER_NAMES = {
    "min_duration (ms)": "min_duration_ms",
    "max_duration (ms)": "max_duration_ms",
    "target_latency (ns)": "target_latency_ns",
}


@dataclass
class LoadGenSummary:
    """The content of one ``mlperf_log_summary.txt``.

    Fields LoadGen did not print are None (an accuracy-only run prints no result section at all, so its
    scenario, mode, validity and metric are all None). Latencies are in ns as LoadGen prints them.
    """

    path: Path
    sut_name: str | None = None
    scenario: str | None = None
    mode: str | None = None
    valid: bool | None = None
    metric_name: str | None = None
    metric_value: Number | None = None
    min_latency_ns: int | None = None
    max_latency_ns: int | None = None
    mean_latency_ns: int | None = None
    percentiles_ns: dict[float, int] = field(default_factory=dict)
    min_duration_satisfied: bool | None = None
    min_queries_satisfied: bool | None = None
    performance_constraints_satisfied: bool | None = None
    early_stopping_satisfied: bool | None = None
    recommendations: list[str] = field(default_factory=list)
    early_stopping_notes: list[str] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)
    test_parameters: dict[str, Number | str] = field(default_factory=dict)
    warning_count: int | None = None
    error_count: int | None = None

    @property
    def metric_percentile(self) -> float | None:
        """The percentile of a latency metric ("90.0th percentile latency (ns)" -> 90.0), else None."""
        match = _METRIC_PERCENTILE.match(self.metric_name or "")
        return float(match.group(1)) if match else None

    @property
    def percentiles_ms(self) -> dict[float, float]:
        return {p: ns / 1e6 for p, ns in self.percentiles_ns.items()}

    def percentile_ns(self, percentile: float) -> int | None:
        """The latency at ``percentile`` (e.g. 99 or 99.0) from the Additional Stats, None if not printed."""
        for key, value in self.percentiles_ns.items():
            if abs(key - percentile) < 1e-6:
                return value
        return None


def _number(text: str) -> Number | None:
    text = text.strip()
    if _INTEGER.match(text):
        return int(text)
    try:
        return float(text)
    except ValueError:
        return None


def _nanoseconds(text: str) -> int | None:
    number = _number(text)
    return None if number is None else int(number)


def _yes_no(text: str) -> bool | None:
    return {"yes": True, "no": False}.get(text.strip().lower())


def _read_text(path: Path, what: str) -> str:
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"{what} {path} does not exist: point to the output folder of a LoadGen run")
    return path.read_text(encoding="utf-8", errors="replace")


def parse_summary(path: Path) -> LoadGenSummary:
    """Parse ``mlperf_log_summary.txt`` into a :class:`LoadGenSummary`."""
    summary = LoadGenSummary(path=Path(path))
    section: str | None = None
    bullets: list[str] | None = None  # the list that " * " lines go to (Recommendations, Early Stopping)
    for raw in _read_text(path, "LoadGen summary").splitlines():
        line = raw.strip()
        if not line:
            bullets = None  # a blank line ends a bullet list
            continue
        if set(line) == {"="}:
            continue
        if line in _SECTIONS:
            section, bullets = _SECTIONS[line], None
            continue
        if line == "Recommendations:":
            bullets = summary.recommendations
            continue
        if line == "Early Stopping Result:":
            bullets = summary.early_stopping_notes
            continue
        if bullets is not None and line.startswith("*"):
            bullets.append(line.lstrip("* ").strip())
            continue
        if bullets is not None and raw.startswith(" ") and bullets:
            bullets[-1] = f"{bullets[-1]} {line}"  # a bullet LoadGen wrapped onto the next line
            continue
        count = _COUNT_LINE.match(line)
        if count:
            number = 0 if count.group(1).lower() == "no" else int(count.group(1))
            if count.group(2).lower() == "warning":
                summary.warning_count = number
            else:
                summary.error_count = number
            continue
        if ":" not in line:
            continue
        key, value = (part.strip() for part in line.split(":", 1))
        if not value:
            continue  # a heading such as "Per-query latency:"
        if section == "parameters":
            number = _number(value)
            summary.test_parameters[key] = value if number is None else number
            continue
        summary.fields[key] = value
        _take_field(summary, section, key, value)
    return summary


def _take_field(summary: LoadGenSummary, section: str | None, key: str, value: str) -> None:
    """Put one ``key : value`` line of the result or stats section into its typed field."""
    if key == "SUT name":
        summary.sut_name = value
    elif key == "Scenario":
        summary.scenario = _V05_SCENARIOS.get(value, value)
    elif key == "Mode":
        summary.mode = value
    elif key == "Result is":
        summary.valid = {"VALID": True, "INVALID": False}.get(value.upper())
    elif key in _FLAGS:
        setattr(summary, _FLAGS[key], _yes_no(value))
    elif key in _LATENCY_STATS:
        setattr(summary, _LATENCY_STATS[key], _nanoseconds(value))
    elif percentile := _PERCENTILE_KEY.match(key):
        summary.percentiles_ns[float(percentile.group(1))] = _nanoseconds(value)
    elif section == "results" and summary.metric_name is None and summary.valid is None:
        # The one line between the header and "Result is": the scenario's metric.
        summary.metric_name = key
        summary.metric_value = _number(value)


def parse_detail(path: Path) -> dict[str, Any]:
    """The settings and results LoadGen logged in ``mlperf_log_detail.txt`` (either format).

    Returns ``{key: value}`` for every ``effective_*``, ``requested_*``, ``result_*`` and
    ``early_stopping_*`` entry, ``loadgen_version`` and ``qsl_reported_*_count``, plus ``"errors"`` and
    ``"warnings"``: the values of the entries LoadGen flagged as errors or warnings, in order;
    ``"format"``: :data:`MLLOG_FORMAT` or :data:`V05_FORMAT`; ``"finished"``: whether the log reaches
    the counters LoadGen writes once the test is over (a log cut short has not); ``"loaded_qsl_sets"``:
    the sample sets LoadGen loaded, in order (each a list of qsl indices); ``"test_span_s"``: the
    seconds from LoadGen's POWER_BEGIN to its POWER_END stamp (None if not logged). 2019's logs name the
    settings as today's do (``effective_scenario`` "SingleStream", ``effective_test_mode``
    "PerformanceOnly", ``effective_min_duration_ms``, ...). A line cut short is skipped. A file with no
    LoadGen line at all (empty, binary, another file) is refused with its path (UsageError).
    """
    text = _read_text(path, "LoadGen detail log")
    detail = _parse_mllog(text) if any(line.startswith(_MLLOG_PREFIX) for line in text.splitlines()) \
        else _parse_v05(text)
    if detail is None:
        raise UsageError(f"{path} is not a LoadGen detail log: it holds no :::MLLOG line nor any 2019 "
                         f"LoadGen line (empty, binary or another file); put the run's own log back")
    detail["test_span_s"] = _span_s(detail.pop("power_begin", None), detail.pop("power_end", None))
    return detail


def _span_s(begin: Any, end: Any) -> float | None:
    """Seconds between LoadGen's POWER_BEGIN and POWER_END stamps ("10-16-2019 10:03:00.670")."""
    from datetime import datetime

    try:
        first, last = (datetime.strptime(str(stamp), "%m-%d-%Y %H:%M:%S.%f") for stamp in (begin, end))
    except ValueError:
        return None
    return (last - first).total_seconds()


MLLOG_FORMAT = "MLLOG"  # LoadGen 1.0 and later: one JSON entry a line
V05_FORMAT = "v0.5 text"  # the 2019 LoadGen of the v0.5 round
_DETAIL_KEYS = ("loadgen_version", "qsl_reported_total_count", "qsl_reported_performance_count")


def _parse_mllog(text: str) -> dict[str, Any]:
    detail: dict[str, Any] = {"errors": [], "warnings": [], "format": MLLOG_FORMAT, "finished": False,
                              "loaded_qsl_sets": []}
    for line in text.splitlines():
        if not line.startswith(_MLLOG_PREFIX):
            continue
        try:
            entry = json.loads(line[len(_MLLOG_PREFIX) :])
        except json.JSONDecodeError:
            continue
        if not isinstance(entry, dict):
            continue
        key, value = str(entry.get("key", "")), entry.get("value")
        metadata = entry.get("metadata") or {}
        if key.startswith("logger_"):  # the log contention counters: written once the test is over
            detail["finished"] = True
        if key in ("power_begin", "power_end"):
            detail[key] = value
        if key == "loaded_qsl_set" and isinstance(value, list):
            detail["loaded_qsl_sets"].append(value)
        if metadata.get("is_error"):
            detail["errors"].append(value)
        elif metadata.get("is_warning"):
            detail["warnings"].append(value)
        elif key.startswith(("effective_", "requested_", "result_", "early_stopping_")) or key in _DETAIL_KEYS:
            detail[key] = value
    return detail


_V05_LINE = re.compile(r'^"pid": \d+, "tid": \d+, "ts": \d+ns : ?(.*)$')
_V05_SCENARIOS = {"Single Stream": "SingleStream", "Multi Stream": "MultiStream", "Server": "Server",
                  "Offline": "Offline"}
_V05_MODES = {"Performance": "PerformanceOnly", "Accuracy": "AccuracyOnly", "Submission": "SubmissionRun",
              "Find Peak Performance": "FindPeakPerformance"}
_V05_NAMES = {"Scenario": "scenario", "Test mode": "test_mode", "target_latency (ns)": "target_latency_ns",
              "target_duration (ms)": "target_duration_ms", "min_duration (ms)": "min_duration_ms",
              "max_duration (ms)": "max_duration_ms"}
_V05_BLOCKS = {"Effective Settings:": "effective_", "Requested Settings:": "requested_"}
_V05_FACTS = {"QSL total size": "qsl_reported_total_count", "QSL performance size*": "qsl_reported_performance_count"}


def _v05_value(name: str, text: str) -> Any:
    text = text.strip()
    if name == "scenario":
        return _V05_SCENARIOS.get(text, text)
    if name == "test_mode":
        return _V05_MODES.get(text, text)
    if text in ("true", "false"):
        return text == "true"
    number = _number(text)
    return text if number is None else number


def _parse_v05(text: str) -> dict[str, Any] | None:
    """2019's text detail log as :func:`parse_detail` returns it; None when no line has its form."""
    detail: dict[str, Any] = {"errors": [], "warnings": [], "format": V05_FORMAT, "finished": False,
                              "loaded_qsl_sets": []}
    block: str | None = None
    seen = False
    for line in text.splitlines():
        match = _V05_LINE.match(line)
        if not match:
            continue  # git log and file hash lines belong to the entry above them
        seen = True
        message = match.group(1).replace("\x00", "").strip()
        if message in _V05_BLOCKS:
            block = _V05_BLOCKS[message]
            continue
        if not message:
            block = None  # an empty entry ends a settings block
            continue
        if message.startswith("ERROR :"):
            detail["errors"].append(message.split(":", 1)[1].strip())
        elif message.startswith("WARNING :"):
            detail["warnings"].append(message.split(":", 1)[1].strip())
        elif message.startswith("Found Audit Config file"):
            detail["warnings"].append(message)  # LoadGen 6 flags this one as a warning: read alike
        elif message == "Log Contention Counters:":
            detail["finished"] = True
        elif message.startswith("Loading QSL :"):  # Loading QSL : "set" : "[27228,48787,...]"
            loaded = re.search(r'"\[([\d,\s]*)\]"', message)
            if loaded:
                detail["loaded_qsl_sets"].append([int(i) for i in loaded.group(1).split(",") if i.strip()])
        elif block is not None and ":" in message:
            key, value = (part.strip() for part in message.split(":", 1))
            name = _V05_NAMES.get(key, key)
            detail[block + name] = _v05_value(name, value)
        elif ":" in message:
            key, value = (part.strip() for part in message.split(":", 1))
            if key in _V05_FACTS:
                detail[_V05_FACTS[key]] = _v05_value(key, value)
            elif key == "version" and "loadgen_version" not in detail:
                detail["loadgen_version"] = value
            elif key in ("POWER_BEGIN", "POWER_END"):  # "mode" : Performance, "time" : 10-16-2019 10:03:00.670
                stamp = re.search(r'"time" : (.+)$', value)
                if stamp:
                    detail[key.lower()] = stamp.group(1).strip()
    return detail if seen else None


# ---------------------------------------------------------------------------------------------------
# Why a run is INVALID


def _setting(settings: Mapping[str, Any], summary: LoadGenSummary, name: str) -> Any:
    """``name`` (e.g. "min_duration_ms") from the detail settings, else from the summary's parameters."""
    for key in (f"effective_{name}", name):
        if settings.get(key) is not None:
            return settings[key]
    for printed, value in summary.test_parameters.items():
        if _PARAMETER_NAMES.get(printed, printed) == name:
            return value
    return None


def _ms(ns: Number) -> str:
    ms = ns / 1e6
    return f"{ms:.0f}" if ms >= 100 else f"{ms:.3g}"


def _ordinal(percentile: float) -> str:
    number = f"{percentile:g}"
    if number.endswith(("11", "12", "13")) or "." in number:
        return f"{number}th"
    return number + {"1": "st", "2": "nd", "3": "rd"}.get(number[-1], "th")


def _latency_percentile(settings: Mapping[str, Any], summary: LoadGenSummary) -> float:
    """The scenario's tail percentile (99.0 for 99 %), from the settings, the metric, or 99."""
    fraction = _setting(settings, summary, "target_latency_percentile")
    if fraction is not None:
        return round(float(fraction) * 100, 6)
    return summary.metric_percentile or 99.0


def _queries_processed(settings: Mapping[str, Any], summary: LoadGenSummary) -> int | None:
    if settings.get("result_query_count") is not None:
        return int(settings["result_query_count"])
    for note in summary.early_stopping_notes:
        # "Only processed 100 queries.", "Processed 100 queries.", "Processed at least 64 queries (401)."
        match = re.search(r"[Pp]rocessed (?:at least \d+ queries \((\d+)\)|(\d+) queries)", note)
        if match:
            return int(match.group(1) or match.group(2))
    return None


def _duration_reason(summary: LoadGenSummary, settings: Mapping[str, Any]) -> str:
    scenario = summary.scenario or "*"
    min_ms = _setting(settings, summary, "min_duration_ms")
    text = (
        f"the run was shorter than the {min_ms / 1000:g} s minimum duration (min_duration {min_ms} ms)"
        if min_ms
        else "the run was shorter than the minimum duration"
    )
    max_ms = _setting(settings, summary, "max_duration_ms")
    max_queries = _setting(settings, summary, "max_query_count")
    if max_ms and min_ms and max_ms < min_ms:
        return f"{text}: max_duration {max_ms} ms ends it first; raise or remove it " \
               f"(--user-conf: *.{scenario}.max_duration = 0)"
    if max_queries and summary.min_queries_satisfied is False:
        return f"{text}: max_query_count {max_queries} ends it first; raise or remove it " \
               f"(--user-conf: *.{scenario}.max_query_count = 0)"
    if scenario == "Offline":
        target = _setting(settings, summary, "target_qps")
        measured = f" = {summary.metric_value:.0f}, the rate measured here" if summary.metric_value else ""
        now = f", now {target:g}" if isinstance(target, int | float) else ""
        return f"{text}: LoadGen issued too few samples for the speed of the system; raise the expected " \
               f"QPS (--user-conf: *.Offline.target_qps{measured}{now})"
    if scenario in ("SingleStream", "MultiStream"):
        measured = f" = {_ms(summary.mean_latency_ns)}, the mean measured here" \
            if summary.mean_latency_ns else ""
        return f"{text}: the system answered faster than LoadGen expected, so it ran out of queries; " \
               f"lower the expected latency (--user-conf: *.{scenario}.target_latency{measured}, in ms)"
    return f"{text}: run longer or check that nothing ends the run early (max_duration, max_query_count)"


def _queries_reason(summary: LoadGenSummary, settings: Mapping[str, Any]) -> str:
    scenario = summary.scenario or "*"
    if scenario == "Offline":
        required = _setting(settings, summary, "min_sample_count") or _setting(
            settings, summary, "min_query_count"
        )
        return f"too few samples in the Offline query (fewer than the {required} required): raise the " \
               f"expected QPS (--user-conf: *.Offline.target_qps) or min_query_count"
    required = _setting(settings, summary, "min_query_count")
    processed = _queries_processed(settings, summary)
    text = f"too few queries: {processed} of the {required} required" if processed is not None \
        else f"too few queries: fewer than the {required} required"
    max_queries = _setting(settings, summary, "max_query_count")
    if max_queries and required and max_queries < required:
        return f"{text}; max_query_count {max_queries} is below min_query_count {required}: raise or " \
               f"remove it (--user-conf: *.{scenario}.max_query_count = 0)"
    return f"{text}; run longer or check what ended the run early (see mlperf_log_detail.txt)"


def _server_latency_reason(summary: LoadGenSummary, settings: Mapping[str, Any]) -> str:
    percentile = _latency_percentile(settings, summary)
    latency = summary.percentile_ns(percentile)
    bound = _setting(settings, summary, "target_latency_ns")
    target = _setting(settings, summary, "target_qps")
    now = f", now {target:g}" if isinstance(target, int | float) else ""
    measured = f" {_ms(latency)} ms" if latency is not None else ""
    bound_text = f" {_ms(bound)} ms" if bound else ""
    return f"the {_ordinal(percentile)} percentile latency{measured} is above the Server bound" \
           f"{bound_text}: lower the target QPS (--user-conf: *.Server.target_qps{now}) or the batch " \
           f"size (--max-batchsize)"


def _early_stopping_reason(summary: LoadGenSummary, settings: Mapping[str, Any]) -> str:
    scenario = summary.scenario or "*"
    notes = " ".join(summary.early_stopping_notes)
    processed = _queries_processed(settings, summary)
    more = re.search(r"need to run at least (\d+) more queries", notes)
    total = re.search(r"[Nn]eed to process at least (\d+) queries", notes)
    if total:
        needed = int(total.group(1))
    elif more and processed is not None:
        needed = processed + int(more.group(1))
    else:
        return f"early stopping was not satisfied ({notes or 'see mlperf_log_detail.txt'})"
    if summary.performance_constraints_satisfied is False:
        return f"early stopping failed: {processed} queries processed, at least {needed} needed even if " \
               f"every further query met the latency bound; fix the latency first"
    text = f"too few queries for early stopping: {processed} processed, at least {needed} needed"
    return f"{text}: raise min_query_count (--user-conf: *.{scenario}.min_query_count = {needed}) " \
           f"or run longer (min_duration)"


def _multistream_bound_reason(
    summary: LoadGenSummary, settings: Mapping[str, Any], latency_bound_ns: Number
) -> str | None:
    percentile = _latency_percentile(settings, summary)
    latency = summary.percentile_ns(percentile)
    if latency is None and summary.metric_percentile == percentile:
        latency = summary.metric_value
    if latency is None or latency <= latency_bound_ns:
        return None
    per_query = _setting(settings, summary, "samples_per_query")
    now = f", now {per_query}" if per_query else ""
    return f"the {_ordinal(percentile)} percentile latency {_ms(latency)} ms is above the MultiStream " \
           f"bound {_ms(latency_bound_ns)} ms: lower the samples per query " \
           f"(--user-conf: *.MultiStream.samples_per_query{now}) or use a faster backend"


def invalid_reasons(
    summary: LoadGenSummary,
    settings: Mapping[str, Any] | None = None,
    *,
    latency_bound_ns: Number | None = None,
) -> list[str]:
    """Plain-language reasons why a run does not count, each with the setting to change.

    ``settings`` is :func:`parse_detail`'s dict (the effective values); without it the summary's Test
    Parameters are used. ``latency_bound_ns`` is the benchmark's MultiStream bound: this LoadGen does
    not check one for MultiStream (it reports the percentile only), so it is checked here and named as
    a reason even when LoadGen says VALID. An empty list means nothing was found wrong; an accuracy-only
    run (``valid is None``) has none.
    """
    settings = settings or {}
    reasons: list[str] = []
    if summary.min_duration_satisfied is False:
        reasons.append(_duration_reason(summary, settings))
    if summary.min_queries_satisfied is False:
        reasons.append(_queries_reason(summary, settings))
    if summary.performance_constraints_satisfied is False:
        reasons.append(_server_latency_reason(summary, settings))
    if summary.early_stopping_satisfied is False:
        reasons.append(_early_stopping_reason(summary, settings))
    if summary.scenario == "MultiStream" and latency_bound_ns:
        bound_reason = _multistream_bound_reason(summary, settings, latency_bound_ns)
        if bound_reason:
            reasons.append(bound_reason)
    if summary.valid is False and not reasons:
        said = "; ".join(summary.recommendations) or "see mlperf_log_detail.txt for the errors"
        reasons.append(f"LoadGen marked the run INVALID: {said}")
    return reasons
