"""A tiny benchmark made of common/ types only, to test the harness without vision/ or translation/."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from common.benchmark import (
    AccuracyReport,
    Benchmark,
    BenchmarkInfo,
    Dataset,
    DatasetOptions,
    ModelIO,
    QualityTarget,
    Samples,
    Task,
)

SAMPLES = 40
FEATURES = 8


class VectorDataset(Dataset):
    """Sample i is the vector (i, i+1, ...); its label is i % FEATURES (argmax of a one-hot)."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.loads = 0

    def __len__(self) -> int:
        return self.count

    def load(self, indices: Sequence[int]) -> np.ndarray:
        self.loads += 1
        return np.stack([np.eye(FEATURES, dtype=np.float32)[i % FEATURES] * (1 + i) for i in indices])


class ArgmaxTask(Task):
    io = ModelIO(inputs=("x",), outputs=("y",), layout="")

    def collate(self, samples: Samples) -> dict[str, np.ndarray]:
        return {"x": samples if isinstance(samples, np.ndarray) else np.stack(samples)}

    def postprocess(self, outputs: Sequence[np.ndarray], indices: Sequence[int]) -> list[bytes]:
        return [np.float32(np.argmax(row)).tobytes() for row in outputs[0]]


class SyntheticBenchmark(Benchmark):
    info = BenchmarkInfo(
        name="resnet50", title="Synthetic", dataset="vectors", quality=QualityTarget("top-1", 80.0, 0.99),
        backends=("onnxruntime",), quick_count=24, dataset_size=SAMPLES,
    )

    def make_task(self, backend: str, dataset_path: Path) -> Task:
        return ArgmaxTask()

    def open_dataset(self, path: Path, options: DatasetOptions) -> Dataset:
        return VectorDataset(min(SAMPLES, options.count or SAMPLES))

    def score(self, results: Mapping[int, bytes], dataset_path: Path, options: object = None) -> AccuracyReport:
        good = sum(np.frombuffer(p, np.float32)[0] == i % FEATURES for i, p in results.items())
        value = 100 * good / len(results)
        return AccuracyReport(value, len(results), [f"accuracy={value:.3f}%"], f"accuracy={value:.3f}%")

    def make_samples(self, output: Path) -> Path:
        output.mkdir(parents=True, exist_ok=True)
        return output

    def export_model(self, output: Path, seed: int = 0) -> Path:
        output.write_bytes(b"")
        return output
