"""onnxruntime's static post-training quantization, as this project applies it to every image benchmark.

One scheme for all of them, and one file for both engines (OpenVINO runs the same QDQ file): QDQ format,
int8 weights per output channel (symmetric), uint8 activations (asymmetric; onnxruntime's x86 kernels are
u8 x s8), and only Conv, MatMul and Gemm quantized, but not the output layers (see output_layers).
Everything else stays fp32, so the detectors' box decoding and NMS inside the exported graphs are
untouched and get fp32 head outputs. NNCF is not used: it would be another
dependency for one quantizer where onnxruntime's already serves both engines.
"""

from __future__ import annotations

import contextlib
import io
import platform
import tempfile
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path

import onnx

from common.atomic import atomic_write_bytes
from common.benchmark import ModelIO
from common.calibration_record import PREFIX, QUANTIZED_NODE_TYPES, CalibrationRecord
from common.errors import UsageError
from tools.calibration.reader import DatasetReader

QUANTIZED_OPS = ("Conv", "MatMul", "Gemm")
FLOAT32 = onnx.TensorProto.FLOAT
FLOAT_TYPES = {onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16, onnx.TensorProto.BFLOAT16,
               onnx.TensorProto.DOUBLE}


def load_fp32_model(path: Path) -> onnx.ModelProto:
    """The fp32 ONNX model ``calibrate`` starts from, or a UsageError saying what the file is instead."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"--model {path}: no such file (see 'mlperf-ref export-model' or download_model.sh)")
    try:
        model = onnx.load(str(path))
    except Exception as exc:  # protobuf's DecodeError and friends
        raise UsageError(f"--model {path}: not an ONNX file ({type(exc).__name__}); calibrate takes the fp32 "
                         ".onnx model") from exc
    if not model.graph.node:
        raise UsageError(f"--model {path}: not an ONNX model (no graph); calibrate takes the fp32 .onnx model")
    if any(p.key.startswith(PREFIX) for p in model.metadata_props) or any(
            n.op_type in QUANTIZED_NODE_TYPES for n in model.graph.node):
        raise UsageError(f"--model {path}: already quantized; calibrate takes the fp32 model")
    other = sorted({onnx.TensorProto.DataType.Name(t.data_type) for t in model.graph.initializer
                    if t.data_type in FLOAT_TYPES and t.data_type != FLOAT32})
    if other:
        raise UsageError(f"--model {path}: holds {', '.join(other)} weights, not fp32; calibrate takes the fp32 model")
    return model


def interface(model: onnx.ModelProto) -> tuple[list[str], list[str]]:
    """The names of the graph's inputs (initializers aside) and outputs."""
    weights = {t.name for t in model.graph.initializer}
    return [i.name for i in model.graph.input if i.name not in weights], [o.name for o in model.graph.output]


def check_io(path: Path, model: onnx.ModelProto, io: ModelIO) -> None:
    """Refuse a model without the benchmark's tensors (a file of another model)."""
    inputs, outputs = interface(model)
    missing = [n for n in (*io.inputs, *io.outputs) if n not in inputs + outputs]
    if missing:
        raise UsageError(f"--model {path}: lacks {', '.join(missing)}; expected inputs {list(io.inputs)} and "
                         f"outputs {list(io.outputs)}, the file has inputs {inputs} and outputs {outputs}")


def output_layers(model: onnx.ModelProto) -> list[str]:
    """The Conv, MatMul and Gemm nodes after which no other one comes: the classifier's last layer, the
    detectors' prediction heads. They stay fp32, so the logits and box codes, and everything computed from
    them (the detectors' box decoding and NMS), are fp32: where 8 bits would cost most accuracy, for little
    of the work (and OpenVINO 2026.4 mis-shapes the SSD box decoding when the head outputs are quantized)."""
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for node in model.graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    reaches: dict[int, bool] = {}  # node id -> a quantized op comes after it

    def feeds_a_layer(node: onnx.NodeProto) -> bool:
        key = id(node)
        if key not in reaches:
            reaches[key] = False  # a graph is acyclic; this only guards the recursion
            after = [c for out in node.output for c in consumers.get(out, [])]
            reaches[key] = any(c.op_type in QUANTIZED_OPS or feeds_a_layer(c) for c in after)
        return reaches[key]

    return [node.name for node in model.graph.node if node.op_type in QUANTIZED_OPS and not feeds_a_layer(node)]


