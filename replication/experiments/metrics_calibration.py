"""Calibration of the metric stack before it judges any model: the proxy classifier of the
offline scales, its train-vs-test anchors, and torch-fidelity's Inception on real CIFAR-10.

Tasks (runs declared in workflow/config/experiments/metrics_calibration.yaml)
- ``proxy`` (run ``proxy_fashion-mnist``): trains THE proxy classifier of this scale on
  Fashion-MNIST train and measures its test accuracy; writes ``proxy.pt`` and ``proxy.sha256``
  (sha256sum format), and the accuracy of the untrained network on the same test images
  (``test_accuracy_start``). Every later experiment evaluates with this file at smoke/small: it lists
  ``upstream: [metrics_calibration/proxy_fashion-mnist]`` and calls
  ``replication.metrics.proxy.calibrated_proxy_at(ctx.upstream("metrics_calibration/proxy_fashion-mnist"))``.
  (No ``proxy_mnist`` run: MNIST is not available offline; Fashion-MNIST stands in for it.)
- ``reference`` (run ``proxy_reference``): proxy FID, KID, IS and class coverage of
  Fashion-MNIST train vs test, and the null distribution of FID between two disjoint random
  train subsets of the test-set size over repeated draws, which is the tolerance of the
  train-vs-test comparison. Null draw k permutes the pool with numpy RandomState(s + k),
  s = ``ctx.seed_for("null")`` (the claim's measure states this). ``reference.eval_classes``
  (negative controls only) restricts the evaluation set to some classes: a set that truly
  differs from the training distribution.
- ``inception`` (run ``inception_cifar10``): at scale paper, IS of CIFAR-10 train (50k, 10 splits, unshuffled: the
  wgan_gp_is protocol) and FID(train 50k, test 10k) with torch-fidelity's Inception, against
  the pytorch-gan-metrics calibration table (11.24, 3.15). Below paper it records why it was
  not evaluated (the claims then read "not evaluated" with that reason).

Proxy numbers carry ``proxy: true`` and ``weights_sha256 = 'proxy:…'`` and are never put next
to Inception numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torchvision.datasets import FashionMNIST

from replication.data import data_root, load_images
from replication.errors import ReplicationError
from replication.runs import Results, RunContext
from replication.io import read_json, write_frame, write_json
from replication.metrics.fidelity import (evaluate_samples, extract_features, fid_statistics, frechet_distance,
                                         inception_score, kernel_distance, reference_statistics)
from replication.metrics.proxy import (calibrated_proxy_at, coverage_from_logits, proxy_run, save_proxy, train_proxy,
                                      write_proxy_checksum)
from replication.metrics.proxy_net import PROXY_EXTRACTOR, prepare

CLASSES = list(FashionMNIST.classes)
KID_SEED = 2020  # torch-fidelity's default KID subset seed (the protocol of its published numbers)
PAPER_DATA = ("cifar10", "inception-weights")


# -- the proxy classifier -----------------------------------------------------------------

def proxy(ctx: RunContext, dataset: str) -> dict:
    P = ctx.settings.proxy
    train, test = load_images(dataset, "train"), load_images(dataset, "test")
    # test accuracy and the confusion matrix from one pass over the test images (all of them
    # unless a smaller scale asks for a seeded subset); the same images score the untrained
    # network (the measure's start, chance level)
    keep = torch.from_numpy(_subset(len(test), P.n_test, ctx.seed_for("test")))
    labels, images = test.labels[keep], test.images[keep]
    start = {}

    def before_training(net) -> None:
        start["test_accuracy"] = float((_predict(net, images) == labels).double().mean())

    targets = train.labels
    if P.shuffled_labels:  # a negative control: labels that carry nothing about the images
        targets = targets[torch.randperm(len(targets), generator=torch.Generator().manual_seed(ctx.seed_for("shuffle")))]
    net, meta = train_proxy(train.images, targets, dataset=dataset, n_train=P.n_train, epochs=P.epochs,
                            batch_size=P.batch_size, lr=P.lr, seed=ctx.seed_for("train"),
                            before_training=before_training)
    predicted = _predict(net, images)
    meta["test_accuracy"] = float((predicted == labels).double().mean())
    meta["test_accuracy_start"] = start["test_accuracy"]
    meta["n_test"] = len(keep)
    path = ctx.out_dir / "proxy.pt"
    digest = save_proxy(path, net, meta)
    write_proxy_checksum(path, digest)
    confusion = np.zeros((len(CLASSES), len(CLASSES)), np.int64)
    np.add.at(confusion, (labels.numpy(), predicted.numpy()), 1)
    frame = pd.DataFrame(confusion, columns=CLASSES).assign(true_class=CLASSES)
    write_frame(ctx.out_dir / "confusion.csv", frame[["true_class", *CLASSES]])
    return {"proxy": True, "extractor": PROXY_EXTRACTOR, "sha256": digest, "test_accuracy": meta["test_accuracy"],
            "test_accuracy_start": start["test_accuracy"], "train_accuracy": meta["train_accuracy"],
            "n_train": meta["n_train"], "n_test": len(keep),
            "epochs": meta["epochs"]}


@torch.no_grad()
def _predict(net, images: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    return torch.cat([net(prepare(images[i:i + batch_size]))[1].argmax(1) for i in range(0, len(images), batch_size)])


# -- proxy FID/KID/IS of train vs test, and the null of FID between disjoint train subsets --

def _subset(n_total: int, n: int, seed: int) -> np.ndarray:
    """All indices in order if n covers the set, else a seeded random subset (sorted)."""
    if n > n_total:
        raise ReplicationError(f"asked for {n} images of a set of {n_total}")
    return np.arange(n_total) if n == n_total else np.sort(np.random.RandomState(seed).permutation(n_total)[:n])


def null_draws(pool_features: torch.Tensor, eval_stats: dict, n: int, draws: int, seed: int) -> pd.DataFrame:
    """Draw k: permutation of the pool by numpy RandomState(seed + k) (the run passes
    ``ctx.seed_for("null")``); A, B = its first and second n.
    null = FID(A, B); cross = FID(A, evaluation set)."""
    if 2 * n > len(pool_features):
        raise ReplicationError(f"the null needs two disjoint subsets of {n} from a pool of {len(pool_features)}; "
                               "raise reference.train_pool or lower reference.n_eval")
    rows = []
    for k in range(draws):
        perm = torch.from_numpy(np.random.RandomState(seed + k).permutation(len(pool_features)))
        a = fid_statistics(pool_features[perm[:n]])
        b = fid_statistics(pool_features[perm[n:2 * n]])
        rows.append({"draw": k, "seed": seed + k, "fid_null": frechet_distance(a, b),
                     "fid_cross": frechet_distance(a, eval_stats)})
    return pd.DataFrame(rows)


def null_pvalue(null: pd.DataFrame) -> dict:
    """One-sided empirical p-value of the median cross FID under the null draws."""
    median_cross = float(null["fid_cross"].median())
    exceed = int((null["fid_null"] >= median_cross).sum())
    return {"pvalue": (1 + exceed) / (1 + len(null)), "median_cross": median_cross,
            "null_median": float(null["fid_null"].median()), "null_q95": float(null["fid_null"].quantile(0.95)),
            "draws": len(null)}


def reference(ctx: RunContext, dataset: str) -> dict:
    R = ctx.settings.reference
    extractor = calibrated_proxy_at(ctx.upstream(proxy_run(dataset)))  # metrics_calibration/proxy_<dataset>
    train, test = load_images(dataset, "train"), load_images(dataset, "test")
    pool_index = _subset(len(train), R.train_pool, ctx.seed_for("pool"))
    classes = None if R.eval_classes is None else list(R.eval_classes)  # a list: those classes only (a control)
    if classes is None:
        eval_index = _subset(len(test), R.n_eval, ctx.seed_for("eval"))
    else:
        among = np.flatnonzero(np.isin(test.labels.numpy(), classes))
        eval_index = among[_subset(len(among), R.n_eval, ctx.seed_for("eval"))]
    layers = ["features", "logits"]
    pool = extract_features(train.images[pool_index], extractor, layers, R.batch_size)
    evals = extract_features(test.images[eval_index], extractor, layers, R.batch_size)
    pool_stats, eval_stats = fid_statistics(pool["features"]), fid_statistics(evals["features"])

    null = null_draws(pool["features"], eval_stats, len(eval_index), R.null_draws, ctx.seed_for("null"))
    write_frame(ctx.out_dir / "null.csv", null)
    test_of_null = null_pvalue(null)

    base = {"proxy": True, "features": "proxy classifier (not Inception)", "extractor": extractor.name,
            "weights_sha256": extractor.weights_sha256, "seed": None}
    train_name = f"{dataset}/train" + ("" if len(pool_index) == len(train) else f" (random {len(pool_index)})")
    test_name = (f"{dataset}/test" + ("" if classes is None else f" classes {classes}")
                 + ("" if len(eval_index) == len(test) else f" (random {len(eval_index)})"))
    pair = {"input1": train_name, "n1": len(pool_index), "input2": test_name, "n2": len(eval_index)}
    kid = kernel_distance(pool["features"], evals["features"], R.kid_subsets, R.kid_subset_size, KID_SEED)
    records = [
        {**base, **pair, "metric": "FID", "value": frechet_distance(pool_stats, eval_stats), "std": None,
         "feature_layer": "features"},
        {**base, **pair, "metric": "FID null-test p-value", "value": test_of_null["pvalue"], "std": None,
         "feature_layer": "features", "draws": test_of_null["draws"], "subset_size": len(eval_index),
         "median_cross": test_of_null["median_cross"], "null_median": test_of_null["null_median"],
         "null_q95": test_of_null["null_q95"], "file": "null.csv"},
        {**base, **pair, "metric": "KID", "value": kid["mean"], "std": kid["std"], "feature_layer": "features",
         "subsets": R.kid_subsets, "subset_size": R.kid_subset_size, "seed": KID_SEED},
    ]
    for name, feats, n in ((train_name, pool, len(pool_index)), (test_name, evals, len(eval_index))):
        score = inception_score(feats["logits"], R.is_splits, shuffle=False)
        records.append({**base, "metric": "IS", "input1": name, "n1": n, "input2": None, "n2": None,
                        "value": score["mean"], "std": score["std"], "splits": R.is_splits, "shuffled": False,
                        "feature_layer": "logits"})
    coverage = coverage_from_logits(evals["logits"])
    records.append({**base, "metric": "class coverage", "input1": test_name, "n1": len(eval_index), "input2": None,
                    "n2": None, "value": coverage["coverage"], "std": None, "entropy": coverage["entropy"],
                    "entropy_max": coverage["entropy_max"], "histogram": coverage["histogram"],
                    "feature_layer": "logits"})
    write_json(ctx.out_dir / "reference.json", {"proxy": True, "records": records})
    return {"proxy": True, "fid_train_test": records[0]["value"], **test_of_null}


# -- Inception anchors on real CIFAR-10 (scale paper) ---------------------------------------

def inception(ctx: RunContext) -> dict:
    I = ctx.settings.inception
    if ctx.scale != "paper":
        root = data_root()
        missing = [name for name in PAPER_DATA if not (root / name / "manifest.json").exists()]
        where = (f"{' and '.join(missing)} not in the data root {root} (fetched only at scale paper: "
                 + ", ".join(f"`replicate fetch {name}`" for name in missing) + ")") if missing else \
            "CIFAR-10 and the Inception weights are present, but the 60k-image Inception pass is run at scale paper only"
        reason = f"Inception anchors need scale paper: {where}"
        write_json(ctx.out_dir / "inception.json", {"evaluated": False, "reason": reason, "records": []})
        return {"evaluated": False, "reason": reason}
    extractor = ctx.extractor()  # Inception at paper; missing or corrupt weights: one error naming the fetch
    train, test = load_images("cifar10", "train"), load_images("cifar10", "test")
    if len(train) < I.n_train or len(test) < I.n_test:
        raise ReplicationError(f"CIFAR-10 has {len(train)} train / {len(test)} test images, fewer than "
                               f"{I.n_train} / {I.n_test}: was it packed with --limit? rerun `replicate fetch cifar10`")
    reference = reference_statistics(test.images[:I.n_test], extractor, "cifar10/test", keep_features=False,
                                     batch_size=I.batch_size)
    records = evaluate_samples(train.images[:I.n_train], extractor, metrics=("is", "fid"), reference=reference,
                               splits=I.is_splits, shuffle=False, batch_size=I.batch_size)
    for record in records:
        record.update({"features": "proxy classifier" if extractor.proxy else f"Inception ({extractor.name})",
                       "input1": "cifar10/train (file order)",
                       "protocol": "wgan_gp_is" if record["metric"] == "IS" else "train 50k vs test 10k"})
    write_json(ctx.out_dir / "inception.json", {"evaluated": True, "reason": None, "records": records})
    return {"evaluated": True, **{r["metric"]: r["value"] for r in records}}


TASKS = {"proxy": proxy, "reference": reference, "inception": inception}


# -- measured values for the claims --------------------------------------------------------

def summarize(res: Results) -> dict:
    out = {}
    proxy_at, reference_at, inception_at = res.run(task="proxy"), res.run(task="reference"), res.run(task="inception")
    proxy = res.result(proxy_at)
    out["proxy_test_accuracy"] = {
        "value": proxy["test_accuracy"], "start": proxy["test_accuracy_start"],
        "file": str(res.path(proxy_at, "result.json")),
        "note": f"proxy classifier, {proxy['n_train']} training images, {proxy['epochs']} epoch(s), "
                f"{proxy['n_test']} test images"}

    ref_file = res.path(reference_at, "reference.json")
    records = {r["metric"]: r for r in read_json(ref_file)["records"] if r["metric"] != "IS"}
    test = null_pvalue(res.frame(reference_at, "null.csv"))
    out["proxy_fid_train_test_pvalue"] = {
        "value": test["pvalue"], "file": str(res.path(reference_at, "null.csv")),
        "note": f"proxy features: median cross FID {test['median_cross']:.4g} vs null median {test['null_median']:.4g}, "
                f"95th pct {test['null_q95']:.4g} ({test['draws']} draws of {records['FID']['n2']} vs "
                f"{records['FID']['n2']})"}
    fid = records["FID"]
    out["proxy_fid_train_test"] = {"value": fid["value"], "file": str(ref_file),
                                   "note": f"proxy FID, {fid['input1']} vs {fid['input2']}, {fid['n1']} vs {fid['n2']} images"}
    kid = records["KID"]
    out["proxy_kid_train_test"] = {"value": kid["value"], "file": str(ref_file),
                                   "note": f"proxy KID ± {kid['std']:.2g}, {kid['subsets']} subsets of {kid['subset_size']}"}
    coverage = records["class coverage"]
    out["proxy_class_coverage_test"] = {"value": coverage["value"], "file": str(ref_file),
                                        "note": f"proxy classifier; predicted-class entropy {coverage['entropy']:.3f} "
                                                f"of {coverage['entropy_max']:.3f} nats"}

    inc_file = res.path(inception_at, "inception.json")
    inception = read_json(inc_file)
    keys = {"IS": "inception_is_cifar10_train", "FID": "inception_fid_cifar10_train_test"}
    if not inception["evaluated"]:
        for key in keys.values():
            out[key] = {"value": None, "reason": inception["reason"], "file": str(inc_file)}
    else:
        for record in inception["records"]:
            note = (f"Inception, {record['n_samples']} train images, {record['splits']} splits unshuffled, "
                    f"split sd {record['std']:.3g}" if record["metric"] == "IS" else
                    f"Inception pool3, {record['n_samples']} train vs {record['n_reference']} test images")
            out[keys[record["metric"]]] = {"value": record["value"], "file": str(inc_file), "note": note}
    return out
