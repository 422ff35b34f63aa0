"""WAE: the auto-encoder step (VAE, WAE-MMD, WAE-GAN) in the engine, its penalties against
brute force and closed forms, bitwise resume, bad inputs, and the claims' tolerances."""

import math

import pandas as pd
import pytest
import torch
import yaml

from replication import claims as cl
from replication import config as cfg
from replication import objectives as obj
from replication.data.batches import SamplerSource
from replication.errors import ReplicationError
from replication.train import AutoEncoderStep, EvalData, Sources, build_trainer, parse_training
from helpers import Killed, kill_at

SCALES = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)


def brute_force_mmd(q, p, prior_var, scales):
    """The WAE code's estimator written as plain double loops over the examples."""
    n, d = len(q), len(q[0])
    total = 0.0
    for s in scales:
        c = s * 2 * d * prior_var
        k = lambda a, b: c / (c + sum((x - y) ** 2 for x, y in zip(a, b)))  # noqa: E731
        same = sum(k(q[i], q[j]) + k(p[i], p[j]) for i in range(n) for j in range(n) if i != j) / (n * n - n)
        cross = sum(k(q[i], p[j]) for i in range(n) for j in range(n)) * 2 / (n * n)
        total += same - cross
    return total


@pytest.mark.parametrize("scales, prior_var", [(SCALES, 1.0), ((1.0,), 2.0)])
def test_mmd_matches_a_brute_force_double_loop(scales, prior_var):
    g = torch.Generator().manual_seed(0)
    q = torch.randn(12, 3, generator=g, dtype=torch.float64) + 0.5
    p = torch.randn(12, 3, generator=g, dtype=torch.float64) * math.sqrt(prior_var)
    expected = brute_force_mmd(q.tolist(), p.tolist(), prior_var, scales)
    assert obj.mmd_imq(q, p, prior_var, scales).item() == pytest.approx(expected, rel=1e-12)


def test_imq_kernel_values_and_mmd_sign():
    d2 = torch.tensor([0.0, 16.0, 48.0], dtype=torch.float64)
    assert obj.imq_kernel(d2, 16.0).tolist() == [1.0, 0.5, 0.25]  # C / (C + d^2), MNIST C_base = 2 * 8 * 1
    g = torch.Generator().manual_seed(1)
    p = torch.randn(200, 8, generator=g)
    same = obj.mmd_imq(torch.randn(200, 8, generator=g), p, 1.0)
    shifted = obj.mmd_imq(torch.randn(200, 8, generator=g) + 2.0, p, 1.0)
    assert abs(same.item()) < 0.02 < shifted.item()
    with pytest.raises(ReplicationError, match="equal n x d batches"):
        obj.mmd_imq(torch.zeros(4, 2), torch.zeros(5, 2), 1.0)


def test_gaussian_kl_and_moment_matching_closed_forms():
    mean, logvar = torch.tensor([[0.3, -1.0]]), torch.tensor([[0.2, -0.5]])
    for prior_var in (1.0, 2.0):
        q = torch.distributions.Normal(mean, (0.5 * logvar).exp())
        p = torch.distributions.Normal(torch.zeros(2), torch.full((2,), math.sqrt(prior_var)))
        assert obj.gaussian_kl(mean, logvar, prior_var).item() == pytest.approx(
            torch.distributions.kl_divergence(q, p).sum().item(), rel=1e-6)
    z = torch.randn(50, 3)
    assert obj.moment_matching_loss(z, z).item() == 0.0
    # a shift by 1 in every coordinate: mean term 1, covariances unchanged
    assert obj.moment_matching_loss(z + 1, z).item() == pytest.approx(1.0, rel=1e-5)


# -- the step in the engine -------------------------------------------------------------------------

NETS = {"encoder": {"arch": "wae_encoder", "dataset": "mnist", "width": 8},
        "decoder": {"arch": "wae_decoder", "dataset": "mnist", "width": 8}}
ADVERSARY = {"arch": "wae_adversary", "latent": 8, "width": 8}
ADAM = {"name": "adam", "lr": 1e-3, "betas": [0.5, 0.999]}


def block(objective, **extra):
    optimizers = {"autoencoder": ADAM, **({"adversary": ADAM} if objective == "wae_gan" else {})}
    return {"objective": objective, "iterations": 9, "batch_size": 8, "optimizers": optimizers, "log_every": 2,
            "checkpoint_every": 3, "lr_schedule": {"name": "milestones", "at": [3, 6], "factors": [0.5, 0.2]},
            "autoencoder": {"pretrain_steps": 3, "pretrain_samples": 20, "pretrain_stop": 0.0, "input_noise": 0.01},
            "evaluation": {"every": 4, "probes": ["reconstruction"], "samples": 16, "generator_mode": "eval"},
            **extra}