def quantized_ops(model: onnx.ModelProto) -> set[str]:
    """The op types the model's QuantizeLinear nodes serve: the producer of the tensor a QuantizeLinear
    quantizes (a conv's output) or the consumers of its DequantizeLinear (a conv's input), among
    QUANTIZED_OPS; "other" for one that serves none of them."""
    producer = {out: node.op_type for node in model.graph.node for out in node.output}
    consumers: dict[str, list[str]] = {}
    for node in model.graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node.op_type)
    dequantized = {node.input[0]: node.output[0] for node in model.graph.node if node.op_type == "DequantizeLinear"}
    served = set()
    for node in model.graph.node:
        if node.op_type != "QuantizeLinear":
            continue
        ops = {producer.get(node.input[0], "")} | set(consumers.get(dequantized.get(node.output[0], ""), []))
        served |= (ops & set(QUANTIZED_OPS)) or {"other"}
    return served


def fp32_inputs_of(model: onnx.ModelProto, op_type: str) -> bool:
    """Whether every input of the ``op_type`` nodes is computed in fp32 (none comes from a DequantizeLinear)."""
    dequantized = {n.output[0] for n in model.graph.node if n.op_type == "DequantizeLinear"}
    return not any(set(n.input) & dequantized for n in model.graph.node if n.op_type == op_type)


def reduce_range() -> bool:
    """Weights in 7 bits on x86 CPUs without VNNI, where onnxruntime's u8 x s8 kernels can saturate their
    16-bit sums (onnxruntime's own advice); full 8 bits elsewhere."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return False
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_vnni" not in flags and "avx_vnni" not in flags


def scheme(reduced: bool) -> str:
    weights = "7-bit" if reduced else "int8"
    return (f"QDQ; {weights} weights per output channel (symmetric), uint8 activations (asymmetric); "
            f"{', '.join(QUANTIZED_OPS)} quantized but the output layers, everything else fp32")


def tool_versions() -> dict[str, str]:
    found = {}
    for name in ("onnxruntime", "onnx", "mlperf-inference-ref"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def quantize(source: Path, reader: DatasetReader, method: str, output: Path,
             record_fields: Mapping[str, object]) -> CalibrationRecord:
    """Quantize ``source`` with the calibration ``reader`` and write ``output`` (all or nothing) with its
    :class:`CalibrationRecord` in metadata_props; ``record_fields`` are the record's fields this module
    does not know (benchmark, list, images, hashes)."""
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    methods = {"minmax": CalibrationMethod.MinMax, "entropy": CalibrationMethod.Entropy,
               "percentile": CalibrationMethod.Percentile}
    reduced = reduce_range()
    with tempfile.TemporaryDirectory(prefix="mlperf-ref-calibrate-") as tmp:
        prepared, quantized = Path(tmp) / "prepared.onnx", Path(tmp) / "int8.onnx"
        # onnxruntime's recommended preparation: constant folding and batch norm folded into the
        # convolutions, so each conv is quantized with its folded weights (the exports keep batch norm)
        quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)
        with contextlib.redirect_stdout(io.StringIO()):  # the histogram calibrators print their progress
            quantize_static(
                str(prepared), str(quantized), reader, quant_format=QuantFormat.QDQ,
                op_types_to_quantize=list(QUANTIZED_OPS), nodes_to_exclude=output_layers(onnx.load(str(prepared))),
                per_channel=True, reduce_range=reduced,
                activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, calibrate_method=methods[method],
                # one sample per calibrator pass: its ranges or histograms take that sample in before the next
                extra_options={"CalibStridedMinMax": 1})
        model = onnx.load(str(quantized))
    reader.close()
    record = CalibrationRecord(method=method, quantization=scheme(reduced), tools=tool_versions(),
                               **record_fields)  # type: ignore[arg-type]
    for key, value in record.to_metadata().items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    atomic_write_bytes(Path(output), model.SerializeToString())
    return record
