"""IS / FID / KID maths on closed forms, and the uint8 conversion of the WGAN-GP IS protocol."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from replication.errors import ReplicationError
from replication.metrics.fidelity import fid_statistics, frechet_distance, inception_score, kernel_distance, to_uint8


def _rotation(d: int, seed: int) -> np.ndarray:
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(d, d)))
    return q


def test_frechet_distance_of_gaussians_matches_closed_form():
    # Σ1 = R diag(a) Rᵀ, Σ2 = R diag(b) Rᵀ commute, so FID = ‖Δμ‖² + Σ (√a − √b)².
    rng = np.random.default_rng(0)
    d = 6
    r = _rotation(d, 1)
    a, b = rng.uniform(0.5, 3, d), rng.uniform(0.5, 3, d)
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    s1 = {"mu": mu1, "sigma": r @ np.diag(a) @ r.T}
    s2 = {"mu": mu2, "sigma": r @ np.diag(b) @ r.T}
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert frechet_distance(s1, s2) == pytest.approx(expected, rel=1e-9)
    assert frechet_distance(s1, s1) == pytest.approx(0.0, abs=1e-9)


def test_frechet_distance_non_commuting_covariances_matches_sqrtm_form():
    from scipy.linalg import sqrtm

    rng = np.random.default_rng(2)
    d = 5
    m1, m2 = rng.normal(size=(d, d)), rng.normal(size=(d, d))
    s1 = {"mu": np.zeros(d), "sigma": m1 @ m1.T + np.eye(d)}
    s2 = {"mu": np.ones(d), "sigma": m2 @ m2.T + np.eye(d)}
    root = sqrtm(s1["sigma"])
    expected = d + np.trace(s1["sigma"] + s2["sigma"] - 2 * sqrtm(root @ s2["sigma"] @ root).real)
    assert frechet_distance(s1, s2) == pytest.approx(expected, rel=1e-8)


def test_fid_from_gaussian_samples_approaches_closed_form_and_needs_full_rank():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(20_000, 4, generator=g, dtype=torch.float64)
    y = 2.0 * torch.randn(20_000, 4, generator=g, dtype=torch.float64) + 1.0
    # closed form: ‖(1,1,1,1)‖² + 4·(1 − 2)² = 8
    assert frechet_distance(fid_statistics(x), fid_statistics(y)) == pytest.approx(8.0, rel=0.03)
    assert fid_statistics(x)["n"] == 20_000
    with pytest.raises(ReplicationError, match="full-rank"):
        fid_statistics(torch.randn(32, 32))


def test_inception_score_of_known_logits():
    k, per_class_per_split, splits = 7, 3, 10
    assert inception_score(torch.zeros(100, k))["mean"] == pytest.approx(1.0)  # uniform predictions
    labels = torch.arange(k * per_class_per_split * splits) % k  # every split holds every class equally
    onehot = 60.0 * torch.nn.functional.one_hot(labels, k).double()
    out = inception_score(onehot, splits=splits)
    assert out["mean"] == pytest.approx(k, rel=1e-6)
    assert out["std"] == pytest.approx(0.0, abs=1e-6)


def test_inception_score_splits_are_consecutive_and_unshuffled():
    # Class-sorted samples: each consecutive split sees one class → IS 1; shuffling mixes them → ≈ K.
    k = 10
    sorted_logits = 60.0 * torch.nn.functional.one_hot(torch.arange(1000) // 100, k).double()
    assert inception_score(sorted_logits, splits=10, shuffle=False)["mean"] == pytest.approx(1.0, abs=1e-6)
    assert inception_score(sorted_logits, splits=10, shuffle=True)["mean"] > 8.0
    with pytest.raises(ReplicationError):
        inception_score(torch.zeros(5, k), splits=10)


def test_kid_near_zero_for_identical_sets_and_grows_with_shift():
    # Unbiased MMD² is 0 only in expectation (and slightly negative for a set against itself,
    # since subsets share points), so "≈ 0" is judged against the smallest shift's KID.
    g = torch.Generator().manual_seed(0)
    f = torch.randn(1000, 8, generator=g)
    kw = dict(subsets=20, subset_size=200, seed=0)
    same = kernel_distance(f, f.clone(), **kw)["mean"]
    other = kernel_distance(f, torch.randn(1000, 8, generator=g), **kw)
    kids = [kernel_distance(f, f + s, **kw)["mean"] for s in (0.5, 1.0, 2.0)]
    assert abs(same) < 0.1 * kids[0] and abs(other["mean"]) < 0.1 * kids[0]
    assert kids[0] < kids[1] < kids[2]
    with pytest.raises(ReplicationError, match="subset size"):
        kernel_distance(f[:100], f, subsets=2, subset_size=200)


def test_uint8_rules_match_the_official_formulas():
    x = np.random.default_rng(0).uniform(-1, 1, size=(4, 3, 8, 8)).astype(np.float32)
    x[0, 0, 0, :4] = [-1.0, 1.0, 0.0, 0.999]
    resnet = ((x + 1.0) * (255.99 / 2)).astype("int32")  # gan_cifar_resnet.py
    dcgan = ((x + 1.0) * (255.0 / 2)).astype("int32")  # gan_cifar.py
    assert np.array_equal(to_uint8(torch.from_numpy(x)).numpy(), resnet)
    assert np.array_equal(to_uint8(torch.from_numpy(x), "wgan_gp_dcgan").numpy(), dcgan)
    assert not np.array_equal(resnet, dcgan)  # the two rules really differ somewhere
    assert to_uint8(torch.tensor([-1.0, 0.0, 1.0]), "round").tolist() == [0, 128, 255]
    assert to_uint8(torch.tensor([-1.5, 1.5])).tolist() == [0, 255]  # clipped
    assert to_uint8(torch.tensor([0.0, 1.0]), value_range=(0, 1)).tolist() == [0, 255]
    u = torch.tensor([3, 200], dtype=torch.uint8)
    assert to_uint8(u) is u
    with pytest.raises(ReplicationError):
        to_uint8(torch.zeros(2), "nearest")
