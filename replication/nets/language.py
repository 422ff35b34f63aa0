"""1-D ResNets of WGAN-GP's character-level language model (``gan_language.py``
[C]; WGAN-GP Table 4). No normalisation anywhere; Conv1D k5 'SAME' = padding 2."""

from __future__ import annotations

from torch import Tensor, nn

from replication.nets.init import init_network_
from replication.nets.registry import register

# The vocabulary is data-dependent (distinct characters of 10M Billion-Word lines + 'unk', capped
# at 2,048 by language_helpers.load_dataset); the listing counts parameters at that cap.
PAPER_VOCAB = 2048


class ResBlock1d(nn.Module):
    """x + 0.3 * Conv1D_k5(ReLU(Conv1D_k5(ReLU(x)))), both convs with bias and he init."""

    def __init__(self, width: int):
        super().__init__()
        self.net = nn.Sequential(nn.ReLU(), nn.Conv1d(width, width, 5, padding=2),
                                 nn.ReLU(), nn.Conv1d(width, width, 5, padding=2))

    def forward(self, x: Tensor) -> Tensor:
        return x + 0.3 * self.net(x)


class LanguageGenerator(nn.Module):
    """z (B, nz) -> softmax over the vocabulary at each position, shape (B, seq_len, vocab)."""

    def __init__(self, vocab: int, seq_len: int, width: int, blocks: int, nz: int):
        super().__init__()
        self.nz, self.seq_len, self.width = nz, seq_len, width
        self.input = nn.Linear(nz, seq_len * width)
        self.blocks = nn.Sequential(*(ResBlock1d(width) for _ in range(blocks)))
        self.output = nn.Conv1d(width, vocab, 1)

    def forward(self, z: Tensor) -> Tensor:
        x = self.input(z).view(len(z), self.width, self.seq_len)
        logits = self.output(self.blocks(x)).transpose(1, 2)
        return logits.softmax(dim=-1)


class LanguageCritic(nn.Module):
    """(B, seq_len, vocab) one-hot or softmax -> (B, 1)."""

    def __init__(self, vocab: int, seq_len: int, width: int, blocks: int):
        super().__init__()
        self.input = nn.Conv1d(vocab, width, 1)
        self.blocks = nn.Sequential(*(ResBlock1d(width) for _ in range(blocks)))
        self.output = nn.Linear(seq_len * width, 1)

    def forward(self, x: Tensor) -> Tensor:
        h = self.blocks(self.input(x.transpose(1, 2)))
        return self.output(h.flatten(1))


@register("language_g", "language", vocab=PAPER_VOCAB)
def language_g(vocab: int, seq_len: int = 32, width: int = 512, blocks: int = 5, nz: int = 128,
               init: str = "tflib") -> nn.Module:
    """gan_language.py Generator: Linear -> (512, 32), 5 ResBlocks, Conv1D k1 -> softmax (vocab 2048 listed)."""
    return init_network_(LanguageGenerator(vocab, seq_len, width, blocks, nz), init)


@register("language_d", "language", vocab=PAPER_VOCAB)
def language_d(vocab: int, seq_len: int = 32, width: int = 512, blocks: int = 5, init: str = "tflib") -> nn.Module:
    """gan_language.py Discriminator: Conv1D k1 -> 5 ResBlocks -> flatten -> Linear (vocab 2048 listed)."""
    return init_network_(LanguageCritic(vocab, seq_len, width, blocks), init)
