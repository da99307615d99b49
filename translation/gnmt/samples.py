"""A small synthetic WMT16-style set in the real file names and layout: BPE'd English/German, vocabularies.

Made from seeded word lists, not from newstest2014: it exercises the text path (``@@`` pieces, Moses
escapes, UTF-8) and the harness, never the model's quality.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

from common.atomic import atomic_write_text
from translation.gnmt.dataset import (
    ACCURACY_SOURCE,
    BPE_CODES,
    LARGE_REPEATS,
    PERFORMANCE_SOURCE,
    REFERENCE,
    SOURCE_VOCAB,
    TARGET_VOCAB,
)

SAMPLE_SENTENCES = 40
SAMPLE_SEED = 2014
_ENGLISH = ("the", "government", "said", "on", "Tuesday", "that", "prices", "would", "rise", "in", "Berlin",
            "negotiations", "between", "unions", "and", "employers", "continued", "for", "several", "hours",
            "a", "spokesman", "confirmed", "&quot;", "it", "is", "unacceptable", ",", "yesterday", "village")
_GERMAN = ("die", "Regierung", "sagte", "am", "Dienstag", ",", "dass", "Preise", "steigen", "würden", "in",
           "Berlin", "Verhandlungen", "zwischen", "Gewerkschaften", "und", "Arbeitgebern", "dauerten",
           "mehrere", "Stunden", "ein", "Sprecher", "bestätigte", "&quot;", "es", "ist", "inakzeptabel",
           "gestern", "Dorf", "Übereinkunft")


def bpe_pieces(word: str, max_piece: int = 5) -> list[str]:
    """Split a word into pieces of at most ``max_piece`` characters, all but the last ending in ``@@``."""
    pieces = [word[i:i + max_piece] for i in range(0, len(word), max_piece)]
    return [f"{p}@@" for p in pieces[:-1]] + pieces[-1:]


def _sentence(rng: random.Random, words: tuple[str, ...]) -> str:
    chosen = [rng.choice(words) for _ in range(rng.randint(3, 14))] + ["."]
    return " ".join(piece for word in chosen for piece in bpe_pieces(word))


def sample_text(sentences: int = SAMPLE_SENTENCES, seed: int = SAMPLE_SEED) -> tuple[list[str], list[str], list[str]]:
    """The English lines, German lines and joint vocabulary (most frequent first) of the sample set."""
    rng = random.Random(seed)
    english = [_sentence(rng, _ENGLISH) for _ in range(sentences)]
    german = [_sentence(rng, _GERMAN) for _ in range(sentences)]
    counts = Counter(piece for line in english + german for piece in line.split(" "))
    vocabulary = [token for token, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]
    return english, german, vocabulary


def write_samples(folder: Path, sentences: int = SAMPLE_SENTENCES, seed: int = SAMPLE_SEED) -> Path:
    """Write the source, reference, performance set, vocabularies and BPE codes below ``folder``."""
    english, german, vocabulary = sample_text(sentences, seed)
    source = "\n".join(english) + "\n"
    atomic_write_text(folder / ACCURACY_SOURCE, source)
    atomic_write_text(folder / REFERENCE, "\n".join(german) + "\n")
    atomic_write_text(folder / PERFORMANCE_SOURCE, source * LARGE_REPEATS)
    # One joint vocabulary, copied to .en and .de as in the real data; no <unk>/<s>/</s> lines, so the
    # reader's prepending of the special tokens (nmt check_vocab) is exercised.
    for name in (SOURCE_VOCAB, TARGET_VOCAB):
        atomic_write_text(folder / name, "\n".join(vocabulary) + "\n")
    merges = sorted({(p[0], p[1:3]) for p in vocabulary if len(p) >= 3 and not p.startswith("&")})
    atomic_write_text(folder / BPE_CODES, "#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merges))
    return folder
