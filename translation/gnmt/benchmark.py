"""GNMT on WMT16 English-German: the benchmark's facts, data, task, BLEU scorer, sample data and export."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch

from common.accuracy.bleu import score_translations
from common.accuracy.options import ScoreOptions
from common.accuracy.payloads import TRANSLATION
from common.benchmark import (
    AccuracyReport,
    Benchmark,
    BenchmarkInfo,
    Dataset,
    DatasetOptions,
    DynamicInt8,
    QualityTarget,
    Task,
)
from common.errors import UsageError
from translation.gnmt.checkpoint import load_model, random_variables, write_tf_checkpoint
from translation.gnmt.dataset import (
    ACCURACY_LINES,
    LARGE_REPEATS,
    REFERENCE,
    TARGET_VOCAB,
    GNMTTask,
    WMTDataset,
    read_lines,
    require,
)
from translation.gnmt.model import GNMTConfig
from translation.gnmt.quantize import DESCRIPTION, to_dynamic_int8
from translation.gnmt.samples import sample_text, write_samples
from translation.gnmt.vocab import Vocabulary, remove_bpe

SAMPLES_FOLDER = "wmt16"
CHECKPOINT_NAME = "translate.ckpt"  # gnmt_model.zip: ende_gnmt_model_4_layer/translate.ckpt.*
# export-model writes a 128-unit model: the same names, layers and code path as the 1024-unit official
# one, a 1 MB checkpoint instead of 400 MB, and a quick start that decodes in seconds on a CPU.
EXPORT_NUM_UNITS = 128


class GNMTBenchmark(Benchmark):
    """GNMT v2 (4 layers, 1024 units) from the official TF1 checkpoint, in plain torch."""

    payload_kind = TRANSLATION
    info = BenchmarkInfo(
        name="gnmt",
        submission_model="gnmt",  # the v0.5 submission's model name
        title="GNMT (4-layer, tensorflow/nmt)",
        dataset="WMT16 EN-DE newstest2014 (tokenized, BPE 32k)",
        quality=QualityTarget("BLEU", 23.9, 0.99, unit=""),  # v0.5: 99% of 23.9 BLEU = 23.661
        backends=("pytorch",),
        model_files={"pytorch": f"ende_gnmt_model_4_layer/{CHECKPOINT_NAME}"},
        quick_count=8,
        dataset_size=ACCURACY_LINES,
    )

    def full_dataset_size(self, purpose: str) -> int | None:
        # v0.5: the performance phase reads the .large file, 1,300 copies of the accuracy set
        return ACCURACY_LINES * LARGE_REPEATS if purpose == "performance" else ACCURACY_LINES

    def make_task(self, backend: str, dataset_path: Path) -> Task:
        return GNMTTask(Vocabulary.from_file(require(Path(dataset_path), TARGET_VOCAB)))

    def open_dataset(self, path: Path, options: DatasetOptions) -> Dataset:
        if not Path(path).is_dir():
            raise UsageError(f"--dataset-path {path}: no such folder (run translation/gnmt/download_dataset.sh)")
        return WMTDataset(Path(path), options.purpose, options.count)

    def load_torch_model(self, model_path: Path) -> torch.nn.Module:
        return load_model(Path(model_path))

    def torch_dynamic_int8(self) -> DynamicInt8:
        return DynamicInt8(to_dynamic_int8, DESCRIPTION)

    def score(self, results: Mapping[int, bytes], dataset_path: Path,
              options: ScoreOptions | None = None) -> AccuracyReport:
        references = read_lines(require(Path(dataset_path), REFERENCE))
        return score_translations(results, [remove_bpe(line) for line in references], REFERENCE)

    def make_samples(self, output: Path) -> Path:
        return write_samples(Path(output) / SAMPLES_FOLDER)

    def export_model(self, output: Path, seed: int = 0) -> Path:
        output = Path(output)
        prefix = output / CHECKPOINT_NAME if output.is_dir() else output
        vocabulary = len(Vocabulary.from_tokens(sample_text()[2]))
        config = GNMTConfig(vocabulary, vocabulary, num_units=EXPORT_NUM_UNITS)
        return write_tf_checkpoint(prefix, random_variables(config, seed))
