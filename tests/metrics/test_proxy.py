"""The proxy classifier: trains fast, registers with torch-fidelity, feeds IS/FID/KID and coverage."""

from __future__ import annotations

import pytest
import torch
import torch_fidelity
from torch_fidelity.registry import FEATURE_EXTRACTORS_REGISTRY
from torch_fidelity.utils import create_feature_extractor

from replication.errors import ReplicationError
from replication.io import sha256_file
from replication.metrics.fidelity import evaluate_protocol, evaluate_samples, extract_features, reference_statistics
from replication.metrics.proxy import class_coverage, coverage_from_logits, proxy_extractor, save_proxy, train_proxy
from replication.metrics.proxy_net import FEATURE_DIM, PROXY_EXTRACTOR, load_proxy


class _Images(torch.utils.data.Dataset):
    """torch-fidelity's input contract (uint8 3×H×W items), for its own calculate_metrics."""

    def __init__(self, images: torch.Tensor):
        self.images = images

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.images[i]


@pytest.fixture(scope="module")
def proxy(fashion_mnist, tmp_path_factory):
    train_x, train_y, test_x, test_y = fashion_mnist
    net, meta = train_proxy(train_x, train_y, dataset="fashion-mnist", test_images=test_x[:500],
                            test_labels=test_y[:500], n_train=1200, epochs=2, seed=0)
    path = tmp_path_factory.mktemp("proxy") / "fashion-mnist-proxy.pt"
    return path, save_proxy(path, net, meta), meta


def test_proxy_trains_above_chance_and_round_trips(proxy):
    path, sha, meta = proxy
    assert meta["test_accuracy"] > 0.5  # chance is 0.1
    assert meta["n_train"] == 1200 and meta["feature_dim"] == FEATURE_DIM
    net, loaded = load_proxy(path)
    assert loaded == meta and sha == sha256_file(path)
    extractor = proxy_extractor(path)
    assert extractor.proxy and extractor.weights_sha256 == "proxy:" + sha


def test_proxy_is_registered_and_accepts_grey_rgb_and_32px(proxy, fashion_mnist):
    path = proxy[0]
    assert PROXY_EXTRACTOR in FEATURE_EXTRACTORS_REGISTRY
    module = create_feature_extractor(PROXY_EXTRACTOR, ["features", "logits"], cuda=False, verbose=False,
                                      feature_extractor_weights_path=str(path))
    grey = fashion_mnist[2][:8, None]
    feats, logits = module(grey)
    assert feats.shape == (8, FEATURE_DIM) and logits.shape == (8, 10)
    assert torch.equal(module(grey.expand(-1, 3, -1, -1))[1], logits)
    padded = torch.nn.functional.pad(grey, (2, 2, 2, 2))
    assert module(padded)[1].shape == (8, 10)


def test_same_is_as_torch_fidelity_calculate_metrics(proxy, fashion_mnist):
    path = proxy[0]
    images = fashion_mnist[2][:200, None]
    ours = evaluate_samples(images, proxy_extractor(path), metrics=("is",))[0]
    theirs = torch_fidelity.calculate_metrics(
        input1=_Images(images.expand(-1, 3, -1, -1)), isc=True, feature_extractor=PROXY_EXTRACTOR,
        feature_extractor_weights_path=str(path), samples_shuffle=False, cuda=False, cache=False,
        save_cpu_ram=True, verbose=False)
    assert ours["value"] == pytest.approx(theirs["inception_score_mean"], rel=1e-6)
    assert ours["std"] == pytest.approx(theirs["inception_score_std"], rel=1e-5)


