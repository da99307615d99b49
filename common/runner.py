"""One benchmark run: open a session (in this process, or on Ray replicas), run its phases, judge the run,
write results.json and print the summary.

The runner is the one module that chooses between a local session and Ray replicas, which it finds through
the ``mlperf_ref.remote_engines`` entry point (scaleout/, a wing that common/ never imports); the session
(common/session.py) meets the replicas only through its ``RemoteEngines`` protocol.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import shlex
from pathlib import Path

from common import report
from common.atomic import atomic_write_text
from common.calibration_record import check_model_precision, read_record
from common.environment import library_versions, machine_facts
from common.errors import UsageError, record_finished
from common.model_files import model_sha256
from common.output_folder import held
from common.registry import remote_engines
from common.results import USER_CONF_COPY, RunResults
from common.session import (
    MODES,
    QUICK_QUERIES,
    PhaseOptions,
    RemoteEngines,
    RunConfig,
    Session,
    open_local_session,
    prepare,
)
from common.verdict import judge

__all__ = ["MODES", "QUICK_QUERIES", "PhaseOptions", "RemoteEngines", "RunConfig", "Session", "finish",
           "open_session", "run_benchmark", "start_results"]


def open_session(cfg: RunConfig) -> Session:
    """Check the configuration, build the task and load the model once: here, or on each Ray replica."""
    if cfg.ray is None:
        return open_local_session(cfg)
    session = prepare(cfg)  # each replica loads (and checks) the model on its own node
    if session.backend.runs_calibrated_onnx and cfg.model:  # the file's precision, as on one machine
        check_model_precision(read_record(Path(cfg.model)), Path(cfg.model), cfg.precision, session.bench.info.name)
    session.cluster = remote_engines("ray")(cfg, cfg.ray)  # ray is imported only by a run that asks
    return session


def run_benchmark(cfg: RunConfig, session: Session | None = None) -> RunResults:
    """Run one benchmark as configured; write the logs, results.json and print the human summary.
    ``session``: one opened already from ``cfg`` (closed here, as one opened here is)."""
    with held(Path(cfg.output)):  # checked and held before the model loads
        session = session or open_session(cfg)
        try:
            results = start_results(session)
            for phase in ["accuracy", "performance"] if cfg.mode == "both" else [cfg.mode]:
                setattr(results, phase, session.run_phase(phase))
            if session.cluster is not None:
                results.cluster = session.cluster.describe()
            finish(results, Path(cfg.output), session.backend.runs_model)
        finally:
            session.close()
    return results


_COPY_HEAD = "# mlperf-ref: the --user-conf this run read, copied when it started: "


def start_results(session: Session) -> RunResults:
    """Clear an earlier run's results from the output folder and keep a copy of the user's conf (what the
    submission tree records); the part of this run's results known before LoadGen."""
    output = Path(session.cfg.output)
    _clear_previous(output)
    keep_user_conf(session.cfg.user_conf, output)
    return _describe(session)


def keep_user_conf(user_conf: Path | None, output: Path) -> None:
    """Copy the user's conf into the output folder as the run reads it (its own file left as it is)."""
    copy = output / USER_CONF_COPY
    if user_conf is None or (copy.exists() and copy.resolve() == Path(user_conf).resolve()):
        return
    try:
        text = Path(user_conf).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--user-conf {user_conf}: unreadable ({exc})") from exc
    atomic_write_text(copy, f"{_COPY_HEAD}{Path(user_conf).absolute()}\n{text}")


def _clear_previous(output: Path) -> None:
    """Remove an earlier run's results from the output folder, so a failed or interrupted rerun never
    leaves them to be read as its own (LoadGen's logs are rewritten by the new run); an earlier run's copy
    of its conf goes too, never a file of the user's."""
    for name in ("results.json", "latency.png", "accuracy/accuracy.txt"):
        (output / name).unlink(missing_ok=True)
    copy = output / USER_CONF_COPY
    with contextlib.suppress(OSError, UnicodeDecodeError):
        if copy.read_text(encoding="utf-8").startswith(_COPY_HEAD):
            copy.unlink()


def finish(results: RunResults, output: Path, runs_model: bool) -> None:
    """Judge the run, write results.json and the latency plot, print the summary."""
    output.mkdir(parents=True, exist_ok=True)
    results.verdict = judge(results, runs_model)
    results.results_file = str(output / "results.json")
    plot = report.plot_latency(results, output / "latency.png")
    results.plot = str(plot) if plot else None
    results.save(output / "results.json")
    record_finished(output / "results.json")
    print(report.format_summary(results), flush=True)


def _describe(session: Session) -> RunResults:
    """The part of the results known before LoadGen runs."""
    cfg, info = session.cfg, session.bench.info
    quality = info.quality
    return RunResults(
        benchmark=info.name, title=info.title, dataset=info.dataset, backend=cfg.backend, device=cfg.device,
        scenario=cfg.scenario, mode=cfg.mode, quick=cfg.quick, count=cfg.count,
        model=str(cfg.model) if cfg.model else None, dataset_path=str(cfg.dataset_path),
        synthetic_data=session.synthetic_data, random_weights=session.random_weights,
        precision=cfg.precision, max_batchsize=cfg.max_batchsize, workers=cfg.workers, engine=session.engine(),
        quality_target={"metric": quality.metric, "value": quality.value, "unit": quality.unit,
                        "reference": quality.reference, "fraction": quality.fraction},
        versions=library_versions(), machine=machine_facts(),
        command_line=shlex.join(cfg.command_line) if cfg.command_line else None,
        started=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        user_conf=str(cfg.user_conf) if cfg.user_conf is not None else None, target_qps=cfg.target_qps,
        samples_per_query=cfg.samples_per_query,
        model_sha256=model_sha256(cfg.model) if session.backend.runs_model and cfg.model else None,
    )
