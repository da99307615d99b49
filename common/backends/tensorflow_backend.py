"""TensorFlow: frozen GraphDef files (the official .pb models) through ``tf.compat.v1``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from common.backends.base import Backend, require_file, require_fp32
from common.benchmark import ModelIO
from common.errors import UsageError


class TensorFlowBackend(Backend):
    """A tf.compat.v1 Session over an imported frozen graph, with explicit thread pools."""

    name = "tensorflow"

    def load(self, model_path: Path | None, io: ModelIO) -> None:
        require_fp32(self, "use --backend openvino or pytorch for bf16, onnxruntime or openvino for int8")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import tensorflow as tf

        model_file = require_file(model_path, self.name)
        if self.device == "cuda" and not tf.config.list_physical_devices("GPU"):
            raise UsageError("--device cuda: this TensorFlow sees no GPU (install requirements/gpu.txt)")
        if self.device == "cpu":
            tf.config.set_visible_devices([], "GPU")
        graph_def = tf.compat.v1.GraphDef()
        try:
            graph_def.ParseFromString(model_file.read_bytes())
        except Exception as exc:  # protobuf raises DecodeError and others
            raise UsageError(f"--model {model_file}: not a frozen TensorFlow GraphDef ({exc})") from exc
        graph = tf.Graph()
        with graph.as_default():
            tf.compat.v1.import_graph_def(graph_def, name="")
        names = {op.name for op in graph.get_operations()}
        missing = [t for t in (*io.inputs, *io.outputs) if t.split(":")[0] not in names]
        if missing:
            raise UsageError(
                f"--model {model_file}: the graph lacks {', '.join(missing)}; expected inputs "
                f"{list(io.inputs)} and outputs {list(io.outputs)}"
            )
        config = tf.compat.v1.ConfigProto(
            intra_op_parallelism_threads=self.threads, inter_op_parallelism_threads=1
        )
        self.session = tf.compat.v1.Session(graph=graph, config=config)
        self._outputs = [graph.get_tensor_by_name(t) for t in io.outputs]
        self._inputs = {name: graph.get_tensor_by_name(name) for name in io.inputs}
        self.io = io
        self._version = tf.__version__

    def predict(self, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        return self.session.run(self._outputs, {self._inputs[k]: v for k, v in feeds.items()})

    def describe(self) -> dict[str, Any]:
        facts = super().describe()
        facts.update(engine=f"tensorflow {self._version}", inter_op_threads=1)
        return facts
