"""WGAN-GP Figure 5 (wgangp_overfitting): the engine's dev-cost probe as gan_mnist.py computes
it (batches, batch statistics), the declared methods, the claims' measures on hand-made curves,
and a resumed run that matches an uninterrupted one bit for bit."""

import math
import os

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from torch import nn

from replication import claims as cl
from replication import config as cfg
from replication.errors import ReplicationError
from replication.runs import execute_run
from replication.experiments import wgangp_overfitting as exp
from replication.nets import count_parameters
from replication.train import EvalData, parse_training
from replication.train.evaluation import EvalContext, critic_loss_probe, isolated

EXP = "wgangp_overfitting"


# -- engine: the dev cost -------------------------------------------------------------------

class _Step:
    """The parts of an AdversarialStep the critic_loss probe reads."""

    def __init__(self, block: dict):
        from replication import objectives
        from replication.train.lipschitz import build_constraint

        self.spec = parse_training(block)
        self.objective = objectives.get(self.spec.objective)
        self.constraint = build_constraint(self.spec.lipschitz, nn.Identity())
        self.fixed_generator = False
        self.generator = None  # set by _probe

    def generate(self, z):
        from replication.train.evaluation import generate_from

        return generate_from(self.generator, z, torch.device("cpu"))


def _probe(critic, gen, step, samples, batch_size, seed=0):
    from replication.settings.training import EvaluationSpec

    spec = EvaluationSpec(every=1, probes=("critic_loss",), samples=samples, batch_size=batch_size)
    step.generator = gen
    data = EvalData(real=lambda n, g: torch.randn(n, 4, generator=g) + 2, noise=lambda n, g: torch.randn(n, 3, generator=g))
    ev = EvalContext(0, {"critic": critic, "generator": gen}, step, data, spec, torch.Generator().manual_seed(seed),
                     torch.device("cpu"), None, None)
    return critic_loss_probe(ev)["critic_loss_heldout"], data


def test_critic_loss_probe_averages_dev_batches_with_the_penalty():
    """gan_mnist.py's dev cost: the mean over batches of (E f(fake) - E f(real) + lambda GP),
    each batch with its own real images and fresh z."""
    torch.manual_seed(0)
    critic, gen = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1)), nn.Linear(3, 4)
    step = _Step({"objective": "wgan", "iterations": 1, "optimizers": {"critic": {"name": "adam", "lr": 1e-4}},
                  "lipschitz": {"method": "gp", "gp_lambda": 10.0}})
    torch.manual_seed(1)  # the penalty's alpha comes from the global stream
    value, data = _probe(critic, gen, step, samples=30, batch_size=10)
    torch.manual_seed(1)
    g = torch.Generator().manual_seed(0)
    reals = data.real(30, g)
    expected = []
    for real in reals.split(10):
        fake = gen(data.noise(10, g)).detach()
        loss = critic(fake).mean() - critic(real).mean()
        expected.append(float((loss + step.constraint.penalty(critic, real, fake)).detach()))
    assert value == pytest.approx(np.mean(expected), rel=1e-6)


def test_critic_mode_batch_stats_normalises_each_batch_and_keeps_the_buffers():
    """tflib's Batchnorm has no inference mode: with critic_mode batch_stats the critic is
    evaluated with the batch's statistics, and its running buffers are left as they were."""
    critic = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4), nn.Linear(4, 1))
    nets = {"critic": critic, "generator": nn.Linear(3, 4)}
    before = [b.clone() for b in critic.buffers()]
    x = torch.randn(16, 4) * 3 + 5
    with isolated(nets, "batch_stats", torch.device("cpu"), critic_mode="batch_stats"):
        assert critic.training
        batch = critic(x)
    with isolated(nets, "batch_stats", torch.device("cpu")):
        assert not critic.training
        running = critic(x)
    assert not torch.allclose(batch, running)
    assert all(torch.equal(a, b) for a, b in zip(before, critic.buffers()))
    with pytest.raises(ReplicationError, match="unknown critic_mode 'train'"):
        parse_training({"objective": "wgan", "iterations": 1, "optimizers": {"critic": {"name": "adam", "lr": 1e-4}},
                        "evaluation": {"every": 1, "critic_mode": "train"}})


# -- settings --------------------------------------------------------------------------------

def test_paper_methods_follow_gan_mnist_py():
    s = cfg.resolve(EXP, "paper")
    specs = {m: (s.methods[m].training, s.methods[m].networks) for m in s.methods}
    gp, clip = (specs[m][0] for m in ("gp", "clip"))
    assert (gp.lipschitz.method, gp.lipschitz.gp_lambda, gp.optimizers["critic"].name, gp.optimizers["critic"].betas) \
        == ("gp", 10.0, "adam", (0.5, 0.9))
    assert (clip.lipschitz.method, clip.lipschitz.clip_value, clip.optimizers["generator"].name) == ("clip", 0.01, "rmsprop_tf")
    assert gp.batch_size == clip.batch_size == 50 and gp.critic_schedule.n_critic == clip.critic_schedule.n_critic == 5
    assert gp.evaluation.batch_size == 50 and gp.evaluation.critic_mode == "batch_stats"
    assert [specs[m][1]["critic"]["batch_norm"] for m in ("gp", "clip")] == [False, True]
    # gan_mnist.py at DIM 64 (the registry's listing): 1,554,177 / 1,030,145 parameters without batch norm
    assert count_parameters(specs["gp"][1]["generator"]) == 1_554_177
    assert count_parameters(specs["gp"][1]["critic"]) == 1_030_145
    assert s.subset.size == 1000 and s.splits == {"train": "wgangp-train", "valid": "wgangp-valid"}
    assert list(cfg.runs_of(EXP, "paper")) == ["gp_subset", "gp_full", "clip_subset", "clip_full", "fig5a_lsun-bedroom"]
    assert "fig5a_lsun-bedroom" not in cfg.runs_of(EXP, "small")  # below paper: the stand-in


