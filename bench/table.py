"""The bench table: machine facts, library versions, one line per row, the commands behind the rows."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

from bench.rows import Row

CPU_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_tile")  # what engines use


def machine() -> dict[str, Any]:
    """The CPU, its relevant flags, core count, memory and the 1-minute load average."""
    model, flags = platform.processor() or platform.machine(), set()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                model = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
    memory = None
    meminfo = Path("/proc/meminfo")
    if meminfo.is_file():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = round(int(line.split()[1]) / 2**20, 1)
    return {
        "cpu": model,
        "cpus": os.cpu_count(),
        "flags": [f for f in CPU_FLAGS if f in flags],
        "memory_gib": memory,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


def _number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "n/a"
    if unit == "ms" or abs(value) < 10:
        return f"{value:,.3f}"
    return f"{value:,.1f}"


def _compared(row: Row) -> str:
    if row.comparison == "value":
        return ""
    sign = "-" if row.comparison == "difference" else "/"
    return f"{sign} {_number(row.baseline, row.unit)} = {_number(row.ratio, row.unit)}"


def _verdict(row: Row) -> str:
    return {True: "met", False: "MISSED", None: ""}[row.met]


def format_table(rows: list[Row], facts: dict[str, Any], load_after: float, note: str) -> str:
    """The plain-text table; the commands follow it, numbered like the rows."""
    m = facts["machine"]
    lines = [
        "MLPerf inference reference harness: performance table (bench/run.py)",
        f"machine: {m['cpu']}, {m['cpus']} CPUs, {m['memory_gib']} GiB, flags {' '.join(m['flags']) or '-'}; "
        f"{m['platform']}, Python {m['python']}",
        f"libraries: {', '.join(f'{k} {v}' for k, v in facts['libraries'].items())}",
        f"load average (1 min): {m['load_average_1min']} before, {load_after:.2f} after; "
        f"started {facts['started']}, {facts['seconds']:.0f} s",
        note,
        "",
    ]
    header = (
        f"{'#':>2} {'row':<28} {'what':<72} {'figure':>12} {'unit':<11} {'vs baseline':<26} "
        f"{'goal':<10} {'':<6}"
    )
    lines += [header, "-" * len(header)]
    for number, row in enumerate(rows, 1):
        lines.append(
            f"{number:>2} {row.group:<28} {row.name:<72} {_number(row.figure, row.unit):>12} "
            f"{row.unit:<11} {_compared(row):<26} {row.goal:<10} {_verdict(row):<6}".rstrip()
        )
    lines += ["", "Baselines, notes and commands:"]
    for number, row in enumerate(rows, 1):
        base = f" baseline: {row.baseline_name}." if row.baseline_name else ""
        note_text = f" {row.note}." if row.note else ""
        lines.append(f"{number:>2}.{base}{note_text} {row.command}")
    return "\n".join(lines)
