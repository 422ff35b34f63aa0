"""The adversarial step: one generator iteration of WGAN (clipping), WGAN-GP, minimax /
non-saturating GAN or LSGAN, as declared by a ``TrainingSpec``.

Order per generator iteration (WGAN main.py; equivalent to WGAN-GP's TF loop and to both
papers' Algorithm 1 [C, P]): ``critic_schedule.steps(it)`` critic steps,
each on a new real batch and new z, then one generator step on a new z.

Data come from resumable batch sources (``replication.data.batches``): ``real`` yields real
batches (a tensor, or ``(x, y)`` with labels), ``noise`` yields z (or ``(z, y)`` for a
conditional generator). With no generator (a *fixed* generator, WGAN Figure 2 and WGAN-GP
Figure 1a) the ``fake`` source yields the fake batches themselves.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from replication import objectives
from replication.data.batches import BatchSource
from replication.errors import ReplicationError
from replication.train.lipschitz import build_constraint
from replication.settings.training import TrainingSpec
from replication.train.optim import build_optimizer


@dataclass
class Sources:
    """The random streams of a run's training data, each resumable."""

    real: BatchSource
    noise: BatchSource | None = None  # z for the generator
    fake: BatchSource | None = None   # fixed generator: fake batches directly

    def state_dict(self) -> dict:
        return {k: s.state_dict() for k, s in vars(self).items() if s is not None}

    def load_state_dict(self, state: dict) -> None:
        for k, s in vars(self).items():
            if s is not None:
                s.load_state_dict(state[k])


def split_labels(batch) -> tuple[Tensor, Tensor | None]:
    return batch if isinstance(batch, tuple) else (batch, None)


