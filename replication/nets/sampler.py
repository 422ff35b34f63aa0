"""WGAN-GP Table 1's random architectures (Section 5.1): a seeded sampler over the
paper's factors, each draw turned into registry specs of ``table1_g`` / ``table1_d``.

The paper's sampling code is unreleased; our reconstruction [I]: every factor uniform and
independent, for the generator and the critic separately. A draw keeps the *index* of each
choice, so a scale that lists smaller widths (32, 64, 128 -> 4, 8, 16) studies the same
architectures thinner. Architecture ``i`` comes from its own stream (seed, i): the first k
architectures of a longer list are the k of a shorter one (a smaller scale studies a prefix
of the paper's list), and one architecture can be rebuilt alone from its index.
"""

from __future__ import annotations

import numpy as np

ROLES = ("generator", "critic")
FACTORS = ("nonlinearity", "depth", "norm", "width")  # per role, in draw order (Table 1's rows)
ARCH = {"generator": "table1_g", "critic": "table1_d"}


def _check_space(space: dict) -> None:
    if set(space) != set(FACTORS):
        raise ValueError(f"the sampling space needs exactly the factors {', '.join(FACTORS)}, got {', '.join(space)}")
    empty = [f for f in FACTORS if not space[f]]
    if empty:
        raise ValueError(f"the sampling space has no choices for {', '.join(empty)}")


def sample_architecture(space: dict, seed: int, index: int) -> dict[str, dict]:
    """Architecture ``index`` of the list drawn with ``seed``: {role: {factor: value}}."""
    _check_space(space)
    if int(index) != index or index < 0:
        raise ValueError(f"architecture index {index!r} must be an integer >= 0")
    rng = np.random.default_rng([int(seed), int(index)])
    return {role: {f: space[f][int(rng.integers(len(space[f])))] for f in FACTORS} for role in ROLES}


def table1_specs(factors: dict[str, dict], *, nz: int, critic_norm: str, init: str = "tflib",
                 channels: int = 3) -> dict[str, dict]:
    """Registry specs of one architecture (images of ``channels`` channels): a normalised generator
    uses batch norm; a normalised critic uses ``critic_norm`` (the method's: batch norm for the GAN,
    layer norm for WGAN-GP, Table 1's 'Batch norm (D; layer norm for WGAN-GP)')."""
    g, d = factors["generator"], factors["critic"]
    return {"generator": {"arch": ARCH["generator"], "nz": nz, "width": g["width"], "depth": g["depth"],
                          "nonlinearity": g["nonlinearity"], "norm": "batch" if g["norm"] else "none", "init": init,
                          "channels": channels},
            "critic": {"arch": ARCH["critic"], "width": d["width"], "depth": d["depth"],
                       "nonlinearity": d["nonlinearity"], "norm": critic_norm if d["norm"] else "none", "init": init,
                       "channels": channels}}