def test_fid_kid_records_against_a_reference_are_labelled_proxy(proxy, fashion_mnist):
    path = proxy[0]
    extractor = proxy_extractor(path)
    train_x, _, test_x, _ = fashion_mnist
    ref = reference_statistics(train_x[:600, None], extractor, "fashion-mnist-train-600")
    real = test_x[:300, None].float() / 255  # floats in [0, 1]
    noise = torch.rand_like(real)
    kw = dict(metrics=("is", "fid", "kid"), reference=ref, value_range=(0.0, 1.0), kid_subsets=10,
              kid_subset_size=200)
    good, bad = (evaluate_samples(x, extractor, **kw) for x in (real, noise))
    by = lambda recs: {r["metric"]: r for r in recs}  # noqa: E731
    good, bad = by(good), by(bad)
    assert good["FID"]["value"] < bad["FID"]["value"] and good["KID"]["value"] < bad["KID"]["value"]
    for rec in good.values():
        assert rec["proxy"] is True and rec["weights_sha256"].startswith("proxy:")
        assert rec["extractor"] == PROXY_EXTRACTOR and rec["n_samples"] == 300
    assert good["FID"]["reference"] == "fashion-mnist-train-600" and good["FID"]["n_reference"] == 600
    assert good["IS"]["splits"] == 10 and good["IS"]["shuffled"] is False
    assert good["KID"]["seed"] == 2020 and good["FID"]["feature_layer"] == "features"
    wae = evaluate_protocol("wae_fid", real, extractor, reference=ref, value_range=(0.0, 1.0))
    assert [r["metric"] for r in wae] == ["FID"] and wae[0]["paper_n_samples"] == 10_000
    foreign = {**ref, "weights_sha256": "proxy:other"}
    with pytest.raises(ReplicationError, match="recompute"):
        evaluate_samples(real, extractor, metrics=("fid",), reference=foreign, value_range=(0.0, 1.0))


def test_class_coverage_detects_collapse(proxy, fashion_mnist):
    extractor = proxy_extractor(proxy[0])
    real = fashion_mnist[2][:300, None]
    collapsed = real[:1].expand(300, -1, -1, -1)
    full, one = class_coverage(real, extractor), class_coverage(collapsed, extractor)
    assert full["coverage"] >= 0.6 and one["coverage"] == pytest.approx(0.1) and one["entropy"] == 0.0
    assert full["entropy"] > 1.0 and full["proxy"] is True
    balanced = coverage_from_logits(torch.eye(4).repeat(5, 1))
    assert balanced["coverage"] == 1.0 and balanced["entropy"] == pytest.approx(balanced["entropy_max"])


def test_class_measures_separate_collapse_from_blur(proxy, fashion_mnist):
    """Intra-class FID keeps the quality of samples collapsed onto two classes (their class
    diversity is what drops) and punishes blur; the whole-set FID punishes both."""
    import torch.nn.functional as F

    from replication.metrics.proxy import class_measures, class_reference

    train_x, train_y, test_x, test_y = fashion_mnist
    extractor = proxy_extractor(proxy[0])
    reference = class_reference(test_x[1000:3000, None], test_y[1000:3000], extractor, "fashion-mnist-test-2000")
    real = class_measures(test_x[:1000, None], extractor, reference)
    two = class_measures(train_x[(train_y == 1) | (train_y == 8)][:600, None], extractor, reference)
    x = test_x[:1000, None].float() / 127.5 - 1
    blur = class_measures(F.avg_pool2d(x, 5, 1, 2, count_include_pad=False), extractor, reference)
    assert real["coverage"] == 1.0 and real["effective_classes"] > 7
    assert two["effective_classes"] < real["effective_classes"] / 2 and two["fid"] > 10 * real["fid"]
    assert two["intra_fid"] < 2 * real["intra_fid"] < blur["intra_fid"] / 2


def test_corrupt_or_missing_proxy_file(tmp_path):
    with pytest.raises(ReplicationError, match="missing proxy classifier"):
        proxy_extractor(tmp_path / "none.pt")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ReplicationError, match="unreadable"):
        load_proxy(bad)


