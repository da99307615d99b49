"""The contract every backend fulfils: load a model file with named inputs/outputs, predict a batch."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import numpy as np

from common.benchmark import ModelIO, Task
from common.calibration_record import CalibrationRecord

Postprocess = Callable[[Sequence[np.ndarray], Sequence[int]], list[bytes]]

Result = TypeVar("Result")


class Backend(ABC):
    """An inference engine behind one small contract, and what the harness must know of its behaviour."""

    name: ClassVar[str]
    # False for a backend that runs no model (null): it needs no model file, runs on the CPU only, and
    # its outputs are answered as they are, never post-processed or scored.
    runs_model: ClassVar[bool] = True
    # Whose files and pre/post-processing this engine runs when a benchmark does not list it itself.
    runs_files_of: ClassVar[str | None] = None
    # True for engines that run the int8 QDQ ONNX files 'mlperf-ref calibrate' writes (--precision int8).
    runs_calibrated_onnx: ClassVar[bool] = False

    def __init__(self, threads: int, device: str = "cpu", precision: str = "fp32", workers: int = 1) -> None:
        self.threads = threads  # engine threads per SUT worker
        self.device = device
        self.precision = precision
        self.workers = workers  # SUT worker threads that call predict at once
        self.io: ModelIO | None = None
        self.calibration: CalibrationRecord | None = None  # an int8 file's record, read by load

    @abstractmethod
    def load(self, model_path: Path | None, io: ModelIO) -> None:
        """Load ``model_path`` and bind the inputs and outputs named in ``io``."""

    @abstractmethod
    def predict(self, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        """Run one batch; return the outputs in ``io.outputs`` order."""

    @classmethod
    def task_family(cls, supported: Sequence[str]) -> str | None:
        """Which of a benchmark's ``supported`` backends' tasks (pre/post-processing, model interface) this
        engine runs; None when it cannot run the benchmark."""
        if cls.name in supported:
            return cls.name
        if cls.runs_files_of in supported:
            return cls.runs_files_of
        return None

    def postprocess_for(self, task: Task) -> Postprocess:
        """How a batch's outputs become LoadGen payloads: the task's post-processing."""
        return task.postprocess

    def run_on_engine(self, fn: Callable[..., Result], *args: object) -> Result:
        """``fn(*args)`` where this engine computes; the harness runs predict and post-processing through
        it. Inline for engines with their own thread pools; torch has fixed threads (see engine_threads)."""
        return fn(*args)

    def describe(self) -> dict[str, Any]:
        """Engine facts for results.json: device, threads, providers, versions, an int8 file's calibration."""
        facts: dict[str, Any] = {"backend": self.name, "device": self.device, "threads": self.threads,
                                 "precision": self.precision}
        if self.calibration is not None:
            facts["calibration"] = self.calibration.describe()
        return facts


def require_file(model_path: Path | None, backend: str) -> Path:
    """The model file, or a clear error naming the option."""
    from common.errors import UsageError

    if model_path is None:
        raise UsageError(f"--model is required for the {backend} backend (see 'mlperf-ref export-model')")
    if not (model_path.is_file() or Path(f"{model_path}.index").is_file()):  # a file or a TF checkpoint
        raise UsageError(f"--model {model_path}: no such file (download it or run 'mlperf-ref export-model')")
    return model_path


def require_fp32(backend: Backend, alternative: str) -> None:
    """Refuse a reduced precision on a backend that runs the model file as it is."""
    from common.errors import UsageError

    if backend.precision != "fp32":
        raise UsageError(f"--precision {backend.precision}: the {backend.name} backend runs the model file's own "
                         f"fp32 arithmetic; {alternative}")
