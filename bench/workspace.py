"""What the bench rows run on: random-weight model exports, the sample data, LoadGen settings files.

Everything is made once under the work folder and reused by later runs (delete the folder to remake it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from common.atomic import atomic_write_text
from common.registry import get_benchmark
from common.samples import make_all_samples

# LoadGen conf keys the bench sets per scenario; the values come from the bench options (short runs that
# are measurements, not submission runs: v0.5 asks for 60 s and 24,576 Offline samples).
CONF_NOTE = "# written by bench/run.py: short measurement runs, NOT valid for submission\n"


@dataclass(frozen=True)
class Workspace:
    """The work folder: models/, data/ (make-samples), cache/ (preprocessing), runs/ (LoadGen logs)."""

    root: Path

    @property
    def models(self) -> Path:
        return self.root / "models"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    @property
    def runs(self) -> Path:
        return self.root / "runs"

    def model(self, benchmark: str, suffix: str = ".onnx") -> Path:
        """The benchmark's random-weight export (seed 0), written on first use."""
        path = self.models / f"{benchmark}{suffix}"
        if not (path.exists() or Path(f"{path}.index").exists()):  # a file, or a TF checkpoint prefix
            path.parent.mkdir(parents=True, exist_ok=True)
            get_benchmark(benchmark).export_model(path, seed=0)
        return path

    def int8_model(self, benchmark: str) -> Path:
        """The random-weight export calibrated to int8 on the sample data's own list (written on first use;
        speed only: the sample list is no official calibration list)."""
        from common.samples import SAMPLE_CALIBRATION_LIST
        from tools.calibration.command import CalibrateConfig, calibrate

        path = self.models / f"{benchmark}.int8.onnx"
        if not path.exists():
            data = self.dataset(benchmark)
            calibrate(CalibrateConfig(benchmark=benchmark, model=self.model(benchmark), dataset_path=data,
                                      output=path, backend="onnxruntime",
                                      calibration_list=str(data / SAMPLE_CALIBRATION_LIST), cache_dir=self.cache,
                                      progress=False))
        return path

    def dataset(self, benchmark: str) -> Path:
        """The benchmark's sample-data folder from ``make_samples``, written on first use."""
        marker = self.data / f".{benchmark}.done"
        if marker.exists():
            return Path(marker.read_text().strip())
        self.data.mkdir(parents=True, exist_ok=True)
        folder = make_all_samples(self.data, [benchmark])[benchmark]  # marked SYNTHETIC, as make-samples does
        atomic_write_text(marker, f"{folder}\n")
        return Path(folder)


def write_user_conf(path: Path, settings: dict[str, dict[str, float | int]]) -> Path:
    """A LoadGen user.conf with ``*.<scenario>.<key> = value`` lines (applies to every model)."""
    lines = [CONF_NOTE]
    for scenario, keys in settings.items():
        lines.extend(
            f"*.{scenario}.{key} = {value:g}\n"
            if isinstance(value, float)
            else f"*.{scenario}.{key} = {value}\n"
            for key, value in keys.items()
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, "".join(lines))
    return path
