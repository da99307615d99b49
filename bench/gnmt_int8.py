"""GNMT fp32 against dynamic int8 on the CPU: speed at batch 1 and 64, and how far the translations move.

Two models: the project's export (``mlperf-ref export-model gnmt``: 128 units, the sample vocabulary) and
one of the official size (1024 units, V = 36,549, 210,883,585 parameters) with the export's seeded
uniform(-0.1, 0.1) weights, built in memory. Three variants of each, in one process, on the same threads,
taking turns (the first variant of each repeat rotates):

- ``fp32``: the model as loaded;
- ``qd-linear``: torch's ``quantize_dynamic(model, {nn.LSTM, nn.Linear}, dtype=torch.qint8)``, which
  converts GNMT's three ``nn.Linear`` layers only (its LSTM is TF's own cell, not ``nn.LSTM``);
- ``int8``: ``translation.gnmt.quantize.to_dynamic_int8`` (the LSTM kernels as well).

Random weights and synthetic sentences: speed figures, and an agreement of int8 with fp32 outputs, never
a BLEU against references. Two fp32 probes calibrate that agreement: the weights times (1 + 0.001 N(0, 1)),
and the weights rounded to int8 but computed in fp32 (what int8 costs without its activation rounding).

Usage: python bench/run.py gnmt-int8 --model M/translate.ckpt --samples S/wmt16 --output DIR
           [--threads 2] [--repeats 3] [--full-sentences 8] [--no-full-size]
"""

from __future__ import annotations

import copy
import json
import os
import statistics
import time
import warnings
from collections.abc import Callable, Sequence

import sacrebleu
import torch
from torch import nn

from bench.options import GnmtInt8Options
from translation.gnmt.checkpoint import load_model, load_variables, random_variables
from translation.gnmt.dataset import TARGET_VOCAB, GNMTTask, WMTDataset
from translation.gnmt.model import GNMT, GNMTConfig, LSTMCell
from translation.gnmt.quantize import WEIGHT_LEVELS, to_dynamic_int8
from translation.gnmt.vocab import Vocabulary, translation_text

FULL_VOCABULARY = 36549  # the official checkpoint's source and target vocabularies
BIG_BATCH = 64
NOISE = 1e-3  # relative weight noise of a sensitivity probe
Batch = tuple[torch.Tensor, torch.Tensor]


def variants(model: GNMT) -> dict[str, nn.Module]:
    with warnings.catch_warnings():  # torch.ao.quantization's deprecation notice, once per call
        warnings.simplefilter("ignore", DeprecationWarning)
        linear_only = torch.ao.quantization.quantize_dynamic(model, {nn.LSTM, nn.Linear}, dtype=torch.qint8)
    return {"fp32": model, "qd-linear": linear_only, "int8": to_dynamic_int8(copy.deepcopy(model))}


def make_batches(task: GNMTTask, sentences: Sequence, size: int) -> list[Batch]:
    """Batches of ``size`` sentences (cycled so that the last one is full too)."""
    count = max(len(sentences), size) if size > 1 else len(sentences)
    count = -(-count // size) * size
    cycled = [sentences[i % len(sentences)] for i in range(count)]
    out = []
    for start in range(0, count, size):
        feeds = task.collate(cycled[start:start + size])
        out.append((torch.from_numpy(feeds["source"]), torch.from_numpy(feeds["source_length"])))
    return out


def translate(model: nn.Module, batches: list[Batch]) -> list[list[int]]:
    """Every sentence's token ids, in batch order."""
    out = []
    for source, lengths in batches:
        ids, length = model(source, lengths)
        out.extend(ids[row, : int(length[row])].tolist() for row in range(ids.shape[0]))
    return out


def alternate(names: Sequence[str], work: Callable[[str], object], repeats: int) -> dict:
    """Seconds of ``work(name)`` per variant over ``repeats`` rounds taking turns (warm them up first)."""
    runs: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeats):
        for name in [*names[r % len(names):], *names[: r % len(names)]]:
            start = time.perf_counter()
            work(name)
            runs[name].append(time.perf_counter() - start)
    return {name: {"median_s": statistics.median(v), "min_s": min(v), "runs_s": v} for name, v in runs.items()}


