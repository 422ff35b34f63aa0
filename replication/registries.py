"""The names of the engine's pluggable parts, each bound to where it is implemented.

One table per kind: the settings parser checks a name against it without importing torch
(the DAG is parsed torch-free), and the engine loads the implementation on first use, so a
name lives in exactly one place.
"""

from __future__ import annotations

import importlib

from replication.errors import ReplicationError


class Registry:
    """``{name: "module:attribute"}``; ``get(name)`` imports the attribute."""

    def __init__(self, kind: str, entries: dict[str, str]):
        self.kind, self.entries, self._loaded = kind, entries, {}

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.entries)

    def __contains__(self, name: object) -> bool:
        return name in self.entries

    def get(self, name: str):
        if name not in self.entries:
            raise ReplicationError(f"unknown {self.kind} {name!r}; choose one of {', '.join(self.entries)}")
        if name not in self._loaded:
            module, attribute = self.entries[name].split(":")
            self._loaded[name] = getattr(importlib.import_module(module), attribute)
        return self._loaded[name]


# Adversarial objectives (critic loss, generator loss, divergence estimate).
OBJECTIVES = Registry("objective", {
    "wgan": "replication.objectives:WGAN",
    "gan_minimax": "replication.objectives:MINIMAX_GAN",
    "gan_ns": "replication.objectives:NON_SATURATING_GAN",
    "lsgan": "replication.objectives:LSGAN",
})
# Auto-encoder objectives, one step (replication.train.autoencoder) with the variant as a switch.
AUTOENCODER_OBJECTIVES = Registry("auto-encoder objective", {
    "vae": "replication.train.autoencoder:AutoEncoderStep",
    "wae_mmd": "replication.train.autoencoder:AutoEncoderStep",
    "wae_gan": "replication.train.autoencoder:AutoEncoderStep",
})
LIPSCHITZ = Registry("Lipschitz method", {
    "none": "replication.train.lipschitz:NoConstraint",
    "clip": "replication.train.lipschitz:WeightClipping",
    "gp": "replication.train.lipschitz:GradientPenalty",
})
# Each entry: (params, OptimizerSpec) -> torch.optim.Optimizer.
OPTIMIZERS = Registry("optimizer", {
    "rmsprop": "replication.train.optim:rmsprop",
    "rmsprop_tf": "replication.train.optim:rmsprop_tf",
    "adam": "replication.train.optim:adam",
    "sgd": "replication.train.optim:sgd",
})
