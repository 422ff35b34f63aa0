"""WAE sharpness, the WGAN-GP n-gram JS divergence and exact W1 on closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from replication.metrics.transport import exact_w1
from replication.metrics.ngram import js_divergence, ngram_counts, ngram_js
from replication.metrics.sharpness import sharpness, sharpness_per_image


def checkerboard(h: int, w: int, a: float, b: float) -> torch.Tensor:
    i, j = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    return torch.where((i + j) % 2 == 0, torch.tensor(a, dtype=torch.float64), b)[None, None]


def test_sharpness_of_constant_images_is_zero():
    assert sharpness(torch.full((3, 1, 28, 28), 0.7), value_range=(0, 1)) == 0.0
    assert sharpness(torch.full((2, 3, 64, 64), -0.2), value_range=(-1, 1)) == pytest.approx(0.0, abs=1e-24)


def test_sharpness_of_a_checkerboard_matches_closed_form():
    # Laplace response is ±4(a−b) on every VALID position (half each): population variance 16(a−b)².
    a, b = 0.9, 0.2
    board = checkerboard(6, 6, a, b)  # VALID 4×4 output; unbiased variance would be 16/15 larger
    assert sharpness(board, value_range=(0, 1)) == pytest.approx(16 * (a - b) ** 2, rel=1e-12)
    # RGB: ITU-R 601 luma; a board in one channel only keeps that channel's weight
    for channel, weight in enumerate((0.2989, 0.5870, 0.1140)):
        rgb = torch.zeros(1, 3, 6, 6, dtype=torch.float64)
        rgb[:, channel] = board[:, 0]
        assert sharpness(rgb, value_range=(0, 1)) == pytest.approx(16 * (weight * (a - b)) ** 2, rel=1e-12)
    # the pixel scale: the same images measured on [-1, 1] give exactly 4×
    assert sharpness(board, value_range=(0, 1), pixel_range=(-1, 1)) == pytest.approx(64 * (a - b) ** 2)
    # images given in [-1, 1] and measured at the default [0, 1] scale: back to 16(a−b)²
    assert sharpness(board * 2 - 1, value_range=(-1, 1)) == pytest.approx(16 * (a - b) ** 2)
    # mean over images, not pooled variance
    both = torch.cat([board, torch.full_like(board, 0.5)])
    assert sharpness_per_image(both, value_range=(0, 1)).tolist() == pytest.approx([16 * (a - b) ** 2, 0.0])
    assert sharpness(both, value_range=(0, 1)) == pytest.approx(8 * (a - b) ** 2)


def test_ngram_windows_follow_the_official_code():
    assert ngram_counts(["abc"], 2) == {("a", "b"): 1, ("b", "c"): 1}
    assert ngram_counts([("x", "unk", "`", "`")], 2)[("`", "`")] == 1  # tokens, padding counted
    assert ngram_counts(["ab"], 3) == {}


def _official_js_with(p: dict, q: dict) -> float:
    """language_helpers.NgramLanguageModel.js_with, ported verbatim to dicts of probabilities."""
    ll = lambda model, g: math.log(model[g]) if g in model else -np.inf  # noqa: E731
    log_p = np.array([ll(p, g) for g in p]); log_q = np.array([ll(q, g) for g in p])  # noqa: E702
    log_m = np.logaddexp(log_p - np.log(2), log_q - np.log(2))
    kl_p_m = np.sum(np.exp(log_p) * (log_p - log_m))
    log_p = np.array([ll(p, g) for g in q]); log_q = np.array([ll(q, g) for g in q])  # noqa: E702
    log_m = np.logaddexp(log_p - np.log(2), log_q - np.log(2))
    kl_q_m = np.sum(np.exp(log_q) * (log_q - log_m))
    return 0.5 * (kl_p_m + kl_q_m) / np.log(2)


def test_ngram_js_bits_identical_disjoint_and_official_formula():
    lines = ["the cat sat on the mat`````", "a dog ran````", "unk tokens!``"]
    assert ngram_js(lines, lines) == {f"js{n}": pytest.approx(0.0, abs=1e-12) for n in (1, 2, 3, 4)}
    assert ngram_js(["aaaa", "abab"], ["cccc", "dcdc"]) == {f"js{n}": pytest.approx(1.0) for n in (1, 2, 3, 4)}
    rng = np.random.default_rng(0)
    fake = ["".join(rng.choice(list("abcde`"), 12)) for _ in range(40)]
    for n in (1, 2, 3):
        p, q = ngram_counts(lines, n), ngram_counts(fake, n)
        probs = lambda c: {k: v / sum(c.values()) for k, v in c.items()}  # noqa: E731
        assert js_divergence(q, p) == pytest.approx(_official_js_with(probs(p), probs(q)), rel=1e-12)
    reference = {n: ngram_counts(lines, n) for n in (1, 2, 3, 4)}
    assert ngram_js(fake, reference) == ngram_js(fake, lines)


def test_exact_w1_of_point_masses_and_shifted_samples():
    assert exact_w1(np.array([[0.0, 0.0]]), np.array([[3.0, 4.0]])) == pytest.approx(5.0)
    x = np.random.default_rng(0).normal(size=(50, 2))
    assert exact_w1(x, x + np.array([0.3, 0.0])) == pytest.approx(0.3)  # translation: W1 = ‖shift‖
