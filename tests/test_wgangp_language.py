"""wgangp_language: one-hot real batches, the corpus (held-out split, vocabulary, 'unk'), the
argmax-decoded n-gram measures, the claims' arithmetic and the comparison's positive control,
bitwise resume of a language training (evaluation rows and sample files included), and a
checkpoint of another vocabulary refused in one line."""

import copy
import json
import os

import pandas as pd
import pytest
import torch
import yaml

from replication import config as cfg
from replication.data.batches import OneHotSource, TensorSource
from replication.data.text import is_held_out
from replication.errors import ReplicationError
from replication.data import load
from replication.experiments import wgangp_language as wl
from replication.runs import RunContext, execute_evaluation, execute_run, execute_summary
from replication.metrics.ngram import ngram_counts, ngram_js
from replication.runtime import set_threads
from helpers import Killed, kill_at

FORTUNES = "/usr/share/games/fortunes"
needs_fortunes = pytest.mark.skipif(not os.path.isdir(FORTUNES), reason="Debian package fortunes not installed")
MICRO = {"seeds": [0], "networks": {"generator": {"width": 4}, "critic": {"width": 4}},
         "training": {"iterations": 4, "log_every": 2, "checkpoint_every": 2, "evaluation": {"every": 2, "grid": 4}},
         "ngram": {"samples": 64, "floor_draws": 2}, "table": {"lines": 4}}


def test_one_hot_source_is_resumable():
    data = torch.randint(0, 7, (50, 5), generator=torch.Generator().manual_seed(0)).to(torch.int16)
    source = OneHotSource(TensorSource(data, 8, seed=1), vocab=7)
    first = source.next()
    assert first.shape == (8, 5, 7) and first.dtype == torch.float32
    assert torch.equal(first.sum(-1), torch.ones(8, 5)) and set(first.unique().tolist()) == {0.0, 1.0}
    state = copy.deepcopy(source.state_dict())
    expected = source.next()
    source.next()
    source.load_state_dict(state)
    assert torch.equal(source.next(), expected)


def _settings(heldout_split):
    from replication.settings.experiments import TextData

    return TextData(dataset="x", train_split="train", heldout_split=heldout_split, seq_len=6, max_vocab=2048)


def test_corpus_holds_out_by_hash_and_maps_unseen_characters_to_unk(monkeypatch):
    lines = [f"line {i} abc" for i in range(60)] + ["Z only here"]
    held = [line for line in lines if is_held_out(line)]
    assert held and "Z only here" not in held  # the fixture needs one line of each kind
    monkeypatch.setattr(load, "load_text", lambda name, split: lines)
    corpus = load.load_corpus(_settings(None))
    assert len(corpus.train) == len(lines) - len(held) and len(corpus.heldout) == len(held)
    assert corpus.inv_charmap[0] == "unk" and "Z" in corpus.inv_charmap  # the vocabulary of the training lines
    assert [wl.shown(t) for t in corpus.decode(corpus.train[:1])] == ["line 0"]

    tests = {"train": ["abc", "abd"], "test": ["abQ"]}
    monkeypatch.setattr(load, "load_text", lambda name, split: tests[split])
    corpus = load.load_corpus(_settings("test"))
    assert corpus.heldout == [("a", "b", "unk", "`", "`", "`")]  # Q is outside the training vocabulary
    assert corpus.inv_charmap == ["unk", "`", "a", "b", "c", "d"]  # padding is an ordinary token, by count
    assert wl.shown(corpus.heldout[0]) == "ab\ufffd```"


def test_measures_decode_the_softmax_by_argmax():
    corpus = load.Corpus(torch.zeros(1, 4, dtype=torch.int16), [tuple("abca"), tuple("bcab")], ["unk", "a", "b", "c"])
    lines = torch.tensor([[1, 2, 3, 1], [2, 3, 1, 2]])
    probs = (torch.nn.functional.one_hot(lines, 4).float() * 3 + torch.rand(2, 4, 4)).softmax(-1)
    reference = wl.reference_counts(corpus, (1, 2, 4))
    got = wl.measures(probs, corpus, reference, (1, 2, 4))
    assert got == pytest.approx({**ngram_js(corpus.heldout, reference, (1, 2, 4)),
                                 "softmax_max": float(probs.max(-1).values.mean())})
    assert got["js4"] == 0.0 and got["js1"] == 0.0  # the decoded lines are the reference itself
    assert reference[2] == ngram_counts(corpus.heldout, 2)


def test_gap_and_plateau_arithmetic():
    assert wl.gap(0.99, 0.99, 0.3) == 1.0 and wl.gap(0.3, 0.99, 0.3) == 0.0
    assert wl.gap(0.645, 0.99, 0.3) == pytest.approx(0.5)
    falling = pd.Series([1.0, 0.9, 0.8, 0.7, 0.6, 0.5])
    assert wl.still_falling(falling, 0.5) == pytest.approx(-0.3)  # 3 points, slope -0.1
    assert wl.still_falling(pd.Series([0.7, 0.5, 0.5, 0.5]), 0.5) == pytest.approx(0.0, abs=1e-12)
    assert wl.still_falling(pd.Series([0.9]), 0.5) == 0.0  # one evaluation: nothing is falling


