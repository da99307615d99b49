"""torch, onnxruntime and tensorflow on the same seeded weights at 1200x1200 (one image: ~3 s each)."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from common.backends import make_backend
from common.benchmark import ModelIO
from vision.detection.payload import unpack_detections
from vision.ssd_resnet34.benchmark import SSDResNet34Benchmark
from vision.ssd_resnet34.tasks import ONNX_IO, TF_IO, TORCH_IO


@pytest.fixture(scope="module")
def outputs(resnet34_files):
    image = np.random.default_rng(3).standard_normal((1, 3, 1200, 1200), dtype=np.float32)
    bench = SSDResNet34Benchmark()
    torch_backend = make_backend("pytorch", 2, load_torch_model=bench.load_torch_model)
    torch_backend.load(resnet34_files[".pt"], TORCH_IO)
    ort = make_backend("onnxruntime", 2)
    ort.load(resnet34_files[".onnx"], ModelIO(ONNX_IO.inputs, (*ONNX_IO.outputs, "locs", "confs")))
    tf = make_backend("tensorflow", 2)
    tf.load(resnet34_files[".pb"], ModelIO(TF_IO.inputs, (*TF_IO.outputs, "locs:0", "confs:0")))
    return {
        "pytorch": torch_backend.predict({"image": image}),
        "onnxruntime": ort.predict({"image": image}),
        "tensorflow": tf.predict({"image:0": image}),
    }


def test_onnx_export_has_the_official_names(resnet34_files):
    model = onnx.load(str(resnet34_files[".onnx"]))
    assert [i.name for i in model.graph.input] == ["image"]
    assert [o.name for o in model.graph.output][:3] == ["bboxes", "labels", "scores"]


def test_raw_heads_agree_across_backends(outputs):
    locs, confs = outputs["pytorch"]
    assert locs.shape == (1, 4, 15130) and confs.shape == (1, 81, 15130)
    for backend in ("onnxruntime", "tensorflow"):
        np.testing.assert_allclose(outputs[backend][3], locs, atol=1e-3)
        np.testing.assert_allclose(outputs[backend][4], confs, atol=1e-3)


def test_graph_detections_agree_and_map_to_coco_ids(resnet34_files, outputs):
    bench = SSDResNet34Benchmark()
    onnx_task = bench.make_task("onnxruntime", resnet34_files["data"])
    tf_task = bench.make_task("tensorflow", resnet34_files["data"])
    onnx_rows = unpack_detections(onnx_task.postprocess(outputs["onnxruntime"][:3], [0])[0])
    tf_rows = unpack_detections(tf_task.postprocess(outputs["tensorflow"][:3], [0])[0])
    assert 0 < len(onnx_rows) <= 200 and len(onnx_rows) == len(tf_rows)
    np.testing.assert_allclose(onnx_rows[:, 1:6], tf_rows[:, 1:6], atol=1e-3)
    np.testing.assert_array_equal(onnx_rows[:, 6], tf_rows[:, 6])
    missing = {12, 26, 29, 30, 45, 66, 68, 69, 71, 83}  # COCO ids with no category
    assert set(onnx_rows[:, 6].astype(int)) <= set(range(1, 91)) - missing


def test_torch_task_keeps_the_reference_post_processing(resnet34_files, outputs):
    task = SSDResNet34Benchmark().make_task("pytorch", resnet34_files["data"])
    rows = unpack_detections(task.postprocess(outputs["pytorch"], [4])[0])
    assert 0 < len(rows) <= 200 and np.all(rows[:, 0] == 4)
    assert np.all(np.diff(rows[:, 5]) >= 0)  # ascending scores, as the reference returns them
    assert np.all(rows[:, 5] > 0.05)
