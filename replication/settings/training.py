"""The training block of an experiment's settings, parsed strictly into typed specs.

An experiment declares each training run as one block (YAML, validated here; unknown keys
are one-line errors), e.g. the WGAN-GP toy critic::

    training:
      objective: wgan                      # wgan | gan_minimax | gan_ns | lsgan (replication.objectives)
      lipschitz: {method: gp, gp_lambda: 10.0}   # clip | gp | none (replication.train.lipschitz)
      critic_schedule: {n_critic: 5}       # wgan_warmup: WGAN main.py's 100-step rule
      iterations: 10000                    # generator iterations
      batch_size: 256                      # critic batch; generator_batch_size defaults to it
      optimizers:
        critic: {name: adam, lr: 0.0001, betas: [0.5, 0.9]}
        generator: {name: adam, lr: 0.0001, betas: [0.5, 0.9]}
      lr_schedule: {name: constant}        # linear_decay (to 0 over `iterations`), milestones
      precision: fp32                      # bf16: autocast (CPU scales, after a numerics check)
      memory_format: contiguous            # channels_last (speed lever, benchmarks/)
      log_every: 50
      checkpoint_every: 200
      convergence: {column: divergence, window: 1000, rel_tol: 0.01, min_iterations: 2000}
      evaluation: {every: 1000, probes: [w_estimate, sample_grid]}

An auto-encoder run (WAE, tolstikhin/wae wae.py [C]; replication.train.autoencoder) declares
``objective: vae | wae_mmd | wae_gan``, an ``autoencoder:`` block (prior, penalty, kernel,
reconstruction scaling, encoder pre-training, input noise) and optimizers ``autoencoder``
(encoder + decoder) and, for ``wae_gan``, ``adversary``::

    training:
      objective: wae_mmd
      iterations: 60000
      batch_size: 100
      optimizers: {autoencoder: {name: adam, lr: 0.001, betas: [0.5, 0.999]}}
      lr_schedule: {name: milestones, at: [18000, 30000], factors: [0.5, 0.2]}
      autoencoder: {prior_var: 1.0, penalty_weight: 10.0, reconstruction_scale: 0.05}

Defaults live only here (the dataclass fields), parsed by ``replication.settings.parse``;
the names of objectives, Lipschitz methods and optimizers come from their registries
(``replication.registries``). Scale files shrink the same keys (merged first).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from replication.errors import ReplicationError
from replication.registries import AUTOENCODER_OBJECTIVES, LIPSCHITZ, OBJECTIVES, OPTIMIZERS
from replication.settings import choice, parse


@dataclass(frozen=True)
class OptimizerSpec:
    name: str = choice(OPTIMIZERS)
    lr: float
    betas: tuple[float, float] = (0.9, 0.999)
    weight_decay: float = 0.0


@dataclass(frozen=True)
class LipschitzSpec:
    method: str = choice(LIPSCHITZ, "none")
    clip_value: float = 0.01
    # "before": WGAN main.py clamps before each critic step; "after": WGAN-GP TF code and both
    # papers' Algorithm 1 clip after it [C, P].
    timing: str = choice(("before", "after"), "after")
    gp_lambda: float = 10.0


@dataclass(frozen=True)
class CriticScheduleSpec:
    """``n_critic`` steps per generator iteration, plus WGAN's rule (main.py and README [C]):
    ``100 if it < 25 or it % 500 == 0 else n_critic`` when ``wgan_warmup``."""

    n_critic: int = 5
    wgan_warmup: bool = False
    warmup_steps: int = 100
    warmup_iterations: int = 25
    warmup_every: int = 500

    def steps(self, gen_iteration: int) -> int:
        if self.wgan_warmup and (gen_iteration < self.warmup_iterations or gen_iteration % self.warmup_every == 0):
            return self.warmup_steps
        return self.n_critic


# Learning-rate schedules: (schedule, generator iteration, run's iterations) -> multiplier.
LR_SCHEDULES = {
    "constant": lambda s, it, total: 1.0,
    "linear_decay": lambda s, it, total: max(0.0, 1.0 - it / (s.over or total)),
    "milestones": lambda s, it, total: math.prod((f for start, f in zip(s.at, s.factors) if it >= start), start=1.0),
}


@dataclass(frozen=True)
class LRScheduleSpec:
    """Learning-rate multiplier as a function of the generator iteration (used for every
    network's optimizer, as gan_cifar_resnet.py does): ``constant``; ``linear_decay``
    max(0, 1 - it / over) with ``over`` defaulting to the run's iterations; ``milestones``
    (the multiplier is multiplied by factors[k] from iteration at[k] on: WAE's epoch decay)."""

    name: str = choice(tuple(LR_SCHEDULES), "constant")
    over: int | None = None
    at: tuple[int, ...] = ()
    factors: tuple[float, ...] = ()


@dataclass(frozen=True)
class ConvergenceSpec:
    """replication.train.convergence.Plateau: two window means within ``rel_tol`` after
    ``min_iterations``; with ``slope_window`` set, also the least-squares change across the last
    ``slope_window`` logged iterations within ``slope_rel_tol`` of their mean (off by default)."""

    column: str = "divergence"
    window: int = 500
    rel_tol: float = 0.01
    abs_tol: float = 1e-6
    min_iterations: int = 1000
    slope_window: int | None = None
    slope_rel_tol: float = 0.02


@dataclass(frozen=True)
class EvaluationSpec:
    """Evaluation during training, every ``every`` generator iterations (and at the end)."""

    every: int
    probes: tuple[str, ...] = ()  # built-ins (replication.train.evaluation.PROBES) or the experiment's
    samples: int = 256            # held-out samples per side for w_estimate / critic_loss
    # critic_loss in chunks of this many real and fake samples, averaged (the official dev loops
    # over batches: with batch norm the batch size is part of the measure); None: one chunk
    batch_size: int | None = None
    grid: int = 64                # images in a sample grid (fixed noise batch)
    # "batch_stats": generator batch norm uses the batch's statistics when sampling, as tflib and
    # WGAN main.py do [C], with running statistics saved and restored; "eval": running stats.
    generator_mode: str = choice(("batch_stats", "eval"), "batch_stats")
    # the same for the critic: "eval" (running statistics; the default) or "batch_stats" (tflib's
    # Batchnorm has no inference mode, so gan_mnist.py's dev cost normalises each batch by itself)
    critic_mode: str = choice(("batch_stats", "eval"), "eval")
    # Columns train_seconds_wall / train_seconds_cpu: the run's cumulative training time up to the
    # row, evaluation and checkpoint writes excluded, resumed from the checkpoint (WGAN-GP Fig 3's
    # time axis). Off by default: times are the one thing a resumed run cannot repeat bitwise.
    training_time: bool = False


@dataclass(frozen=True)
class AcganSpec:
    """AC-GAN terms of gan_cifar_resnet.py [C] (WGAN-GP Table 3, supervised): the critic's classifier
    head is trained by cross-entropy on real images only (scaled by ``critic_scale``); the
    generator adds ``generator_scale`` x the head's cross-entropy on its own labelled samples."""

    critic_scale: float = 1.0
    generator_scale: float = 0.1


@dataclass(frozen=True)
class AutoEncoderSpec:
    """The WAE code's auto-encoder terms (tolstikhin/wae ``wae.py`` [C]).

    Prior P_Z = N(0, prior_var I). Reconstruction ``reconstruction_scale * sum_pixels (x - x~)^2``
    per image, batch mean (``l2sq`` x 0.05); the VAE's Bernoulli term is the summed BCE and is not
    scaled. Penalty weight lambda. IMQ kernel k(x, y) = C / (C + |x - y|^2) summed over
    C = s * 2 d_z prior_var for s in ``kernel_scales`` (the code's seven; ``[1.0]`` is the paper's
    single scale). Encoder pre-training: up to ``pretrain_steps`` Adam steps matching the mean and
    covariance of ``pretrain_samples`` codes to as many prior draws, stopping once the loss is
    below ``pretrain_stop`` (0 steps: off). Encoder input noise: truncated normal with std
    ``input_noise`` cut at 2 std, training only (0: off). ``data_range``: the pixel range of the
    data (the VAE's BCE targets are mapped to [0, 1] from it; its decoder emits logits)."""

    prior_var: float = 1.0
    penalty_weight: float = 10.0
    reconstruction_scale: float = 0.05
    kernel_scales: tuple[float, ...] = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)
    pretrain_steps: int = 0
    pretrain_samples: int = 1000
    pretrain_stop: float = 0.1
    input_noise: float = 0.0
    data_range: tuple[float, float] = (0.0, 1.0)


@dataclass(frozen=True)
class TrainingSpec:
    objective: str = choice((*OBJECTIVES.names, *AUTOENCODER_OBJECTIVES.names))
    iterations: int
    optimizers: dict[str, OptimizerSpec]
    lipschitz: LipschitzSpec = field(default_factory=LipschitzSpec)
    critic_schedule: CriticScheduleSpec = field(default_factory=CriticScheduleSpec)
    batch_size: int = 64
    generator_batch_size: int | None = None  # WGAN-GP ResNet: 2x the critic batch
    critic_loss_scale: float = 1.0  # WGAN-GP's DCGAN baseline halves the D cost
    acgan: AcganSpec | None = None  # a critic with a classifier head (real batches carry labels)
    autoencoder: AutoEncoderSpec | None = None  # objectives vae | wae_mmd | wae_gan
    train_generator: bool = True
    lr_schedule: LRScheduleSpec = field(default_factory=LRScheduleSpec)
    precision: str = choice(("fp32", "bf16"), "fp32")
    # Speed lever kept by benchmarks/bench.py (CPU: +5-20% fp32, more with bf16); not bitwise-equal
    # to contiguous (other conv kernels), so off by default:
    memory_format: str = choice(("contiguous", "channels_last"), "contiguous")  # channels_last: NHWC
    log_every: int = 100
    checkpoint_every: int = 1000
    convergence: ConvergenceSpec | None = None
    evaluation: EvaluationSpec | None = None

    @property
    def gen_batch(self) -> int:
        return self.generator_batch_size or self.batch_size

    def lr_factor(self, iteration: int) -> float:
        return LR_SCHEDULES[self.lr_schedule.name](self.lr_schedule, iteration, self.iterations)

    def check(self, where: str) -> None:
        """What the field types cannot say (run by ``parse``)."""
        if self.objective in AUTOENCODER_OBJECTIVES:
            return _check_autoencoder(self, where)
        if self.autoencoder is not None:
            raise ReplicationError(f"{where}.autoencoder: only for objectives "
                                   f"{', '.join(AUTOENCODER_OBJECTIVES.names)}, not {self.objective!r}")
        # A Lipschitz constraint acts on the critic's raw output: the discriminator's logit under a
        # GAN objective (a penalised GAN, as in Fedus et al. 2018 or the negative controls)
        if "critic" not in self.optimizers:
            raise ReplicationError(f"{where}.optimizers: needs a 'critic' entry (and 'generator' unless the "
                                   "generator is fixed)")


def parse_training(block: dict | TrainingSpec, where: str = "training") -> TrainingSpec:
    """A settings block -> TrainingSpec; any unknown key, bad type or bad choice is one line."""
    return block if isinstance(block, TrainingSpec) else parse(TrainingSpec, block, where)


def _check_autoencoder(spec: TrainingSpec, where: str) -> None:
    if spec.autoencoder is None:
        raise ReplicationError(f"{where}: objective {spec.objective!r} needs an `autoencoder:` block")
    needed = {"autoencoder", "adversary"} if spec.objective == "wae_gan" else {"autoencoder"}
    if set(spec.optimizers) != needed:
        raise ReplicationError(f"{where}.optimizers: objective {spec.objective!r} takes exactly "
                               f"{', '.join(sorted(needed))}, got {', '.join(sorted(spec.optimizers)) or 'none'}")
    ae = spec.autoencoder
    if ae.prior_var <= 0 or not ae.kernel_scales or min(ae.kernel_scales) <= 0:
        raise ReplicationError(f"{where}.autoencoder: prior_var and every kernel scale must be positive")
    if ae.pretrain_steps < 0 or ae.pretrain_samples < 2 or ae.input_noise < 0 or ae.data_range[0] >= ae.data_range[1]:
        raise ReplicationError(f"{where}.autoencoder: needs pretrain_steps >= 0, pretrain_samples >= 2, "
                               f"input_noise >= 0 and data_range low < high")
    if spec.lipschitz.method != "none" or spec.acgan is not None:
        raise ReplicationError(f"{where}: lipschitz and acgan belong to adversarial objectives, not {spec.objective!r}")
