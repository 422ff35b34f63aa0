"""Proxy features for offline scales: a small CNN classifier trained by the harness.

Without the Inception weights (offline machines, scales ``smoke``/``small``), IS/FID/KID run
on this classifier instead, through the *same* torch-fidelity code: the classifier is
registered in torch-fidelity's feature-extractor registry as ``replication-proxy-cnn``
(``replication.metrics.proxy_net``; extension pattern of torch-fidelity's
``FeatureExtractorBase``). Its numbers are comparable only within a run family that used
the same classifier file, never with published Inception numbers: results carry
``proxy: True`` and ``weights_sha256 = 'proxy:<sha256 of the classifier file>'``.

This module trains it, names THE proxy of a scale (the calibration run's file, checked
against its recorded checksum) and measures class coverage and intra-class FID with it.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from scipy.stats import entropy

from replication.errors import ReplicationError
from replication.io import save_torch, sha256_file, write_text
from replication.metrics.fidelity import (extract_features, feature_layer, fid_statistics, frechet_distance,
                                         sample_diversity, to_uint8)
from replication.metrics.inception import Extractor
from replication.metrics.proxy_net import INPUT_SIZE, PROXY_EXTRACTOR, ProxyNet, load_proxy, prepare

def accuracy(net: ProxyNet, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 1000) -> float:
    net.eval()
    hits = sum((net(prepare(images[i:i + batch_size]))[1].argmax(1) == labels[i:i + batch_size]).sum().item()
               for i in range(0, len(images), batch_size))
    return hits / len(images)


def train_proxy(images: torch.Tensor, labels: torch.Tensor, *, dataset: str, test_images=None, test_labels=None,
                classes: int = 10, n_train: int | None = None, epochs: int = 4, batch_size: int = 128,
                lr: float = 2e-3, seed: int = 0, before_training=None) -> tuple[ProxyNet, dict]:
    """Train on uint8 images (Adam, cosine-decayed lr); returns the net and its metadata.

    Global RNG state is left untouched (the caller's run keeps its random stream).
    ``before_training(net)``, if given, sees the untrained network (in eval mode, so batch-norm
    statistics stay untouched) before the first step: the measures at step 0. ``epochs=0``
    returns the untrained network.
    """
    labels = torch.as_tensor(labels).long()
    g = torch.Generator().manual_seed(seed)
    if n_train is not None and n_train < len(images):
        keep = torch.randperm(len(images), generator=g)[:n_train]
        images, labels = images[keep], labels[keep]
    x = prepare(images)
    steps = epochs * math.ceil(len(x) / batch_size)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = ProxyNet(classes)
    if before_training is not None:
        net.eval()
        before_training(net)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    net.train()
    for _ in range(epochs):
        for idx in torch.randperm(len(x), generator=g).split(batch_size):
            loss = F.cross_entropy(net(x[idx])[1], labels[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
    net.eval()
    meta = {"dataset": dataset, "classes": classes, "feature_dim": net.head.in_features, "input_size": INPUT_SIZE,
            "n_train": len(x), "epochs": epochs, "batch_size": batch_size, "lr": lr, "seed": seed,
            "train_accuracy": accuracy(net, images, labels),
            "test_accuracy": accuracy(net, test_images, torch.as_tensor(test_labels).long())
            if test_images is not None else None}
    return net, meta


def save_proxy(path: str | Path, net: ProxyNet, meta: dict) -> str:
    """Write the classifier atomically; returns the file's SHA-256 (its identity in results)."""
    save_torch(path, {"state_dict": net.state_dict(), "meta": meta})
    return sha256_file(path)


# -- THE proxy of a scale: built by run metrics_calibration/proxy_<dataset> --------------------

CALIBRATION_EXPERIMENT = "metrics_calibration"


def proxy_run(dataset: str = "fashion-mnist") -> str:
    """``experiment/run`` of the run that trains the proxy (what experiments list as ``upstream``)."""
    return f"{CALIBRATION_EXPERIMENT}/proxy_{dataset}"


def proxy_path(results_root: str | Path, scale: str, dataset: str = "fashion-mnist") -> Path:
    """``<results_root>/<scale>/metrics_calibration/proxy_<dataset>/proxy.pt``."""
    return Path(results_root) / scale / proxy_run(dataset) / "proxy.pt"


def write_proxy_checksum(path: str | Path, digest: str) -> Path:
    """``proxy.sha256`` beside the classifier, in ``sha256sum`` format (``sha256sum -c`` checks it)."""
    path = Path(path)
    sidecar = path.with_suffix(".sha256")
    write_text(sidecar, f"{digest}  {path.name}\n")
    return sidecar


def calibrated_proxy_at(run_dir: str | Path) -> Extractor:
    """The proxy feature extractor saved by a ``metrics_calibration/proxy_<dataset>`` run, given
    that run's output folder (in a task: ``calibrated_proxy_at(ctx.upstream(proxy_run()))``),
    checked against the SHA-256 the run recorded beside it. A missing or changed file is one
    ReplicationError naming the command that rebuilds it."""
    run_dir = Path(run_dir)
    path = run_dir / "proxy.pt"
    # <results>/<scale>/<experiment>/<run>: the run and scale that rebuild the file
    rebuild = f"`replicate run {run_dir.parent.name} {run_dir.name} --scale {run_dir.parent.parent.name}`"
    if not path.is_file():
        raise ReplicationError(
            f"missing proxy classifier {path}: it is built by run {run_dir.parent.name}/{run_dir.name}; "
            f"declare it in the experiment's `upstream:` so Snakemake builds it first, or run {rebuild}")
    sidecar = path.with_suffix(".sha256")
    recorded = sidecar.read_text().split()[0] if sidecar.is_file() else None
    extractor = proxy_extractor(path)
    if recorded is None or extractor.weights_sha256 != "proxy:" + recorded:
        raise ReplicationError(f"proxy classifier {path} does not match its recorded checksum {sidecar}: rerun "
                               f"{rebuild} (and everything that used it)")
    return extractor


def proxy_extractor(path: str | Path) -> Extractor:
    path = Path(path)
    if not path.is_file():
        load_proxy(path)  # raises the missing-file error
    return Extractor(PROXY_EXTRACTOR, path, "proxy:" + sha256_file(path), proxy=True)


def coverage_from_logits(logits: torch.Tensor) -> dict:
    """Mode-collapse measures of predicted classes: fraction of classes hit, histogram entropy (nats)."""
    logits = torch.as_tensor(logits)
    classes = logits.shape[1]
    hist = np.bincount(logits.argmax(1).cpu().numpy(), minlength=classes)
    return {"coverage": float((hist > 0).mean()), "entropy": float(entropy(hist)),
            "entropy_max": math.log(classes), "histogram": hist.tolist(), "n_samples": int(hist.sum())}


def class_reference(images: torch.Tensor, labels: torch.Tensor, extractor: Extractor, name: str, *,
                    rule: str = "round", value_range: tuple[float, float] = (-1.0, 1.0), batch_size: int = 100) -> dict:
    """FID statistics of a labelled reference set, overall and per class, and its features (for
    ``class_measures``' precision and recall)."""
    layer = feature_layer(extractor, "fid")
    features = extract_features(to_uint8(images, rule, value_range), extractor, [layer], batch_size)[layer]
    labels = torch.as_tensor(labels).long()
    return {"name": name, "extractor": extractor.name, "weights_sha256": extractor.weights_sha256,
            "proxy": extractor.proxy, "layer": layer, "uint8_rule": rule, **fid_statistics(features),
            "classes": {int(c): fid_statistics(features[labels == c]) for c in labels.unique().tolist()},
            "features": features.double()}


def class_measures(samples: torch.Tensor, extractor: Extractor, reference: dict, *, min_class_samples: int = 50,
                   rule: str = "round", value_range: tuple[float, float] = (-1.0, 1.0), batch_size: int = 100) -> dict:
    """Quality and mode collapse of samples under a labelled classifier, from one feature pass:

    - ``fid``: FID against the whole reference (quality and diversity together);
    - ``coverage``, ``entropy`` (nats), ``effective_classes`` = exp(entropy): the histogram of
      predicted classes (diversity alone; 10 classes at most for Fashion-MNIST);
    - ``intra_fid``: for every predicted class with at least ``min_class_samples`` samples, FID
      of those samples against the reference images of that class, averaged with the classes'
      sample counts as weights (intra-class FID, Miyato & Koyama 2018): quality alone, so a
      generator collapsed onto a few classes of sharp images scores well and blurry blobs do not;
      ``intra_share`` is the share of samples in the counted classes;
    - ``precision``, ``recall``, ``duplicates``: improved precision and recall and the duplicate
      rate on the FID features (``replication.metrics.fidelity.sample_diversity``): samples that
      repeat a few images, also inside one class, which the class histogram cannot see, have
      recall near 0 and duplicates near 1."""
    fid_layer, class_layer = feature_layer(extractor, "fid"), feature_layer(extractor, "isc")
    feats = extract_features(to_uint8(samples, rule, value_range), extractor, sorted({fid_layer, class_layer}),
                             batch_size)
    features, logits = feats[fid_layer], feats[class_layer]
    predicted = logits.argmax(1)
    counts, values = [], []
    for c, stats in reference["classes"].items():
        chosen = predicted == c
        if int(chosen.sum()) >= max(min_class_samples, features.shape[1] + 1):
            counts.append(int(chosen.sum()))
            values.append(frechet_distance(fid_statistics(features[chosen]), stats))
    histogram = coverage_from_logits(logits)
    return {"fid": frechet_distance(fid_statistics(features), reference),
            "coverage": histogram["coverage"], "entropy": histogram["entropy"],
            "effective_classes": math.exp(histogram["entropy"]),
            "intra_fid": float(np.average(values, weights=counts)) if counts else float("nan"),
            "intra_share": sum(counts) / len(samples), **sample_diversity(features, reference["features"]),
            "n_samples": len(samples)}


def class_coverage(samples: torch.Tensor, extractor: Extractor, *, rule: str = "round",
                   value_range: tuple[float, float] = (-1.0, 1.0), batch_size: int = 100) -> dict:
    """Class coverage of float samples in ``value_range`` (or uint8) under the proxy classifier."""
    logits = extract_features(to_uint8(samples, rule, value_range), extractor, ["logits"], batch_size)["logits"]
    return {**coverage_from_logits(logits), "extractor": extractor.name, "weights_sha256": extractor.weights_sha256,
            "proxy": True}