def test_sample_diversity_is_torch_fidelitys_precision_and_recall(proxy, fashion_mnist):
    """Equal counts, so the seeded cut of the real set keeps all of it: the same numbers as
    torch-fidelity's own prc metric on the same images."""
    from replication.metrics.fidelity import sample_diversity

    path, (train_x, _, test_x, _) = proxy[0], fashion_mnist
    extractor = proxy_extractor(path)
    fake, real = train_x[:300, None], test_x[:300, None]
    feats = [extract_features(x, extractor, ["features"])["features"] for x in (fake, real)]
    ours = sample_diversity(*feats)
    theirs = torch_fidelity.calculate_metrics(
        input1=_Images(fake.expand(-1, 3, -1, -1)), input2=_Images(real.expand(-1, 3, -1, -1)), prc=True,
        feature_extractor=PROXY_EXTRACTOR, feature_extractor_weights_path=str(path), cuda=False, cache=False,
        save_cpu_ram=True, verbose=False)
    # float64 here, float32 there: at most a sample on a ball's edge may differ
    assert (ours["precision"], ours["recall"]) == pytest.approx((theirs["precision"], theirs["recall"]), abs=1.01 / 300)
    assert 0.5 < ours["recall"] and ours["duplicates"] < 0.1
    with pytest.raises(ReplicationError, match="compares equal counts") as err:
        sample_diversity(feats[0], feats[1][:100])
    assert "\n" not in str(err.value)


def _generators(train_x, train_y):
    """Held-out real images, 30 distinct real images (3 per class) repeated, one image repeated."""
    thirty = torch.cat([train_x[train_y == c][:3] for c in range(10)])
    return {"held-out": train_x[:600, None], "30 distinct": thirty[:, None].repeat(20, 1, 1, 1),
            "single": train_x[:1, None].expand(600, -1, -1, -1)}


def test_repeated_real_images_collapse_and_held_out_ones_work(proxy, fashion_mnist):
    """The pre-registered rule on the class measures of a trained proxy: 30 distinct real images
    pass the quality gate with all 10 classes (the class histogram sees no collapse), one image
    fails it; both collapse within classes; held-out real images work."""
    from replication import config as cfg
    from replication.metrics.proxy import class_measures, class_reference
    from replication.recipes.outcomes import outcome

    train_x, train_y, test_x, test_y = fashion_mnist
    extractor = proxy_extractor(proxy[0])
    reference = class_reference(test_x[1000:3000, None], test_y[1000:3000], extractor, "fashion-mnist-test-2000")
    limits = cfg.resolve("wgan_stability", "small").outcome["proxy"]
    measures = {name: class_measures(x, extractor, reference) for name, x in _generators(train_x, train_y).items()}
    assert {name: outcome(m, limits) for name, m in measures.items()} == {
        "held-out": "works", "30 distinct": "collapses", "single": "collapses"}
    thirty = measures["30 distinct"]
    assert thirty["effective_classes"] > limits.collapse_effective_classes and thirty["recall"] == 0.0
    assert thirty["duplicates"] == 1.0 and measures["held-out"]["duplicates"] < 0.1


def test_collapse_is_measured_without_class_labels(proxy, fashion_mnist):
    """At paper (Inception features, LSUN has no labels) the reference has no classes: FID,
    precision, recall and duplicates still come from one feature pass, and the rule at paper
    reads collapse from them."""
    from replication import config as cfg
    from replication.recipes.images import quality_measures
    from replication.recipes.outcomes import outcome
    from replication.settings.experiments import Quality, ReferenceSet

    train_x, train_y, test_x, _ = fashion_mnist
    extractor = proxy_extractor(proxy[0])
    reference = reference_statistics(test_x[1000:3000, None], extractor, "fashion-mnist-test-2000")
    assert "classes" not in reference
    quality = Quality(samples=600, batch_size=100, reference=ReferenceSet(split="test", images=2000))
    limits = cfg.resolve("wgan_stability", "paper").outcome["inception"]
    measures = {name: quality_measures(x.float() / 127.5 - 1, extractor, reference, quality)
                for name, x in _generators(train_x, train_y).items()}
    assert all(set(m) == {"fid", "precision", "recall", "duplicates"} for m in measures.values())
    assert {name: outcome(m, limits) for name, m in measures.items()} == {
        "held-out": "works", "30 distinct": "collapses", "single": "collapses"}
