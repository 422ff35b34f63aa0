"""Numerics check of the engine's speed levers, at smoke size (a few seconds).

Each lever that changes arithmetic is run for a few generator iterations against the fp32
engine defaults, from the same initial weights, data, noise and global random stream. The
tolerances are fixed here, before the runs:

- ``memory_format: channels_last`` only reorders fp32 arithmetic (other conv kernels): every
  critic loss of the run within relative 1e-4 of the reference (fp32 rounding carried over a
  few updates);
- ``precision: bf16`` (autocast): the mean absolute difference of the W estimate over the run
  below 10% of the reference run's range of W estimates, and below 10% of its mean magnitude.

The proxy-quality half of the check (sliced Wasserstein distance of samples to held-out
images after a longer run at ``small``) is in the benchmark (benchmarks/bench.py, numerics
rows), not here.
"""

import pytest
import torch

from replication.data.batches import SamplerSource, TensorSource
from replication.nets import build
from replication.train.adversarial import AdversarialStep, Sources
from replication.settings.training import parse_training

EXACT_RTOL = 1e-4
BF16_FRACTION = 0.10

GP_STEP = {  # gan_cifar.py's WGAN-GP step, tiny
    "networks": {"generator": {"arch": "wgangp_cifar_g", "width": 8}, "critic": {"arch": "wgangp_cifar_d", "width": 8}},
    "training": {"objective": "wgan", "iterations": 6, "batch_size": 8, "critic_schedule": {"n_critic": 2},
                 "lipschitz": {"method": "gp"},
                 "optimizers": {"critic": {"name": "adam", "lr": 1e-3, "betas": [0.5, 0.9]},
                                "generator": {"name": "adam", "lr": 1e-3, "betas": [0.5, 0.9]}}},
    "nz": 128, "shape": (3, 32, 32)}
CLIP_STEP = {  # WGAN main.py's DCGAN step (batch-norm critic), tiny
    "networks": {"generator": {"arch": "wgan_dcgan_g", "width": 8, "resolution": 16, "channels": 1, "nz": 16},
                 "critic": {"arch": "wgan_dcgan_d", "width": 8, "resolution": 16, "channels": 1}},
    "training": {"objective": "wgan", "iterations": 6, "batch_size": 8, "critic_schedule": {"n_critic": 2},
                 "lipschitz": {"method": "clip", "timing": "before"},
                 "optimizers": {"critic": {"name": "rmsprop", "lr": 5e-4}, "generator": {"name": "rmsprop", "lr": 5e-4}}},
    "nz": 16, "shape": (1, 16, 16)}


def run(case: dict, **overrides) -> tuple[list[float], list[float]]:
    """Critic losses (every critic step) and W estimates (every iteration) of a short run."""
    spec = parse_training({**case["training"], **overrides})
    torch.manual_seed(0)
    nets = {role: build(s) for role, s in case["networks"].items()}
    data = torch.rand((64,) + case["shape"], generator=torch.Generator().manual_seed(1)) * 2 - 1
    nz = case["nz"]
    sources = Sources(real=TensorSource(data, spec.batch_size, seed=2),
                      noise=SamplerSource(lambda n, g: torch.randn(n, nz, generator=g), spec.batch_size,
                                          torch.device("cpu"), seed=3))
    step = AdversarialStep(spec, nets, sources)
    torch.manual_seed(4)  # the global stream (GP alphas) is the same for every run
    losses, w = [], []
    for it in range(spec.iterations):
        for _ in range(spec.critic_schedule.n_critic):
            out = step.critic_step()
            losses.append(float(out["critic_loss"]))
        w.append(float(out["divergence"]))
        step.generator_step()
    return losses, w


def assert_close_curves(ref: list[float], got: list[float]) -> None:
    scale = max(abs(v) for v in ref)
    worst = max(abs(a - b) for a, b in zip(ref, got)) / scale
    assert worst <= EXACT_RTOL, f"critic-loss curves differ by {worst:.2e} of their scale (tolerance {EXACT_RTOL})"


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny ops on a shared CPU: a second OpenMP thread only waits at barriers."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def gp_reference(one_thread):
    return run(GP_STEP)


