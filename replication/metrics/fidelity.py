"""IS, FID and KID: features → statistics → metric, and samples → uint8 → features.

Provenance (nothing below re-implements metric maths; it calls torch-fidelity 0.4):
- IS: ``torch_fidelity.metric_isc.isc_features_to_metric`` (OpenAI improved-GAN
  ``inception_score.py``: softmax of unbiased logits, per-split exp(E KL(p(y|x) ‖ p(y))),
  mean and population std over splits).
- FID: ``metric_fid.fid_statistics_to_metric`` (TTUR ``fid.py``; eigenvalue form of
  tr sqrt(Σ1Σ2)) on the mean and covariance, which ``Moments`` accumulates batch by batch (the
  sample covariance of ``fid_features_to_statistics``, equal to it within float64 rounding).
- KID: ``metric_kid.kid_features_to_metric`` (MMD-GAN ``compute_scores.py``: cubic
  polynomial kernel, unbiased MMD², mean/std over random subsets).
- Precision and recall: ``metric_prc.calculate_precision_recall_part`` (Kynkäänniemi et al.
  2019, "Improved Precision and Recall Metric for Assessing Generative Models": each set's
  manifold is the union of balls reaching every feature's k-th nearest neighbour in its own
  set, k = 3; precision = share of generated features inside the real manifold, recall =
  share of real features inside the generated one), on as many real features as generated
  ones, as the paper compares equal counts; with them the duplicate rate (``sample_diversity``,
  ours: torch-fidelity has none), on the same distances.
- Features: ``torch_fidelity.utils.create_feature_extractor`` (its registry, which also holds
  the harness's proxy classifier), called batch by batch as ``get_featuresdict_from_dataset`` does.

Memory: samples are converted to uint8 and turned into features a batch at a time, and IS (one
consecutive split at a time, unshuffled) and FID (running moments) keep no per-sample state,
so scoring 50,000 samples needs no more memory than scoring a batch; KID and the diversity
measures alone keep the samples' features (subsets and nearest neighbours are drawn from all of
them), and a shuffled IS the logits.

Protocols:
- WGAN-GP IS (igul222/improved_wgan_training ``tflib/inception_score.py``,
  ``gan_cifar_resnet.py``): 50,000 samples, 10 consecutive splits, NOT shuffled (torch-fidelity
  shuffles by default), uint8 by ``((x+1)*(255.99/2)).astype('int32')``; ``gan_cifar.py``'s
  periodic 1,000-sample score (Fig 3) uses ``((x+1)*(255./2)).astype('int32')``.
- WAE FID (WAE paper Table 1): 10,000 samples against the statistics of a named reference
  set (the paper names none; the harness records which one it used). The uint8 rule
  ``round((x+1)*127.5)`` is our choice (the paper does not say).
Deliberate difference: statistics, kernels and distances are computed in float64 (torch-fidelity
feeds its float32 features as they are); stored reference statistics are float64.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence

import numpy as np

import torch
import torch_fidelity
from torch_fidelity.metric_fid import KEY_METRIC_FID, fid_statistics_to_metric
from torch_fidelity.metric_isc import KEY_METRIC_ISC_MEAN, KEY_METRIC_ISC_STD, isc_features_to_metric
from torch_fidelity.metric_kid import KEY_METRIC_KID_MEAN, KEY_METRIC_KID_STD, kid_features_to_metric
from torch_fidelity.metric_prc import (KEY_METRIC_PRECISION, KEY_METRIC_RECALL, calc_cdist_part,
                                      calculate_precision_recall_part)
from torch_fidelity.registry import FEATURE_EXTRACTORS_REGISTRY
from torch_fidelity.utils import create_feature_extractor

from replication.errors import ReplicationError
from replication.data.weights import verify_weights
from replication.io import error_line, weights_only_loads
from replication.metrics import proxy_net  # noqa: F401 (registers the proxy classifier with torch-fidelity)
from replication.metrics.inception import INCEPTION_EXTRACTOR, Extractor

# Scale applied to x+1 before truncation to int (x in [-1, 1]), as in the official scripts.
TRUNCATING_RULES = {"wgan_gp_resnet": 255.99 / 2, "wgan_gp_dcgan": 255.0 / 2}
UINT8_RULES = (*TRUNCATING_RULES, "round")

PROTOCOLS = {  # keyword arguments of evaluate_samples; sample counts at paper scale in PAPER_SAMPLES
    "wgan_gp_is": dict(metrics=("is",), splits=10, shuffle=False, rule="wgan_gp_resnet"),
    "wgan_gp_is_fig3": dict(metrics=("is",), splits=10, shuffle=False, rule="wgan_gp_dcgan"),
    "wae_fid": dict(metrics=("fid",), rule="round"),
}
PAPER_SAMPLES = {"wgan_gp_is": 50_000, "wgan_gp_is_fig3": 1_000, "wae_fid": 10_000}


# ---------------------------------------------------------------- samples → uint8
def to_uint8(x: torch.Tensor, rule: str = "wgan_gp_resnet",
             value_range: tuple[float, float] = (-1.0, 1.0)) -> torch.Tensor:
    """Float images in ``value_range`` → uint8 0..255 by a named rule; uint8 input passes through.

    Arithmetic in float32 like the official numpy code; out-of-range values are clipped.
    """
    x = torch.as_tensor(x)
    if x.dtype == torch.uint8:
        return x
    if rule not in UINT8_RULES:
        raise ReplicationError(f"unknown uint8 rule '{rule}'; use one of {', '.join(UINT8_RULES)}")
    x = x.detach().to(torch.float32)
    lo, hi = value_range
    if (lo, hi) != (-1.0, 1.0):
        x = (x - lo) * (2.0 / (hi - lo)) - 1.0
    y = torch.round((x + 1) * 127.5) if rule == "round" else torch.trunc((x + 1) * TRUNCATING_RULES[rule])
    return y.clamp_(0, 255).to(torch.uint8)


# ---------------------------------------------------------------- features → metric
def inception_score(logits: torch.Tensor, splits: int = 10, shuffle: bool = False, seed: int = 2020) -> dict:
    """IS from (unbiased) logits over consecutive splits; ``shuffle=False`` is the WGAN-GP protocol."""
    logits = torch.as_tensor(logits).detach().cpu()
    if len(logits) < splits:
        raise ReplicationError(f"IS needs at least {splits} samples for {splits} splits, got {len(logits)}")
    out = isc_features_to_metric(logits, splits=splits, shuffle=shuffle, rng_seed=seed)
    return {"mean": out[KEY_METRIC_ISC_MEAN], "std": out[KEY_METRIC_ISC_STD]}


class Moments:
    """Running mean and sample covariance (float64) of feature batches: sums of the features
    shifted by the first batch's mean, so the covariance does not lose digits to a large mean."""

    def __init__(self):
        self.n, self.shift, self.total, self.outer = 0, None, None, None

    def add(self, features: torch.Tensor) -> "Moments":
        f = torch.as_tensor(features).detach().cpu().double()
        if self.shift is None:
            self.shift = f.mean(0)
            self.total = torch.zeros_like(self.shift)
            self.outer = torch.zeros(len(self.shift), len(self.shift), dtype=torch.float64)
        d = f - self.shift
        self.n += len(f)
        self.total += d.sum(0)
        self.outer += d.T @ d
        return self

    def statistics(self, full_rank: bool = True) -> dict:
        """``{"mu", "sigma", "n"}`` (numpy, as torch-fidelity's FID takes them); more samples than
        dimensions (full rank) unless ``full_rank`` is False (the paper-shape check's stand-in,
        whose numbers are never scored)."""
        if self.n == 0:
            raise ReplicationError("FID statistics of no samples")
        d = len(self.shift)
        if self.n <= d and full_rank:
            raise ReplicationError(f"FID needs more samples than feature dimensions for a full-rank covariance "
                                   f"(got {self.n} samples of {d} dims); raise the sample count or use a lower-dim layer")
        mean = self.total / self.n
        sigma = (self.outer - torch.outer(self.total, self.total) / self.n) / max(self.n - 1, 1)
        return {"mu": (self.shift + mean).numpy(), "sigma": sigma.numpy(), "n": self.n}


