"""newstest2014 (WMT16 English-German, tokenized + BPE) as the v0.5 harness reads it, and the GNMT task."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from common.benchmark import Dataset, ModelIO, Samples, Task
from common.errors import UsageError
from translation.gnmt.model import EOS_ID
from translation.gnmt.text import check_utf8, line_chunks, read_text
from translation.gnmt.vocab import Vocabulary, translation_text

ACCURACY_SOURCE = "newstest2014.tok.bpe.32000.en"  # 3,003 lines: the accuracy set
PERFORMANCE_SOURCE = "newstest2014.tok.bpe.32000.en.large"  # 1,300 x the accuracy set: the performance set
REFERENCE = "newstest2014.tok.bpe.32000.de"  # the references BLEU compares with
SOURCE_VOCAB = "vocab.bpe.32000.en"
TARGET_VOCAB = "vocab.bpe.32000.de"
BPE_CODES = "bpe.32000"
ACCURACY_LINES = 3003  # newstest2014 sentences
LARGE_REPEATS = 1300  # v0.5: the .large file is 1,300 copies of the accuracy set (3,903,900 lines)
_SCAN_BYTES = 1 << 24


def require(folder: Path, name: str) -> Path:
    path = Path(folder) / name
    if not path.is_file():
        raise UsageError(f"--dataset-path {folder}: {name} is missing (run translation/gnmt/"
                         "download_dataset.sh or 'mlperf-ref make-samples')")
    return path


def read_lines(path: Path) -> list[str]:
    """The lines of a UTF-8 text file, without line ends (``str.splitlines`` as nmt's ``load_data``); a
    UsageError names the line that is not UTF-8."""
    return read_text(path).splitlines()


class SourceLines:
    """Random access to the lines of a source file without holding a 3.9 M-line file in memory.

    A file that is an exact repetition of the accuracy set (size and both ends match) maps line i to
    accuracy line i % n; any other file gets an index of line offsets, built when it is opened, which also
    checks that every line is UTF-8 text (a UsageError names the first that is not, before LoadGen starts).
    """

    def __init__(self, path: Path, base: list[str], base_path: Path) -> None:
        self.path = path
        self.base = base
        self._offsets: np.ndarray | None = None
        self.repeats = self._repeats_of(path, base_path)
        self._count = len(base) * self.repeats if self.repeats else len(self._line_offsets()) - 1

    @staticmethod
    def _repeats_of(path: Path, base_path: Path) -> int:
        unit = base_path.read_bytes()
        size = path.stat().st_size
        if not unit or size % len(unit) or not unit.endswith(b"\n"):
            return 0
        with path.open("rb") as handle:
            head = handle.read(len(unit))
            handle.seek(size - len(unit))
            tail = handle.read(len(unit))
        return size // len(unit) if head == unit and tail == unit else 0

    def _line_offsets(self) -> np.ndarray:
        if self._offsets is None:
            ends = [np.zeros(1, dtype=np.int64)]
            position = 0
            for start, line, chunk in line_chunks(self.path, _SCAN_BYTES):
                check_utf8(self.path, chunk, line)
                ends.append(np.flatnonzero(np.frombuffer(chunk, np.uint8) == 10).astype(np.int64) + start + 1)
                position = start + len(chunk)
            offsets = np.concatenate(ends)
            if offsets[-1] != position:  # a last line without a newline
                offsets = np.append(offsets, position)
            self._offsets = offsets
        return self._offsets

    def __len__(self) -> int:
        return self._count

    def lines(self, indices: Sequence[int]) -> list[str]:
        if self.repeats:
            return [self.base[i % len(self.base)] for i in indices]
        offsets = self._line_offsets()
        out = []
        with self.path.open("rb") as handle:
            for i in indices:
                handle.seek(int(offsets[i]))
                out.append(handle.read(int(offsets[i + 1] - offsets[i])).decode("utf-8").rstrip("\r\n"))
        return out


class WMTDataset(Dataset):
    """Source sentences as int64 token ids (tokenized in ``load``, outside the timed part)."""

    def __init__(self, folder: Path, purpose: str, count: int | None = None) -> None:
        if purpose not in ("accuracy", "performance"):
            raise UsageError(f"dataset purpose {purpose!r}: choose accuracy or performance")
        self.folder = Path(folder)
        self.purpose = purpose
        accuracy_path = require(self.folder, ACCURACY_SOURCE)
        self.vocabulary = Vocabulary.from_file(require(self.folder, SOURCE_VOCAB))
        self._table = self.vocabulary.lookup_table()
        base = read_lines(accuracy_path)
        self._base = base
        self._encoded_base: dict[int, np.ndarray] = {}
        self.source_file = ACCURACY_SOURCE
        if purpose == "accuracy":
            self._lines: SourceLines | None = None
            total = len(base)
        else:
            large = self.folder / PERFORMANCE_SOURCE
            if large.is_file():
                self._lines = SourceLines(large, base, accuracy_path)
                self.source_file = PERFORMANCE_SOURCE
                total = len(self._lines)
            else:  # the v0.5 .large file is 1,300 copies of the accuracy set: the same, without the file
                self._lines = None
                self.source_file = f"{ACCURACY_SOURCE} x {LARGE_REPEATS}"
                total = len(base) * LARGE_REPEATS
        self.total = min(total, count) if count else total

    def __len__(self) -> int:
        return self.total

    def load(self, indices: Sequence[int]) -> list[np.ndarray]:
        """One int64 id array per sentence (a list: sentences differ in length)."""
        for i in indices:
            if not 0 <= i < self.total:
                raise IndexError(f"sample {i} outside the {self.total} sentences of {self.source_file}")
        if self._lines is not None and not self._lines.repeats:
            return [self.vocabulary.encode(line, self._table) for line in self._lines.lines(indices)]
        # Sample i is accuracy sentence i % n: encode each sentence once and share its (read-only) array,
        # so the 3,903,900 samples of a performance run cost 3,003 arrays.
        size = len(self._base)
        return [self._encoded(i % size) for i in indices]

    def _encoded(self, base_index: int) -> np.ndarray:
        ids = self._encoded_base.get(base_index)
        if ids is None:
            ids = self.vocabulary.encode(self._base[base_index], self._table)
            ids.flags.writeable = False
            self._encoded_base[base_index] = ids
        return ids

    def describe(self) -> dict[str, Any]:
        return {"samples": self.total, "path": str(self.folder), "source": self.source_file,
                "source_vocabulary": len(self.vocabulary)}


class GNMTTask(Task):
    """Pads token ids into batches; turns decoded ids into de-BPE'd UTF-8 text."""

    io = ModelIO(inputs=("source", "source_length"), outputs=("translation", "translation_length"))

    def __init__(self, target_vocabulary: Vocabulary) -> None:
        self.vocabulary = target_vocabulary

    def collate(self, samples: Samples) -> dict[str, np.ndarray]:
        """Pads the sentences into one batch (a new array: the samples differ in length)."""
        lengths = np.array([len(s) for s in samples], dtype=np.int64)
        # The reference padded with </s>; lengths mask the padding everywhere, so any id would do.
        source = np.full((len(samples), max(1, int(lengths.max(initial=0)))), EOS_ID, dtype=np.int64)
        for row, sample in enumerate(samples):
            source[row, : len(sample)] = sample
        return {"source": source, "source_length": lengths}

    def postprocess(self, outputs: Sequence[np.ndarray], indices: Sequence[int]) -> list[bytes]:
        ids, lengths = outputs
        return [translation_text(ids[row, : int(lengths[row])].tolist(), self.vocabulary).encode("utf-8")
                for row in range(len(indices))]

    def sort_key(self, sample: np.ndarray) -> float:
        return float(len(sample))
