"""The metric stack: IS/FID/KID via torch-fidelity (Inception or a labelled proxy classifier),
WAE sharpness, the WGAN-GP character n-gram JS divergence, exact W1 by optimal transport.

Importing this package is cheap: each public name is imported from its submodule on first
access (PEP 562 ``__getattr__``), so a run that needs only ``exact_w1`` never loads
torch-fidelity or scipy. The proxy extractor (``replication-proxy-cnn``) is registered with
torch-fidelity when ``replication.metrics.proxy`` is imported; the functions that look an
extractor up in torch-fidelity's registry (``feature_layer``, ``extract_features`` and so
everything built on them) import it first, so the proxy is always registered where it is used.
"""

from __future__ import annotations

import importlib
import sys
import types

_EXPORTS = {  # submodule → the public names it provides here
    "fidelity": ("PAPER_SAMPLES", "PROTOCOLS", "UINT8_RULES", "evaluate_protocol", "evaluate_samples",
                 "extract_features", "feature_layer", "fid_statistics", "frechet_distance", "inception_score",
                 "kernel_distance", "reference_statistics", "to_uint8"),
    "inception": ("INCEPTION_EXTRACTOR", "INCEPTION_FILE", "INCEPTION_SHA256", "INCEPTION_URL", "Extractor",
                  "data_root", "fetch_inception_weights", "inception_extractor", "inception_weights_path",
                  "verify_weights"),
    "ngram": ("NGRAM_ORDERS", "js_divergence", "ngram_counts", "ngram_js"),
    "proxy": ("FEATURE_DIM", "PROXY_EXTRACTOR", "ProxyNet", "calibrated_proxy", "calibrated_proxy_at", "class_coverage",
              "class_measures", "class_reference", "extractor_of_kind",
              "coverage_from_logits", "load_proxy", "proxy_extractor", "proxy_path", "proxy_run", "save_proxy",
              "train_proxy"),
    "sharpness": ("sharpness", "sharpness_per_image"),
    "transport": ("exact_w1",),
}
_SOURCE = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = [name for names in _EXPORTS.values() for name in names]


def __getattr__(name: str):
    module = _SOURCE.get(name)
    if module is None:  # AttributeError lets `from replication.metrics import proxy` fall back to the submodule
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later accesses skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(types.ModuleType):
    """Keeps the function ``sharpness`` bound here when its submodule ``sharpness`` is imported
    directly (the import system then sets the package attribute to the submodule)."""

    def __setattr__(self, name: str, value) -> None:
        if isinstance(value, types.ModuleType) and _SOURCE.get(name) == name:
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
