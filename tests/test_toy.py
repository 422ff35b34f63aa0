"""wgangp_toy and the toy samplers: samplers, gradient penalty, clipping of the deep critic,
per-layer gradient norms, the fixed generator, and bitwise resume of the surface critics
(fixed generator, convergence criterion) through the engine."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from replication import config as cfg
from replication.data.toy import (EIGHT_GAUSSIANS_CENTRES, eight_gaussians, gaussian_1d, swiss_roll,
                                  twenty_five_gaussians, twenty_five_gaussians_set)
from replication.experiments import wgangp_toy
from replication.runs import RunContext
from replication.nets import MLP, linear_output_gradient_norms
from helpers import Killed, kill_at, settings_with


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

def _ctx(tmp_path, name="state", run="test", deltas=None):
    """A RunContext on the CPU at smoke settings, with ``deltas`` merged in (same ``run``: same seeds)."""
    settings = settings_with("wgangp_toy", "smoke", tmp_path / "deltas", deltas)
    return RunContext("wgangp_toy", run, "smoke", settings, {}, tmp_path / "out", tmp_path / name,
                      torch.device("cpu"), tmp_path)


def test_deep_clipped_critic_keeps_every_parameter_within_c(tmp_path):
    ctx = _ctx(tmp_path, deltas={"deep.networks.critic.width": 8, "deep.networks.critic.depth": 3,
                                 "deep.networks.generator.width": 8, "deep.networks.generator.depth": 3})
    t = wgangp_toy.deep_trainer(ctx, "clip", clip_value=0.01)
    assert t.spec.lipschitz.method == "clip" and t.spec.lipschitz.clip_value == 0.01
    assert t.spec.optimizers["critic"].name == t.spec.optimizers["generator"].name == "rmsprop_tf"
    critic = t.networks["critic"]
    # deep.init_within_clip: tflib's uniform layers rescaled into +-c, so ~1% start at the bound
    assert all(p.abs().max() <= 0.01 + 1e-9 for p in critic.parameters())
    assert max(p.abs().max() for p in critic.parameters()).item() == pytest.approx(0.01)
    t.step.critic_step()
    assert all(p.abs().max() <= 0.01 for p in critic.parameters())
    # without the option the code's init is kept (max |w| well above c until the first clamp)
    ctx = _ctx(tmp_path, "plain", deltas={"deep.networks.critic.width": 8, "deep.networks.critic.depth": 3,
                                          "deep.networks.generator.width": 8, "deep.networks.generator.depth": 3,
                                          "deep.init_within_clip": False})
    plain = wgangp_toy.deep_trainer(ctx, "clip", clip_value=0.01).networks["critic"]
    assert max(p.abs().max() for p in plain.parameters()) > 0.01
    gp = wgangp_toy.deep_trainer(_ctx(tmp_path, "gp"), "gp").networks["critic"]  # GP: tflib init
    assert max(p.abs().max() for p in gp.parameters()) > 1.0


def test_deep_training_blocks():
    s = cfg.resolve("wgangp_toy", "paper")
    gp = wgangp_toy.deep_setup(s, "gp")[0]
    assert (gp.lipschitz.method, gp.lipschitz.gp_lambda) == ("gp", 10.0)
    for role in ("critic", "generator"):
        o = gp.optimizers[role]
        assert (o.name, o.lr, o.betas) == ("adam", 0.0001, (0.5, 0.9))
    training, networks = wgangp_toy.deep_setup(s, "clip", 0.1)
    assert training.lipschitz.clip_value == 0.1 and networks["critic"]["init_bound"] == 0.1  # init_within_clip
    assert "init_bound" not in wgangp_toy.deep_setup(s, "gp")[1]["critic"]
    with pytest.raises(ValueError, match="clip_value"):
        wgangp_toy.deep_setup(s, "clip")
    assert s.deep.networks["critic"]["depth"] == s.deep.networks["generator"]["depth"] == 12


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


def test_deep_layer_norms_are_float64_and_dead_layers_fail(tmp_path):
    ctx = _ctx(tmp_path, deltas={"deep.networks.critic.width": 8, "deep.networks.critic.depth": 3,
                                 "deep.networks.generator.width": 8, "deep.networks.generator.depth": 3})
    t = wgangp_toy.deep_trainer(ctx, "gp")
    critic, generator = t.networks["critic"], t.networks["generator"]
    norms = wgangp_toy.critic_layer_norms(critic, generator, ctx.settings, 5, torch.device("cpu"))
    assert norms.dtype == np.float64 and norms.shape == (4,) and (norms > 0).all()
    assert next(critic.parameters()).dtype == torch.float32  # the trained networks are not touched
    value, dead = wgangp_toy.growth(norms)
    assert math.isfinite(value) and dead == 0
    with torch.no_grad():  # kill the second hidden layer: every ReLU off
        critic.hidden[1].weight.zero_()
        critic.hidden[1].bias.fill_(-1.0)
    norms = wgangp_toy.critic_layer_norms(critic, generator, ctx.settings, 5, torch.device("cpu"))
    value, dead = wgangp_toy.growth(norms)
    # layers 1-2 pass no gradient (and layer 3, whose output is its zero bias, at ReLU's kink)
    assert dead >= 2 and norms[0] == norms[1] == 0 and norms[-1] > 0 and not math.isfinite(value)
    from replication import claims as cl
    (claim,) = [c for c in cl.load_claims() if c.key == "deep_growth_c0001"]
    assert claim.passes(-20.0) and not claim.passes(value)  # a dead critic never 'vanishes'


def test_weight_stats_bounds():
    rng = np.random.default_rng(0)
    layers = [rng.uniform(-0.01, 0.01, 20_000), rng.uniform(-1.0, 1.0, 5_000)]
    _, per_layer = wgangp_toy.weight_stats(layers, 50, None, 0)  # each layer's own max|w|
    assert 0.007 < per_layer["weight_share_at_bound"] < 0.013
    piled = [np.clip(rng.uniform(-0.03, 0.03, 20_000), -0.01, 0.01)]  # 2/3 clamped onto +-c
    hist, clipped = wgangp_toy.weight_stats(piled, 50, 0.01, 7)
    assert 0.64 < clipped["weight_share_at_bound"] < 0.69
    assert hist["count"].sum() == 20_000 and hist.left.min() == pytest.approx(-0.0105) and (hist.measured_at == 7).all()


def test_ot_potential_is_a_tight_dual():
    gen = _gen(3)
    real = torch.randn(300, 2, generator=gen).double().numpy()
    fake = (torch.randn(300, 2, generator=gen) * 2 + 1).double().numpy()
    from replication.metrics.transport import exact_w1, w1_potential
    phi_r, phi_f, w1 = w1_potential(real, fake)
    assert w1 == pytest.approx(exact_w1(real, fake), rel=1e-9)
    assert phi_r.mean() - phi_f.mean() == pytest.approx(w1, rel=1e-6)
    cost = np.linalg.norm(real[:, None] - fake[None], axis=2)
    assert (phi_r[:, None] - phi_f[None, :] <= cost + 1e-9).all()  # 1-Lipschitz across the two samples
    assert wgangp_toy.explained_share(2 * np.r_[phi_r, phi_f] + 3, np.r_[phi_r, phi_f]) == pytest.approx(1.0)
    assert wgangp_toy.explained_share(-np.r_[phi_r, phi_f], np.r_[phi_r, phi_f]) == 0.0  # anti-ordered: none
    assert wgangp_toy.explained_share(np.zeros(600), np.r_[phi_r, phi_f]) == 0.0


def test_penalty_scale_maximises_the_penalised_objective():
    """f = k f*: objective k W1 - lambda (k - 1)^2 is largest at k = 1 + W1 / (2 lambda)."""
    for w1, lam in [(0.6, 10.0), (0.82, 0.1)]:
        ks = np.linspace(0.5, 10, 200_001)
        best = ks[np.argmax(ks * w1 - lam * (ks - 1) ** 2)]
        assert wgangp_toy.penalty_scale(w1, lam) == pytest.approx(best, abs=1e-4)
    assert wgangp_toy.penalty_scale(0.6, 10.0) * 0.6 == pytest.approx(0.6 + 0.6 ** 2 / 20)


def test_tensor_source_without_reshuffle_repeats_one_order():
    from replication.data.batches import TensorSource
    data = torch.arange(10.0).unsqueeze(1)
    src = TensorSource(data, batch_size=3, seed=1, reshuffle=False)
    first = torch.cat([src.next() for _ in range(3)])  # one pass: 9 of 10 (last partial batch dropped)
    second = torch.cat([src.next() for _ in range(3)])
    assert torch.equal(first, second) and len(first.unique()) == 9
    assert src.epoch == 1
    again = TensorSource(data, batch_size=3, seed=1, reshuffle=False)  # resumable mid-pass
    again.next()
    copy_ = TensorSource(data, batch_size=3, seed=1, reshuffle=False)
    copy_.load_state_dict(again.state_dict())
    assert torch.equal(copy_.next(), again.next())
    shuffled = TensorSource(data, batch_size=3, seed=1)  # default: a new order every pass
    a = torch.cat([shuffled.next() for _ in range(3)])
    b = torch.cat([shuffled.next() for _ in range(3)])
    assert torch.equal(a, first) and not torch.equal(a, b)


def test_25_gaussians_source_iterates_the_fixed_set_in_one_order(tmp_path):
    ctx = _ctx(tmp_path)
    src = wgangp_toy.real_source(ctx, "25gaussians", 64)
    assert src.reshuffle is False and len(src.data) == 25 * ctx.settings.data["25gaussians"]["per_mode"]
    per_pass = len(src.data) // 64
    first = torch.cat([src.next() for _ in range(per_pass)])
    assert torch.equal(first, torch.cat([src.next() for _ in range(per_pass)]))


def test_quadratic_r2():
    pts = np.random.default_rng(0).uniform(-3, 3, (500, 2))
    assert wgangp_toy.quadratic_r2(pts, 1 + pts[:, 0] ** 2 - pts[:, 0] * pts[:, 1]) == pytest.approx(1.0)
    assert wgangp_toy.quadratic_r2(pts, np.sin(3 * pts[:, 0]) * np.cos(3 * pts[:, 1])) < 0.2


# -- bitwise resume of critic training ----------------------------------------------------------


def _assert_same(a, b, dir_a, dir_b):
    assert (dir_a / "metrics.csv").read_bytes() == (dir_b / "metrics.csv").read_bytes()
    for key, value in a.networks["critic"].state_dict().items():
        assert torch.equal(value, b.networks["critic"].state_dict()[key])


@pytest.mark.parametrize("dataset,method", [("25gaussians", "gp"), ("8gaussians", "clip")])
def test_surface_critic_resumes_bitwise(tmp_path, dataset, method):
    deltas = {"surface.networks.critic.width": 16, "surface.training.log_every": 3,
              "surface.training.checkpoint_every": 5, "surface.training.iterations": 12}
    straight = wgangp_toy.surface_trainer(_ctx(tmp_path, "a", deltas=deltas), dataset, method).fit()
    with pytest.raises(Killed):  # after the checkpoint at 5 and a flush at 6
        wgangp_toy.surface_trainer(_ctx(tmp_path, "b", deltas=deltas), dataset, method, on_iteration=kill_at(8)).fit()
    resumed = wgangp_toy.surface_trainer(_ctx(tmp_path, "b", deltas=deltas), dataset, method)
    assert resumed.resume() and resumed.iteration == 5
    resumed.fit()
    assert resumed.iteration == straight.iteration
    _assert_same(straight, resumed, tmp_path / "a", tmp_path / "b")
    assert resumed.converged_at == straight.converged_at


def test_surface_methods_are_todays_hyperparameters():
    s = cfg.resolve("wgangp_toy", "paper")
    clip, gp, gp_code = (s.surface.methods[m].training for m in ("clip", "gp", "gp_code"))
    assert (clip.lipschitz.method, clip.lipschitz.clip_value, clip.lipschitz.timing) == ("clip", 0.01, "after")
    assert list(clip.optimizers) == ["critic"] and (clip.optimizers["critic"].name, clip.optimizers["critic"].lr) == \
        ("rmsprop_tf", 0.00005)
    assert (gp.lipschitz.gp_lambda, gp_code.lipschitz.gp_lambda) == (10.0, 0.1)
    for block in (gp, gp_code):
        o = block.optimizers["critic"]
        assert list(block.optimizers) == ["critic"] and (o.name, o.lr, o.betas) == ("adam", 0.0001, (0.5, 0.9))
    for block in (clip, gp, gp_code):
        assert (block.iterations, block.batch_size, block.critic_schedule.n_critic) == (10000, 256, 5)
    assert cfg.resolve("wgangp_toy", "small").surface.networks["critic"]["width"] == 128


def test_fixed_generator_fake_is_real_plus_noise(tmp_path):
    t = wgangp_toy.surface_trainer(_ctx(tmp_path, deltas={"surface.networks.critic.width": 8}), "swissroll", "gp")
    assert t.step.fixed_generator and "generator" not in t.networks  # no generator network
    sources = t.step.sources
    real = sources.real.next()
    fake = sources.fake.next()
    noise = fake - real
    assert noise.shape == real.shape and 0.7 < noise.std().item() < 1.3
    assert not torch.equal(sources.fake.next(), fake)  # fresh noise on the same real batch