class StepBase:
    """What every step shares: its networks, optimizers and batch sources (checkpointed; a step
    with more state extends ``state_dict``), the autocast context of its forward passes
    (bf16 when ``precision: bf16``; losses and penalties stay in fp32) and the memory format of
    its networks and image batches."""

    networks: dict[str, nn.Module]
    optimizers: dict[str, torch.optim.Optimizer]
    sources: Sources
    fixed_generator = False

    def setup_precision(self, spec: TrainingSpec, device: torch.device) -> None:
        self.autocast = (lambda: torch.autocast(device.type, dtype=torch.bfloat16)) if spec.precision == "bf16" \
            else contextlib.nullcontext
        self.zero = torch.zeros((), device=device)

    def setup_memory_format(self, spec: TrainingSpec, networks: dict[str, nn.Module]) -> None:
        """Speed lever (benchmarks/): networks and image batches in NHWC with
        ``memory_format: channels_last`` (the same arithmetic through other conv kernels)."""
        self.memory_format = torch.channels_last if spec.memory_format == "channels_last" else None
        if self.memory_format is not None:
            for net in networks.values():
                net.to(memory_format=self.memory_format)

    def _format(self, x: Tensor) -> Tensor:
        if self.memory_format is not None and x.dim() == 4:
            return x.contiguous(memory_format=self.memory_format)
        return x

    def state_dict(self) -> dict:
        return {"networks": {k: m.state_dict() for k, m in self.networks.items()},
                "optimizers": {k: o.state_dict() for k, o in self.optimizers.items()},
                "sources": self.sources.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        for k, m in self.networks.items():
            m.load_state_dict(state["networks"][k])
        for k, o in self.optimizers.items():
            o.load_state_dict(state["optimizers"][k])
        self.sources.load_state_dict(state["sources"])


class AdversarialStep(StepBase):
    """Critic steps then a generator step; every tensor stays on the networks' device."""

    columns = ["critic_loss", "divergence", "gradient_penalty", "classifier_loss", "generator_loss", "critic_steps"]

    def __init__(self, spec: TrainingSpec, networks: dict[str, nn.Module], sources: Sources):
        self.spec, self.sources = spec, sources
        self.critic = networks["critic"]
        self.generator = networks.get("generator")
        self.fixed_generator = self.generator is None
        if self.fixed_generator and sources.fake is None:
            raise ReplicationError("a run without a generator network needs a `fake` batch source (fixed generator)")
        if not self.fixed_generator and sources.noise is None:
            raise ReplicationError("a run with a generator needs a `noise` batch source")
        self.networks = networks
        self.objective = objectives.get(spec.objective)
        self.constraint = build_constraint(spec.lipschitz, self.critic)
        trains_generator = spec.train_generator and not self.fixed_generator
        self.optimizers = {"critic": self._optimizer("critic", self.critic)}
        if trains_generator:
            self.optimizers["generator"] = self._optimizer("generator", self.generator)
        self.setup_precision(spec, next(self.critic.parameters()).device)
        self.setup_memory_format(spec, networks)

    def _optimizer(self, role: str, module: nn.Module) -> torch.optim.Optimizer:
        o = self.spec.optimizers.get(role)
        if o is None:
            raise ReplicationError(f"training.optimizers: no entry for {role!r}")
        return build_optimizer(o, module.parameters())

    # -- batches ----------------------------------------------------------------------------
    def real_batch(self) -> tuple[Tensor, Tensor | None]:
        x, y = split_labels(self.sources.real.next())
        return self._format(x), y

    def noise_batch(self, n: int | None = None) -> tuple[Tensor, Tensor | None]:
        """z (and labels) from the noise source; with ``n`` (``generator_batch_size``, e.g. the
        ResNet's 2x batch) as many noise batches as needed, concatenated and cut to n rows."""
        z, y = split_labels(self.sources.noise.next())
        if n is None or len(z) == n:
            return z, y
        zs, ys = [z], [y]
        while sum(len(a) for a in zs) < n:
            z, y = split_labels(self.sources.noise.next())
            zs.append(z)
            ys.append(y)
        return torch.cat(zs)[:n], (None if ys[0] is None else torch.cat(ys)[:n])

    def fake_batch(self, grad: bool, n: int | None = None, labels: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        """Fake images and the labels they were generated for. A conditional generator (its
        noise source yields (z, y)) takes ``labels`` instead of y where given: in critic steps
        the labels of the current real batch, as gan_cifar_resnet.py does."""
        if self.fixed_generator:
            return self._format(split_labels(self.sources.fake.next())[0]), None
        z, y = self.noise_batch(n)
        if y is not None and labels is not None:
            y = labels
        with torch.set_grad_enabled(grad), self.autocast():
            return self._format(self.generator(z) if y is None else self.generator(z, y)), y

    def critic_outputs(self, real: Tensor, fake: Tensor) -> tuple[Tensor, Tensor]:
        """Critic outputs (fp32) on the real and fake batches, in separate forward passes: batch
        norm in the critic sees real and fake batches on their own, as in every official script
        [C]. (One forward over cat(real, fake) for critics without batch norm was
        measured by benchmarks/bench.py and dropped: no gain on CPU.)"""
        with self.autocast():
            return self.critic(real).float(), self.critic(fake).float()

    # -- steps -------------------------------------------------------------------------------
    def critic_step(self) -> dict[str, Tensor]:
        """One critic update. Guaranteed order of draws: the real batch, then the fake batch
        (a fixed generator's fake source may build on the real batch just drawn)."""
        self.constraint.before_step()
        real, labels = self.real_batch()
        fake, _ = self.fake_batch(grad=False, labels=labels)  # the generator under no_grad: no graph to build
        classifier = self.zero
        if self.spec.acgan is None:
            loss = self.objective.critic_loss(*self.critic_outputs(real, fake))
        else:
            if labels is None:
                raise ReplicationError("training.acgan needs a real batch source that yields (images, labels)")
            with self.autocast():
                real_out, logits = self.critic(real, return_logits=True)
                fake_out = self.critic(fake)
            loss = self.objective.critic_loss(real_out.float(), fake_out.float())
            classifier = F.cross_entropy(logits.float(), labels)  # real images only (ACGAN_SCALE)
        penalty = self.constraint.penalty(self.critic, real, fake)
        total = self.spec.critic_loss_scale * loss + (penalty if penalty is not None else 0.0)
        if self.spec.acgan is not None:
            total = total + self.spec.acgan.critic_scale * classifier
        opt = self.optimizers["critic"]
        opt.zero_grad(set_to_none=True)
        total.backward()
        opt.step()
        self.constraint.after_step()
        return {"critic_loss": total.detach(), "divergence": self.objective.divergence(loss.detach()),
                "gradient_penalty": penalty.detach() if penalty is not None else self.zero,
                "classifier_loss": classifier.detach()}

    def generator_step(self) -> Tensor:
        self.critic.requires_grad_(False)  # no critic gradients needed: saves work
        try:
            fake, labels = self.fake_batch(grad=True, n=self.spec.generator_batch_size)
            with self.autocast():
                if self.spec.acgan is None:
                    loss = self.objective.generator_loss(self.critic(fake).float())
                else:
                    if labels is None:
                        raise ReplicationError("training.acgan needs a noise source that yields (z, labels)")
                    out, logits = self.critic(fake, return_logits=True)
                    loss = self.objective.generator_loss(out.float()) + \
                        self.spec.acgan.generator_scale * F.cross_entropy(logits.float(), labels)
            opt = self.optimizers["generator"]
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        finally:
            self.critic.requires_grad_(True)
        return loss.detach()

    def iteration(self, it: int) -> dict[str, Tensor | float]:
        n_steps = self.spec.critic_schedule.steps(it)
        for _ in range(n_steps):
            out = self.critic_step()
        gen_loss = self.generator_step() if "generator" in self.optimizers else self.zero
        return {**out, "generator_loss": gen_loss, "critic_steps": n_steps}

    def generate(self, noise: Tensor | tuple[Tensor, Tensor]) -> Tensor:
        """Samples for evaluation (no gradients), from z or (z, labels)."""
        from replication.train.evaluation import generate_from

        return generate_from(self.generator, noise, next(self.critic.parameters()).device)
