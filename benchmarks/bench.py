"""Speed of the papers' image steps through the engine, against an official-style baseline.

    .venv/bin/python benchmarks/bench.py [--quick] [--device auto|cpu|cuda] [--steps a,b] [--sizes paper,small]

For each step (WGAN DCGAN 64x64; gan_cifar.py's DCGAN-like WGAN-GP step; the WGAN-GP CIFAR
ResNet step) at its paper size and at the ``small`` size, and for each configuration
(``baseline``: the step written as the official code writes it, fp32, WGAN main.py's step
with main.py's input pipeline (``OfficialInput``; ``baseline, data in memory`` the same loop
without it); ``engine``: the
engine's AdversarialStep at fp32 defaults; then the engine with one speed lever each), the
script measures, in one process and interleaved (round r runs every configuration once):

- gen-it/s: 1 / (n_critic * t_critic + t_generator), t_* the median over rounds of one critic
  step and one generator step (a paper-size DCGAN 64x64 generator iteration costs ~20 s on a
  2-core CPU, so steps are timed and composed); the first round is warm-up and not counted;
- ratio: per round, baseline time / configuration time (same round), median over rounds;
- FLOP per generator iteration: torch.utils.flop_counter.FlopCounterMode over one critic step
  and one generator step of the fp32 engine, composed the same way;
- share of peak: achieved FLOP/s over the device's fp32 and bf16 matmul rates, measured in
  the same run with a timed square matmul;
- peak memory (warm-up round): CUDA max_memory_allocated above the resting allocation; CPU the
  growth of the process's resident high-water mark (VmHWM, reset through /proc/self/clear_refs
  after a malloc_trim) over one critic step + one generator step;
- data wait: share of the step time spent drawing batches (real images and z): the engine's
  source.next(), the baseline's host gather + normalise + host->device copy + z draw (for
  main.py's step: decoding and transforming each image, OfficialInput).

A numerics check (``numerics`` rows) runs a short training at ``small`` with each lever that
changes arithmetic on and off, from the same seeds and data (Fashion-MNIST when the Debian
package is installed, else random images), and compares the critic's W-estimate curve and a
proxy quality score (sliced Wasserstein distance between generated and held-out real images)
against tolerances fixed beforehand (NUMERICS_TOL).

Results: benchmarks/results/<date>_<device>.csv and .md (one table per run).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import ctypes
import datetime as dt
import gzip
import io
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, autograd, nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from replication.data.batches import SamplerSource, TensorSource  # noqa: E402
from replication.nets import build  # noqa: E402
from replication.train.adversarial import AdversarialStep, Sources  # noqa: E402
from replication.settings.training import parse_training  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
FASHION = Path("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz")

# Tolerances of the numerics check, fixed before running it. W curve: mean |difference| of the
# per-iteration W estimate over the run, as a fraction of the fp32 run's range. Quality: the
# final sliced Wasserstein distance (SWD) to held-out real images, relative to the fp32 run's.
# A lever that only reorders fp32 arithmetic (channels_last) gets the tight bound
# over the first iterations (before chaotic divergence of two GAN runs can grow), bf16 the loose.
NUMERICS_TOL = {"exact": {"w_curve": 1e-3, "swd": 0.02, "iterations": 3},
                "bf16": {"w_curve": 0.10, "swd": 0.10, "iterations": None}}
# Generator iterations of each numerics run (CPU cost: ~0.2 s, ~1.5 s, ~6 s per iteration at small).
NUMERICS_ITERATIONS = {"wgan_dcgan64": 40, "gan_cifar": 15, "resnet_cifar": 4}


# -- the steps -------------------------------------------------------------------------------

@dataclass(frozen=True)
class StepDef:
    name: str
    generator: dict
    critic: dict
    training: dict
    shape: tuple[int, int, int]  # C, H, W of the images
    nz: int
    official: str  # how the official code writes the critic step: wgan_main | tf_gp | tf_gp_concat
    note: str = ""


def _wgan_dcgan(width: int, res: int, ch: int, batch: int) -> dict:
    return dict(generator={"arch": "wgan_dcgan_g", "nz": 100, "width": width, "resolution": res, "channels": ch},
                critic={"arch": "wgan_dcgan_d", "width": width, "resolution": res, "channels": ch},
                training={"objective": "wgan", "iterations": 1, "batch_size": batch,
                          "lipschitz": {"method": "clip", "clip_value": 0.01, "timing": "before"},
                          "critic_schedule": {"n_critic": 5},
                          "optimizers": {"critic": {"name": "rmsprop", "lr": 5e-5},
                                         "generator": {"name": "rmsprop", "lr": 5e-5}}},
                shape=(ch, res, res), nz=100, official="wgan_main")


def _gan_cifar(width: int, batch: int) -> dict:
    adam = {"name": "adam", "lr": 1e-4, "betas": [0.5, 0.9]}
    return dict(generator={"arch": "wgangp_cifar_g", "width": width},
                critic={"arch": "wgangp_cifar_d", "width": width, "norm": "none"},
                training={"objective": "wgan", "iterations": 1, "batch_size": batch,
                          "lipschitz": {"method": "gp", "gp_lambda": 10.0}, "critic_schedule": {"n_critic": 5},
                          "optimizers": {"critic": adam, "generator": adam}},
                shape=(3, 32, 32), nz=128, official="tf_gp")


def _resnet(width: int, batch: int) -> dict:
    adam = {"name": "adam", "lr": 2e-4, "betas": [0.0, 0.9]}
    return dict(generator={"arch": "resnet_cifar_g", "width": width},
                critic={"arch": "resnet_cifar_d", "width": width},
                training={"objective": "wgan", "iterations": 100000, "batch_size": batch,
                          "generator_batch_size": 2 * batch,
                          "lipschitz": {"method": "gp", "gp_lambda": 10.0}, "critic_schedule": {"n_critic": 5},
                          "lr_schedule": {"name": "linear_decay"},
                          "optimizers": {"critic": adam, "generator": adam}},
                shape=(3, 32, 32), nz=128, official="tf_gp_concat")


# `small` for image experiments (README "Scales"; workflow/config/scales/small.yaml): Fashion-MNIST
# stand-in at 32x32, width halved; batch and the algorithm unchanged.
STEPS = {
    "wgan_dcgan64": {"paper": StepDef("wgan_dcgan64", **_wgan_dcgan(64, 64, 3, 64),
                                      note="WGAN main.py: DCGAN 64x64, batch 64, 5 critic steps, RMSProp, clip"),
                     "small": StepDef("wgan_dcgan64", **_wgan_dcgan(32, 32, 1, 64),
                                      note="32x32x1, width 32")},
    "gan_cifar": {"paper": StepDef("gan_cifar", **_gan_cifar(128, 64),
                                   note="gan_cifar.py wgan-gp: DCGAN-like 32x32, DIM 128, batch 64, GP, Adam"),
                  "small": StepDef("gan_cifar", **_gan_cifar(64, 64), note="DIM 64")},
    "resnet_cifar": {"paper": StepDef("resnet_cifar", **_resnet(128, 64),
                                      note="gan_cifar_resnet.py: 128 ch, critic batch 64, G batch 128, GP, Adam"),
                     "small": StepDef("resnet_cifar", **_resnet(64, 64), note="64 ch")},
}
QUICK = {  # seconds in all: the script's own smoke test
    "wgan_dcgan64": StepDef("wgan_dcgan64", **_wgan_dcgan(8, 16, 1, 8), note="quick"),
    "gan_cifar": StepDef("gan_cifar", **_gan_cifar(8, 8), note="quick"),
    "resnet_cifar": StepDef("resnet_cifar", **_resnet(8, 8), note="quick"),
}

# Engine configurations: training-block overrides on top of the step's fp32 defaults. At paper
# size on a CPU only the combinations (a paper-size ResNet iteration costs ~30 s there).
CONFIGS = {
    "engine": {},
    "engine+channels_last": {"memory_format": "channels_last"},
    "engine+bf16": {"precision": "bf16"},
    "engine+bf16+channels_last": {"precision": "bf16", "memory_format": "channels_last"},
}
CPU_PAPER_CONFIGS = ("engine", "engine+channels_last", "engine+bf16+channels_last")
# For WGAN main.py's step the baseline includes its input pipeline (OfficialInput); this row is
# the same loop fed from a uint8 tensor in memory, so that compute-only ratios can be read too.
BASELINE_IN_MEMORY = "baseline, data in memory"


# -- timing helpers --------------------------------------------------------------------------

class Clock:
    def __init__(self, device: torch.device):
        self.device = device

    def sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def time(self, fn) -> float:
        self.sync()
        start = time.perf_counter()
        fn()
        self.sync()
        return time.perf_counter() - start


class TimedSource:
    """A batch source that adds the host time spent in next() to ``waited`` (no device sync:
    on CUDA this is the host-side cost of fetching, which is what stalls the loop)."""

    def __init__(self, inner):
        self.inner, self.waited = inner, 0.0

    def next(self):
        start = time.perf_counter()
        out = self.inner.next()
        self.waited += time.perf_counter() - start
        return out

    def state_dict(self):
        return self.inner.state_dict()

    def load_state_dict(self, state):
        self.inner.load_state_dict(state)


_LIBC = None


def _trim() -> None:
    global _LIBC
    try:
        _LIBC = _LIBC or ctypes.CDLL("libc.so.6")
        _LIBC.malloc_trim(0)
    except OSError:
        pass


def keep_freed_memory() -> bool:
    """glibc: keep freed heap memory in the process (no trimming back to the OS, fixed mmap
    threshold). Without this, on this VM, a small step measured after a paper-size one ran up
    to 7x slower, every step re-faulting its pages (the same for baseline and engine)."""
    global _LIBC
    try:
        _LIBC = _LIBC or ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_top_pad, m_mmap_threshold = -1, -2, -3
        return bool(_LIBC.mallopt(m_trim_threshold, 2**31 - 1) and _LIBC.mallopt(m_top_pad, 1 << 30)
                    and _LIBC.mallopt(m_mmap_threshold, 32 << 20))
    except (OSError, AttributeError):
        return False


def _status_kb(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


class PeakMemory:
    """Peak memory of a block above the resting state, in MiB (see the module docstring)."""

    def __init__(self, device: torch.device):
        self.device = device
        self.method = "cuda max_memory_allocated" if device.type == "cuda" else "VmHWM growth"

    @contextlib.contextmanager
    def measure(self, out: list):
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            rest = torch.cuda.memory_allocated(self.device)
            yield
            torch.cuda.synchronize(self.device)
            out.append((torch.cuda.max_memory_allocated(self.device) - rest) / 2**20)
            return
        _trim()
        try:
            Path("/proc/self/clear_refs").write_text("5")
            rest = _status_kb("VmRSS")
        except OSError:
            rest = None
        yield
        out.append(float("nan") if rest is None else (_status_kb("VmHWM") - rest) / 1024)


def matmul_peak(device: torch.device, dtype: torch.dtype, quick: bool) -> float:
    """FLOP/s of square matmuls, best of repetitions and sizes (a peak: on a shared CPU other
    work can only slow a repetition down; the best size differs by dtype and device); measured
    before every step block, the run's maximum used."""
    sizes = (256, 512) if quick else ((4096, 8192) if device.type == "cuda" else (512, 1024, 2048, 4096))
    clock, reps, best = Clock(device), (3 if quick else 5), 0.0
    for n in sizes:
        a = torch.randn(n, n, device=device, dtype=dtype)
        b = torch.randn(n, n, device=device, dtype=dtype)
        inner = 20 if device.type == "cuda" else max(1, (1024 // n) ** 3)
        clock.time(lambda: a @ b)

        def run():
            for _ in range(inner):
                a @ b
        best = max(best, 2 * n**3 / min(clock.time(run) / inner for _ in range(reps)))
    return best


# -- data ------------------------------------------------------------------------------------

def image_data(shape: tuple[int, int, int], n: int, seed: int, real: bool = False) -> torch.Tensor:
    """uint8 images (N, C, H, W): Fashion-MNIST padded to HxW (channels repeated) when ``real``
    and available, else uniform random bytes."""
    c, h, w = shape
    if real and FASHION.exists():
        raw = np.frombuffer(gzip.open(FASHION).read(), dtype=np.uint8, offset=16).reshape(-1, 28, 28)
        x = torch.from_numpy(raw[:n].copy())[:, None]
        top, left = (h - 28) // 2, (w - 28) // 2
        x = nn.functional.pad(x, (left, w - 28 - left, top, h - 28 - top)) if h >= 28 else x[:, :, :h, :w]
        return x.repeat(1, c, 1, 1).contiguous()
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, c, h, w), generator=g, dtype=torch.uint8)


