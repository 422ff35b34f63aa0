"""wgan_critics and wgangp_toy: toy samplers, gradient penalty, clipping, per-layer gradient
norms, and bitwise resume of critic training (fixed generator, convergence criterion)."""

import copy
import math

import numpy as np
import pytest
import torch
from torch import nn

from replication import config as cfg
from replication import objectives as obj
from replication.data.toy import (EIGHT_GAUSSIANS_CENTRES, eight_gaussians, gaussian_1d, swiss_roll,
                                  twenty_five_gaussians, twenty_five_gaussians_set)
from replication.experiments import wgan_critics, wgangp_toy
from replication.nets import MLP, linear_output_gradient_norms


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


# -- samplers --------------------------------------------------------------------------------

def test_gaussian_1d():
    x = gaussian_1d(-5.0, 1.0)(20_000, _gen())
    assert x.shape == (20_000, 1)
    assert abs(x.mean().item() + 5) < 0.05 and abs(x.std().item() - 1) < 0.03


def test_eight_gaussians_normalised():
    x = eight_gaussians()(4000, _gen())
    assert x.shape == (4000, 2)
    centres = EIGHT_GAUSSIANS_CENTRES / 1.414
    dist = torch.cdist(x, centres).min(1).values
    assert dist.max() < 6 * 0.02 / 1.414  # every point within 6 sd of its centre
    assert torch.allclose(x.norm(dim=1).mean(), torch.tensor(2 / 1.414), atol=1e-3)
    counts = torch.cdist(x, centres).argmin(1).bincount(minlength=8)
    assert counts.min() > 400  # all eight modes used


def test_twenty_five_gaussians_fixed_set_and_law():
    data = twenty_five_gaussians_set(_gen(), per_mode=40)
    assert data.shape == (1000, 2)
    grid = torch.tensor([(2.0 * i, 2.0 * j) for i in range(-2, 3) for j in range(-2, 3)]) / 2.828
    nearest = torch.cdist(data, grid).argmin(1)
    assert torch.equal(nearest.bincount(minlength=25), torch.full((25,), 40))  # exactly per_mode per mode
    assert torch.cdist(data, grid).min(1).values.max() < 6 * 0.05 / 2.828
    assert not torch.equal(nearest[:25], torch.arange(25))  # shuffled once
    held = twenty_five_gaussians()(500, _gen(1))
    assert held.shape == (500, 2) and torch.cdist(held, grid).min(1).values.max() < 6 * 0.05 / 2.828


def test_swiss_roll_matches_sklearn_construction():
    x = swiss_roll()(20_000, _gen()).double().numpy()
    assert x.shape == (20_000, 2)
    # sklearn.datasets.make_swiss_roll(noise=0.25), coordinates [0, 2], / 7.5, in numpy
    rng = np.random.default_rng(0)
    t = 1.5 * np.pi * (1 + 2 * rng.uniform(size=20_000))
    ref = np.stack([t * np.cos(t), t * np.sin(t)], 1) + 0.25 * rng.standard_normal((20_000, 2))
    ref /= 7.5
    for stat in (np.mean, np.std):
        assert np.allclose(stat(x, 0), stat(ref, 0), atol=0.03)
    radius = np.linalg.norm(x, axis=1)
    assert radius.min() > 1.5 * np.pi / 7.5 - 0.2 and radius.max() < 4.5 * np.pi / 7.5 + 0.2


# -- objectives and constraints --------------------------------------------------------------

def test_gradient_penalty_of_a_linear_critic_is_exact():
    torch.manual_seed(0)
    critic = nn.Linear(3, 1).double()
    real, fake = torch.randn(64, 3, dtype=torch.float64), torch.randn(64, 3, dtype=torch.float64)
    expected = (critic.weight.norm() - 1) ** 2
    assert obj.gradient_penalty(critic, real, fake).item() == pytest.approx(expected.item(), rel=1e-12, abs=1e-15)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[0.6, 0.8, 0.0]], dtype=torch.float64))  # unit norm: no penalty
    assert obj.gradient_penalty(critic, real, fake).item() == pytest.approx(0.0, abs=1e-24)


def _critics_settings(**over):
    s = copy.deepcopy(cfg.resolve("wgan_critics", "smoke"))
    s.update(width=16, max_steps=12, log_every=3, checkpoint_every=5)
    s["convergence"] = {"column": "divergence", "window": 3, "rel_tol": 1e-9, "min_iterations": 6}
    s.update(over)
    return s


@pytest.mark.parametrize("timing", ["before", "after"])
def test_clipping_bounds_critic_parameters(tmp_path, timing):
    s = _critics_settings(clip_timing=timing)
    s["critic_optimizer"] = {"name": "rmsprop", "lr": 1e-3}
    trainer = wgan_critics.build_trainer(s, "wgan", 0, torch.device("cpu"), tmp_path)
    c, lr = s["clip_value"], 1e-3
    seen = []
    trainer.critic.register_forward_pre_hook(
        lambda m, i: seen.append(max(p.abs().max().item() for p in m.parameters())))
    for _ in range(3):
        trainer.critic_step()
    top = max(p.abs().max().item() for p in trainer.critic.parameters())
    if timing == "after":  # WGAN Algorithm 1 / TF code: every parameter within +-c after the step
        assert top <= c
    else:  # WGAN main.py: clamped before the step; the loss always sees clipped weights
        assert max(seen) <= c
        assert top <= c + 10 * lr + 1e-9  # one torch RMSprop step moves a weight by at most lr/sqrt(1-alpha)