def fid_statistics(features: torch.Tensor, full_rank: bool = True) -> dict:
    """Mean, covariance (float64) and count of a feature matrix (``Moments`` in one batch)."""
    return Moments().add(features).statistics(full_rank)


class SplitScores:
    """IS over ``splits`` consecutive, unshuffled splits of ``n`` samples, fed batch by batch:
    each split is scored by torch-fidelity as it completes (the same rows and arithmetic as
    ``inception_score(logits, splits, shuffle=False)``), so only one split's logits are held."""

    def __init__(self, n: int, splits: int):
        if n < splits:
            raise ReplicationError(f"IS needs at least {splits} samples for {splits} splits, got {n}")
        self.n, self.splits, self.buffer, self.seen, self.scores = n, splits, [], 0, []

    def add(self, logits: torch.Tensor) -> None:
        self.buffer.append(torch.as_tensor(logits).detach().cpu())
        self.seen += len(logits)
        while len(self.scores) < self.splits and self.seen >= (len(self.scores) + 1) * self.n // self.splits:
            i = len(self.scores)
            rows = torch.cat(self.buffer)
            start = self.seen - len(rows)  # index of the buffer's first row
            lo, hi = i * self.n // self.splits - start, (i + 1) * self.n // self.splits - start
            out = isc_features_to_metric(rows[lo:hi], splits=1, shuffle=False)
            self.scores.append(out[KEY_METRIC_ISC_MEAN])
            self.buffer = [rows[hi:]]

    def result(self) -> dict:
        if self.seen != self.n or len(self.scores) != self.splits:
            raise ReplicationError(f"IS expected {self.n} samples, got {self.seen}")
        return {"mean": float(np.mean(self.scores)), "std": float(np.std(self.scores))}


