import json

import torch

from replication.papercheck.fixtures import write_billion_word, write_fortunes
from replication.data import build_charmap, char_lines, encode_lines, fetch, load_text
from replication.data.text import is_held_out, parse_fortunes


def test_char_lines_truncate_and_pad_with_backtick():
    assert char_lines(["abc", "x" * 40, ""], max_len=5) == ["abc``", "xxxxx", "`````"]
    assert [len(line) for line in char_lines(["a" * 31, "b" * 33])] == [32, 32]


def test_charmap_unk_first_then_by_count_and_unknown_maps_to_unk():
    # counts: a 3, ` 3, b 2; the a/` tie keeps first occurrence; b falls outside 3 entries
    charmap, inv = build_charmap(["aab`", "ab``"], max_vocab=3)
    assert inv == ["unk", "a", "`"] and charmap == {"unk": 0, "a": 1, "`": 2}
    assert encode_lines(["ab`"], charmap).tolist() == [[1, 0, 2]]
    assert encode_lines(["ab`"], charmap).dtype == torch.int64


def test_billion_word_reads_files_in_order_bytewise(tmp_path, use_fixture):
    raw = tmp_path / "billion-word" / "raw"
    write_billion_word(raw)
    use_fixture("billion-word", raw)
    manifest = json.loads(fetch("billion-word", root=tmp_path).read_text())
    assert manifest["limit"] == 10_000_000 and manifest["raw"]
    lines = load_text("billion-word", "train", root=tmp_path)
    assert len(lines) == 198  # 99 files × 2 lines; news.en-00100 is not read
    assert lines[0] == "Caf\u00c3\u00a9 ." and len(lines[0]) == 7  # one character per byte, as Python 2
    assert lines[1] == "file 1 line 1 : a long enough sentence to be cut at thirty-two characters ."
    assert lines[-1].startswith("file 99 line 1")
    assert char_lines(lines[1:2]) == ["file 1 line 1 : a long enough se"]

    fetch("billion-word", root=tmp_path, limit=5)
    assert load_text("billion-word", "train", root=tmp_path) == lines[:5]


def test_fortunes_parsing():
    assert parse_fortunes(
        "A short one.\n%\nTwo lines\n\tjoined   by  whitespace.\n\t\t-- Someone Famous\n%\n"
        "Non-ASCII caf\u00e9 and a\ttab.\n%\n%\nLast entry\n") == [
        "A short one.", "Two lines joined by whitespace.", "Non-ASCII caf and a tab.", "Last entry"]


def test_fortunes_fetch_splits_by_hash_and_skips_art(tmp_path, use_fixture):
    raw = tmp_path / "fortunes" / "raw"
    write_fortunes(raw)
    use_fixture("fortunes", raw)
    fetch("fortunes", root=tmp_path)
    train = load_text("fortunes", "train", root=tmp_path)
    test = load_text("fortunes", "test", root=tmp_path)
    everything = ["A short one.", "Two lines joined by whitespace.", "Non-ASCII caf and a tab.",
                  "Last entry without trailing separator"]
    assert sorted(train + test) == sorted(everything)  # nothing from art or wisdom.dat
    assert all(is_held_out(entry) for entry in test) and not any(is_held_out(entry) for entry in train)
