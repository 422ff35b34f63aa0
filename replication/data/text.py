"""Text corpora for WGAN-GP's character-level language model (Section 5.5, Table 4), and the
line shaping and vocabulary of its ``language_helpers.load_dataset`` [C]."""

from __future__ import annotations

import collections
import hashlib
import re
from pathlib import Path
from typing import Iterable, Iterator

import torch

PAD = "`"        # language_helpers.load_dataset pads with a backtick [C]
UNK = "unk"      # index 0 of the vocabulary [C]
MAX_LEN = 32     # gan_language.py SEQ_LEN [C]
MAX_VOCAB = 2048  # load_dataset(max_vocab_size=2048) [C]


def char_lines(lines: Iterable[str], max_len: int = MAX_LEN) -> list[str]:
    """Each line cut to ``max_len`` characters and right-padded with '`' to exactly that."""
    return [line[:max_len].ljust(max_len, PAD) for line in lines]


def build_charmap(lines: Iterable[str], max_vocab: int = MAX_VOCAB) -> tuple[dict[str, int], list[str]]:
    """``charmap`` (char → index) and ``inv_charmap``: 'unk' first, then characters by
    decreasing count, ``max_vocab`` entries in all; the padding character is an ordinary
    token. Ties keep first-occurrence order (Python 3 Counter; Python 2's was hash order)."""
    counts = collections.Counter(char for line in lines for char in line)
    inv_charmap = [UNK] + [char for char, _ in counts.most_common(max_vocab - 1)]
    return {char: index for index, char in enumerate(inv_charmap)}, inv_charmap


def encode_lines(lines: Iterable[str], charmap: dict[str, int]) -> torch.Tensor:
    """Shaped lines → int64 N×max_len indices; characters outside the vocabulary map to 'unk'."""
    return torch.tensor([[charmap.get(char, 0) for char in line] for line in lines], dtype=torch.int64)


# Billion Word: load_dataset reads news.en-00001..00099-of-00100 in order, drops each
# line's last character (its newline) and keeps the first MAX_N_EXAMPLES lines [C].
BILLION_WORD_DIR = "1-billion-word-language-modeling-benchmark-r13output/training-monolingual.tokenized.shuffled"
BILLION_WORD_LINES = 10_000_000  # gan_language.py MAX_N_EXAMPLES [C]


def read_billion_word(folder: Path) -> Iterator[str]:
    """Python 2 read the files as byte strings, so a character is a byte: decoding as
    latin-1 keeps one character per byte (a UTF-8 'é' is two characters, as it was)."""
    for index in range(1, 100):
        with open(folder / f"news.en-{index:05d}-of-00100", "rb") as handle:
            for line in handle:
                yield line[:-1].decode("latin-1")


# Fortunes (Debian package `fortunes`), the offline stand-in for Billion Word [I]: every file but
# the ASCII-art ones, entries between '%' lines, attributions dropped, a hashed 10% held out.
FORTUNES_EXCLUDED = {"art", "ascii-art"}
ATTRIBUTION = re.compile(r"^\s+--")


def fortune_files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.iterdir() if path.is_file() and path.suffix not in (".dat", ".u8")
                  and path.name not in FORTUNES_EXCLUDED)


def parse_fortunes(text: str) -> list[str]:
    """Entries between lines holding '%', without attribution lines, whitespace collapsed,
    printable ASCII only; empty entries dropped."""
    entries = []
    for entry in re.split(r"^%[ \t]*$", text, flags=re.MULTILINE):
        kept = "\n".join(line for line in entry.splitlines() if not ATTRIBUTION.match(line))
        kept = "".join(char for char in kept if char.isspace() or " " <= char <= "~")
        if kept := " ".join(kept.split()):
            entries.append(kept)
    return entries


def is_held_out(entry: str) -> bool:
    """The fixed 10% test split: sha1 of the text mod 10 == 0, so it never depends on order."""
    return int.from_bytes(hashlib.sha1(entry.encode()).digest(), "big") % 10 == 0


def split_fortunes(folder: Path) -> dict[str, list[str]]:
    entries = [entry for path in fortune_files(folder)
               for entry in parse_fortunes(path.read_bytes().decode("utf-8", errors="replace"))]
    return {"train": [e for e in entries if not is_held_out(e)], "test": [e for e in entries if is_held_out(e)]}