def frechet_distance(stats1: dict, stats2: dict) -> float:
    return fid_statistics_to_metric(stats1, stats2, verbose=False)[KEY_METRIC_FID]


def kernel_distance(features1: torch.Tensor, features2: torch.Tensor, subsets: int = 100,
                    subset_size: int = 1000, seed: int = 2020) -> dict:
    """KID (unbiased MMD², cubic polynomial kernel) mean and std over random subsets."""
    f1, f2 = (torch.as_tensor(f).detach().cpu().double() for f in (features1, features2))
    if subset_size > min(len(f1), len(f2)):
        raise ReplicationError(f"KID subset size {subset_size} exceeds the sample count "
                               f"({len(f1)} vs {len(f2)}); lower kid_subset_size or draw more samples")
    out = kid_features_to_metric(f1, f2, kid_subsets=subsets, kid_subset_size=subset_size,
                                 rng_seed=seed, verbose=False)
    return {"mean": out[KEY_METRIC_KID_MEAN], "std": out[KEY_METRIC_KID_STD]}


PRC_NEIGHBORHOOD = 3  # k of the k-NN balls: the paper's choice and torch-fidelity's default
DUPLICATE_QUANTILE = 0.01  # a near-copy: closer than all but this share of real images are to their nearest


def _nearest_other(features: torch.Tensor, batch_size: int) -> torch.Tensor:
    """Each feature's distance to its nearest other one in the same set (the 2nd smallest skips
    itself, as torch-fidelity's k-NN radii do)."""
    return torch.cat([calc_cdist_part(b, features, batch_size).kthvalue(2).values for b in features.split(batch_size)])


def sample_diversity(generated: torch.Tensor, real: torch.Tensor, seed: int = 2020, batch_size: int = 1000,
                     cuda: bool | None = None) -> dict:
    """Precision, recall and the duplicate rate of generated against real features (float64), the
    real set cut to the generated count by a seeded draw (the paper compares equal counts):

    - ``precision``, ``recall``: improved precision and recall (see the module);
    - ``duplicates``: the share of generated samples whose nearest other sample is closer than
      the ``DUPLICATE_QUANTILE`` quantile of the real samples' nearest-neighbour distances (about
      that share for real images, 1 for repeated images).

    The pairwise distances run on the GPU when there is one (torch-fidelity moves each block of
    them back to the CPU)."""
    f1, f2 = (torch.as_tensor(f).detach().double() for f in (generated, real))
    if len(f2) < len(f1):
        raise ReplicationError(f"precision/recall compares equal counts: {len(f1)} samples but only {len(f2)} "
                               f"reference features; raise quality.reference.images or lower quality.samples")
    f2 = f2[torch.randperm(len(f2), generator=torch.Generator().manual_seed(seed))[:len(f1)]]
    if torch.cuda.is_available() if cuda is None else cuda:
        f1, f2 = f1.cuda(), f2.cuda()
    precision, recall = calculate_precision_recall_part(f1, f2, PRC_NEIGHBORHOOD, batch_size)
    near = torch.quantile(_nearest_other(f2, batch_size), DUPLICATE_QUANTILE)
    duplicates = float((_nearest_other(f1, batch_size) <= near).double().mean())
    return {KEY_METRIC_PRECISION: precision, KEY_METRIC_RECALL: recall, "duplicates": duplicates}


# ---------------------------------------------------------------- uint8 images → features
def feature_layer(extractor: Extractor, metric: str) -> str:
    """The layer torch-fidelity uses for ``metric`` ('isc', 'fid', 'kid') with this extractor."""
    return FEATURE_EXTRACTORS_REGISTRY[extractor.name].get_default_feature_layer_for_metric(metric)


