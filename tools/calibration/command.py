"""``mlperf-ref calibrate``: an fp32 ONNX model and an official calibration list in, an int8 file out.

Everything cheap is checked before any image is read: the benchmark, the backend, the method, the output,
the model (fp32 ONNX with the benchmark's tensors) and the list (see lists.py for what a list file may
name). Then the benchmark opens exactly the list's images, preprocessed and cached as its runs do them,
and onnxruntime calibrates and quantizes.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from common.atomic import atomic_write_text
from common.backends import backend_class, backends_for
from common.benchmark import DatasetOptions
from common.cache import check_cache_dir, default_cache_dir
from common.calibration_record import CalibrationRecord
from common.errors import RunError, UsageError
from common.paths import writable_file
from common.registry import get_benchmark
from common.samples import RANDOM_WEIGHTS_SUFFIX, SAMPLE_CALIBRATION_LIST, SYNTHETIC_MARKER
from tools.calibration import CALIBRATION_METHODS
from tools.calibration.lists import CalibrationList, resolve_list


@dataclass(frozen=True)
class CalibrateConfig:
    """Everything one ``mlperf-ref calibrate`` needs."""

    benchmark: str
    model: Path
    dataset_path: Path
    output: Path
    backend: str
    calibration_list: str | None = None  # an official list's name or a file; None: the first official list
    method: str = "minmax"
    cache_dir: Path | None = None
    progress: bool = True


def _check_options(cfg: CalibrateConfig) -> str:
    """The task family the calibration images are preprocessed for (the backend's). The paths are checked
    first, before the benchmark's engines load (seconds), and all before any image is read."""
    _check_paths(cfg)
    bench = get_benchmark(cfg.benchmark)
    if not bench.calibration_lists():
        raise UsageError(f"calibrate {cfg.benchmark}: no calibration lists for it here; calibrate serves the "
                         "benchmarks whose int8 is a calibrated ONNX file (the image benchmarks)")
    cls = backend_class(cfg.backend)
    family = cls.task_family(bench.info.backends)
    if not cls.runs_calibrated_onnx or family is None:
        runs = [name for name in backends_for(bench.info.backends) if backend_class(name).runs_calibrated_onnx]
        raise UsageError(f"--backend {cfg.backend}: calibrate writes int8 ONNX files, which {', '.join(runs)} run")
    if cfg.method not in CALIBRATION_METHODS:
        raise UsageError(f"--method {cfg.method}: choose one of {', '.join(CALIBRATION_METHODS)}")
    return family


def _check_paths(cfg: CalibrateConfig) -> None:
    if Path(cfg.output).suffix != ".onnx":
        raise UsageError(f"--output {cfg.output}: name a .onnx file")
    if Path(cfg.output).resolve() == Path(cfg.model).resolve():
        raise UsageError(f"--output {cfg.output}: the fp32 model itself; name another file")
    if not Path(cfg.dataset_path).is_dir():
        raise UsageError(f"--dataset-path {cfg.dataset_path}: no such folder (see the benchmark's "
                         "download_dataset.sh, or 'mlperf-ref make-samples')")
    _readable_file(Path(cfg.model), "--model")
    # written atomically beside its place: the int8 file, at most the fp32 one's size
    writable_file(Path(cfg.output), "--output", Path(cfg.model).stat().st_size, "the int8 model")
    check_cache_dir(cfg.cache_dir)


def _choose_list(cfg: CalibrateConfig) -> CalibrationList:
    official = get_benchmark(cfg.benchmark).calibration_lists()
    synthetic = (Path(cfg.dataset_path) / SYNTHETIC_MARKER).exists()
    chosen = resolve_list(cfg.calibration_list, official, synthetic)
    if synthetic and chosen.official:
        sample_list = Path(cfg.dataset_path) / SAMPLE_CALIBRATION_LIST
        raise UsageError(f"--dataset-path {cfg.dataset_path}: the synthetic sample data holds none of the images "
                         f"of the official list {chosen.name}; calibrate on its own list (not valid for "
                         f"submission): --calibration-list {sample_list}")
    return chosen


def calibrate(cfg: CalibrateConfig) -> CalibrationRecord:
    """Write the int8 model ``cfg.output``; return the record it carries."""
    family = _check_options(cfg)  # before onnx and onnxruntime load
    import onnx

    from tools.calibration.quantize import (
        BODY_OPS,
        QUANTIZED_OPS,
        check_io,
        interface,
        load_fp32_model,
        quantize,
        quantized_ops,
    )
    from tools.calibration.reader import DatasetReader

    bench = get_benchmark(cfg.benchmark)
    model = load_fp32_model(Path(cfg.model))
    task = bench.make_task(family, Path(cfg.dataset_path))
    check_io(Path(cfg.model), model, task.io)
    chosen = _choose_list(cfg)
    options = DatasetOptions(backend=family, layout=task.io.layout, cache_dir=cfg.cache_dir or default_cache_dir(),
                             workers=os.cpu_count() or 1, progress=False, purpose="calibration")
    dataset = bench.open_calibration(Path(cfg.dataset_path), chosen.names, options)
    random_weights = Path(f"{cfg.model}{RANDOM_WEIGHTS_SUFFIX}").exists()
    fields = {"benchmark": bench.info.name, "calibration_list": chosen.name,
              "calibration_list_sha256": chosen.sha256, "official": chosen.official, "images": len(chosen.names),
              "source_model_sha256": hashlib.sha256(Path(cfg.model).read_bytes()).hexdigest(),
              "note": chosen.note, "random_weights": random_weights,
              "synthetic_data": (Path(cfg.dataset_path) / SYNTHETIC_MARKER).exists()}
    record = quantize(Path(cfg.model), DatasetReader(dataset, task, cfg.progress), cfg.method, Path(cfg.output),
                      fields)
    written = onnx.load(str(cfg.output), load_external_data=False)
    if interface(written) != interface(model) or not quantized_ops(written) <= {*QUANTIZED_OPS, *BODY_OPS}:
        Path(cfg.output).unlink()
        raise RunError(f"calibrate: the quantized model differs from {cfg.model} in its tensor names, or has "
                       f"other ops than {', '.join((*QUANTIZED_OPS, *BODY_OPS))} quantized (removed it)")
    marker = Path(f"{cfg.output}{RANDOM_WEIGHTS_SUFFIX}")
    if random_weights:  # the mark beside the file, as export-model leaves it (the record carries it too)
        atomic_write_text(marker, f"{Path(cfg.output).name}: int8 calibration of {Path(cfg.model).name}, which has "
                                  f"seeded random weights ('mlperf-ref export-model').\n")
    else:
        marker.unlink(missing_ok=True)  # a file calibrated here before from random weights
    return record


def _readable_file(path: Path, option: str) -> None:
    """``path`` is a file this process can read."""
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"{option} {path}: a folder; name a file")
    if not path.is_file():
        raise UsageError(f"{option} {path}: no such file")
    if not os.access(path, os.R_OK):
        raise UsageError(f"{option} {path}: not readable (permission denied)")