def agreement(reference: list[list[int]], other: list[list[int]], words: Callable[[list[int]], str],
              logits_error: float) -> dict:
    """Identical outputs and BLEU (sacrebleu, tokenize none) of ``other`` against ``reference``."""
    same = sum(a == b for a, b in zip(reference, other, strict=True))
    bleu = sacrebleu.corpus_bleu([words(o) for o in other], [[words(r) for r in reference]], tokenize="none")
    return {"identical": same, "sentences": len(reference), "bleu_vs_fp32": round(bleu.score, 2),
            "first_step_logits_relative_error": float(f"{logits_error:.3g}"),
            "mean_length": statistics.mean(len(o) for o in other)}


def first_step_logits(model: nn.Module, batch: Batch) -> torch.Tensor:
    """The decoder's logits for ``<s>`` after encoding ``batch`` (one row per sentence, beam 0's state)."""
    source, lengths = batch
    memory, states = model.encoder(source, lengths)
    mask = torch.arange(source.shape[1])[None, :] < lengths[:, None]
    context = (memory, model.decoder.attention.keys(memory), mask)
    state = (memory.new_zeros(source.shape[0], model.config.num_units), tuple(states))
    sos = torch.full((source.shape[0],), model.config.search.sos_id)
    return model.decoder.step(sos, state, context)[0]


def sensitivity_probes(model: GNMT) -> dict[str, nn.Module]:
    """fp32 models a little off ``model``: how much smaller changes than int8's move the outputs."""
    noisy, rounded = copy.deepcopy(model), copy.deepcopy(model)
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in noisy.parameters():
            p.mul_(1 + NOISE * torch.randn(p.shape, generator=g))
        for module in rounded.modules():  # the int8 weights, in fp32 arithmetic (activations exact)
            if isinstance(module, LSTMCell):
                rows = module.kernel.t()  # a view: [4 x units, input + units], a row per output
            elif isinstance(module, nn.Linear):
                rows = module.weight
            else:
                continue
            scale = rows.abs().amax(1, keepdim=True) / WEIGHT_LEVELS
            rows.copy_(torch.round(rows / scale) * scale)
    return {f"fp32-noise{NOISE:g}": noisy, "fp32-int8-weights": rounded}