def _check_images(images: torch.Tensor) -> torch.Tensor:
    if images.dtype != torch.uint8 or images.dim() != 4 or images.shape[1] not in (1, 3):
        raise ReplicationError(f"expected uint8 images B×1×H×W or B×3×H×W, got {images.dtype} {tuple(images.shape)}")
    return images.expand(-1, 3, -1, -1) if images.shape[1] == 1 else images


def feature_batches(batches: Iterable[torch.Tensor], extractor: Extractor, layers: Sequence[str],
                    cuda: bool | None = None) -> Iterator[dict[str, torch.Tensor]]:
    """uint8 image batches (B×C×H×W, C = 1 replicated to RGB) → ``{layer: B×D features}`` per
    batch, through one network built for the whole stream."""
    cuda = torch.cuda.is_available() if cuda is None else cuda
    if extractor.name == INCEPTION_EXTRACTOR:  # the pinned hash again, right before torch-fidelity reads the file
        verify_weights(extractor.weights_path)
    try:  # torch-fidelity 0.4 loads Inception weights with torch.load(path, weights_only=False)
        with weights_only_loads():
            module = create_feature_extractor(extractor.name, list(layers), cuda=cuda, verbose=False,
                                              feature_extractor_weights_path=str(extractor.weights_path))
    except pickle.UnpicklingError as err:
        raise ReplicationError(f"refused {extractor.weights_path}: it holds more than tensors and plain "
                               f"containers ({error_line(err)}); delete it and fetch it again") from None
    with torch.no_grad():
        for images in batches:
            images = _check_images(images).contiguous()
            if cuda:
                images = images.cuda(non_blocking=True)
            features = module.convert_features_tuple_to_dict(module(images))
            yield {k: v.cpu() for k, v in features.items()}


def extract_features(images: torch.Tensor, extractor: Extractor, layers: Sequence[str],
                     batch_size: int = 100, cuda: bool | None = None) -> dict[str, torch.Tensor]:
    """uint8 B×C×H×W images (C = 1 is replicated to RGB) → {layer: B×D features}."""
    _check_images(images)
    parts = list(feature_batches(images.split(batch_size), extractor, layers, cuda))
    return {layer: torch.cat([p[layer] for p in parts]) for layer in layers}


@dataclass
class Stream:
    """``n`` images in [``value_range``] (or uint8) that arrive as ``batches``: e.g. samples drawn
    from a generator a batch at a time (``replication.train.evaluation.sample_batches``)."""
    batches: Iterable[torch.Tensor]
    n: int


def _stream(images: "torch.Tensor | Stream", batch_size: int) -> Stream:
    return images if isinstance(images, Stream) else Stream(images.split(batch_size), len(images))


def reference_statistics(images: "torch.Tensor | Stream", extractor: Extractor, name: str, *, rule: str = "round",
                         value_range: tuple[float, float] = (-1.0, 1.0), keep_features: bool = True,
                         batch_size: int = 100) -> dict:
    """Statistics of a named reference set (features kept for KID), computed a batch at a time
    (uint8 images pass ``to_uint8`` unchanged); save with ``replication.io.save_torch``."""
    layer, moments, kept = feature_layer(extractor, "fid"), Moments(), []
    stream = _stream(images, batch_size)
    for features in feature_batches((to_uint8(x, rule, value_range) for x in stream.batches), extractor, [layer]):
        moments.add(features[layer])
        if keep_features:
            kept.append(features[layer].double())
    ref = {"name": name, "extractor": extractor.name, "weights_sha256": extractor.weights_sha256,
           "proxy": extractor.proxy, "layer": layer, "uint8_rule": rule, **moments.statistics(not extractor.standin)}
    if keep_features:
        ref["features"] = torch.cat(kept)
    return ref


