"""Facts about the software and machine a run used, for results.json and the bench tables."""

from __future__ import annotations

import os
import platform
from importlib import metadata

LIBRARIES = ("mlcommons-loadgen", "numpy", "onnxruntime", "onnxruntime-gpu", "torch", "tensorflow-cpu",
             "tensorflow", "opencv-python-headless", "pycocotools", "sacrebleu", "onnx", "openvino")


def library_versions() -> dict[str, str]:
    """Installed versions of every library a run can touch."""
    found = {}
    for name in LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def machine_facts() -> dict[str, object]:
    """The platform, processor and core count."""
    return {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count()}