def nets_for(objective):
    nets = {k: dict(v) for k, v in NETS.items()}
    if objective == "vae":
        nets["encoder"]["gaussian"], nets["decoder"]["logits"] = True, True
    if objective == "wae_gan":
        nets["adversary"] = ADVERSARY
    return nets


def trainer(state_dir, objective, on_iteration=None, device="cpu", **extra):
    dev = torch.device(device)
    images = lambda n, g: torch.rand(n, 1, 28, 28, generator=g)  # noqa: E731
    prior = lambda n, g: torch.randn(n, 8, generator=g)  # noqa: E731
    sources = Sources(real=SamplerSource(images, 8, dev, 1), noise=SamplerSource(prior, 8, dev, 2))
    return build_trainer(block(objective, **extra), nets_for(objective), sources, device=dev, state_dir=state_dir,
                         seed_for=lambda purpose: len(purpose), eval_data=EvalData(real=images, noise=prior),
                         on_iteration=on_iteration, progress="test")



@pytest.mark.parametrize("objective", ["vae", "wae_mmd", "wae_gan"])
def test_killed_autoencoder_run_resumes_bitwise(tmp_path, objective):
    straight = trainer(tmp_path / "a", objective).fit()
    assert isinstance(straight.step, AutoEncoderStep)
    with pytest.raises(Killed):  # after the checkpoint at 6 and a flush at 6: rows 6-7 must be redone
        trainer(tmp_path / "b", objective, on_iteration=kill_at(8)).fit()
    resumed = trainer(tmp_path / "b", objective)
    assert resumed.resume() and resumed.iteration == 6
    resumed.fit()
    for name in ("metrics.csv", "evaluation.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    for role, net in straight.networks.items():
        for key, value in net.state_dict().items():
            assert torch.equal(value, resumed.networks[role].state_dict()[key]), (role, key)
    log = pd.read_csv(tmp_path / "a" / "metrics.csv")
    assert log["pretrain_steps"].tolist() == [3] + [0] * 8  # pre-training once, inside iteration 0
    assert log["lr_factor"].tolist() == [1.0] * 3 + [0.5] * 3 + [pytest.approx(0.1)] * 3
    assert (log["adversary_loss"] > 0).all() == (objective == "wae_gan")
    rows = pd.read_csv(tmp_path / "a" / "evaluation.csv")
    assert rows["step"].tolist() == [0, 4, 8, 9] and (rows["mean_image_error_heldout"] > 0).all()


def test_step_losses_follow_the_code(tmp_path):
    """WAE-MMD: loss = 0.05 x summed squared error + lambda x MMD; the VAE's penalty is its KL."""
    t = trainer(tmp_path / "m", "wae_mmd", autoencoder={"penalty_weight": 10.0, "input_noise": 0.0})
    row = t.step.iteration(0)
    assert row["loss"].item() == pytest.approx(row["reconstruction"].item() + 10 * row["penalty"].item(), rel=1e-6)
    assert row["pretrain_steps"] == 0
    x = torch.rand(4, 1, 28, 28)
    with torch.no_grad():
        t.step.encoder.eval(), t.step.decoder.eval()
        rec = t.step.reconstruct(x)
    assert rec.shape == x.shape and rec.min() >= 0 and rec.max() <= 1  # sigmoid decoder on [0, 1] data


@pytest.mark.parametrize("bad, message", [
    ({"autoencoder": None}, "needs an `autoencoder:` block"),
    ({"optimizers": {"autoencoder": ADAM, "critic": ADAM}}, "takes exactly autoencoder"),
    ({"autoencoder": {"prior_var": -1.0}}, "must be positive"),
    ({"autoencoder": {"kernel_scales": []}}, "must be positive"),
    ({"autoencoder": {"pretrian_steps": 3}}, "unknown key 'pretrian_steps'"),
    ({"lipschitz": {"method": "gp"}}, "belong to adversarial objectives"),
])
def test_bad_autoencoder_blocks_are_one_line_errors(bad, message):
    raw = block("wae_mmd")
    raw.update({k: v for k, v in bad.items() if v is not None})
    if bad.get("autoencoder", 0) is None:
        del raw["autoencoder"]
    with pytest.raises(ReplicationError, match=message) as err:
        parse_training(raw)
    assert "\n" not in str(err.value)
    with pytest.raises(ReplicationError, match="only for objectives vae, wae_mmd, wae_gan"):
        parse_training({"objective": "wgan", "iterations": 1, "optimizers": {"critic": ADAM},
                        "autoencoder": {"prior_var": 1.0}})


def test_missing_networks_or_prior_are_clear_errors(tmp_path):
    dev = torch.device("cpu")
    sources = Sources(real=SamplerSource(lambda n, g: torch.rand(n, 1, 28, 28, generator=g), 8, dev, 1))
    with pytest.raises(ReplicationError, match="needs networks adversary"):
        build_trainer(block("wae_gan"), NETS, sources, device=dev, state_dir=tmp_path, seed_for=lambda p: 0)
    with pytest.raises(ReplicationError, match="needs a `noise` batch source"):
        build_trainer(block("wae_mmd"), NETS, sources, device=dev, state_dir=tmp_path, seed_for=lambda p: 0)


# -- settings and claims ----------------------------------------------------------------------------

def test_every_scale_resolves_and_declares_its_runs():
    for scale in cfg.SCALES:
        settings = cfg.resolve("wae", scale)
        runs = cfg.run_matrix("wae", settings)
        assert {p["model"] for p in runs.values() if p["task"] == "train"} == set(settings.models)
        for setup in settings.setups:
            for model in settings.models:
                assert getattr(settings, setup).models[model].training.objective == model
    paper = cfg.resolve("wae", "paper")
    assert paper.celeba.models["wae_gan"].training.autoencoder.penalty_weight == 1.0
    assert cfg.evaluated_runs("wae", "small") == ["vae_mnist_s0", "wae_mmd_mnist_s0", "wae_gan_mnist_s0"]


def test_claim_tolerances_flip_the_verdict():
    doc = yaml.safe_load((cfg.CONFIG_DIR / "claims" / "wae.yaml").read_text())
    claims = {c["id"]: cl.Claim(experiment="wae", **c) for c in doc}
    fid, sharp = claims["wae_table1_fid"], claims["wae_table1_sharpness"]
    assert fid.passes(7.9) and not fid.passes(8.1)
    assert sharp.passes(math.log10(1.9)) and not sharp.passes(math.log10(4.0))  # a wrong pixel scale fails
    order = claims["wae_fid_mmd_below_vae"]
    assert order.passes([0.06]) and not order.passes([0.04]) and not order.passes([float("nan")])
    tie = claims["wae_fid_gan_not_above_mmd"]
    assert tie.passes([-0.04]) and not tie.passes([-0.06])


def test_reconstruction_probe_feeds_training_sized_chunks(tmp_path, monkeypatch):
    """The held-out reconstruction probe reconstructs a training batch at a time (1,000 CelebA images
    in one pass through the 1024-wide networks peaked at ~10 GB); in eval mode chunks change nothing."""
    sizes = []
    reconstruct = AutoEncoderStep.reconstruct
    monkeypatch.setattr(AutoEncoderStep, "reconstruct", lambda self, x: sizes.append(len(x)) or reconstruct(self, x))
    chunked = trainer(tmp_path / "a", "wae_mmd", iterations=4)
    chunked.fit()
    assert sizes and max(sizes) == 8 and sum(sizes) == 16 * 2  # 16 held-out images, at steps 0 and 4
    whole = trainer(tmp_path / "b", "wae_mmd", iterations=4, evaluation={
        "every": 4, "probes": ["reconstruction"], "samples": 16, "batch_size": 16, "generator_mode": "eval"})
    whole.fit()
    a, b = (pd.read_csv(tmp_path / d / "evaluation.csv") for d in "ab")
    assert a["reconstruction_heldout"].tolist() == pytest.approx(b["reconstruction_heldout"].tolist(), rel=1e-5)


@pytest.mark.parametrize("setup", ["mnist", "celeba"])
def test_wae_data_stays_uint8_and_is_scaled_per_batch(setup):
    """Training batches, held-out draws and the mean image come from the uint8 split scaled per
    batch: the same floats as scaling the whole split first (CelebA's training split: 2.2 GB as uint8,
    9 GB as floats), and the reference statistics read the uint8 pixels themselves."""
    from replication.data import to_symmetric_range, to_unit_range
    from replication.data.batches import TensorSource
    from replication.experiments import wae

    settings = cfg.resolve("wae", "paper")
    u8 = torch.randint(0, 256, (300, 1, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    whole = (to_unit_range if setup == "mnist" else to_symmetric_range)(u8.clone())
    scale = wae.scaled(settings, setup)
    new, old = (TensorSource(u8, 100, seed=3, with_replacement=True, transform=scale),
                TensorSource(whole, 100, seed=3, with_replacement=True))
    assert all(torch.equal(new.next(), old.next()) for _ in range(4))
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    assert torch.equal(wae.heldout(u8, scale)(50, g1), whole[torch.randperm(300, generator=g2)[:50]])
    assert torch.allclose(wae.mean_image(u8, scale, chunk=64), whole.mean(0), atol=1e-6)
    from replication.metrics.fidelity import to_uint8
    assert torch.equal(to_uint8(whole, "round", wae.data_range(settings, setup)), u8)  # FID sees the same pixels
