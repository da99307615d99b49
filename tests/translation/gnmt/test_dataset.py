"""newstest2014 as the harness reads it: accuracy set, performance set by repetition, the task's batches."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from common.errors import UsageError
from translation.gnmt.dataset import (
    ACCURACY_SOURCE,
    LARGE_REPEATS,
    PERFORMANCE_SOURCE,
    SOURCE_VOCAB,
    GNMTTask,
    SourceLines,
    WMTDataset,
    read_lines,
)
from translation.gnmt.model import EOS_ID
from translation.gnmt.vocab import Vocabulary


def test_accuracy_set_is_the_source_file_as_ids(wmt16: Path) -> None:
    dataset = WMTDataset(wmt16, "accuracy")
    lines = read_lines(wmt16 / ACCURACY_SOURCE)
    assert len(dataset) == len(lines) == 40
    vocab = Vocabulary.from_file(wmt16 / SOURCE_VOCAB)
    first = dataset.load([3])[0]
    assert first.dtype == np.int64
    assert [vocab.tokens[i] for i in first] == lines[3].split(" ")
    assert 0 not in first  # every sample piece is in the vocabulary


def test_performance_set_maps_onto_the_accuracy_set(wmt16: Path) -> None:
    dataset = WMTDataset(wmt16, "performance")
    assert dataset.source_file == PERFORMANCE_SOURCE
    assert len(dataset) == 40 * LARGE_REPEATS
    accuracy = WMTDataset(wmt16, "accuracy")
    for got, want in zip(dataset.load([5, 45, 40 * LARGE_REPEATS - 1]), accuracy.load([5, 5, 39]), strict=True):
        np.testing.assert_array_equal(got, want)
    first, again = dataset.load([5, 45])
    assert first is again and not first.flags.writeable  # each sentence is encoded once and shared


def test_without_the_large_file_the_repetition_is_virtual(tmp_path: Path, wmt16: Path) -> None:
    folder = tmp_path / "wmt16"
    shutil.copytree(wmt16, folder)
    (folder / PERFORMANCE_SOURCE).unlink()
    dataset = WMTDataset(folder, "performance", count=100)
    assert len(dataset) == 100
    np.testing.assert_array_equal(dataset.load([41])[0], WMTDataset(folder, "accuracy").load([1])[0])
    with pytest.raises(IndexError):
        dataset.load([100])


def test_another_large_file_is_read_line_by_line(tmp_path: Path, wmt16: Path) -> None:
    folder = tmp_path / "wmt16"
    shutil.copytree(wmt16, folder)
    lines = read_lines(folder / ACCURACY_SOURCE)
    (folder / PERFORMANCE_SOURCE).write_text("\n".join(lines[::-1]) + "\n" + lines[0], encoding="utf-8")
    source = SourceLines(folder / PERFORMANCE_SOURCE, lines, folder / ACCURACY_SOURCE)
    assert source.repeats == 0 and len(source) == 41
    assert source.lines([0, 39, 40]) == [lines[39], lines[0], lines[0]]


def test_missing_files_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=f"{ACCURACY_SOURCE} is missing"):
        WMTDataset(tmp_path, "accuracy")


def test_collate_pads_with_the_end_token_and_sorts_by_length() -> None:
    task = GNMTTask(Vocabulary.from_tokens(["a", "b@@", "c"]))
    samples = [np.array([3, 4, 5]), np.array([], np.int64), np.array([5])]
    feeds = task.collate(samples)
    assert feeds["source"].tolist() == [[3, 4, 5], [EOS_ID] * 3, [5, EOS_ID, EOS_ID]]
    assert feeds["source_length"].tolist() == [3, 0, 1]
    assert [task.sort_key(s) for s in samples] == [3.0, 0.0, 1.0]
    assert task.collate([np.array([], np.int64)])["source"].shape == (1, 1)


def test_postprocess_makes_utf8_text_per_sample() -> None:
    task = GNMTTask(Vocabulary.from_tokens(["Über@@", "all", "b@@"]))
    ids = np.array([[3, 4, 5, 2], [4, 2, 2, 2]])
    payloads = task.postprocess([ids, np.array([3, 1])], [10, 11])
    assert payloads == ["Überall".encode(), b"all"]
