"""Scoring a batch at a time: IS by consecutive splits and FID by running moments equal
torch-fidelity's whole-set computations, and a stream of 50,000-style samples is never held
whole (evaluation memory does not grow with the sample count)."""

from __future__ import annotations

import weakref

import numpy as np
import pytest
import torch
from torch_fidelity.metric_fid import fid_features_to_statistics

from replication.metrics.fidelity import (Moments, SplitScores, Stream, evaluate_samples, inception_score,
                                          reference_statistics)


def test_split_scores_equal_the_unshuffled_inception_score():
    logits = torch.randn(1003, 1008, generator=torch.Generator().manual_seed(0)) * 3
    scores = SplitScores(len(logits), 10)
    for batch in logits.split(64):  # batches that straddle the split boundaries
        scores.add(batch)
    whole = inception_score(logits, splits=10, shuffle=False)
    assert scores.result() == whole  # the same rows and arithmetic: equal, not close


def test_running_moments_equal_the_sample_covariance():
    g = torch.Generator().manual_seed(1)
    features = torch.randn(700, 48, generator=g) * 0.3 + 50.0  # a large mean, as Inception's pool features have
    moments = Moments()
    for batch in features.split(128):
        moments.add(batch)
    ours, theirs = moments.statistics(), fid_features_to_statistics(features.double())
    np.testing.assert_allclose(ours["mu"], theirs["mu"], rtol=1e-12)
    np.testing.assert_allclose(ours["sigma"], theirs["sigma"], rtol=1e-9, atol=1e-12)
    assert ours["n"] == 700


@pytest.fixture
def extractor(tmp_path):
    from replication.metrics.proxy import proxy_extractor, save_proxy
    from replication.metrics.proxy_net import ProxyNet

    torch.manual_seed(0)
    save_proxy(tmp_path / "proxy.pt", ProxyNet(), {"dataset": "test", "classes": 10, "feature_dim": 32})
    return proxy_extractor(tmp_path / "proxy.pt")


def test_a_stream_is_scored_as_it_arrives_and_as_the_whole_tensor(extractor):
    samples = torch.rand(1000, 1, 28, 28, generator=torch.Generator().manual_seed(2)) * 2 - 1
    reference = reference_statistics(samples.flip(0)[:400], extractor, "noise", batch_size=100)
    alive: list[weakref.ref] = []

    def batches():
        for batch in samples.split(100):
            batch = batch.clone()  # a fresh tensor per batch, as a generator yields them
            alive.append(weakref.ref(batch))
            assert sum(r() is not None for r in alive) <= 3, "earlier batches are still held"
            yield batch
            del batch

    streamed = evaluate_samples(Stream(batches(), len(samples)), extractor, metrics=("is", "fid"),
                                reference=reference)
    whole = evaluate_samples(samples, extractor, metrics=("is", "fid"), reference=reference)
    assert len(alive) == 10
    assert [(r["metric"], r["value"], r["std"], r["n_samples"]) for r in streamed] == \
        [(r["metric"], r["value"], r["std"], r["n_samples"]) for r in whole]


def test_a_short_stream_is_an_error(extractor):
    from replication.errors import ReplicationError

    with pytest.raises(ReplicationError, match="expected 300 samples, the stream gave 200"):
        evaluate_samples(Stream(torch.zeros(200, 1, 28, 28).split(100), 300), extractor, metrics=("fid",),
                         reference=reference_statistics(torch.zeros(40, 1, 28, 28), extractor, "zeros"))
