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
    """Fresh samples every batch from ``sample(n, generator) -> Tensor`` (toy distributions), or
    a tuple of tensors (``(z, labels)``: a conditional generator's input)."""

    def __init__(self, sample: Callable[[int, torch.Generator], torch.Tensor], batch_size: int,
                 device: torch.device, seed: int):
        self.sample, self.batch_size, self.device = sample, batch_size, device
        self.generator = torch.Generator().manual_seed(seed)

    def next(self) -> torch.Tensor:
        batch = self.sample(self.batch_size, self.generator)
        if isinstance(batch, tuple):
            return tuple(t.to(self.device, non_blocking=True) for t in batch)
        return batch.to(self.device, non_blocking=True)

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
    ``transform`` maps each batch as it is drawn (e.g. uint8 images to floats, so a large image set
    is held as uint8: a quarter of the memory).
    """

    def __init__(self, data: torch.Tensor, batch_size: int, seed: int, drop_last: bool = True,
                 with_replacement: bool = False, reshuffle: bool = True, transform=None):
        if len(data) < batch_size and (drop_last or with_replacement):
            raise ValueError(f"dataset of {len(data)} items is smaller than batch {batch_size}")
        self.data, self.batch_size, self.transform = data, batch_size, transform
        self.drop_last, self.with_replacement, self.reshuffle = drop_last, with_replacement, reshuffle
        self.generator = torch.Generator().manual_seed(seed)
        self.order: torch.Tensor | None = None
        self.position = 0
        self.epoch = 0

    def _new_epoch(self) -> None:
        if self.reshuffle or self.order is None:
            self.order = torch.randperm(len(self.data), generator=self.generator)
        self.position = 0

    def next_indices(self) -> torch.Tensor:
        """The indices of the next batch (what ``next`` returns the rows of)."""
        if self.with_replacement:
            return torch.randperm(len(self.data), generator=self.generator)[: self.batch_size]
        end_needed = self.batch_size if self.drop_last else 1
        if self.order is None or self.position + end_needed > len(self.data):
            if self.order is not None:
                self.epoch += 1
            self._new_epoch()
        idx = self.order[self.position : self.position + self.batch_size]
        self.position += len(idx)
        return idx

    def next(self) -> torch.Tensor:
        batch = self.data[self.next_indices().to(self.data.device)]
        return batch if self.transform is None else self.transform(batch)

    def state_dict(self) -> dict:
        return {"generator": self.generator.get_state(), "order": self.order,
                "position": self.position, "epoch": self.epoch}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["generator"])
        self.order, self.position, self.epoch = state["order"], state["position"], state["epoch"]


class ImageSource(TensorSource):
    """Epoch-shuffled real-image batches for image GANs: uint8 N×C×H×W images (e.g. an
    ``ImageSet``'s, possibly memory-mapped) are indexed where they are and each batch is scaled
    to [-1, 1] on ``device`` as WGAN main.py's ToTensor + Normalize(0.5, 0.5) does
    (``to_symmetric_range``). A set of at most ``device_bytes`` is moved to the device once
    (whole small data sets live there); a larger one (LSUN bedrooms, ~37 GB) stays on the host.
    ``drop_last=False``: a DataLoader without drop_last (WGAN main.py, pytorch/examples dcgan).

    ``labels`` (int64 N): batches are ``(images, labels)`` of the same rows (a conditional model's
    real batches, WGAN-GP gan_cifar_resnet.py). ``dequantize``: gan_cifar_resnet.py's scaling
    2·(x/256 − 0.5) + U[0, 1/128) instead (``to_dequantized_range``; the noise is drawn from this
    source's own stream, so a resumed run draws the same)."""

    def __init__(self, images: torch.Tensor, batch_size: int, seed: int, device: torch.device,
                 drop_last: bool = False, device_bytes: int = 2**31, labels: torch.Tensor | None = None,
                 dequantize: bool = False):
        if images.dtype != torch.uint8 or images.dim() != 4:
            raise ValueError(f"ImageSource expects uint8 N×C×H×W images, got {images.dtype} {tuple(images.shape)}")
        if labels is not None and len(labels) != len(images):
            raise ValueError(f"ImageSource got {len(labels)} labels for {len(images)} images")
        if images.numel() <= device_bytes:
            images = images.to(device)
        super().__init__(images, batch_size, seed, drop_last=drop_last)
        self.device, self.dequantize = device, dequantize
        self.labels = None if labels is None else labels.long().to(device)

    def next(self) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        from replication.data.load import to_dequantized_range, to_symmetric_range

        idx = self.next_indices()
        images = self.data[idx.to(self.data.device)].to(self.device, non_blocking=True)
        if self.dequantize:
            noise = torch.rand(images.shape, generator=self.generator).to(self.device, non_blocking=True)
            images = to_dequantized_range(images, noise)
        else:
            images = to_symmetric_range(images)
        return images if self.labels is None else (images, self.labels[idx.to(self.labels.device)])


class OneHotSource:
    """Float one-hot batches (B, L, V) from a source of token indices (B, L): the real inputs of
    WGAN-GP's language model (gan_language.py feeds ``tf.one_hot(real_inputs_discrete, V)``).
    Indices may be stored in a narrow integer type (int16 for a 2,048-token vocabulary)."""

    def __init__(self, inner: BatchSource, vocab: int):
        self.inner, self.vocab = inner, vocab

    def next(self) -> torch.Tensor:
        return torch.nn.functional.one_hot(self.inner.next().long(), self.vocab).float()

    def state_dict(self) -> dict:
        return self.inner.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.inner.load_state_dict(state)


class Remembering:
    """A BatchSource that keeps its last batch (for ``NoisyCopy``)."""

    def __init__(self, inner: BatchSource):
        self.inner, self.last = inner, None

    def next(self) -> torch.Tensor:
        self.last = self.inner.next()
        return self.last

    def state_dict(self) -> dict:
        return self.inner.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.inner.load_state_dict(state)


class NoisyCopy:
    """A fixed generator as the engine's ``fake`` source (WGAN-GP gan_toy.py's FIXED_GENERATOR):
    the fake batch is the current real batch plus ``std`` * N(0, I) noise. The engine draws the
    real batch first in every critic step, so ``base.last`` is that step's batch."""

    def __init__(self, base: Remembering, std: float, seed: int):
        self.base, self.std = base, std
        self.generator = torch.Generator().manual_seed(seed)

    def next(self) -> torch.Tensor:
        real = self.base.last
        if real is None:
            raise RuntimeError("NoisyCopy: no real batch drawn yet (the real source must be drawn first)")
        noise = torch.randn(real.shape, generator=self.generator).to(real.device)
        return real + self.std * noise

    def state_dict(self) -> dict:
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["generator"])
