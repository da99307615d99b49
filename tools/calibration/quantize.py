"""onnxruntime's static post-training quantization, as this project applies it to every image benchmark.

One scheme for all of them, and one file for both engines (OpenVINO runs the same QDQ file): QDQ format,
int8 weights per output channel (symmetric), uint8 activations (asymmetric; onnxruntime's x86 kernels are
u8 x s8); Conv, MatMul and Gemm quantized but the output layers (see output_layers), and between them
the activations, residual adds and pools (BODY_OPS), with zero Pads folded into their Convs first
(fold_zero_pads), so that int8 flows from layer to layer. Everything after the last layers stays fp32,
so the detectors' box decoding and NMS inside the exported graphs are untouched and get fp32 head
outputs. NNCF is not used: it would be another dependency for one quantizer where onnxruntime's already
serves both engines. On the measured AVX-512 VNNI/AMX machine OpenVINO runs these files 2-4x faster than
onnxruntime (bench/PERFORMANCE.md, "int8 recipe").
"""

from __future__ import annotations

import contextlib
import io
import platform
import tempfile
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path

import onnx

from common.atomic import atomic_write_bytes
from common.benchmark import ModelIO
from common.calibration_record import PREFIX, QUANTIZED_NODE_TYPES, CalibrationRecord
from common.errors import UsageError
from tools.calibration.reader import DatasetReader

QUANTIZED_OPS = ("Conv", "MatMul", "Gemm")
# ops between the layers quantized too, so that int8 flows from layer to layer without a DequantizeLinear and
# QuantizeLinear pair around each (onnxruntime drops Relu/Clip into the layer's output range); after the
# network's last layers (post-processing) they stay fp32
BODY_OPS: tuple[str, ...] = ("Clip", "Relu", "Add", "MaxPool", "GlobalAveragePool", "AveragePool")
# Pad is not among them: onnxruntime 1.32's quantized Pad pads with the integer 0, not the zero point (a
# ResNet50 whose stem Pad was quantized lost its top-1 on every sample image); zero pads before a Conv are
# folded into the Conv instead (fold_zero_pads), the same arithmetic
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


def excluded(model: onnx.ModelProto) -> list[str]:
    """The nodes quantize_static leaves fp32: the output layers and the body ops after them."""
    return output_layers(model) + after_the_body(model, BODY_OPS)


def after_the_body(model: onnx.ModelProto, op_types: Sequence[str]) -> list[str]:
    """The ``op_types`` nodes no quantized layer comes after (post-processing: the detectors' box decoding,
    NMS and outputs): these stay fp32 when ``op_types`` are quantized inside the network."""
    layers = set(output_layers(model))
    body = _feeding_a_layer(model)
    return [n.name for n in model.graph.node if n.op_type in op_types and n.name not in layers and not body[n.name]]


def _feeding_a_layer(model: onnx.ModelProto) -> dict[str, bool]:
    """Node name -> whether a Conv, MatMul or Gemm comes after it."""
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for node in model.graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    reaches: dict[str, bool] = {}
    for node in reversed(model.graph.node):  # a graph's nodes are in topological order
        after = [c for out in node.output for c in consumers.get(out, [])]
        reaches[node.name] = any(c.op_type in QUANTIZED_OPS or reaches.get(c.name, False) for c in after)
    return reaches


def fold_zero_pads(model: onnx.ModelProto) -> onnx.ModelProto:
    """Zero Pads of the spatial axes whose only consumers are Convs become those Convs' own pads (the same
    sums: a padded zero adds nothing), so that the quantized layers follow each other without a Pad."""
    from onnx import numpy_helper

    weights = {t.name: t for t in model.graph.initializer}
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for node in model.graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    folded = []
    for pad in model.graph.node:
        if pad.op_type != "Pad" or len(pad.input) < 2 or pad.input[1] not in weights:
            continue
        mode = next((a.s for a in pad.attribute if a.name == "mode"), b"constant")
        value = pad.input[2] if len(pad.input) > 2 else ""
        if mode != b"constant" or (value and (value not in weights or numpy_helper.to_array(weights[value]).any())):
            continue
        pads = [int(v) for v in numpy_helper.to_array(weights[pad.input[1]])]
        rank = len(pads) // 2
        convs = consumers.get(pad.output[0], [])
        if (rank != 4 or min(pads) < 0 or pads[0] or pads[1] or pads[4] or pads[5] or not convs
                or any(c.op_type != "Conv" or any(a.name == "auto_pad" and a.s not in (b"", b"NOTSET")
                                                  for a in c.attribute) for c in convs)
                or any(o.name == pad.output[0] for o in model.graph.output)):
            continue
        for conv in convs:
            own = next((a for a in conv.attribute if a.name == "pads"), None)
            before = list(own.ints) if own is not None else [0, 0, 0, 0]
            total = [before[0] + pads[2], before[1] + pads[3], before[2] + pads[6], before[3] + pads[7]]
            if own is not None:
                conv.attribute.remove(own)
            conv.attribute.append(onnx.helper.make_attribute("pads", total))
            conv.input[0] = pad.input[0]
        folded.append(pad)
    for pad in folded:
        model.graph.node.remove(pad)
    return model


def quantized_ops(model: onnx.ModelProto) -> set[str]:
    """The op types the model's QuantizeLinear nodes serve: the producer of the tensor a QuantizeLinear
    quantizes (a conv's output) or the consumers of its DequantizeLinear (a conv's input), among
    QUANTIZED_OPS and BODY_OPS; "other" for one that serves none of them."""
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
        served |= (ops & {*QUANTIZED_OPS, *BODY_OPS}) or {"other"}
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
            f"{', '.join(QUANTIZED_OPS)} quantized but the output layers, {', '.join(BODY_OPS)} between them; "
            "zero pads folded into convs; everything else fp32")


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
        onnx.save(fold_zero_pads(onnx.load(str(prepared))), str(prepared))
        with contextlib.redirect_stdout(io.StringIO()):  # the histogram calibrators print their progress
            quantize_static(
                str(prepared), str(quantized), reader, quant_format=QuantFormat.QDQ,
                op_types_to_quantize=[*QUANTIZED_OPS, *BODY_OPS], nodes_to_exclude=excluded(onnx.load(str(prepared))),
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