def test_deep_clipped_trainer_keeps_every_parameter_within_c(tmp_path):
    s = copy.deepcopy(cfg.resolve("wgangp_toy", "smoke"))
    s["deep"].update(width=8, depth=3)
    trainer = wgangp_toy.build_deep_trainer(s, "c0.01", torch.device("cpu"), tmp_path, seed=0)
    trainer.critic_step()
    assert all(p.abs().max() <= 0.01 for p in trainer.critic.parameters())


# -- per-layer gradient norms -------------------------------------------------------------------

def test_layer_gradient_norms_match_manual_autograd():
    torch.manual_seed(0)
    net = MLP(2, 1, 5, 3, init="tflib").double()
    x = torch.randn(7, 2, dtype=torch.float64)
    loss_fn = lambda out: out[3:].mean() - out[:3].mean()  # noqa: E731
    got = linear_output_gradient_norms(net, x, loss_fn)
    # manual: run the layers one by one, keep every Linear output, differentiate w.r.t. them
    h, outs = x, []
    for layer in net.net:
        h = layer(h)
        if isinstance(layer, nn.Linear):
            h.retain_grad()
            outs.append(h)
    loss_fn(h).backward()
    manual = torch.stack([o.grad.norm() for o in outs])
    assert got.shape == (4,)
    assert torch.allclose(got, manual, rtol=1e-12, atol=0)
    assert got[-1].item() == pytest.approx(math.sqrt(4 / 16 + 3 / 9))  # d loss / d output: 1/4 on 4 fakes, -1/3 on 3 reals


def test_quadratic_r2():
    pts = np.random.default_rng(0).uniform(-3, 3, (500, 2))
    assert wgangp_toy.quadratic_r2(pts, 1 + pts[:, 0] ** 2 - pts[:, 0] * pts[:, 1]) == pytest.approx(1.0)
    assert wgangp_toy.quadratic_r2(pts, np.sin(3 * pts[:, 0]) * np.cos(3 * pts[:, 1])) < 0.2


# -- bitwise resume of critic training ----------------------------------------------------------

class Killed(Exception):
    pass


def _kill_at(step):
    def die(s):
        if s == step:
            raise Killed
    return die


def _assert_same(a, b, dir_a, dir_b):
    assert (dir_a / "metrics.csv").read_bytes() == (dir_b / "metrics.csv").read_bytes()
    for key, value in a.critic.state_dict().items():
        assert torch.equal(value, b.critic.state_dict()[key])


@pytest.mark.parametrize("kind", ["gan", "wgan"])
def test_fixed_generator_critic_resumes_bitwise(tmp_path, kind):
    s = _critics_settings()
    build = lambda d, **kw: wgan_critics.build_trainer(s, kind, 0, torch.device("cpu"), d, **kw)  # noqa: E731
    straight = build(tmp_path / "a")
    straight.fit()
    with pytest.raises(Killed):
        build(tmp_path / "b", on_iteration=_kill_at(8)).fit()  # after the checkpoint at 5 and a flush at 6
    resumed = build(tmp_path / "b")
    assert resumed.resume() and resumed.step == 5
    resumed.fit()
    _assert_same(straight, resumed, tmp_path / "a", tmp_path / "b")
    assert resumed.stop.converged_at == straight.stop.converged_at


@pytest.mark.parametrize("dataset,method", [("25gaussians", "gp"), ("8gaussians", "clip")])
def test_surface_critic_resumes_bitwise(tmp_path, dataset, method):
    s = copy.deepcopy(cfg.resolve("wgangp_toy", "smoke"))
    s["surface"].update(width=16, log_every=3, checkpoint_every=5)
    s["surface"]["methods"][method]["iterations"] = 12
    build = lambda d, **kw: wgangp_toy.build_surface_trainer(s, dataset, method, torch.device("cpu"), d, 0, **kw)  # noqa: E731
    straight = build(tmp_path / "a")
    straight.fit()
    with pytest.raises(Killed):
        build(tmp_path / "b", on_iteration=_kill_at(8)).fit()
    resumed = build(tmp_path / "b")
    assert resumed.resume() and resumed.step == 5
    resumed.fit()
    _assert_same(straight, resumed, tmp_path / "a", tmp_path / "b")


def test_fixed_generator_fake_is_real_plus_noise(tmp_path):
    s = copy.deepcopy(cfg.resolve("wgangp_toy", "smoke"))
    s["surface"].update(width=8)
    trainer = wgangp_toy.build_surface_trainer(s, "swissroll", "gp", torch.device("cpu"), tmp_path, 0)
    real = trainer.real.next()
    fake = trainer.noise.next()
    noise = fake - real
    assert noise.shape == real.shape and 0.7 < noise.std().item() < 1.3
