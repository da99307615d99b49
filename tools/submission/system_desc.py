"""``systems/<system>.json``: the v0.5 system description, filled from the machine and the user's file.

The fields are those of the r0.5 checker's template ``v0.5/tools/submission/system_desc_id.json``
(a field it marks "required" must be present; a field it does not list is an error). The machine tells
the processor, sockets, cores, memory, storage, accelerators, operating system and software versions; the
rest (the status, at least) comes from the user's ``--system-desc`` file, whose values win.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
from pathlib import Path
from typing import Any

from common.errors import UsageError

REQUIRED_FIELDS = (
    "submitter", "status", "system_name", "number_of_nodes", "host_processor_model_name",
    "host_processors_per_node", "host_processor_core_count", "host_memory_capacity", "host_storage_capacity",
    "host_storage_type", "accelerators_per_node", "accelerator_model_name", "accelerator_memory_capacity",
    "framework", "operating_system", "other_software_stack",
)
# "division" is spelt "reqired" in the v0.5 template, so its checker does not require it; it compares it
# with the tree's division all the same, so it is always written.
OPTIONAL_FIELDS = (
    "division", "host_processor_frequency", "host_processor_caches", "host_memory_configuration",
    "host_processor_interconnect", "host_networking", "host_networking_topology", "accelerator_frequency",
    "accelerator_host_interconnect", "accelerator_interconnect", "accelerator_interconnect_topology",
    "accelerator_memory_configuration", "accelerator_on-chip_memories", "cooling", "hw_notes", "sw_notes",
)
FIELDS = REQUIRED_FIELDS + OPTIONAL_FIELDS
STATUSES = ("available", "preview", "rdi")


def missing_fields(desc: dict[str, Any]) -> list[str]:
    """The required fields that are absent, null or empty."""
    return [name for name in REQUIRED_FIELDS if desc.get(name) in (None, "")]


def unknown_fields(desc: dict[str, Any]) -> list[str]:
    return sorted(set(desc) - set(FIELDS))


def read_user_desc(path: Path) -> dict[str, Any]:
    """The user's ``--system-desc`` file: a JSON object of v0.5 fields (one clear line otherwise)."""
    try:
        found = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"--system-desc {path}: unreadable ({exc.strerror or exc})") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"--system-desc {path}: not JSON ({exc})") from exc
    if not isinstance(found, dict):
        raise UsageError(f"--system-desc {path}: expected a JSON object of system fields")
    unknown = unknown_fields(found)
    if unknown:
        raise UsageError(f"--system-desc {path}: unknown field(s) {', '.join(unknown)}; the v0.5 fields are "
                         f"{', '.join(FIELDS)}")
    return found


def _cpuinfo(text: str) -> dict[str, Any]:
    """Processor model, sockets and cores per socket from /proc/cpuinfo's text."""
    model, sockets, cores = None, set(), None
    for line in text.splitlines():
        key, _, value = (part.strip() for part in line.partition(":"))
        if key == "model name" and model is None:
            model = value
        elif key == "physical id":
            sockets.add(value)
        elif key == "cpu cores" and cores is None:
            cores = int(value) if value.isdigit() else None
    return {"model": model, "sockets": len(sockets) or 1, "cores": cores}


def _gigabytes(count: float) -> str:
    return f"{count / 1e9:.0f} GB"


def _memory() -> str | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return _gigabytes(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    return None


def _storage_type(path: Path) -> str | None:
    """SSD or HDD for the block device holding ``path`` (from /sys), None when it cannot be told."""
    try:
        dev = os.stat(path).st_dev
        block = Path(f"/sys/dev/block/{os.major(dev)}:{os.minor(dev)}").resolve()
        for folder in (block, block.parent):
            rotational = folder / "queue" / "rotational"
            if rotational.is_file():
                return "HDD" if rotational.read_text().strip() == "1" else "SSD"
    except OSError:
        pass
    return None


def _gpus() -> list[tuple[str, str]]:
    """(name, memory) of each NVIDIA GPU nvidia-smi lists; none without nvidia-smi."""
    if shutil.which("nvidia-smi") is None:
        return []
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=20, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [tuple(part.strip() for part in line.split(",", 1)) for line in out.splitlines() if "," in line]


def _operating_system() -> str:
    try:
        name = platform.freedesktop_os_release().get("PRETTY_NAME", platform.system())
    except OSError:
        name = platform.system()
    return f"{name}; kernel {platform.release()}"


def machine_desc(storage_path: Path) -> dict[str, Any]:
    """The fields this machine can tell (None where it cannot)."""
    try:
        cpu = _cpuinfo(Path("/proc/cpuinfo").read_text())
    except OSError:
        cpu = {"model": platform.processor() or None, "sockets": 1, "cores": None}
    gpus = _gpus()
    try:
        storage = _gigabytes(shutil.disk_usage(storage_path).total)
    except OSError:
        storage = None
    cores = cpu["cores"] or (os.cpu_count() or 0) // cpu["sockets"] or None
    return {
        "number_of_nodes": "1",
        "host_processor_model_name": cpu["model"],
        "host_processors_per_node": str(cpu["sockets"]),
        "host_processor_core_count": None if cores is None else str(cores),
        "host_memory_capacity": _memory(),
        "host_storage_capacity": storage,
        "host_storage_type": _storage_type(storage_path),
        "accelerators_per_node": str(len(gpus)),
        "accelerator_model_name": ", ".join(sorted({name for name, _ in gpus})) or "N/A",
        "accelerator_memory_capacity": ", ".join(sorted({memory for _, memory in gpus})) or "N/A",
        "operating_system": _operating_system(),
    }


def software_fields(frameworks: list[str], versions: dict[str, str]) -> dict[str, str]:
    """``framework`` (the engines the runs used, with versions) and ``other_software_stack``."""
    stack = [f"Python {platform.python_version()}"]
    stack += [f"{name} {versions[name]}" for name in ("mlcommons-loadgen", "numpy") if name in versions]
    return {"framework": ", ".join(frameworks), "other_software_stack": ", ".join(stack)}


def build_desc(identity: dict[str, str], machine: dict[str, Any], software: dict[str, str],
               user: dict[str, Any]) -> dict[str, Any]:
    """The description: the machine's and software's facts, then the user's file, then the tree's identity
    (division, submitter) which the file may not contradict; refused in one line naming every missing field."""
    for key in ("division", "submitter"):
        if user.get(key) not in (None, identity[key]):
            raise UsageError(f"--system-desc: {key} is {user[key]!r} but the submission's is {identity[key]!r} "
                             f"(--{key}); make them agree")
    desc = {**{k: v for k, v in {**machine, **software}.items() if v is not None}, **user, **identity}
    desc.setdefault("system_name", identity["system_id"])
    desc.pop("system_id")
    if desc.get("status") not in (None, "") and str(desc["status"]).lower() not in STATUSES:
        raise UsageError(f"--system-desc: status {desc['status']!r}: choose one of {', '.join(STATUSES)}")
    missing = missing_fields(desc)
    if missing:
        names = ", ".join(f"'{name}'" for name in missing)
        fields = f"field {names} is" if len(missing) == 1 else f"fields {names} are"
        raise UsageError(f"systems/{identity['system_id']}.json: required {fields} missing: the machine cannot "
                         f"tell {'it' if len(missing) == 1 else 'them'}; set {'it' if len(missing) == 1 else 'them'}"
                         " in the --system-desc file")
    return {name: desc[name] for name in FIELDS if name in desc}
