"""torch, onnxruntime and tensorflow on the same seeded weights; the official interface."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch

from common.backends import make_backend
from common.benchmark import ModelIO
from common.errors import UsageError
from vision.detection.payload import unpack_detections
from vision.ssd_mobilenet.benchmark import SSDMobileNetBenchmark
from vision.ssd_mobilenet.export import random_model
from vision.ssd_mobilenet.tasks import OFFICIAL_IO, TORCH_IO, decode_official

OFFICIAL = (
    ["image_tensor:0"],
    ["num_detections:0", "detection_boxes:0", "detection_scores:0", "detection_classes:0"],
)


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    rng = np.random.default_rng(2)
    return rng.integers(0, 256, (2, 300, 300, 3), dtype=np.uint8)


def test_onnx_export_is_one_file_with_the_official_names(mobilenet_files):
    model = onnx.load(str(mobilenet_files[".onnx"]))
    assert [i.name for i in model.graph.input] == OFFICIAL[0]
    assert [o.name for o in model.graph.output][:4] == OFFICIAL[1]
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.UINT8
    assert not list(mobilenet_files[".onnx"].parent.glob("*.data"))


def test_torch_onnxruntime_and_tensorflow_agree(mobilenet_files, images):
    reference = random_model(0)
    with torch.no_grad():
        logits, codes = reference((torch.from_numpy(images).float().permute(0, 3, 1, 2) - 127.5) / 127.5)
    raw = ModelIO(OFFICIAL_IO.inputs, (*OFFICIAL_IO.outputs, "class_logits", "box_codes"))
    ort = make_backend("onnxruntime", 2)
    ort.load(mobilenet_files[".onnx"], raw)
    tf = make_backend("tensorflow", 2)
    tf.load(
        mobilenet_files[".pb"],
        ModelIO(raw.inputs, tuple(f"{n}:0" if ":" not in n else n for n in raw.outputs)),
    )
    bench = SSDMobileNetBenchmark()
    pt = make_backend("pytorch", 2, load_torch_model=bench.load_torch_model)
    pt.load(mobilenet_files[".pt"], TORCH_IO)
    feeds = {"image_tensor:0": images}
    ort_out, tf_out = ort.predict(feeds), tf.predict(feeds)
    pt_logits, pt_codes = pt.predict(
        {"image": ((images.astype(np.float32) - 127.5) / 127.5).transpose(0, 3, 1, 2)}
    )
    for out in (ort_out, tf_out):
        np.testing.assert_allclose(out[4], logits.numpy(), atol=2e-4)
        np.testing.assert_allclose(out[5], codes.numpy(), atol=2e-4)
    np.testing.assert_allclose(pt_logits, logits.numpy(), atol=1e-5)
    # the graphs' post-processing: same detections from onnxruntime's and TensorFlow's NMS
    ort_dets, tf_dets = decode_official(ort_out[:4]), decode_official(tf_out[:4])
    for (ob, os_, oc), (tb, ts, tc) in zip(ort_dets, tf_dets, strict=True):
        assert len(os_) == 100 and len(ts) == 100  # num_detections of the official graphs
        np.testing.assert_array_equal(oc[:20], tc[:20])
        np.testing.assert_allclose(os_, ts, atol=1e-4)
        np.testing.assert_allclose(ob[:20], tb[:20], atol=1e-4)
        assert set(oc.astype(int)) <= set(range(1, 91))


def test_task_packs_official_outputs_and_a_wrong_file_lists_the_expected_names(mobilenet_files, tmp_path):
    task = SSDMobileNetBenchmark().make_task("onnxruntime", mobilenet_files["data"])
    outputs = [
        np.array([2.0, 0.0]),
        np.tile([[0.1, 0.2, 0.3, 0.4]], (2, 100, 1)).astype(np.float32),
        np.full((2, 100), 0.5, np.float32),
        np.full((2, 100), 18.0, np.float32),
    ]
    first, second = task.postprocess(outputs, [5, 6])
    rows = unpack_detections(first)
    assert rows.shape == (2, 7) and rows[0].tolist() == pytest.approx([5, 0.1, 0.2, 0.3, 0.4, 0.5, 18])
    assert second == b""
    backend = make_backend("onnxruntime", 1)
    with pytest.raises(UsageError, match="num_detections:0"):
        backend.load(mobilenet_files[".onnx"], ModelIO(("image_tensor:0",), ("bboxes",)))


def test_the_export_answers_as_the_full_nms_does(mobilenet_files, images, tmp_path):
    """The file's If (NMS on the 400 best scores) against the traced graph's full-NMS outputs, bit for bit."""
    import onnxruntime

    from vision.detection.export import export_onnx_file
    from vision.ssd_mobilenet.anchors import ssd_anchors
    from vision.ssd_mobilenet.official_graph import (
        EXACT_OUTPUTS,
        FAST_OUTPUTS,
        RAW_OUTPUTS,
        SHORTLIST_ENOUGH,
        OfficialInterface,
    )

    wrapper = OfficialInterface(random_model(0), torch.from_numpy(ssd_anchors())).eval()
    traced = export_onnx_file(wrapper, torch.zeros(1, 300, 300, 3, dtype=torch.uint8), tmp_path / "both.onnx",
                              OFFICIAL[0][0], [*FAST_OUTPUTS, SHORTLIST_ENOUGH, *EXACT_OUTPUTS, *RAW_OUTPUTS])
    assert [n.op_type for n in onnx.load(str(mobilenet_files[".onnx"])).graph.node].count("If") == 1
    feeds = {OFFICIAL[0][0]: images}
    both = onnxruntime.InferenceSession(str(traced), providers=["CPUExecutionProvider"]).run(None, feeds)
    joined = onnxruntime.InferenceSession(str(mobilenet_files[".onnx"]), providers=["CPUExecutionProvider"])
    assert bool(both[4]) and both[5].tolist() == [100, 100]
    for got, fast, exact in zip(joined.run(OFFICIAL[1], feeds), both[:4], both[5:9], strict=True):
        np.testing.assert_array_equal(fast, exact)
        np.testing.assert_array_equal(got, exact)
