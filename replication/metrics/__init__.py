"""The metric stack: IS/FID/KID via torch-fidelity (Inception or a labelled proxy classifier),
WAE sharpness, the WGAN-GP character n-gram JS divergence, exact W1 by optimal transport.

Importing this package registers the proxy extractor (``replication-proxy-cnn``) with
torch-fidelity.
"""

from replication.metrics.fidelity import (
    PAPER_SAMPLES,
    PROTOCOLS,
    UINT8_RULES,
    evaluate_protocol,
    evaluate_samples,
    extract_features,
    feature_layer,
    fid_statistics,
    frechet_distance,
    inception_score,
    kernel_distance,
    reference_statistics,
    to_uint8,
)
from replication.metrics.inception import (
    INCEPTION_EXTRACTOR,
    INCEPTION_FILE,
    INCEPTION_SHA256_PREFIX,
    INCEPTION_URL,
    Extractor,
    data_root,
    fetch_inception_weights,
    inception_extractor,
    inception_weights_path,
    verify_weights,
)
from replication.metrics.ngram import NGRAM_ORDERS, js_divergence, ngram_counts, ngram_js
from replication.metrics.proxy import (
    FEATURE_DIM,
    PROXY_EXTRACTOR,
    ProxyNet,
    calibrated_proxy,
    class_coverage,
    coverage_from_logits,
    load_proxy,
    proxy_extractor,
    proxy_path,
    proxy_run,
    save_proxy,
    train_proxy,
)
from replication.metrics.sharpness import sharpness, sharpness_per_image
from replication.metrics.transport import exact_w1

__all__ = [
    "PAPER_SAMPLES", "PROTOCOLS", "UINT8_RULES", "evaluate_protocol", "evaluate_samples", "extract_features",
    "feature_layer", "fid_statistics", "frechet_distance", "inception_score", "kernel_distance",
    "reference_statistics", "to_uint8",
    "INCEPTION_EXTRACTOR", "INCEPTION_FILE", "INCEPTION_SHA256_PREFIX", "INCEPTION_URL", "Extractor", "data_root",
    "fetch_inception_weights", "inception_extractor", "inception_weights_path", "verify_weights",
    "NGRAM_ORDERS", "js_divergence", "ngram_counts", "ngram_js",
    "FEATURE_DIM", "PROXY_EXTRACTOR", "ProxyNet", "calibrated_proxy", "class_coverage", "coverage_from_logits",
    "load_proxy", "proxy_extractor", "proxy_path", "proxy_run", "save_proxy", "train_proxy",
    "sharpness", "sharpness_per_image",
    "exact_w1",
]