def step_inputs(model: GNMT, rows: int, steps: int, seed: int = 0) -> tuple:
    """Random decoder-step inputs for ``rows`` beams (beam width 10) over ``steps`` source positions."""
    g = torch.Generator().manual_seed(seed)
    units, width = model.config.num_units, model.config.search.beam_width
    memory = torch.rand(rows // width, steps, units, generator=g) - 0.5
    mask = torch.ones(rows // width, steps, dtype=torch.bool)
    layer = tuple((torch.rand(rows, units, generator=g) - 0.5, torch.rand(rows, units, generator=g) - 0.5)
                  for _ in range(model.config.num_layers))
    tokens = torch.randint(3, model.config.tgt_vocab_size, (rows,), generator=g)
    return tokens, (torch.zeros(rows, units), layer), memory, mask


def time_steps(models: dict[str, nn.Module], rows: int, calls: int, repeats: int) -> dict:
    """Seconds per decoder step (``calls`` steps a round) at ``rows`` beam rows, source length 20."""
    inputs = {}
    for name, model in models.items():
        tokens, state, memory, mask = step_inputs(model, rows, 20)
        inputs[name] = (tokens, state, (memory, model.decoder.attention.keys(memory), mask))

    def work(name: str) -> None:
        for _ in range(calls):
            models[name].decoder.step(*inputs[name])

    for name in models:
        work(name)
    timed = alternate(list(models), work, repeats)
    for figures in timed.values():
        figures["per_step_ms"] = round(1000 * figures["median_s"] / calls, 2)
    return timed


def measure(label: str, model: GNMT, task: GNMTTask, sentences: Sequence, args: GnmtInt8Options,
            words: Callable[[list[int]], str], batch1_count: int) -> dict:
    models = variants(model)
    found: dict = {"config": {"units": model.config.num_units, "vocabulary": model.config.tgt_vocab_size,
                              "parameters": sum(p.numel() for p in model.parameters())}}
    with torch.inference_mode():
        if label == "full":
            found["decoder_step_b1"] = time_steps(models, 10, 20, args.repeats)
            _report(label, "decoder step, 10 rows (batch 1 x beam 10)", found["decoder_step_b1"])
            found["decoder_step_b64"] = time_steps(models, 10 * BIG_BATCH, 2, args.repeats)
            _report(label, "decoder step, 640 rows (batch 64 x beam 10)", found["decoder_step_b64"])
        one = make_batches(task, sentences[:batch1_count], 1)
        for model_ in models.values():
            translate(model_, one[:2])  # warm-up
        found["translate_b1"] = alternate(list(models), lambda name: translate(models[name], one), args.repeats)
        found["translate_b1"]["sentences"] = len(one)
        _report(label, f"translate {len(one)} sentences at batch 1", found["translate_b1"])
        big = make_batches(task, sentences, BIG_BATCH)
        # the outputs' run is each variant's warm-up for the timed ones
        outputs = {name: translate(m, big)[: len(sentences)] for name, m in models.items()}
        probes = sensitivity_probes(model)
        outputs.update({name: translate(m, big)[: len(sentences)] for name, m in probes.items()})
        logits = {name: first_step_logits(m, big[0]) for name, m in {**models, **probes}.items()}
        found["agreement"] = {
            name: agreement(outputs["fp32"], out, words,
                            float((logits[name] - logits["fp32"]).norm() / logits["fp32"].norm()))
            for name, out in outputs.items() if name != "fp32"}
        del probes
        print(f"[{label}] agreement with fp32: {json.dumps(found['agreement'])}", flush=True)
        found["translate_b64"] = alternate(list(models), lambda name: translate(models[name], big),
                                           max(1, args.repeats - 1))
        found["translate_b64"]["sentences"] = BIG_BATCH * len(big)
        _report(label, f"translate {BIG_BATCH * len(big)} sentences at batch {BIG_BATCH}", found["translate_b64"])
    return found


def _report(label: str, what: str, timed: dict) -> None:
    base = timed["fp32"]["median_s"]
    parts = [f"{name} {v['median_s']:.3f}s (x{base / v['median_s']:.2f})" for name, v in timed.items()
             if isinstance(v, dict)]
    print(f"[{label}] {what}: " + ", ".join(parts) + f"  load {os.getloadavg()[0]:.2f}", flush=True)


def report_gnmt_int8(args: GnmtInt8Options, command: str) -> int:
    """Measure both models and write OUTPUT/gnmt_int8.json."""
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    torch.set_flush_denormal(True)  # as the pytorch backend's engine threads do
    dataset = WMTDataset(args.samples, "accuracy")
    sentences = dataset.load(range(len(dataset)))
    vocabulary = Vocabulary.from_file(args.samples / TARGET_VOCAB)
    task = GNMTTask(vocabulary)
    results: dict = {"threads": args.threads, "torch": torch.__version__, "repeats": args.repeats,
                     "load_average_before": os.getloadavg(), "command": command}
    small = load_model(args.model)
    results["export"] = measure("export", small, task, sentences, args,
                                lambda ids: translation_text(ids, vocabulary), len(sentences))
    if not args.no_full_size:
        config = GNMTConfig(FULL_VOCABULARY, FULL_VOCABULARY)
        full = load_variables(GNMT(config), random_variables(config, seed=0)).eval()
        results["full"] = measure("full", full, task, sentences, args, lambda ids: " ".join(map(str, ids)),
                                  args.full_sentences)
    results["load_average_after"] = os.getloadavg()
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "gnmt_int8.json").write_text(json.dumps(results, indent=1))
    return 0