# -- measures -------------------------------------------------------------------------------

def test_curves_are_negated_block_means_and_probe_values():
    training = pd.DataFrame({"step": range(25), "critic_loss": np.arange(25, dtype=float)})
    evaluation = pd.DataFrame({"step": [0, 10, 20, 25], "critic_loss_heldout": [1.0, 2.0, 3.0, 4.0]})
    frame = exp.curves(training, evaluation, block=10)
    assert frame["step"].tolist() == [0, 10, 20, 25]
    assert frame["train"].tolist()[1:3] == [-4.5, -14.5] and math.isnan(frame["train"][0]) and math.isnan(frame["train"][3])
    assert frame["valid"].tolist() == [-1.0, -2.0, -3.0, -4.0]


def _frame(train, valid, block=100):
    steps = block * np.arange(1, len(train) + 1)
    return pd.DataFrame({"step": steps, "train": train, "valid": valid})


def test_divergence_gap_is_scale_free_and_flips_at_the_threshold():
    claim = {c.key: c for c in cl.load_claims()}["gp_divergence"]
    n = 20
    subset = _frame(np.full(n, 4.0), np.r_[np.full(n - 4, 4.0), np.full(4, 3.0)])  # valid 25% below at the end
    full = _frame(np.full(n, 4.0), np.full(n, 3.9))
    gap = exp.relative_gap(subset, 400)["gap"] - exp.relative_gap(full, 400)["gap"]
    assert gap == pytest.approx(0.25 - 0.025)
    assert claim.passes(gap) and not claim.passes(0.09)
    # the same curves ten times smaller (clipping's scale) give the same gap
    assert exp.relative_gap(_frame(subset.train / 10, subset.valid / 10), 400)["gap"] == pytest.approx(0.25)


def test_trends_read_rise_and_fall_over_the_last_half():
    n = 20
    rising, falling = np.linspace(3, 3.6, n), np.linspace(3, 2.4, n)
    tr = exp.trends(_frame(rising, falling), 1000)
    assert tr["train"] > 0.05 and tr["valid"] < -0.05
    both_fall = exp.trends(_frame(falling, falling), 1000)
    claim = {c.key: c for c in cl.load_claims()}["gp_train_rises_valid_falls"]
    assert claim.passes(min(tr["train"], -tr["valid"]))
    assert not claim.passes(min(both_fall["train"], -both_fall["valid"]))


def test_fig5a_shape_decrease_and_flatness():
    steps = 100 * np.arange(1, 41)
    decay = 2 + 8 * np.exp(-steps / 600.0)
    m = exp.decrease_and_flatness(_frame(decay, decay), window=400, block=100, flat_windows=2)
    assert m["decrease"] > 0.5 and m["flatness"] < 0.25
    still_falling = exp.decrease_and_flatness(_frame(10 - steps / 1000, steps), 400, 100, 2)
    assert still_falling["flatness"] == pytest.approx(1.0, rel=0.05)  # still falling at its average rate
    rising = exp.decrease_and_flatness(_frame(np.log(steps), steps), 400, 100, 2)
    assert rising["decrease"] == 0 and rising["flatness"] == math.inf
    claims = {c.key: c for c in cl.load_claims()}
    assert not claims["fig5a_decrease"].passes(rising["decrease"])
    assert not claims["fig5a_flatness"].passes(rising["flatness"])


# -- runs -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def fashion_root(tmp_path_factory):
    from replication.data import fetch

    if not os.path.isdir("/usr/share/datasets/fashion-mnist"):
        pytest.skip("Debian's dataset-fashion-mnist is not installed")
    root = tmp_path_factory.mktemp("data")
    fetch("fashion-mnist", root)
    return root


def _deltas(tmp_path, name, **training):
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump({EXP: {"training": {"iterations": 20, "checkpoint_every": 10, **training}}}))
    return path


def test_killed_run_resumes_bit_identically(fashion_root, tmp_path, monkeypatch):
    """A run stopped at its checkpoint (step 10) and resumed to 20 gives the uninterrupted run's
    logs, evaluation rows, curves and final weights."""
    monkeypatch.setenv("REPLICATION_DATA", str(fashion_root))
    full, half = _deltas(tmp_path, "full"), _deltas(tmp_path, "half")
    execute_run(EXP, "clip_subset", "smoke", "cpu", 1, tmp_path / "a", full)
    half.write_text(yaml.safe_dump({EXP: {"training": {"iterations": 10, "checkpoint_every": 10}}}))
    execute_run(EXP, "clip_subset", "smoke", "cpu", 1, tmp_path / "b", half)  # "killed" after its checkpoint
    execute_run(EXP, "clip_subset", "smoke", "cpu", 1, tmp_path / "b", full)  # resumed
    a, b = (tmp_path / r / "smoke" / EXP / "clip_subset" for r in ("a", "b"))
    for name in ("training.csv", "evaluation.csv", "curves.csv"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    for role in ("generator", "critic"):
        wa, wb = (torch.load(d / "final" / f"{role}.pt", weights_only=True)["state_dict"] for d in (a, b))
        assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_missing_dataset_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("REPLICATION_DATA", str(tmp_path / "empty"))
    with pytest.raises(ReplicationError, match="replicate fetch fashion-mnist") as err:
        execute_run(EXP, "gp_subset", "smoke", "cpu", 1, tmp_path / "results")
    assert "\n" not in str(err.value)
