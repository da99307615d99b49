"""The command line: ``mlperf-ref run | audit | calibrate | make-samples | export-model | accuracy |
quickstart | submission | check``."""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

# Light imports only: --help and argument errors must not pay for numpy, LoadGen or the engines.
from common.backends import BACKENDS, known_backend
from common.choices import PRECISIONS
from common.choices import SCENARIO_NAMES as SCENARIOS
from common.errors import Interrupted, RunError, UsageError, finished_note, forget_finished
from common.paths import dataset_folder, os_error_line, writable_file, writable_folder
from common.registry import benchmark_names, get_benchmark
from compliance.definitions import AUDIT_TESTS, TEST04_A, TEST04_B
from tools.calibration import CALIBRATION_METHODS
from tools.search.options import MAX_TRIALS, TRIAL_SECONDS, SearchOptions, check_request


def _benchmark_list() -> str:
    found = benchmark_names()
    return ", ".join(found) if found else "(none installed)"


class _Parser(argparse.ArgumentParser):
    """argparse with one error line and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see '{self.prog} --help')")


INT_CEILING = 2**63 - 1  # LoadGen and the engines hold counts in 64-bit signed integers


def _number(kind: type, low: float, above: bool = False) -> Callable[[str], float]:
    """An argparse type: a finite ``kind`` at least ``low`` (above it with ``above``) and, for an int, within
    64 bits, refused while the arguments are parsed, before anything heavy (Ray, LoadGen) starts."""
    def parse(text: str) -> float:
        value = kind(text)
        if not math.isfinite(value) or value < low or (above and value == low):
            raise argparse.ArgumentTypeError(f"must be {'above' if above else 'at least'} {low}, not {text}")
        if kind is int and value > INT_CEILING:
            raise argparse.ArgumentTypeError(f"must be at most {INT_CEILING}, not {text}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in "invalid int value: 'x'"
    return parse


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="mlperf-ref",
        description="MLPerf Inference v0.5 reference implementations on the official LoadGen.",
        epilog=f"benchmarks: {_benchmark_list()}; backends: {', '.join(BACKENDS)}; "
               f"scenarios: {', '.join(SCENARIOS)}",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    run = sub.add_parser("run", help="run one benchmark through LoadGen",
                         epilog=f"benchmarks: {_benchmark_list()}; backends: {', '.join(BACKENDS)}")
    run.add_argument("benchmark", metavar="BENCHMARK")
    run.add_argument("--backend", type=known_backend, help="default: the benchmark's first backend")
    run.add_argument("--scenario", default="SingleStream", choices=list(SCENARIOS))
    mode = run.add_mutually_exclusive_group()
    mode.add_argument("--accuracy", dest="mode", action="store_const", const="accuracy",
                      help="accuracy mode: every sample once, scored")
    mode.add_argument("--performance", dest="mode", action="store_const", const="performance",
                      help="performance mode (the default)")
    mode.add_argument("--both", dest="mode", action="store_const", const="both",
                      help="accuracy, then performance, in one command")
    run.add_argument("--model", type=Path, help="model file (not needed for the null backend)")
    run.add_argument("--dataset-path", type=dataset_folder, required=True)
    run.add_argument("--output", type=Path, default=Path("output"))
    run.add_argument("--quick", action="store_true", help="seconds, small counts: NOT valid for submission")
    run.add_argument("--max-batchsize", type=_number(int, 1), default=1)
    run.add_argument("--threads", type=_number(int, 1), help="engine threads (default: the cores divided by --workers)")
    run.add_argument("--workers", type=_number(int, 1), default=1, help="SUT worker threads (default 1)")
    run.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    run.add_argument("--precision", default="fp32", choices=list(PRECISIONS),
                     help="reduced precision where the backend and hardware offer it (default fp32)")
    run.add_argument("--user-conf", type=Path, help="LoadGen conf applied on top of the v0.5 mlperf.conf")
    run.add_argument("--count", type=_number(int, 1), help="use only the first N samples (not valid for submission)")
    run.add_argument("--target-qps", type=_number(float, 0, above=True),
                     help="Server target QPS and Offline expected QPS")
    run.add_argument("--samples-per-query", type=_number(int, 1), help="MultiStream samples per query")
    run.add_argument("--batch-timeout-ms", type=_number(float, 0), default=0.0,
                     help="Server dynamic batching: longest wait for a fuller batch (default 0: take what is "
                          "queued; a wait pays where batches run faster per sample, as on GPUs)")
    run.add_argument("--cache-dir", type=Path, help="preprocessing cache (default ~/.cache/mlperf-ref)")
    run.add_argument("--find-samples-per-query", action="store_true",
                     help="MultiStream: search the most samples per query that meet the latency bound")
    run.add_argument("--find-peak-qps", action="store_true",
                     help="Server: search the highest target QPS that LoadGen calls VALID at the bound (short "
                          "trials, then one full-length run); Offline: measure samples/s, set the expected QPS")
    run.add_argument("--max-trials", type=_number(int, 1),
                     help="--find-peak-qps: most LoadGen runs in all (default 10)")
    run.add_argument("--trial-seconds", type=_number(float, 0, above=True),
                     help="--find-peak-qps: length of a short trial (default 10)")
    run.add_argument("--ray", nargs="?", const="", metavar="ADDRESS",
                     help="run the batches on Ray replicas: a local Ray instance, or the cluster at HOST:PORT "
                          "('ray start --head'); LoadGen stays here")
    run.add_argument("--replicas", type=_number(int, 1),
                     help="--ray: engines to start (default: as many as the nodes hold)")
    run.add_argument("--cpus-per-replica", type=_number(float, 0, above=True), default=1.0,
                     help="--ray: CPUs each replica takes (default 1)")
    run.add_argument("--gpus-per-replica", type=_number(float, 0),
                     help="--ray: GPUs each replica takes (default 1 with cuda)")
    run.add_argument("--replica-restarts", type=_number(int, 0),
                     help="--ray: replacements for replicas lost mid-run (default: one per replica)")
    run.add_argument("--allow-audit-config", action="store_true",
                     help="run although an audit.config in the working directory changes the run (never submittable)")
    run.set_defaults(mode="performance")

    audit = sub.add_parser("audit", help=f"run and verify one v0.5 audit test ({', '.join(AUDIT_TESTS)})",
                           epilog="takes the options of 'run'; --output is the test's own folder",
                           add_help=False)  # -h comes with run's options
    audit.add_argument("test", metavar="TEST", choices=list(AUDIT_TESTS))
    audit._add_container_actions(run)  # the same options as 'run' (what argparse's parents= does)
    audit.set_defaults(**run._defaults)
    audit.add_argument("--reference", type=Path, metavar="RUN_DIR",
                       help=f"the submission run to compare with ('run --both' output; {TEST04_B}: the {TEST04_A} "
                            "folder)")

    calibrate = sub.add_parser(
        "calibrate", help="make an int8 model: post-training quantization on an official calibration list",
        epilog="the int8 file runs with 'mlperf-ref run ... --precision int8'; its accuracy pass shows what int8 costs")
    calibrate.add_argument("benchmark", metavar="BENCHMARK")
    calibrate.add_argument("--model", type=Path, required=True, help="the fp32 .onnx model")
    calibrate.add_argument("--dataset-path", type=Path, required=True,
                           help="the dataset folder that holds the calibration images")
    calibrate.add_argument("--calibration-list", metavar="NAME|FILE",
                           help="an official list by name (default: the benchmark's first: option_1 for ImageNet, "
                                "coco for COCO) or a list file (see the README)")
    calibrate.add_argument("--backend", required=True, help="onnxruntime or openvino (both run the same int8 file)")
    calibrate.add_argument("--method", default="minmax", choices=list(CALIBRATION_METHODS),
                           help="how activation ranges are set (default minmax)")
    calibrate.add_argument("--output", type=Path, required=True, help="the int8 .onnx file to write")
    calibrate.add_argument("--cache-dir", type=Path, help="preprocessing cache (default ~/.cache/mlperf-ref)")

    samples = sub.add_parser("make-samples", help="write the embedded sample data of every benchmark")
    samples.add_argument("--output", type=Path, required=True)

    export = sub.add_parser("export-model", help="write a benchmark's model with seeded random weights")
    export.add_argument("benchmark", metavar="BENCHMARK")
    export.add_argument("--output", type=Path, required=True)
    export.add_argument("--seed", type=_number(int, 0), default=0)

    accuracy = sub.add_parser("accuracy", help="score an existing mlperf_log_accuracy.json (any SUT's)",
                              epilog="the options of the v0.5 scripts: --dtype (accuracy-imagenet.py); "
                                     "--use-inv-map, --remove-48-empty-images, --output-file (accuracy-coco.py)")
    accuracy.add_argument("benchmark", metavar="BENCHMARK")
    accuracy.add_argument("--log", type=Path, required=True)
    accuracy.add_argument("--dataset-path", type=Path, required=True)
    accuracy.add_argument("--dtype", choices=["float32", "int32", "int64"],
                          help="ResNet50/MobileNet: the label's type in the payloads (default: decided from them)")
    accuracy.add_argument("--use-inv-map", action="store_true",
                          help="SSD: classes are 1..80 (SSD-ResNet34's), mapped to the COCO category ids")
    accuracy.add_argument("--remove-48-empty-images", action="store_true",
                          help="SSD: the dataset was preprocessed without the 48 images that have no annotations")
    accuracy.add_argument("--output-file", type=Path, metavar="FILE",
                          help="SSD: also write the detections as COCO results JSON")

    quick = sub.add_parser("quickstart", help="every benchmark on the sample data, quick mode, one table")
    quick.add_argument("--output", type=Path, default=Path("output/quickstart"))
    quick.add_argument("--scenario", default="Offline", choices=list(SCENARIOS))
    quick.add_argument("--only", nargs="+", metavar="BENCHMARK", help="run only these benchmarks")
    _add_submission_parsers(sub)
    return parser


def _add_submission_parsers(sub: argparse._SubParsersAction) -> None:
    """``submission`` (the v0.5 tree from finished runs, running what is missing) and ``check``."""
    tree = sub.add_parser("submission", help="write the v0.5 submission tree from finished runs (or run them)",
                          epilog="the options from --backend on are 'run's, for the runs and audits that "
                                 "--benchmarks makes; then: mlperf-ref check OUTPUT")
    tree.add_argument("--submitter", required=True, metavar="ORG")
    tree.add_argument("--system", required=True, metavar="NAME", help="the system's id: systems/NAME.json")
    tree.add_argument("--system-desc", type=Path, metavar="FILE",
                      help="JSON of v0.5 system fields the machine cannot tell (status, at least)")
    tree.add_argument("--division", default="closed", choices=["closed", "open"])
    tree.add_argument("--output", type=Path, required=True, help="the tree's root (written whole, by rename)")
    tree.add_argument("--runs", nargs="+", type=Path, metavar="DIR", help="finished 'mlperf-ref run' folders")
    tree.add_argument("--audits", nargs="+", type=Path, metavar="DIR", help="'mlperf-ref audit' output folders")
    tree.add_argument("--benchmarks", nargs="+", metavar="BENCHMARK", help="run what these lack (with --scenarios)")
    tree.add_argument("--scenarios", nargs="+", choices=list(SCENARIOS), metavar="SCENARIO",
                      help=f"with --benchmarks: {', '.join(SCENARIOS)}")
    tree.add_argument("--runs-dir", type=Path, help="where new runs go (default: OUTPUT-runs beside OUTPUT)")
    tree.add_argument("--backend")
    tree.add_argument("--model", nargs="+", metavar="[BENCH=]FILE", help="BENCH=FILE for each of several benchmarks")
    tree.add_argument("--dataset-path", nargs="+", metavar="[BENCH=]DIR", help="BENCH=DIR for each of several")
    tree.add_argument("--user-conf", type=Path)
    tree.add_argument("--target-qps", type=_number(float, 0, above=True))
    tree.add_argument("--samples-per-query", type=_number(int, 1))
    tree.add_argument("--quick", action="store_true", help="quick runs: the tree will NOT pass the check")
    tree.add_argument("--count", type=_number(int, 1), help="first N samples: the tree will NOT pass the check")
    tree.add_argument("--max-batchsize", type=_number(int, 1), default=1)
    tree.add_argument("--threads", type=_number(int, 1))
    tree.add_argument("--workers", type=_number(int, 1), default=1)
    tree.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    tree.add_argument("--precision", default="fp32", choices=list(PRECISIONS))
    tree.add_argument("--cache-dir", type=Path)

    check = sub.add_parser("check", help="check a submission tree: the v0.5 checker's rules and stricter ones")
    check.add_argument("folder", type=Path, metavar="DIR", help="the tree's root (submission --output)")
    check.add_argument("--dataset-path", action="append", metavar="BENCH=DIR",
                       help="re-score BENCH's accuracy logs on this dataset (repeat per benchmark); without it "
                            "accuracy.txt's figure is taken as stated, and a note says so")


def _run_config(args: argparse.Namespace, argv: Sequence[str]):
    """The RunConfig of 'run' and 'audit' options."""
    from common.runner import RunConfig

    bench = get_benchmark(args.benchmark)
    return RunConfig(
        benchmark=args.benchmark, backend=args.backend or bench.info.default_backend, scenario=args.scenario,
        mode=args.mode, model=args.model, dataset_path=args.dataset_path, output=args.output, quick=args.quick,
        max_batchsize=args.max_batchsize, threads=args.threads, workers=args.workers, device=args.device,
        precision=args.precision,
        count=args.count, user_conf=args.user_conf, target_qps=args.target_qps,
        samples_per_query=args.samples_per_query, batch_timeout_ms=args.batch_timeout_ms,
        cache_dir=args.cache_dir, fail_fast=True, command_line=["mlperf-ref", *argv], ray=_ray_options(args),
        allow_audit_config=args.allow_audit_config,
    )


def _run(args: argparse.Namespace, argv: Sequence[str]) -> int:
    peak = _peak_options(args)
    from common.runner import run_benchmark  # noqa: I001 - heavy imports only when running
    from common.verdict import exit_code

    cfg = _run_config(args, argv)
    if peak is not None:
        from tools.search.server import find_peak_qps

        return 0 if find_peak_qps(cfg, peak)["confirmed"] else 1
    if args.find_samples_per_query:
        from tools.search.multistream import find_samples_per_query

        if args.scenario != "MultiStream" or args.mode != "performance":
            raise UsageError("--find-samples-per-query needs --scenario MultiStream and performance mode")
        return 0 if find_samples_per_query(cfg)["samples_per_query"] > 0 else 1
    return exit_code(run_benchmark(cfg))


def _peak_options(args: argparse.Namespace) -> SearchOptions | None:
    """--find-peak-qps's options, checked before anything heavy loads (None: no search asked for)."""
    if not args.find_peak_qps:
        if args.max_trials is not None or args.trial_seconds is not None:
            raise UsageError("--max-trials and --trial-seconds go with --find-peak-qps")
        return None
    options = SearchOptions(max_trials=MAX_TRIALS if args.max_trials is None else args.max_trials,
                            trial_seconds=TRIAL_SECONDS if args.trial_seconds is None else args.trial_seconds)
    check_request(args.scenario, args.mode, options)
    return options


