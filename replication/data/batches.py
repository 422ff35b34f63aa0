"""Resumable mini-batch sources. Each owns its random stream, so a checkpoint can store
the exact position of the data stream and a resumed run draws the same batches."""

from __future__ import annotations

from typing import Callable, Protocol

import torch


class BatchSource(Protocol):
    def next(self) -> torch.Tensor: ...
    def state_dict(self) -> dict: ...
    def load_state_dict(self, state: dict) -> None: ...


class SamplerSource:
    """Fresh samples every batch from ``sample(n, generator) -> Tensor`` (toy distributions)."""

    def __init__(self, sample: Callable[[int, torch.Generator], torch.Tensor], batch_size: int,
                 device: torch.device, seed: int):
        self.sample, self.batch_size, self.device = sample, batch_size, device
        self.generator = torch.Generator().manual_seed(seed)

    def next(self) -> torch.Tensor:
        return self.sample(self.batch_size, self.generator).to(self.device, non_blocking=True)

    def state_dict(self) -> dict:
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["generator"])


class TensorSource:
    """Epoch-shuffled batches from a tensor held whole on the device.

    ``drop_last=False`` reproduces a PyTorch DataLoader without drop_last (WGAN main.py: the
    last batch of an epoch can be smaller); ``with_replacement=True`` draws each batch
    independently without replacement inside the batch (the WAE code's np.random.choice);
    ``reshuffle=False`` draws the permutation once and iterates the data in that same order
    every epoch (gan_toy.py's 25-Gaussians set: shuffled once, then batches in order forever).
    """

    def __init__(self, data: torch.Tensor, batch_size: int, seed: int, drop_last: bool = True,
                 with_replacement: bool = False, reshuffle: bool = True):
        if len(data) < batch_size and (drop_last or with_replacement):
            raise ValueError(f"dataset of {len(data)} items is smaller than batch {batch_size}")
        self.data, self.batch_size = data, batch_size
        self.drop_last, self.with_replacement, self.reshuffle = drop_last, with_replacement, reshuffle
        self.generator = torch.Generator().manual_seed(seed)
        self.order: torch.Tensor | None = None
        self.position = 0
        self.epoch = 0

    def _new_epoch(self) -> None:
        if self.reshuffle or self.order is None:
            self.order = torch.randperm(len(self.data), generator=self.generator)
        self.position = 0

    def next(self) -> torch.Tensor:
        if self.with_replacement:
            idx = torch.randperm(len(self.data), generator=self.generator)[: self.batch_size]
            return self.data[idx.to(self.data.device)]
        end_needed = self.batch_size if self.drop_last else 1
        if self.order is None or self.position + end_needed > len(self.data):
            if self.order is not None:
                self.epoch += 1
            self._new_epoch()
        idx = self.order[self.position : self.position + self.batch_size]
        self.position += len(idx)
        return self.data[idx.to(self.data.device)]

    def state_dict(self) -> dict:
        return {"generator": self.generator.get_state(), "order": self.order,
                "position": self.position, "epoch": self.epoch}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["generator"])
        self.order, self.position, self.epoch = state["order"], state["position"], state["epoch"]