@pytest.fixture(scope="module")
def fortunes_root(tmp_path_factory):
    if not os.path.isdir(FORTUNES):
        pytest.skip("Debian package fortunes not installed")
    from replication.data import fetch

    root = tmp_path_factory.mktemp("data")
    fetch("fortunes", root)
    return root


def _ctx(tmp_path, name, run="wgangp_s0"):
    deltas = tmp_path / "micro.yaml"
    deltas.write_text(yaml.safe_dump({"wgangp_language": MICRO}))
    settings = cfg.resolve("wgangp_language", "smoke", str(deltas))
    return RunContext("wgangp_language", run, "smoke", settings, {}, tmp_path / f"out_{name}", tmp_path / name,
                      torch.device("cpu"), tmp_path)



@needs_fortunes
def test_training_resumes_bitwise(tmp_path, fortunes_root, monkeypatch):
    monkeypatch.setenv("REPLICATION_DATA", str(fortunes_root))
    set_threads(1)  # as every run does (bitwise equality holds at a fixed thread count)
    straight = wl.trainer(_ctx(tmp_path, "a"), "wgangp").fit()
    with pytest.raises(Killed):  # after the checkpoint and evaluation at 2
        wl.trainer(_ctx(tmp_path, "b"), "wgangp", on_iteration=kill_at(3)).fit()
    resumed = wl.trainer(_ctx(tmp_path, "b"), "wgangp")
    assert resumed.resume() and resumed.iteration == 2
    resumed.fit()
    for name in ("metrics.csv", "evaluation.csv", "samples/step_0000004.txt"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    for key, value in straight.networks["generator"].state_dict().items():
        assert torch.equal(value, resumed.networks["generator"].state_dict()[key])
    assert len(pd.read_csv(tmp_path / "b" / "evaluation.csv")) == 3  # steps 0, 2, 4: no row lost or doubled


@needs_fortunes
def test_runs_summary_positive_control_and_foreign_checkpoint(tmp_path, fortunes_root, monkeypatch):
    monkeypatch.setenv("REPLICATION_DATA", str(fortunes_root))
    deltas = tmp_path / "micro.yaml"
    deltas.write_text(yaml.safe_dump({"wgangp_language": MICRO}))
    results = tmp_path / "results"
    for run in cfg.runs_of("wgangp_language", "smoke", deltas):
        execute_run("wgangp_language", run, "smoke", "cpu", 1, results, deltas)
    for run in cfg.evaluated_runs("wgangp_language", "smoke", deltas):
        execute_evaluation("wgangp_language", run, "smoke", "cpu", 1, results, deltas)
    final = json.loads((results / "smoke/wgangp_language/wgangp_s0/final_metrics.json").read_text())["metrics"]
    assert len(final["lines"]) == 4 and all(len(line) == 32 for line in final["lines"])

    measured = json.loads(execute_summary("wgangp_language", "smoke", results, deltas).read_text())
    assert 0.9 < measured["wgangp_js4_gap"]["value"] < 1.1  # 4 iterations: near the start
    assert len(measured["gan_minus_wgangp_js4"]["value"]) == 1

    # the GAN still falling at the end of its budget: the comparison is not evaluated
    path = results / "smoke/wgangp_language/gan_s0/evaluation.csv"
    curve = pd.read_csv(path)
    curve["js4"] = [0.99, 0.9, 0.8]
    curve.to_csv(path, index=False)
    measured = json.loads(execute_summary("wgangp_language", "smoke", results, deltas).read_text())
    entry = measured["gan_minus_wgangp_js4"]
    assert entry["value"] is None and entry["reason"].startswith("positive control failed")

    # a checkpoint trained on another vocabulary: one clear line
    saved = torch.load(results / "smoke/wgangp_language/gan_s0/final/generator.pt", weights_only=True)
    spec = {**saved["spec"], "vocab": saved["spec"]["vocab"] + 1}
    from replication.nets import build

    torch.save({**saved, "spec": spec, "state_dict": build(spec).state_dict()},
               results / "smoke/wgangp_language/gan_s0/final/generator.pt")
    with pytest.raises(ReplicationError, match="not the corpus'") as err:
        execute_evaluation("wgangp_language", "gan_s0", "smoke", "cpu", 1, results, deltas)
    assert "\n" not in str(err.value)


def test_js_over_the_smaller_support_equals_the_union_formula():
    import math

    import numpy as np
    from scipy.special import rel_entr

    from replication.metrics.ngram import js_divergence

    rng = np.random.default_rng(0)
    big = ngram_counts(["".join(rng.choice(list("abcdefgh"), 32)) for _ in range(300)], 3)
    small = ngram_counts(["".join(rng.choice(list("abcxyz"), 32)) for _ in range(5)], 3)
    support = list(big.keys() | small.keys())
    p, q = (np.array([c[k] for k in support], float) for c in (small, big))
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2
    union = 0.5 * (rel_entr(p, m).sum() + rel_entr(q, m).sum()) / math.log(2)
    assert js_divergence(small, big) == pytest.approx(union, rel=1e-12)
    assert js_divergence(big, small) == pytest.approx(union, rel=1e-12)