def _ray_options(args: argparse.Namespace) -> object:
    from scaleout.options import RayOptions

    if args.ray is None:
        given = [o for o, v in (("--replicas", args.replicas), ("--gpus-per-replica", args.gpus_per_replica),
                                ("--replica-restarts", args.replica_restarts)) if v is not None]
        if given or args.cpus_per_replica != 1.0:
            raise UsageError(f"{(given or ['--cpus-per-replica'])[0]} needs --ray")
        return None
    return RayOptions(address=args.ray, replicas=args.replicas, cpus_per_replica=args.cpus_per_replica,
                      gpus_per_replica=args.gpus_per_replica, restarts=args.replica_restarts)


def _audit(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from compliance.run import run_audit

    if args.find_samples_per_query or args.find_peak_qps or args.allow_audit_config:
        raise UsageError("audit: --find-samples-per-query, --find-peak-qps and --allow-audit-config do not apply "
                         "to an audit test")
    _peak_options(args)  # --max-trials or --trial-seconds alone: refused as by 'run'
    return 0 if run_audit(args.test, _run_config(args, argv), args.reference)["passed"] else 1


def _calibrate(args: argparse.Namespace) -> int:
    from tools.calibration.command import CalibrateConfig, calibrate

    record = calibrate(CalibrateConfig(
        benchmark=args.benchmark, model=args.model, dataset_path=args.dataset_path, output=args.output,
        backend=args.backend, calibration_list=args.calibration_list, method=args.method, cache_dir=args.cache_dir))
    standing = "official v0.5 list" if record.official else f"NOT an official list: {record.note}"
    print(f"wrote {args.output}: int8 ({record.quantization})")
    print(f"calibrated on {record.calibration_list} ({standing}; {record.images} images, "
          f"sha256 {record.calibration_list_sha256[:12]}...), method {record.method}")
    print(f"its accuracy on the real data: mlperf-ref run {args.benchmark} --backend {args.backend} --precision int8 "
          f"--model {args.output} --dataset-path DIR --scenario Offline --accuracy")
    return 0


def _make_samples(args: argparse.Namespace) -> int:
    from common.samples import SAMPLE_DATA_BYTES, make_all_samples

    writable_folder(args.output, "--output", SAMPLE_DATA_BYTES, "the sample data")

    for name, folder in make_all_samples(args.output).items():
        print(f"{name}: {folder}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from common.samples import export_random_model

    if args.benchmark in benchmark_names():  # the path before the benchmark's engines load (an unknown name first)
        writable_file(args.output, "--output")
    path = export_random_model(get_benchmark(args.benchmark), args.output, args.seed)
    print(f"wrote {path} (seeded random weights, seed {args.seed}: not the official model)")
    return 0


def _accuracy(args: argparse.Namespace) -> int:
    from common.accuracy.log import read_accuracy_log
    from common.accuracy.options import ScoreOptions
    from common.accuracy.payloads import CLASSIFICATION, require_kind

    if not args.dataset_path.is_dir():  # before the benchmark (and its engine) is imported
        raise UsageError(f"--dataset-path {args.dataset_path}: no such folder")
    options = ScoreOptions(dtype=args.dtype, use_inv_map=args.use_inv_map,
                           remove_48_empty_images=args.remove_48_empty_images, output_file=args.output_file)
    results = read_accuracy_log(args.log)
    bench = get_benchmark(args.benchmark)
    options.require_applies(bench.payload_kind, args.benchmark)
    if not (bench.payload_kind == CLASSIFICATION and args.dtype):  # a given --dtype reads any label as told
        require_kind(results, bench.payload_kind, args.log, args.benchmark)
    report = bench.score(results, args.dataset_path, options)
    for line in report.lines:
        print(line)
    target = bench.info.quality
    passed = target.passes(report.value)
    print(f"{target.metric} {report.value:.3f}{target.unit} vs target {target.value:g}{target.unit}: "
          f"{'PASS' if passed else 'FAIL'}")
    return 0 if passed else 1


def _quickstart(args: argparse.Namespace) -> int:
    from common.disk_space import LOG_FLOOR_BYTES
    from common.samples import SAMPLE_DATA_BYTES
    from tools.quickstart import run_quickstart

    writable_folder(args.output, "--output", SAMPLE_DATA_BYTES + LOG_FLOOR_BYTES, "the sample data and a run's logs")

    return run_quickstart(args.output, args.scenario, args.only)


def _submission(args: argparse.Namespace) -> int:
    from tools.submission.command import make_submission

    return make_submission(args)


def _check(args: argparse.Namespace) -> int:
    from tools.submission.command import check

    return check(args)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``mlperf-ref``; user mistakes get one line and exit code 2."""
    argv = list(sys.argv[1:] if argv is None else argv)
    forget_finished()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    routed = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminated) if routed else None
    previous_int = signal.signal(signal.SIGINT, _interrupted) if routed else None
    try:
        args = _parser().parse_args(argv)
        command = {"run": lambda: _run(args, argv), "audit": lambda: _audit(args, argv),
                   "calibrate": lambda: _calibrate(args),
                   "make-samples": lambda: _make_samples(args),
                   "export-model": lambda: _export(args), "accuracy": lambda: _accuracy(args),
                   "quickstart": lambda: _quickstart(args), "submission": lambda: _submission(args),
                   "check": lambda: _check(args)}[args.command]
        return command()
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except RunError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except Interrupted as exc:
        print(f"error: {exc}{finished_note()}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"error: interrupted{finished_note()}", file=sys.stderr)
        return 130
    except OSError as exc:  # a user path that failed mid-run (the checks before the work passed)
        line = os_error_line(exc)
        if line is None:
            raise
        print(f"error: {line}", file=sys.stderr)
        return 1
    finally:
        if routed:
            signal.signal(signal.SIGTERM, previous)
            signal.signal(signal.SIGINT, previous_int)


def entry() -> None:
    """The ``mlperf-ref`` program: :func:`main`, then the process ends with its code at once. Python's own
    wind-down (its threads, atexit, module teardown) is skipped: everything the command wrote is closed by
    then, and a Ctrl-C during that wind-down would kill the process with no line beside a complete
    results.json. A signal from here on ends the process with a line that says whether the run finished."""
    from common.interruption import hard_exit

    code = main()
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, _while_exiting)
    ray = sys.modules.get("ray")
    if ray is not None and ray.is_initialized():  # leave a cluster we joined as a finished driver
        ray.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    hard_exit(code)


def _while_exiting(signum: int, frame: object) -> None:
    from common.interruption import hard_exit

    print(f"error: {'interrupted' if signum == signal.SIGINT else 'terminated'} while exiting"
          f"{finished_note()}", file=sys.stderr, flush=True)
    hard_exit(128 + signum)


# Ctrl-C outside a LoadGen test unwinds the command; if its clean-up (a Ray instance half started, say)
# has not ended the process this long after the signal, the process ends anyway (the Ray watchdog,
# scaleout/reaper.py, then stops what a local Ray left).
INTERRUPT_GRACE_S = 15.0


def _interrupted(signum: int, frame: object) -> None:
    """SIGINT outside a LoadGen test: KeyboardInterrupt as usual, with a deadline on the unwinding."""
    def expire() -> None:
        print(f"error: interrupted{finished_note()}", file=sys.stderr, flush=True)
        os._exit(130)

    timer = threading.Timer(INTERRUPT_GRACE_S, expire)
    timer.daemon = True
    timer.start()
    raise KeyboardInterrupt


def _terminated(signum: int, frame: object) -> None:
    """SIGTERM outside a LoadGen test: end the command as Ctrl-C would, with 143."""
    raise Interrupted("terminated", signum)


if __name__ == "__main__":
    entry()
