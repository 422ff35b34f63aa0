"""The paper-shape check's pieces: the random-weight Inception stand-in (selected only by the
check, never scored) and the check's deltas (iteration and sample counts only)."""

from __future__ import annotations

import pytest
import torch

from replication import claims
from replication import config as cfg
from replication.metrics import inception
from replication.papercheck import REASON, built_with_standin


@pytest.fixture
def standin(tmp_path, monkeypatch):
    """The stand-in installed as the check's job entry does (undone afterwards)."""
    from replication.papercheck.standin import install

    monkeypatch.setattr(inception, "inception_extractor", inception.inception_extractor)
    install(tmp_path / "results")
    return inception.inception_extractor()


def test_standin_has_inceptions_layers_and_leaves_the_callers_random_streams(standin):
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    from replication.metrics.fidelity import evaluate_samples, reference_statistics

    assert standin.standin and not standin.proxy and standin.weights_sha256.startswith("stand-in:")
    from replication.papercheck.standin import RandomInception

    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    first = RandomInception(standin.name, ["2048"])
    assert torch.equal(torch.rand(3), expected)  # building it drew nothing from the global stream
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(),
                                                 RandomInception(standin.name, ["2048"]).state_dict().values()))
    from torch_fidelity.registry import FEATURE_EXTRACTORS_REGISTRY
    assert issubclass(FEATURE_EXTRACTORS_REGISTRY[standin.name], FeatureExtractorInceptionV3)

    # IS and FID run on it at any sample count (the check cuts counts below FID's 2,048 dimensions)
    images = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(0)) * 2 - 1
    reference = reference_statistics(images, standin, "noise", batch_size=2)
    assert reference["features"].shape == (2, 2048) and reference["features"].std() > 1e-3  # no denormals
    records = evaluate_samples(images.flip(0), standin, metrics=("is", "fid"), reference=reference, splits=2,
                               batch_size=2)
    assert [r["metric"] for r in records] == ["IS", "FID"]
    assert all((r["extractor"], r["weights_sha256"]) == (standin.name, standin.weights_sha256) for r in records)


def test_without_the_check_inception_needs_its_pinned_weights_and_full_rank(tmp_path):
    from replication.errors import ReplicationError
    from replication.metrics.fidelity import fid_statistics

    with pytest.raises(ReplicationError, match="missing Inception weights"):
        inception.inception_extractor(tmp_path)  # no stand-in unless the check installs it
    with pytest.raises(ReplicationError, match="FID needs more samples than feature dimensions"):
        fid_statistics(torch.zeros(10, 2048))


def test_scorecard_refuses_results_built_with_the_standin(tmp_path):
    results = tmp_path / "results"
    frame = claims.scorecard("paper", cfg.experiment_ids(), results)
    assert not built_with_standin(results) and (frame["reason"] != REASON).all()
    from replication.papercheck import mark_results

    mark_results(results)
    frame = claims.scorecard("paper", cfg.experiment_ids(), results)
    assert (frame["verdict"] == claims.NOT_EVALUATED).all() and (frame["reason"] == REASON).all()
    assert (frame["reproduced"] == "—").all()
    path, = [p for p in claims.write_scorecard(frame, tmp_path / "card") if p.suffix == ".md"]
    assert "not evaluated (paper-shape check: random-weight Inception stand-in)" in path.read_text()