def to_unit(x: Tensor) -> Tensor:
    return x.float().div_(127.5).sub_(1.0)  # ToTensor + Normalize(0.5, 0.5): [-1, 1]


# -- WGAN main.py's input pipeline --------------------------------------------------------------

LSUN_SIZE = (342, 256)  # LSUN bedrooms: shorter side 256 (4:3 typical)


def synthetic_lsun_webp(n: int, seed: int) -> list[bytes]:
    """Stand-ins for LSUN's lmdb values (WebP photographs, shorter side 256): smooth colour
    fields (a 6x8 random image upsampled) plus pixel noise, so that they neither compress to
    nothing nor cost more to decode than photographs."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        low = Image.fromarray(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)).resize(LSUN_SIZE, Image.BICUBIC)
        pixels = np.asarray(low).astype(np.int16) + rng.normal(0, 6, (LSUN_SIZE[1], LSUN_SIZE[0], 3)).astype(np.int16)
        buf = io.BytesIO()
        Image.fromarray(pixels.clip(0, 255).astype(np.uint8)).save(buf, format="WEBP", quality=80)
        out.append(buf.getvalue())
    return out


class _OfficialItems(torch.utils.data.Dataset):
    """One PIL image per item through main.py's transforms: torchvision's LSUN (decode the
    encoded value) for 3-channel steps, its FashionMNIST (Image.fromarray of the uint8 array)
    for 1-channel ones."""

    def __init__(self, items: list, resolution: int, channels: int):
        from torchvision import transforms

        self.items, self.channels = items, channels
        self.transform = transforms.Compose([  # main.py: Scale (= Resize), CenterCrop, ToTensor, Normalize
            transforms.Resize(resolution), transforms.CenterCrop(resolution), transforms.ToTensor(),
            transforms.Normalize([0.5] * channels, [0.5] * channels)])

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> Tensor:
        from PIL import Image

        item = self.items[i]
        image = Image.open(io.BytesIO(item)).convert("RGB") if self.channels == 3 else Image.fromarray(item, mode="L")
        return self.transform(image)


class OfficialInput:
    """WGAN main.py's input [C]: a torchvision dataset (LSUN at paper size; at ``small`` the
    Fashion-MNIST array) through Scale/CenterCrop/ToTensor/Normalize per image, batched by
    DataLoader(shuffle=True, num_workers=2) (main.py's --workers default); host batches, which
    the baseline copies to the device as main.py does.

    On a GPU machine the two worker processes run on spare cores, overlapping the step: there
    the real DataLoader runs and its cost is the data wait. On a CPU the workers compete with the
    step for the same cores; here the same per-item work runs on two threads (PIL and the
    transforms release the GIL) right before the step that draws the batch: its CPU cost without
    oversubscription's scheduling losses (a lower bound), none of it spilling into the next
    configuration's timing."""

    def __init__(self, step: StepDef, n: int, device: torch.device, seed: int):
        c, h, _ = step.shape
        items = synthetic_lsun_webp(min(n, 64), seed) if c == 3 else \
            list(image_data((1, 28, 28), n, seed)[:, 0].numpy())
        self.dataset = _OfficialItems([items[i % len(items)] for i in range(n)], h, c)
        self.batch, self.device = step.training["batch_size"], device
        self.gen = torch.Generator().manual_seed(seed)
        if device.type == "cuda":
            self.loader = torch.utils.data.DataLoader(self.dataset, self.batch, shuffle=True, num_workers=2,
                                                      persistent_workers=True, generator=self.gen)
            self.batches = iter(self.loader)
        else:
            from concurrent.futures import ThreadPoolExecutor

            self.pool, self.order, self.pos = ThreadPoolExecutor(2), torch.randperm(n, generator=self.gen), 0

    def next(self) -> Tensor:
        if self.device.type == "cuda":
            batch = next(self.batches, None)
            if batch is None:  # a new epoch, as main.py's ``for epoch``
                self.batches = iter(self.loader)
                batch = next(self.batches)
            return batch
        if self.pos + self.batch > len(self.dataset):
            self.order, self.pos = torch.randperm(len(self.dataset), generator=self.gen), 0
        idx = self.order[self.pos:self.pos + self.batch].tolist()
        self.pos += self.batch
        return torch.stack(list(self.pool.map(self.dataset.__getitem__, idx)))


# -- the engine --------------------------------------------------------------------------------

class EngineRunner:
    """The engine's AdversarialStep with the registry's networks; real images as a TensorSource
    held on the device (as experiments do for datasets that fit), z from a SamplerSource."""

    def __init__(self, step: StepDef, overrides: dict, data: Tensor, device: torch.device, seed: int = 0):
        spec = parse_training({**step.training, **overrides})
        torch.manual_seed(seed)
        nets = {"generator": build(step.generator).to(device), "critic": build(step.critic).to(device)}
        batch = spec.batch_size
        self.real = TimedSource(TensorSource(to_unit(data).to(device), batch, seed=seed + 1))
        nz = step.nz
        self.noise = TimedSource(SamplerSource(lambda n, g: torch.randn(n, nz, generator=g), batch, device, seed + 2))
        self.step = AdversarialStep(spec, nets, Sources(real=self.real, noise=self.noise))
        self.base_lr = {name: [g["lr"] for g in opt.param_groups] for name, opt in self.step.optimizers.items()}
        self.n_critic = spec.critic_schedule.n_critic
        self.generator, self.critic = nets["generator"], nets["critic"]

    @property
    def waited(self) -> float:
        return self.real.waited + self.noise.waited

    def critic_step(self):
        return self.step.critic_step()

    def generator_step(self):
        return self.step.generator_step()

    def set_lr_factor(self, it: int) -> None:  # as the engine's loop does before each iteration
        factor = self.step.spec.lr_factor(it)
        for name, opt in self.step.optimizers.items():
            for group, base in zip(opt.param_groups, self.base_lr[name]):
                group["lr"] = base * factor


# -- the official-style baseline -----------------------------------------------------------------

class OfficialRunner:
    """Each step as the official code writes it: fp32; a host uint8 dataset gathered, scaled
    and copied host->device every step; the generator run with autograd on in critic steps
    (its output detached); weight clipping and requires_grad flips as Python loops over
    parameters; separate optimizers without foreach. Critic step per ``step.official``:
    ``wgan_main`` (WGAN main.py: errD_real.backward(), errD_fake.backward(), clamp before),
    ``tf_gp`` (gan_cifar.py: D(fake) - D(real) + GP, separate forwards), ``tf_gp_concat``
    (gan_cifar_resnet.py: one forward over cat(real, fake), + GP)."""

    def __init__(self, step: StepDef, data: Tensor, device: torch.device, seed: int = 0,
                 pipeline: OfficialInput | None = None):
        t = step.training
        torch.manual_seed(seed)
        self.pipeline = pipeline
        self.G, self.D = build(step.generator).to(device), build(step.critic).to(device)
        self.device, self.style, self.nz = device, step.official, step.nz
        self.batch = t["batch_size"]
        self.gen_batch = t.get("generator_batch_size") or self.batch
        self.n_critic = t["critic_schedule"]["n_critic"]
        self.lip = t["lipschitz"]
        self.optD, self.optG = (self._opt(t["optimizers"][k], net.parameters())
                                for k, net in (("critic", self.D), ("generator", self.G)))
        self.data, self.gen = data, torch.Generator().manual_seed(seed + 1)
        self.order, self.pos, self.waited = torch.randperm(len(data), generator=self.gen), 0, 0.0
        self.lr_decay = t.get("lr_schedule", {}).get("name") == "linear_decay"
        self.iterations = t["iterations"]
        self.base = [(o, [g["lr"] for g in o.param_groups]) for o in (self.optD, self.optG)]

    @staticmethod
    def _opt(o: dict, params):
        if o["name"] == "rmsprop":
            return torch.optim.RMSprop(params, lr=o["lr"], foreach=False)
        return torch.optim.Adam(params, lr=o["lr"], betas=tuple(o["betas"]), foreach=False)

    def set_lr_factor(self, it: int) -> None:
        factor = max(0.0, 1.0 - it / self.iterations) if self.lr_decay else 1.0
        for opt, base in self.base:
            for g, lr in zip(opt.param_groups, base):
                g["lr"] = lr * factor

    def _real(self) -> Tensor:
        start = time.perf_counter()
        if self.pipeline is not None:
            x = self.pipeline.next().to(self.device)
            self.waited += time.perf_counter() - start
            return x
        if self.pos + self.batch > len(self.data):
            self.order, self.pos = torch.randperm(len(self.data), generator=self.gen), 0
        idx = self.order[self.pos:self.pos + self.batch]
        self.pos += self.batch
        x = to_unit(self.data[idx]).to(self.device)  # DataLoader + ToTensor + Normalize, then .cuda()
        self.waited += time.perf_counter() - start
        return x

    def _z(self, n: int) -> Tensor:
        start = time.perf_counter()
        z = torch.randn(n, self.nz, device=self.device)
        self.waited += time.perf_counter() - start
        return z

    def _clip(self) -> None:
        c = self.lip["clip_value"]
        for p in self.D.parameters():
            p.data.clamp_(-c, c)

    def _gp(self, real: Tensor, fake: Tensor) -> Tensor:
        alpha = torch.rand(real.shape[0], 1, 1, 1, device=self.device)
        x_hat = (real + alpha * (fake - real)).requires_grad_(True)
        (grad,) = autograd.grad(self.D(x_hat).sum(), x_hat, create_graph=True)
        return self.lip["gp_lambda"] * ((grad.flatten(1).pow(2).sum(1).sqrt() - 1) ** 2).mean()

    def critic_step(self) -> None:
        for p in self.D.parameters():
            p.requires_grad = True
        clip = self.lip["method"] == "clip"
        if clip and self.lip.get("timing") == "before":
            self._clip()
        real = self._real()
        fake = self.G(self._z(self.batch)).detach()  # autograd on: the graph is built, then dropped
        self.optD.zero_grad()
        if self.style == "wgan_main":
            err_real = self.D(real).mean()
            (-err_real).backward()
            err_fake = self.D(fake).mean()
            err_fake.backward()
        else:
            if self.style == "tf_gp_concat":
                out = self.D(torch.cat([real, fake]))
                d_real, d_fake = out[: len(real)], out[len(real):]
            else:
                d_real, d_fake = self.D(real), self.D(fake)
            cost = d_fake.mean() - d_real.mean()
            if self.lip["method"] == "gp":
                cost = cost + self._gp(real, fake)
            cost.backward()
        self.optD.step()
        if clip and self.lip.get("timing") == "after":
            self._clip()

    def generator_step(self) -> None:
        for p in self.D.parameters():
            p.requires_grad = False
        loss = -self.D(self.G(self._z(self.gen_batch))).mean()
        self.optG.zero_grad()
        loss.backward()
        self.optG.step()


# -- measurement -------------------------------------------------------------------------------

@dataclass
class Measure:
    config: str
    runner: object
    critic: list[float] = field(default_factory=list)
    gen: list[float] = field(default_factory=list)
    wait: list[float] = field(default_factory=list)
    mem: list[float] = field(default_factory=list)
    last: float = 0.0

    def iteration_times(self, n_critic: int) -> list[float]:
        return [n_critic * c + g for c, g in zip(self.critic, self.gen)]


class _GlobalOnly:
    """Stands in for FlopCounterMode's module tracker, whose backward hooks break on the
    gradient penalty's autograd.grad(create_graph=True); only the global total is needed."""

    parents = ("Global",)

    def __enter__(self):
        return self

    def __exit__(self, *args):
        return False


def count_flops(runner) -> tuple[float, float]:
    from torch.utils.flop_counter import FlopCounterMode

    out = []
    for fn in (runner.critic_step, runner.generator_step):
        counter = FlopCounterMode(display=False)
        counter.mod_tracker = _GlobalOnly()
        with counter:
            fn()
        out.append(float(counter.get_total_flops()))
    return out[0], out[1]


def measure_step(step: StepDef, size: str, device: torch.device, rounds: int, configs: list[str],
                 peaks: dict, log) -> list[dict]:
    clock, mem = Clock(device), PeakMemory(device)
    data = image_data(step.shape, 1024 if size != "quick" else 64, seed=0)
    runners = [Measure("baseline", OfficialRunner(step, data, device))]
    if step.official == "wgan_main":  # the baseline reads images as main.py does; the same without, for reference
        pipeline = OfficialInput(step, len(data), device, seed=1)
        runners = [Measure("baseline", OfficialRunner(step, data, device, pipeline=pipeline)),
                   Measure(BASELINE_IN_MEMORY, OfficialRunner(step, data, device))]
    for name in configs:
        runners.append(Measure(name, EngineRunner(step, CONFIGS[name], data, device)))
    n_critic = runners[0].runner.n_critic
    for r in range(rounds + 1):  # round 0: warm-up
        for m in runners:
            m.runner.set_lr_factor(r)
            waited = m.runner.waited
            # Peak memory in the warm-up round only: its malloc_trim would put page faults into timed steps.
            with mem.measure(m.mem) if r == 0 else contextlib.nullcontext():
                tc = clock.time(m.runner.critic_step)
                tg = clock.time(m.runner.generator_step)
            if r:
                m.critic.append(tc)
                m.gen.append(tg)
                m.wait.append((m.runner.waited - waited) / (tc + tg))
            m.last = n_critic * tc + tg
        log(f"  {step.name}/{size} round {r}/{rounds}{' (warm-up)' if r == 0 else ''}: "
            + ", ".join(f"{m.config} {m.last:.2f}s" for m in runners))
    flop_c, flop_g = count_flops(next(m.runner for m in runners if isinstance(m.runner, EngineRunner)))
    flop = n_critic * flop_c + flop_g
    base = runners[0].iteration_times(n_critic)
    rows = []
    for m in runners:
        times = m.iteration_times(n_critic)
        t = statistics.median(times)
        ratio = statistics.median(b / x for b, x in zip(base, times))
        achieved = flop / t
        precision = "bf16" if "bf16" in m.config else "fp32"
        rows.append({"step": step.name, "size": size, "config": m.config, "precision": precision,
                     "batch": step.training["batch_size"],
                     "gen_batch": step.training.get("generator_batch_size") or step.training["batch_size"],
                     "gen_it_per_s": 1 / t, "ratio_to_baseline": ratio,
                     "critic_step_s": statistics.median(m.critic), "generator_step_s": statistics.median(m.gen),
                     "gflop_per_it": flop / 1e9, "achieved_gflop_s": achieved / 1e9,
                     "peak_mem_mib": max(m.mem) if m.mem else float("nan"),
                     "data_wait_share": statistics.median(m.wait), "rounds": rounds, "note": step.note})
    return rows


# -- numerics check ------------------------------------------------------------------------------

def sliced_wasserstein(a: Tensor, b: Tensor, projections: int = 256, seed: int = 0) -> float:
    """Sliced W1 between two image sets (POT's ``ot.sliced_wasserstein_distance``, p = 1)."""
    import ot

    return float(ot.sliced_wasserstein_distance(a.flatten(1).double().cpu().numpy(), b.flatten(1).double().cpu().numpy(),
                                                n_projections=projections, p=1, seed=seed))


def numerics_run(step: StepDef, overrides: dict, data: Tensor, held_out: Tensor, device: torch.device,
                 iterations: int, samples: int) -> tuple[list[float], float]:
    torch.manual_seed(1234)  # the same global stream (GP alphas) for every run
    runner = EngineRunner(step, overrides, data, device, seed=7)
    curve = []
    for it in range(iterations):
        runner.set_lr_factor(it)
        for _ in range(runner.n_critic):
            out = runner.critic_step()
        runner.generator_step()
        curve.append(float(out["divergence"]))
    with torch.no_grad():
        z = torch.randn(samples, step.nz, generator=torch.Generator().manual_seed(99)).to(device)
        fake = runner.generator(z).float().cpu()
    return curve, sliced_wasserstein(fake, to_unit(held_out[:samples]))


def numerics_check(step: StepDef, device: torch.device, iterations: int, log) -> list[dict]:
    data = image_data(step.shape, 2048 + 512, seed=0, real=True)
    train, held = data[:2048], data[2048:]
    samples = 256 if iterations > 5 else 32
    ref_curve, ref_swd = numerics_run(step, {}, train, held, device, iterations, samples)
    w_range = max(ref_curve) - min(ref_curve) or 1.0
    rows = []
    levers = {"channels_last": {"memory_format": "channels_last"}, "bf16": {"precision": "bf16"}}
    for name, overrides in levers.items():
        tol = NUMERICS_TOL["bf16" if name == "bf16" else "exact"]
        curve, swd = numerics_run(step, overrides, train, held, device, iterations, samples)
        k = min(tol["iterations"] or iterations, iterations)
        w_diff = float(np.mean(np.abs(np.array(curve[:k]) - np.array(ref_curve[:k])))) / w_range
        swd_diff = abs(swd - ref_swd) / ref_swd
        ok = w_diff <= tol["w_curve"] and (tol["iterations"] is not None or swd_diff <= tol["swd"])
        log(f"  numerics {step.name} {name}: W-curve diff {w_diff:.2e} (tol {tol['w_curve']}), "
            f"SWD {swd:.4f} vs fp32 {ref_swd:.4f} ({swd_diff:.1%}, tol {tol['swd']:.0%}) -> {'pass' if ok else 'FAIL'}")
        rows.append({"step": step.name, "lever": name, "iterations": iterations, "w_curve_diff": w_diff,
                     "w_tol": tol["w_curve"], "w_compared_iterations": k, "swd": swd, "swd_fp32": ref_swd,
                     "swd_rel_diff": swd_diff, "swd_tol": tol["swd"], "passed": ok})
    return rows


# -- output --------------------------------------------------------------------------------------

def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    cpu = platform.processor() or "cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu} ({torch.get_num_threads()} threads)"


def write(rows: list[dict], numerics: list[dict], meta: dict, quick: bool) -> tuple[Path, Path]:
    RESULTS.mkdir(parents=True, exist_ok=True)
    slug = "cuda" if meta["device"].startswith("cuda") else "cpu"
    stem = RESULTS / f"{meta['date']}_{slug}{'_quick' if quick else ''}"
    csv_path, md_path = stem.with_suffix(".csv"), stem.with_suffix(".md")
    cols = ["date", "device", "device_name", "torch", "peak_fp32_gflop_s", "peak_bf16_gflop_s", "memory_method"]
    with csv_path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=cols + list(rows[0]))
        writer.writeheader()
        for r in rows:
            writer.writerow({**{k: meta[k] for k in cols}, **r})
    lines = [f"# Benchmark {meta['date']} on {meta['device']} ({meta['device_name']})", "",
             f"torch {meta['torch']}; matmul peaks measured in this run: fp32 {meta['peak_fp32_gflop_s']:.0f} GFLOP/s, "
             f"bf16 {meta['peak_bf16_gflop_s']:.0f} GFLOP/s; peak memory: {meta['memory_method']}; "
             f"{meta['rounds']}; wall time {meta['wall_s']:.0f} s.", "",
             "| step | size | config | precision | batch (G) | gen-it/s | ratio to baseline | GFLOP/it | "
             "share fp32 peak | share bf16 peak | peak mem MiB | data wait |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['step']} | {r['size']} | {r['config']} | {r['precision']} | {r['batch']} ({r['gen_batch']}) "
                     f"| {r['gen_it_per_s']:.3g} | {r['ratio_to_baseline']:.2f}x | {r['gflop_per_it']:.1f} | "
                     f"{r['share_fp32_peak']:.1%} | {r['share_bf16_peak']:.1%} | {r['peak_mem_mib']:.0f} | "
                     f"{r['data_wait_share']:.1%} |")
    if numerics:
        lines += ["", "Numerics check at `small` (short run with the lever on vs fp32 engine, same seeds and data; "
                  "tolerances fixed beforehand in NUMERICS_TOL):", "",
                  "| step | lever | iterations | W-curve diff / range (compared its) | tol | SWD lever / fp32 | tol | pass |",
                  "|---|---|---|---|---|---|---|---|"]
        for n in numerics:
            swd_tol = f"{n['swd_tol']:.0%}" if n["w_compared_iterations"] == n["iterations"] else "(curve only)"
            lines.append(f"| {n['step']} | {n['lever']} | {n['iterations']} | {n['w_curve_diff']:.1e} "
                         f"({n['w_compared_iterations']}) | {n['w_tol']} | {n['swd']:.4f} / {n['swd_fp32']:.4f} "
                         f"({n['swd_rel_diff']:.1%}) | {swd_tol} | {'yes' if n['passed'] else 'NO'} |")
        with stem.with_name(stem.name + "_numerics.csv").open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(numerics[0]))
            writer.writeheader()
            writer.writerows(numerics)
    md_path.write_text("\n".join(lines) + "\n")
    return csv_path, md_path


