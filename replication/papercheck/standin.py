"""The paper-shape check's stand-in for the Inception weights: torch-fidelity's
``inception-v3-compat`` network (the same layers, the same 299x299 resize, the same feature and
logit layers) with seeded random weights and no file, so every IS/FID/KID code path at ``paper``
runs at its real cost in time and memory without the 95 MB weights.

Only ``install`` (called by the check's job entry, ``python -m replication.papercheck job``)
selects it: it registers the network with torch-fidelity under its own name
(``STANDIN_EXTRACTOR``), makes ``replication.metrics.inception.inception_extractor`` return it in
that process, and marks the results root, so the scorecard refuses to score anything built there.
The real weights keep their pinned SHA-256 check: the stand-in never reads them.
"""

from __future__ import annotations

import io
from pathlib import Path

import torch
from torch import nn
from torch_fidelity import register_feature_extractor
from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3
from torch_fidelity.registry import FEATURE_EXTRACTORS_REGISTRY

from replication.metrics.inception import STANDIN_EXTRACTOR, Extractor
from replication.papercheck import mark_results

SEED = 0


class RandomInception(FeatureExtractorInceptionV3):
    """inception-v3-compat with He-normal weights (seeded, the caller's random streams untouched);
    batch norm as constructed (identity statistics), so activations keep their scale through the
    network instead of shrinking to denormals, which would make it slower than the real one."""

    def __init__(self, name, features_list, **kwargs):
        empty = io.BytesIO()
        torch.save({}, empty)
        empty.seek(0)
        kwargs["feature_extractor_weights_path"] = empty  # the parent loads "weights" from it: none
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(SEED)
            super().__init__(name, features_list, **kwargs)

    def load_state_dict(self, state_dict, strict=True, assign=False):
        if state_dict:
            raise ValueError(f"{STANDIN_EXTRACTOR} has random weights; it loads none")
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
        return None


def standin_extractor(root=None) -> Extractor:
    """The stand-in as the metric stack's Extractor (``root`` accepted like inception_extractor's)."""
    return Extractor(STANDIN_EXTRACTOR, Path("(no file: random weights)"), f"stand-in:random-seed-{SEED}",
                     proxy=False)


def install(results_root: Path) -> None:
    """Select the stand-in in this process and mark ``results_root`` as built with it."""
    from replication.metrics import inception

    if STANDIN_EXTRACTOR not in FEATURE_EXTRACTORS_REGISTRY:
        register_feature_extractor(STANDIN_EXTRACTOR, RandomInception)
    inception.inception_extractor = standin_extractor
    mark_results(results_root)
