"""The auto-encoder step: one iteration of a VAE, WAE-MMD or WAE-GAN, as declared by a
``TrainingSpec`` with an ``autoencoder:`` block (tolstikhin/wae wae.py [C]; the VAE
baseline of WAE Section 4 [P]).

Order per iteration (the WAE code's ``wae.py`` train loop): a real batch and an equal batch of
prior draws; the auto-encoder step (encoder input noise, reconstruction + lambda x penalty); for
WAE-GAN then one adversary step on the same images and prior draws, with codes from the updated
encoder (the TF code runs the adversary op as a second ``sess.run`` on the same feed, so its input
noise is drawn afresh and batch norm updates its moving averages again). Encoder pre-training
(mean and covariance of the codes matched to the prior's) runs once, inside iteration 0.

Networks: ``encoder`` (a deterministic code, or ``(mean, logvar)`` for the VAE), ``decoder``
(images in ``data_range``; for the VAE Bernoulli logits) and, for WAE-GAN, ``adversary`` (a logit
that is high on prior draws). Batch norm stays in train mode here; ``decode``/``encode`` are what
evaluation uses (inference mode set by the caller: the code samples with moving statistics).
"""

from __future__ import annotations

import dataclasses

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from replication import objectives
from replication.errors import ReplicationError
from replication.settings.training import TrainingSpec
from replication.train.adversarial import Sources, StepBase
from replication.train.optim import build_optimizer


def code_mean(encoded) -> Tensor:
    """The deterministic code: the encoder's output, or the mean of a Gaussian encoder."""
    return encoded[0] if isinstance(encoded, tuple) else encoded


def decoded_images(decoder: nn.Module, z: Tensor, logits: bool, data_range: tuple[float, float]) -> Tensor:
    """Images in ``data_range``: the decoder's output, or for a Bernoulli (logit) decoder the mean
    sigmoid(logit) mapped from [0, 1] to the data range."""
    out = decoder(z)
    if not logits:
        return out
    lo, hi = data_range
    return torch.sigmoid(out) * (hi - lo) + lo