def save(rows: list[dict], numerics: list[dict], peaks: dict, device: torch.device, start: float,
         quick: bool) -> tuple[Path, Path]:
    for r in rows:
        r["share_fp32_peak"] = r["achieved_gflop_s"] * 1e9 / peaks["fp32"]
        r["share_bf16_peak"] = r["achieved_gflop_s"] * 1e9 / peaks["bf16"]
    meta = {"date": dt.date.today().isoformat(), "device": str(device), "device_name": device_name(device),
            "torch": torch.__version__, "peak_fp32_gflop_s": peaks["fp32"] / 1e9, "peak_bf16_gflop_s": peaks["bf16"] / 1e9,
            "memory_method": PeakMemory(device).method, "wall_s": time.perf_counter() - start,
            "rounds": "medians over timed rounds (interleaved; one warm-up round first)"}
    return write(rows, numerics, meta, quick)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="tiny sizes, a few seconds: smoke test of this script")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda")
    p.add_argument("--steps", default=",".join(STEPS), help=f"comma list of {', '.join(STEPS)}")
    p.add_argument("--sizes", default="paper,small", help="comma list of paper, small")
    p.add_argument("--configs", default=None, help=f"comma list of {', '.join(CONFIGS)} (default: all; at paper "
                   f"size on a CPU {', '.join(CPU_PAPER_CONFIGS)})")
    p.add_argument("--rounds", type=int, default=None, help="timed rounds per step (after one warm-up round)")
    p.add_argument("--numerics-iterations", type=int, default=None, help="0 skips the numerics check")
    p.add_argument("--threads", type=int, default=None)
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    from replication.runtime import resolve_device

    device = resolve_device(args.device)
    if device.type == "cpu":
        keep_freed_memory()
    steps = [s for s in args.steps.split(",") if s]
    unknown = [s for s in steps if s not in STEPS]
    if unknown:
        p.error(f"unknown step {unknown[0]!r}; choose from {', '.join(STEPS)}")
    configs = [c for c in args.configs.split(",") if c] if args.configs else None
    if configs and any(c not in CONFIGS for c in configs):
        p.error(f"unknown configuration in {args.configs!r}; choose from {', '.join(CONFIGS)}")
    log = lambda msg: print(msg, flush=True)  # noqa: E731
    start = time.perf_counter()
    peaks = {"fp32": matmul_peak(device, torch.float32, args.quick), "bf16": matmul_peak(device, torch.bfloat16, args.quick)}
    log(f"device {device} ({device_name(device)}), torch {torch.__version__}: matmul fp32 {peaks['fp32'] / 1e9:.0f}, "
        f"bf16 {peaks['bf16'] / 1e9:.0f} GFLOP/s")
    rows, numerics = [], []
    plan = [(QUICK[s], "quick") for s in steps] if args.quick else \
        [(STEPS[s][z], z) for s in steps for z in args.sizes.split(",") if z]
    for step, size in plan:
        cpu_paper = size == "paper" and device.type == "cpu"
        rounds = args.rounds or (2 if args.quick or cpu_paper else 5)
        for dtype, key in ((torch.float32, "fp32"), (torch.bfloat16, "bf16")):
            peaks[key] = max(peaks[key], matmul_peak(device, dtype, args.quick))
        rows += measure_step(step, size, device, rounds, configs or list(CPU_PAPER_CONFIGS if cpu_paper else CONFIGS),
                             peaks, log)
        save(rows, numerics, peaks, device, start, args.quick)  # partial results survive an interruption
    for s in steps:
        n_it = args.numerics_iterations if args.numerics_iterations is not None else \
            (2 if args.quick else NUMERICS_ITERATIONS[s])
        if n_it:
            numerics += numerics_check(QUICK[s] if args.quick else STEPS[s]["small"], device, n_it, log)
    csv_path, md_path = save(rows, numerics, peaks, device, start, args.quick)
    print(md_path.read_text())
    shown = [path.relative_to(ROOT) if path.is_relative_to(ROOT) else path for path in (csv_path, md_path)]
    log(f"wrote {shown[0]} and {shown[1]} in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