def test_channels_last_matches_contiguous(gp_reference):
    assert_close_curves(gp_reference[0], run(GP_STEP, memory_format="channels_last")[0])
    ref = run(CLIP_STEP)[0]
    assert_close_curves(ref, run(CLIP_STEP, memory_format="channels_last")[0])


def test_bf16_autocast_tracks_the_fp32_w_estimate(gp_reference):
    ref_w = torch.tensor(gp_reference[1])
    w = torch.tensor(run(GP_STEP, precision="bf16")[1])
    diff = (w - ref_w).abs().mean().item()
    span = (ref_w.max() - ref_w.min()).item()
    assert diff <= BF16_FRACTION * span, f"bf16 W estimate off by {diff:.3g}, range {span:.3g}"
    assert diff <= BF16_FRACTION * ref_w.abs().mean().item()


def test_generator_batch_size_is_used_by_the_generator_step():
    spec = parse_training({**GP_STEP["training"], "generator_batch_size": 16})
    torch.manual_seed(0)
    nets = {role: build(s) for role, s in GP_STEP["networks"].items()}
    seen = []
    nets["critic"].register_forward_hook(lambda m, args, out: seen.append(len(args[0])))
    data = torch.zeros((32,) + GP_STEP["shape"])
    sources = Sources(real=TensorSource(data, 8, seed=2),
                      noise=SamplerSource(lambda n, g: torch.randn(n, 128, generator=g), 8, torch.device("cpu"), 3))
    step = AdversarialStep(spec, nets, sources)
    step.critic_step()
    assert seen == [8, 8, 8]  # real, fake, interpolates
    seen.clear()
    step.generator_step()
    assert seen == [16]


def test_autoencoder_step_takes_channels_last_with_the_same_losses():
    """The auto-encoder step (WAE) honours ``memory_format`` like the adversarial step: its conv
    networks and image batches in NHWC, every logged loss of a few WAE-GAN iterations (encoder
    pre-training included) within EXACT_RTOL of the contiguous run."""
    from replication.train.autoencoder import AutoEncoderStep

    adam = {"name": "adam", "lr": 1e-3, "betas": [0.5, 0.999]}
    block = {"objective": "wae_gan", "iterations": 4, "batch_size": 8,
             "optimizers": {"autoencoder": adam, "adversary": adam},
             "autoencoder": {"pretrain_steps": 2, "pretrain_samples": 16, "pretrain_stop": 0.0, "input_noise": 0.01}}
    nets = {"encoder": {"arch": "wae_encoder", "dataset": "mnist", "width": 8},
            "decoder": {"arch": "wae_decoder", "dataset": "mnist", "width": 8},
            "adversary": {"arch": "wae_adversary", "latent": 8, "width": 8}}

    def losses(**overrides):
        spec = parse_training({**block, **overrides})
        torch.manual_seed(0)
        built = {role: build(s) for role, s in nets.items()}
        data = torch.rand(64, 1, 28, 28, generator=torch.Generator().manual_seed(1))
        sources = Sources(real=TensorSource(data, 8, seed=2),
                          noise=SamplerSource(lambda n, g: torch.randn(n, 8, generator=g), 8, torch.device("cpu"), 3))
        step = AutoEncoderStep(spec, built, sources)
        torch.manual_seed(4)
        rows = [step.iteration(it) for it in range(spec.iterations)]
        return step, [float(r[k]) for r in rows for k in ("loss", "reconstruction", "penalty", "adversary_loss")]

    _, ref = losses()
    step, got = losses(memory_format="channels_last")
    conv = step.encoder.features[9].weight  # the last conv (4 -> 8 channels)
    assert conv.is_contiguous(memory_format=torch.channels_last) and not conv.is_contiguous()
    worst = max(abs(a - b) / max(abs(a), 1e-8) for a, b in zip(ref, got))
    assert worst <= EXACT_RTOL, f"auto-encoder losses differ by {worst:.2e} relative (tolerance {EXACT_RTOL})"
