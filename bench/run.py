#!/usr/bin/env python3
"""The performance table in one command: prints it and writes OUTPUT/bench.{txt,json}.

Rows: (1) Offline through the harness / the raw engine; (2) SingleStream p90 minus the engine's;
(3) the null backend: Offline, peak Server QPS, SingleStream; (4) Server dynamic batching vs batch 1;
(5) ImageNet preprocessing vs a v0.5-kind baseline; (6) GNMT Offline batched vs batch 1; (7) ResNet50
Offline at reduced precision against fp32 onnxruntime; (8) int8 (calibrated) against raw fp32 onnxruntime.
Models are random-weight exports and the data the synthetic sample sets (made once under --work): these
are speed figures, never quality results.
LoadGen runs are short (a user.conf per scenario, see --seconds): measurements, NOT submission runs.

Usage: python bench/run.py [--output DIR] [--only ROW ...] [--long]
       python bench/run.py overhead --output DIR [...]   (the harness against a minimal inline SUT)
       python bench/run.py gnmt-int8 --model CKPT --samples WMT16 --output DIR [...]   (GNMT fp32 vs int8)
       python bench/run.py ray [--replicas N ...]   (--ray replicas vs one process and raw onnxruntime; null via Ray)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from bench import goals
from bench.options import GnmtInt8Options, OverheadOptions, RayBenchOptions, TableOptions, parse
from bench.rows import Row, compared
from bench.table import format_table, machine
from common.atomic import atomic_write_text
from common.environment import library_versions
from common.errors import UsageError

NOTE = (
    "Random-weight exports and synthetic sample data: speed only, not quality. Short LoadGen runs "
    "(user.conf per scenario): measurements, NOT submission runs. Each ratio is taken within this run."
)


# null Offline: 8x v0.5's 24,576 minimum, so that one run lasts long enough to leave the cold start behind
NULL_OFFLINE_SAMPLES = 8 * 24576


def _failed(group: str, what: str, exc: BaseException) -> Row:
    """A row that says why it has no figure (one failing row does not end the table)."""
    traceback.print_exc(file=sys.stderr)
    return Row(group, what, None, "", note=f"failed: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")


def _progress(text: str) -> None:
    print(f"[{dt.datetime.now():%H:%M:%S}] {text}", file=sys.stderr, flush=True)


def collect(opts: TableOptions) -> list[Row]:
    """Run the chosen row groups in table order."""
    # Imported here: the engines, torch and TensorFlow take seconds to load, and a bad option should not wait.
    from bench.engine import EngineCase, offline_row, singlestream_row
    from bench.gnmt import gnmt_row
    from bench.null import null_rows
    from bench.preprocess import preprocess_rows
    from bench.server import server_row
    from bench.workspace import Workspace

    ws = Workspace(opts.work_dir)
    chosen = set(opts.only)
    rows: list[Row] = []

    def attempt(group: str, what: str, make: Callable[[], Row | list[Row]]) -> list[Row]:
        _progress(f"{group}: {what}")
        try:
            made = make()
        except Exception as exc:  # noqa: BLE001 - the table reports it
            made = _failed(group, what, exc)
        found = made if isinstance(made, list) else [made]
        rows.extend(found)
        return found

    cases = [EngineCase(m, b, device=opts.device) for m in opts.models for b in opts.backends]
    offline: dict[tuple[str, str], Row] = {}
    if chosen & {"engine", "precision"}:
        reference = (
            [EngineCase("resnet50", "onnxruntime", device=opts.device)] if "precision" in chosen else []
        )
        for case in dict.fromkeys((cases if "engine" in chosen else []) + reference):
            found = attempt(
                "1 Offline/engine",
                f"{case.benchmark} {case.backend}",
                lambda c=case: offline_row(c, ws, opts.batch, opts.threads, opts.seconds, opts.repeats),
            )
            offline[(case.benchmark, case.backend)] = found[0]
    if "latency" in chosen:
        for case in cases:
            attempt(
                "2 SingleStream p90 - engine",
                f"{case.benchmark} {case.backend}",
                lambda c=case: singlestream_row(c, ws, opts.threads, opts.seconds, opts.repeats),
            )
    if "null" in chosen:
        attempt(
            "3 null backend",
            "Offline, Server peak, SingleStream",
            lambda: null_rows(ws.runs / "null", [(1,), (3, 224, 224)], opts.null_server_seconds, NULL_OFFLINE_SAMPLES),
        )
    if "server" in chosen:
        server_case = EngineCase("mobilenet", opts.server_backend, opts.server_precision)
        for bound in [None] + ([opts.server_relaxed_bound_ms] if opts.server_relaxed_bound_ms else []):
            attempt(
                "4 Server batching",
                f"mobilenet {opts.server_backend} bound {bound or 'v0.5'}",
                lambda b=bound: server_row(
                    server_case,
                    ws,
                    opts.server_batch,
                    opts.server_wait_ms,
                    opts.threads,
                    opts.server_seconds,
                    b,
                ),
            )
    if "preprocess" in chosen:
        attempt(
            "5 preprocessing",
            "ImageNet",
            lambda: preprocess_rows(ws.root / "preprocess", opts.images, opts.repeats),
        )
    if "gnmt" in chosen:
        attempt(
            "6 GNMT batching",
            "gnmt pytorch",
            lambda: gnmt_row(ws, opts.gnmt_batch, opts.threads, opts.seconds),
        )
    if "precision" in chosen:
        reference = offline.get(("resnet50", "onnxruntime"))
        for backend in opts.precision_backends:
            reduced = EngineCase("resnet50", backend, opts.reduced_precision, opts.device)
            found = attempt(
                "7 reduced precision",
                f"resnet50 {backend} {opts.reduced_precision}",
                lambda r=reduced: offline_row(
                    r, ws, opts.batch, opts.threads, opts.seconds, opts.repeats, group="7 reduced precision"
                ),
            )
            if reference is not None and found[0].figure is not None and reference.baseline:
                rows.append(
                    compared(
                        "7 reduced precision",
                        f"resnet50 {backend} {opts.reduced_precision} Offline vs v0.5-harness estimate",
                        found[0].figure,
                        goals.V05_HARNESS_FRACTION * reference.baseline,
                        "samples/s",
                        f"{goals.V05_HARNESS_FRACTION:.3f} x raw onnxruntime fp32 of row 1 "
                        "(v0.5's measured 44.5/56.5)",
                        goals.REDUCED_PRECISION,
                        command=found[0].command,
                        note=f"vs our fp32 onnxruntime harness: {found[0].figure / reference.figure:.2f}x"
                        if reference.figure
                        else "",
                    )
                )
    if "int8" in chosen:
        rows.extend(int8_rows(opts, ws, attempt))
    return rows


def int8_rows(opts: TableOptions, ws, attempt) -> list[Row]:
    """Row 8: Offline int8 through the harness against raw fp32 onnxruntime, same batch and threads."""
    from bench.engine import EngineCase, offline_row

    group = "8 int8"
    rows: list[Row] = []
    for model in opts.int8_models:
        fp32 = attempt(group, f"{model} onnxruntime fp32", lambda m=model: offline_row(
            EngineCase(m, "onnxruntime", device=opts.device), ws, opts.batch, opts.threads, opts.seconds,
            opts.repeats, group=group))[0]
        for backend in opts.int8_backends:
            int8 = attempt(group, f"{model} {backend} int8", lambda m=model, b=backend: offline_row(
                EngineCase(m, b, "int8", opts.device), ws, opts.batch, opts.threads, opts.seconds, opts.repeats,
                group=group))[0]
            if int8.figure is not None and fp32.baseline:
                rows.append(compared(
                    group, f"{model} {backend} int8 Offline (harness) vs raw onnxruntime fp32", int8.figure,
                    fp32.baseline, "samples/s", "raw onnxruntime fp32 predict, same batch and threads",
                    goals.INT8_RESNET50 if model == "resnet50" else "", command=int8.command,
                    note="int8 calibrated on the sample data's list (speed only, not an official list)"))
    return rows


def table(opts: TableOptions | RayBenchOptions, command: str,
          rows_of: Callable[[TableOptions | RayBenchOptions], list[Row]] = collect) -> int:
    """Run the chosen rows; print the table and write OUTPUT/bench.txt and bench.json."""
    started, clock = dt.datetime.now(dt.UTC), time.perf_counter()
    facts = {
        "machine": machine(),
        "libraries": library_versions(),
        "started": started.isoformat(timespec="seconds"),
        "command": command,
    }
    rows = rows_of(opts)
    facts["seconds"] = time.perf_counter() - clock
    table_text = format_table(rows, facts, os.getloadavg()[0], NOTE + f" Command: {facts['command']}")
    print(table_text)
    atomic_write_text(opts.output / "bench.txt", table_text + "\n")
    options = {k: str(v) if isinstance(v, Path) else v for k, v in dataclasses.asdict(opts).items()}
    atomic_write_text(
        opts.output / "bench.json",
        json.dumps({**facts, "options": options, "rows": [r.as_dict() for r in rows]}, indent=2, default=str)
        + "\n",
    )
    print(f"\nwritten: {opts.output / 'bench.txt'} and bench.json", file=sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        opts = parse(argv)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if opts.output.exists() and not opts.output.is_dir():
        print(f"error: --output {opts.output} is a file; give a folder", file=sys.stderr)
        return 2
    if isinstance(opts, OverheadOptions):
        from bench.harness_overhead import report_overhead

        return report_overhead(opts)
    if isinstance(opts, RayBenchOptions):
        from bench.distributed import collect as ray_rows

        return table(opts, " ".join(["python", "bench/run.py", *argv]), ray_rows)
    if isinstance(opts, GnmtInt8Options):
        from bench.gnmt_int8 import report_gnmt_int8

        return report_gnmt_int8(opts, " ".join(["python", "bench/run.py", *argv]))
    return table(opts, " ".join(["python", "bench/run.py", *argv]))


if __name__ == "__main__":
    sys.exit(main())
