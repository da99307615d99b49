"""What an int8 model says about its making, in its ONNX ``metadata_props``, and the checks built on it.

``mlperf-ref calibrate`` writes a :class:`CalibrationRecord` into the file it makes; the backends read it
back for results.json (``engine.calibration``) and the runner refuses a file whose precision is not the
one asked for. The record carries the marks of what it was made from (random weights, synthetic
calibration data), so a run of the int8 file says what a run of its source would. A file's precision is
also read from its graph (:func:`quantized_nodes`): a quantized graph without a record is no fp32 file.
Standard library only at import: the backends and the runner import this module on every run.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from common.errors import UsageError

PREFIX = "mlperf_ref."  # every key this project writes into an ONNX file's metadata_props
INT8 = "int8"
# ONNX ops that exist only in quantized graphs (QDQ, QOperator and integer forms): any of them makes a file int8
QUANTIZED_NODE_TYPES = frozenset({
    "QuantizeLinear", "DequantizeLinear", "QLinearConv", "QLinearMatMul", "ConvInteger", "MatMulInteger",
    "DynamicQuantizeLinear", "QLinearAdd", "QLinearMul", "QGemm"})
_BOOLEANS = ("official", "random_weights", "synthetic_data")


@dataclass(frozen=True)
class CalibrationRecord:
    """How an int8 file was calibrated and quantized (every field a metadata_props entry)."""

    benchmark: str
    calibration_list: str  # "option_1", "coco", or the file name of a list that is not an official one
    calibration_list_sha256: str
    official: bool  # the list is one of the official v0.5 lists, whole and unchanged
    images: int
    method: str  # minmax | entropy | percentile
    quantization: str  # the scheme, in words
    tools: dict[str, str]  # library versions that made the file
    source_model_sha256: str  # the fp32 file it was made from
    precision: str = INT8
    note: str = ""  # why the file is not valid for submission ("" when it is)
    random_weights: bool = False  # the fp32 source had seeded random weights (export-model): so has this file
    synthetic_data: bool = False  # calibrated on the synthetic sample data

    def to_metadata(self) -> dict[str, str]:
        """The metadata_props entries (metadata values are strings)."""
        return {PREFIX + key: _to_text(value) for key, value in asdict(self).items()}

    @classmethod
    def from_metadata(cls, props: Mapping[str, str]) -> CalibrationRecord | None:
        """The record in ``props`` (an ONNX file's metadata_props), or None where the file has none."""
        if props.get(PREFIX + "precision") != INT8:
            return None
        return cls(**{f.name: _from_text(f.name, props.get(PREFIX + f.name, "")) for f in fields(cls)})

    def describe(self) -> dict[str, Any]:
        """The facts results.json shows under ``engine.calibration``."""
        return {"list": self.calibration_list, "list_sha256": self.calibration_list_sha256,
                "official": self.official, "images": self.images, "method": self.method,
                "quantization": self.quantization, "tools": self.tools, "note": self.note}


def _to_text(value: object) -> str:
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _from_text(name: str, text: str) -> Any:
    if name == "tools":
        return json.loads(text or "{}")
    if name in _BOOLEANS:
        return text == "true"
    if name == "images":
        return int(text or 0)
    return text


def read_record(model_file: Path) -> CalibrationRecord | None:
    """The record of an ONNX file (None for files without one, or not ONNX)."""
    import onnx

    try:
        model = onnx.load(str(model_file), load_external_data=False)
    except Exception:  # protobuf's DecodeError and friends: not an ONNX file, so no record
        return None
    return CalibrationRecord.from_metadata({p.key: p.value for p in model.metadata_props})


def quantized_nodes(model_file: Path) -> list[str]:
    """The quantized op types in an ONNX file's graph, sorted (empty for an fp32 graph, or no ONNX file)."""
    import onnx

    try:
        model = onnx.load(str(model_file), load_external_data=False)
    except Exception:  # protobuf's DecodeError and friends: not an ONNX file (its engine says what it is)
        return []
    return sorted({node.op_type for node in model.graph.node} & QUANTIZED_NODE_TYPES)


def check_model_precision(record: CalibrationRecord | None, model: Path, precision: str, benchmark: str) -> None:
    """Refuse an fp32 file run as int8 (with the command that makes the int8 file), an int8 file run at any
    other precision (its results would be reported under the wrong precision), judged by its record and by
    its graph, and a quantized graph without a record (how it was calibrated is unknown)."""
    if record is None:
        quantized = quantized_nodes(model)
        if quantized:
            raise UsageError(
                f"--precision {precision}: --model {model} is an int8 model by its graph ({', '.join(quantized)} "
                f"nodes) but carries no record from 'mlperf-ref calibrate' (metadata stripped?), so how it was "
                f"calibrated is unknown; make the int8 file with 'mlperf-ref calibrate {benchmark}' from the fp32 "
                f"model")
    if precision == INT8 and record is None:
        int8_file = model.with_name(f"{model.stem}-int8.onnx")
        raise UsageError(
            f"--precision int8: --model {model} is no int8 model from 'mlperf-ref calibrate'; make one first: "
            f"mlperf-ref calibrate {benchmark} --model {model} --dataset-path DIR --backend onnxruntime "
            f"--output {int8_file}")
    if precision != INT8 and record is not None:
        raise UsageError(
            f"--precision {precision}: --model {model} is an int8 model (calibrated on "
            f"{record.calibration_list}); run it with --precision int8, or give the fp32 file")
    if record is not None and record.benchmark and record.benchmark != benchmark:
        raise UsageError(f"--model {model}: calibrated for {record.benchmark}, not {benchmark}")