# ---------------------------------------------------------------- samples → result records
def evaluate_samples(samples: "torch.Tensor | Stream", extractor: Extractor, *,
                     metrics: Sequence[str] = ("is", "fid", "kid"), reference: dict | None = None,
                     rule: str = "wgan_gp_resnet", value_range: tuple[float, float] = (-1.0, 1.0), splits: int = 10,
                     shuffle: bool = False, seed: int = 2020, kid_subsets: int = 100, kid_subset_size: int = 1000,
                     batch_size: int = 100) -> list[dict]:
    """One feature pass over ``samples`` (a tensor, or a ``Stream`` of batches) → one result record
    per metric ('is', 'fid', 'kid'; 'diversity' gives three: precision, recall, duplicates); a
    batch at a time (see the module's Memory)."""
    unknown = set(metrics) - {"is", "fid", "kid", "diversity"}
    if unknown:
        raise ReplicationError(f"unknown metrics {sorted(unknown)}; use is, fid, kid, diversity")
    needs_ref = [m for m in metrics if m != "is"]
    if needs_ref:
        if reference is None:
            raise ReplicationError(f"{', '.join(needs_ref)} need reference statistics (reference_statistics())")
        if (reference["extractor"], reference["weights_sha256"]) != (extractor.name, extractor.weights_sha256):
            raise ReplicationError(f"reference '{reference['name']}' was computed with {reference['extractor']} "
                                   f"({reference['weights_sha256'][:14]}), not {extractor.name} "
                                   f"({extractor.weights_sha256[:14]}); recompute it with this extractor")
        for m in ("kid", "diversity"):
            if m in metrics and "features" not in reference:
                raise ReplicationError(f"reference '{reference['name']}' holds no features; {m.upper()} needs "
                                       f"keep_features=True")
    stream = _stream(samples, batch_size)
    layers = {m: feature_layer(extractor, {"is": "isc", "diversity": "prc"}.get(m, m)) for m in metrics}
    scores = SplitScores(stream.n, splits) if "is" in metrics and not shuffle else None
    moments = Moments() if "fid" in metrics else None
    # what needs every sample's features: KID's subsets, diversity's neighbours, a shuffled IS
    kept = {m: [] for m in metrics if m in ("kid", "diversity") or (m == "is" and shuffle)}
    seen = 0
    for features in feature_batches((to_uint8(x, rule, value_range) for x in stream.batches), extractor,
                                    sorted(set(layers.values()))):
        seen += len(features[layers[metrics[0]]])
        if scores is not None:
            scores.add(features[layers["is"]])
        if moments is not None:
            moments.add(features[layers["fid"]])
        for m in kept:
            kept[m].append(features[layers[m]])
    if seen != stream.n:
        raise ReplicationError(f"expected {stream.n} samples, the stream gave {seen}")
    base = {"extractor": extractor.name, "weights_sha256": extractor.weights_sha256, "proxy": extractor.proxy,
            "n_samples": stream.n, "uint8_rule": rule, "torch_fidelity": torch_fidelity.__version__}
    ref_fields = ({"reference": reference["name"], "n_reference": int(reference["n"])} if reference
                  else {"reference": None, "n_reference": None})
    records = []
    for m in metrics:
        if m == "diversity":
            f = torch.cat(kept["diversity"])
            out = sample_diversity(f, reference["features"], seed)
            records += [{"metric": name, "value": value, "std": None, "splits": None, "seed": seed,
                         "neighborhood": PRC_NEIGHBORHOOD, **ref_fields, **base, "n_reference": len(f),
                         "feature_layer": layers[m]} for name, value in out.items()]
            continue
        if m == "is":
            out = scores.result() if scores is not None else inception_score(torch.cat(kept["is"]), splits, shuffle, seed)
            rec = {"metric": "IS", "value": out["mean"], "std": out["std"], "splits": splits,
                   "shuffled": shuffle, "seed": seed if shuffle else None,
                   "reference": None, "n_reference": None}
        elif m == "fid":
            rec = {"metric": "FID", "value": frechet_distance(moments.statistics(not extractor.standin), reference),
                   "std": None, "splits": None, "seed": None, **ref_fields}
        else:
            out = kernel_distance(torch.cat(kept["kid"]), reference["features"], kid_subsets, kid_subset_size, seed)
            rec = {"metric": "KID", "value": out["mean"], "std": out["std"], "splits": None,
                   "subsets": kid_subsets, "subset_size": kid_subset_size, "seed": seed, **ref_fields}
        records.append({**rec, **base, "feature_layer": layers[m]})
    return records


def evaluate_protocol(name: str, samples: "torch.Tensor | Stream", extractor: Extractor, reference: dict | None = None,
                      **overrides) -> list[dict]:
    """``evaluate_samples`` with a paper's protocol; records name it and the paper's sample count."""
    if name not in PROTOCOLS:
        raise ReplicationError(f"unknown metric protocol '{name}'; use one of {', '.join(PROTOCOLS)}")
    records = evaluate_samples(samples, extractor, reference=reference, **{**PROTOCOLS[name], **overrides})
    return [{**r, "protocol": name, "paper_n_samples": PAPER_SAMPLES[name]} for r in records]