class AutoEncoderStep(StepBase):
    """One auto-encoder iteration (plus an adversary step for WAE-GAN); tensors stay on the device."""

    columns = ["loss", "reconstruction", "penalty", "adversary_loss", "pretrain_loss", "pretrain_steps"]

    def __init__(self, spec: TrainingSpec, networks: dict[str, nn.Module], sources: Sources):
        if spec.autoencoder is None:
            raise ReplicationError(f"objective {spec.objective!r} needs an `autoencoder:` block")
        missing = [r for r in ("encoder", "decoder") + (("adversary",) if spec.objective == "wae_gan" else ())
                   if r not in networks]
        if missing:
            raise ReplicationError(f"objective {spec.objective!r} needs networks {', '.join(missing)}")
        if sources.noise is None:
            raise ReplicationError("an auto-encoder run needs a `noise` batch source (draws from the prior P_Z)")
        self.spec, self.ae, self.sources, self.networks = spec, spec.autoencoder, sources, networks
        self.encoder, self.decoder = networks["encoder"], networks["decoder"]
        self.adversary = networks.get("adversary")
        self.vae = spec.objective == "vae"
        self.gan = objectives.get("gan_ns")  # WAE-GAN: JS-GAN adversary, non-saturating encoder term
        self.optimizers = {"autoencoder": build_optimizer(spec.optimizers["autoencoder"],
                                                          [*self.encoder.parameters(), *self.decoder.parameters()])}
        if spec.objective == "wae_gan":
            self.optimizers["adversary"] = build_optimizer(spec.optimizers["adversary"], self.adversary.parameters())
        self.pretrained = self.ae.pretrain_steps == 0
        self.setup_precision(spec, next(self.encoder.parameters()).device)
        self.setup_memory_format(spec, networks)

    # -- pieces -------------------------------------------------------------------------------
    def noisy(self, x: Tensor) -> Tensor:
        """Encoder input during training: x + truncated normal (std input_noise, cut at 2 std)."""
        s = self.ae.input_noise
        if s == 0:
            return x
        noise = torch.empty_like(x)
        nn.init.trunc_normal_(noise, 0.0, s, -2 * s, 2 * s)
        return x + noise

    def codes(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Codes of a training batch and the penalty's per-example part (the VAE's KL; else 0)."""
        with self.autocast():
            encoded = self.encoder(self.noisy(x))
        if not self.vae:
            return encoded.float(), self.zero
        mean, logvar = (t.float() for t in encoded)
        z = mean + torch.randn_like(mean) * torch.exp(0.5 * logvar)
        return z, objectives.gaussian_kl(mean, logvar, self.ae.prior_var).mean()

    def reconstruction(self, x: Tensor, z: Tensor) -> Tensor:
        with self.autocast():
            out = self.decoder(z).float()
        if self.vae:  # Bernoulli decoder: summed BCE against [0, 1] targets, unscaled (the ELBO)
            lo, hi = self.ae.data_range
            target = (x - lo) / (hi - lo)
            return F.binary_cross_entropy_with_logits(out, target, reduction="none").flatten(1).sum(1).mean()
        return self.ae.reconstruction_scale * (x - out).pow(2).flatten(1).sum(1).mean()

    def prior_batch(self, n: int) -> Tensor:
        draws = [self.sources.noise.next()]
        while sum(len(d) for d in draws) < n:
            draws.append(self.sources.noise.next())
        return torch.cat(draws)[:n]

    def real_batch(self, n: int) -> Tensor:
        draws = [self.sources.real.next()]
        while sum(len(d) for d in draws) < n:
            draws.append(self.sources.real.next())
        return self._format(torch.cat(draws)[:n])

    def pretrain(self) -> tuple[Tensor, int]:
        """The code's ``pretrain_encoder``: Adam (the auto-encoder's lr and betas, no decay) on the
        encoder alone; the loss is read before each step and ends the loop once below the stop."""
        o = dataclasses.replace(self.spec.optimizers["autoencoder"], weight_decay=0.0)
        opt = build_optimizer(o, self.encoder.parameters())
        loss, steps = self.zero, 0
        while steps < self.ae.pretrain_steps:
            x, z = self.real_batch(self.ae.pretrain_samples), self.prior_batch(self.ae.pretrain_samples)
            codes, _ = self.codes(x)
            loss = objectives.moment_matching_loss(codes, z)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            steps += 1
            if loss.item() < self.ae.pretrain_stop:
                break
        self.pretrained = True
        return loss.detach(), steps

    # -- the iteration ----------------------------------------------------------------------------
    def iteration(self, it: int) -> dict[str, Tensor | float]:
        pretrain_loss, pretrain_steps = (self.pretrain() if not self.pretrained else (self.zero, 0))
        x, prior = self._format(self.sources.real.next()), self.sources.noise.next()
        z, kl = self.codes(x)
        rec = self.reconstruction(x, z)
        if self.vae:
            penalty = kl
            loss = rec + penalty
        elif self.adversary is None:
            penalty = objectives.mmd_imq(z, prior, self.ae.prior_var, self.ae.kernel_scales)
            loss = rec + self.ae.penalty_weight * penalty
        else:
            self.adversary.requires_grad_(False)
            try:
                penalty = self.gan.generator_loss(self.adversary(z).float())
            finally:
                self.adversary.requires_grad_(True)
            loss = rec + self.ae.penalty_weight * penalty
        opt = self.optimizers["autoencoder"]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        adversary_loss = self.adversary_step(x, prior) if self.adversary is not None else self.zero
        return {"loss": loss.detach(), "reconstruction": rec.detach(), "penalty": penalty.detach(),
                "adversary_loss": adversary_loss, "pretrain_loss": pretrain_loss, "pretrain_steps": pretrain_steps}

    def adversary_step(self, x: Tensor, prior: Tensor) -> Tensor:
        """lambda [BCE(D(z_prior), 1) + BCE(D(z~), 0)] on codes of the updated encoder (no encoder grads)."""
        with torch.no_grad():
            z, _ = self.codes(x)
        with self.autocast():
            loss = self.ae.penalty_weight * self.gan.critic_loss(self.adversary(prior).float(), self.adversary(z).float())
        opt = self.optimizers["adversary"]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.detach()

    # -- what evaluation uses ----------------------------------------------------------------------
    def decode(self, z: Tensor) -> Tensor:
        """Images in the data range from codes (the caller sets inference mode)."""
        return decoded_images(self.decoder, z, self.vae, self.ae.data_range)

    def encode(self, x: Tensor) -> Tensor:
        """Deterministic codes (the mean for the VAE), no input noise."""
        return code_mean(self.encoder(x))

    def reconstruct(self, x: Tensor) -> Tensor:
        return self.decode(self.encode(x))

    def generate(self, z: Tensor) -> Tensor:
        """Samples for evaluation: decoded prior draws (no gradients)."""
        with torch.no_grad():
            return self.decode(z.to(next(self.decoder.parameters()).device))

    # -- checkpoints ---------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        return {**super().state_dict(), "pretrained": self.pretrained}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.pretrained = state["pretrained"]


# -- evaluation of final networks (inference mode: batch norm on moving averages, as the code samples) --

@torch.no_grad()
def decode_prior(decoder: nn.Module, z: torch.Tensor, logits: bool, value_range, device, batch: int) -> torch.Tensor:
    decoder.eval()
    return torch.cat([decoded_images(decoder, z[i:i + batch].to(device), logits, value_range).float().cpu()
                      for i in range(0, len(z), batch)])


@torch.no_grad()
def encode(encoder: nn.Module, x: torch.Tensor, device, batch: int) -> torch.Tensor:
    encoder.eval()
    return torch.cat([code_mean(encoder(x[i:i + batch].to(device))).float().cpu() for i in range(0, len(x), batch)])


def reconstruction_errors(networks: dict, x: torch.Tensor, logits: bool, value_range, device, batch: int,
                          train_mean: torch.Tensor) -> dict:
    """Mean summed squared error of test reconstructions and of the mean-image baseline."""
    rec = decode_prior(networks["decoder"], encode(networks["encoder"], x, device, batch), logits, value_range,
                       device, batch)
    error = (rec - x).pow(2).flatten(1).sum(1)
    baseline = (train_mean.unsqueeze(0) - x).pow(2).flatten(1).sum(1)
    return {"reconstruction_error": float(error.mean()), "mean_image_error": float(baseline.mean()),
            "reconstruction_ratio": float(error.mean() / baseline.mean())}
