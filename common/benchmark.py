"""What a benchmark tells the harness about itself.

Every benchmark folder (``vision/resnet50``, ``translation/gnmt``, ...) subclasses :class:`Benchmark`
and registers the class under the ``mlperf_ref.benchmarks`` entry point group in ``pyproject.toml``.
The harness in ``common/`` only ever talks to these types; it never imports a benchmark folder.

Data flow of one run::

    Dataset.load(indices)  -> samples (preprocessed, cached)       [QSL, outside the timed part]
    Task.collate(samples)  -> {input name: batch array}             [SUT]
    Backend.predict(feeds) -> [output arrays in ModelIO.outputs order]
    Task.postprocess(outputs, qsl_indices) -> one payload (bytes) per sample -> LoadGen
    Benchmark.score({qsl_idx: payload}, dataset_path) -> AccuracyReport
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from common.accuracy.payloads import decode
from common.rules import v05_rule

if TYPE_CHECKING:  # torch is only needed by benchmarks that offer the pytorch backend
    import torch

    from common.accuracy.options import ScoreOptions


@dataclass(frozen=True)
class QualityTarget:
    """The closed-division quality target: ``fraction`` of the FP32 ``reference`` score."""

    metric: str  # "top-1", "mAP", "BLEU"
    reference: float  # FP32 score of the official model, in ``unit``
    fraction: float  # 0.99 (0.98 for MobileNet)
    unit: str = "%"  # "%" for top-1 and mAP, "" for BLEU

    @property
    def value(self) -> float:
        """The score a run must reach, e.g. 76.46 * 0.99 = 75.6954."""
        return round(self.reference * self.fraction, 6)

    def passes(self, score: float) -> bool:
        return bool(score >= self.value)

    def describe(self) -> str:
        return f"{self.metric} >= {self.value:g}{self.unit} ({self.fraction:.0%} of {self.reference:g})"


@dataclass(frozen=True)
class BenchmarkInfo:
    """Static facts of one benchmark (the v0.5 rules and the official model).

    The latency bounds, their percentile and the performance sample count are read from
    ``common/mlperf.conf`` by ``name``: LoadGen runs with that file, so the facts cannot differ from it.
    """

    name: str  # the model name in mlperf.conf: "resnet50", "ssd-mobilenet", "gnmt", ...
    title: str  # "ResNet50-v1.5"
    dataset: str  # "ImageNet 2012 val (224x224)"
    quality: QualityTarget
    backends: tuple[str, ...]  # backends with a model (the first is the default); null runs every benchmark
    model_files: Mapping[str, str] = field(default_factory=dict)  # backend -> official model file name
    quick_count: int = 16  # samples a --quick run uses: few, so the quick start stays short on a laptop
    submission_model: str = ""  # the model's name in a v0.5 submission tree ("resnet", "ssd-large"; default: name)
    # Samples of the full dataset (the accuracy set): the QSL total LoadGen must log for a submission run.
    # None: not known, so no run of the benchmark is submittable.
    dataset_size: int | None = None

    @property
    def v05_model(self) -> str:
        """The model's name in the v0.5 submission tree (the results/, measurements/, code/ and audit/ folders)."""
        return self.submission_model or self.name

    @property
    def default_backend(self) -> str:
        return self.backends[0]

    @property
    def server_latency_ms(self) -> float:
        """The Server latency bound (ms) at ``latency_percentile``."""
        return float(v05_rule(self.name, "Server", "target_latency"))

    @property
    def multistream_latency_ms(self) -> float:
        """The MultiStream latency bound (ms) at ``latency_percentile``."""
        return float(v05_rule(self.name, "MultiStream", "target_latency"))

    @property
    def latency_percentile(self) -> float:
        """The percentile of both bounds: 99 for the vision models, 97 for GNMT (Server and MultiStream agree)."""
        return float(v05_rule(self.name, "Server", "target_latency_percentile"))

    @property
    def performance_sample_count(self) -> int:
        """The v0.5 performance sample count (set per model, the same in every scenario)."""
        return int(v05_rule(self.name, "Offline", "performance_sample_count_override"))


@dataclass(frozen=True)
class ModelIO:
    """The tensor interface a backend loads: input and output names, and the input layout."""

    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    layout: str = ""  # "NCHW" or "NHWC" for images, "" where it does not apply


@dataclass(frozen=True)
class DatasetOptions:
    """How to open a dataset for one run."""

    backend: str  # the preprocessing can depend on it (e.g. uint8 NHWC for the TF SSD graph)
    layout: str  # from the task's ModelIO
    cache_dir: Path  # root of the preprocessing cache; each benchmark keys its own entries below it
    workers: int  # threads for preprocessing
    count: int | None = None  # use only the first ``count`` samples (testing; not valid for submission)
    progress: bool = True  # show progress bars (they stay quiet when stderr is not a terminal)
    purpose: str = "accuracy"  # "accuracy", "performance" (GNMT reads another file for each) or "calibration"


@dataclass
class AccuracyReport:
    """The score of an accuracy log, as the benchmark's scorer computed it."""

    value: float  # in the quality target's unit
    count: int  # samples scored (each qsl index once)
    lines: list[str]  # human-readable lines, printed as they are (e.g. the 12 COCO stats)
    accuracy_txt: str  # the v0.5 accuracy.txt content ("accuracy=...", "mAP=...", "BLEU: ...")
    extra: dict[str, Any] = field(default_factory=dict)  # machine-readable extras for results.json


@dataclass(frozen=True)
class DynamicInt8:
    """How a benchmark's torch model becomes int8 without calibration data (dynamic quantization)."""

    convert: Callable[[torch.nn.Module], torch.nn.Module]  # the loaded fp32 model -> its int8 form (same interface)
    description: str  # for results.json and the summary: what is int8 and how activations are quantized


# Samples batch first: array samples as one array with a row per sample, others (e.g. token sequences of
# different lengths) as a sequence.
Samples = np.ndarray | Sequence[Any]


class Dataset(ABC):
    """The samples of one benchmark, preprocessed on demand and cached."""

    @abstractmethod
    def __len__(self) -> int:
        """Total number of samples (the QSL's total count)."""

    @abstractmethod
    def load(self, indices: Sequence[int]) -> Samples:
        """Preprocess (or read from the cache) the given samples and return them in the given order.

        Array samples come back as ONE C-contiguous array with the samples as rows, in the given order:
        the QSL keeps it as one block and hands out batches of consecutive rows as views of it. Samples
        that cannot share one array (different shapes) come back as a sequence of one entry per sample.
        Called by the QSL outside the timed part of the run; may use all cores and show progress.
        """

    def describe(self) -> dict[str, Any]:
        """Facts for results.json (path, sample count, cache)."""
        return {"samples": len(self)}


class Task(ABC):
    """Pre- and post-processing around one backend's model interface."""

    io: ModelIO

    @abstractmethod
    def collate(self, samples: Samples) -> dict[str, np.ndarray]:
        """The model's input feeds for one batch.

        Array samples come as one ndarray, batch first (a view of the QSL's block, or one gathered array):
        use it as it is, without a copy. Other samples (e.g. token sequences) come as a sequence.
        """

    @abstractmethod
    def postprocess(self, outputs: Sequence[np.ndarray], indices: Sequence[int]) -> list[bytes]:
        """Turn one batch of model outputs into one v0.5 payload per sample (qsl ``indices``)."""

    def sort_key(self, sample: Any) -> float | None:
        """A key to group similar samples into batches (e.g. sentence length); None keeps LoadGen's order."""
        return None


class Benchmark(ABC):
    """One benchmark: its facts, data, model interface, scorer, sample data and model export."""

    info: ClassVar[BenchmarkInfo]
    # The form of its accuracy payloads (common/accuracy/payloads.py): 'mlperf-ref accuracy' refuses a log
    # of another form; None checks nothing.
    payload_kind: ClassVar[str | None] = None

    @abstractmethod
    def make_task(self, backend: str, dataset_path: Path) -> Task:
        """The pre/post-processing and tensor names for ``backend``, one of ``info.backends``.

        The runner checks the backend first; the null backend uses the default backend's task.

        ``dataset_path`` gives access to what post-processing needs (e.g. GNMT's target vocabulary).
        """

    @abstractmethod
    def open_dataset(self, path: Path, options: DatasetOptions) -> Dataset:
        """Open the dataset folder (raise FileNotFoundError/ValueError naming the file and the fix)."""

    @abstractmethod
    def score(self, results: Mapping[int, bytes], dataset_path: Path,
              options: ScoreOptions | None = None) -> AccuracyReport:
        """Score accuracy payloads keyed by qsl index (each index once); ``options`` are those of the v0.5
        accuracy scripts that apply to the benchmark (``mlperf-ref accuracy`` refuses the others)."""

    def full_dataset_size(self, purpose: str) -> int | None:
        """The QSL total of a v0.5 run's ``purpose`` phase (accuracy or performance) on the full dataset:
        ``info.dataset_size`` for both, unless a benchmark reads another file for its performance phase."""
        return self.info.dataset_size

    def decode_payload(self, payload: bytes) -> Any:
        """One accuracy-log payload as the benchmark's data, by its ``payload_kind`` (the audit's TEST01
        compares these, not bytes)."""
        return decode(self.payload_kind, payload)

    @abstractmethod
    def make_samples(self, output: Path) -> Path:
        """Write the embedded sample data in the real folder layout below ``output``; return its folder."""

    @abstractmethod
    def export_model(self, output: Path, seed: int = 0) -> Path:
        """Write the benchmark's model with seeded random weights and the official tensor names."""

    def calibration_lists(self) -> Mapping[str, Path]:
        """The official v0.5 calibration lists by name, the default first; empty where ``mlperf-ref calibrate``
        does not serve the benchmark."""
        return {}

    def open_calibration(self, path: Path, names: Sequence[str], options: DatasetOptions) -> Dataset:
        """The calibration images ``names`` of the dataset folder ``path``, preprocessed (and cached) exactly
        as the benchmark's samples, in the given order; a UsageError names the missing ones."""
        raise ValueError(f"{self.info.name} has no calibration images")

    def load_torch_model(self, model_path: Path) -> torch.nn.Module:
        """The plain-torch model for the pytorch backend, with weights from ``model_path``.

        Its forward takes the task's inputs in ``io.inputs`` order and returns its outputs in
        ``io.outputs`` order.
        """
        raise ValueError(f"{self.info.name} has no pytorch model")

    def torch_dynamic_int8(self) -> DynamicInt8 | None:
        """The dynamic int8 form of ``load_torch_model``'s model (``--backend pytorch --precision int8``), or
        None where the benchmark offers none (the default)."""
        return None
