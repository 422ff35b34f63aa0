"""The TF-compatible Inception-v3 of torch-fidelity, loaded from a local, checksummed file.

Provenance: torch-fidelity's ``inception-v3-compat`` extractor
(``torch_fidelity/feature_extractor_inceptionv3.py``) is a PyTorch port of the TF graph
``inception-2015-12-05`` that OpenAI's improved-GAN ``inception_score.py`` (used by WGAN-GP)
and TTUR's ``fid.py`` (FID) load. Its weights file name carries, torch-hub style, the
first 8 hex digits of the file's SHA-256 (``6726825d``); the data registry pins the full
SHA-256 and we check it on every load (the fetch, ``inception_extractor`` and each feature
pass), so a truncated download, a foreign or a crafted file is one clear error before any
unpickling. torch-fidelity then reads the file with ``torch.load(path, weights_only=False)``;
``fidelity.extract_features`` forces that load weights-only too. The harness never lets
torch-fidelity download at evaluation time:
the file is fetched by :func:`fetch_inception_weights` (the only networked step) into
``<data_root>/inception-weights/``; the data registry lists it as ``inception-weights`` (and
pins its URL and SHA-256, re-exported here), so ``replicate fetch inception-weights``
(and the workflow's fetch rule) calls that function. Dependency direction: this module
imports ``replication.data``; the data layer imports it only inside that fetch.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from replication.data.registry import INCEPTION_FILE, INCEPTION_SHA256, INCEPTION_URL
from replication.data.store import data_root
from replication.errors import ReplicationError
from replication.io import sha256_file

INCEPTION_EXTRACTOR = "inception-v3-compat"  # torch-fidelity registry name
# INCEPTION_URL (torch-fidelity's URL_INCEPTION_V3), INCEPTION_FILE (weights-inception-2015-12-05-6726825d.pth)
# and INCEPTION_SHA256 (6726825d0af5…) are the data registry's, re-exported; data_root is
# replication.data's rule (explicit root, else $REPLICATION_DATA, else <repo>/data).
__all__ = ["INCEPTION_EXTRACTOR", "INCEPTION_FILE", "INCEPTION_SHA256", "INCEPTION_URL", "Extractor",
           "data_root", "fetch_inception_weights", "inception_extractor", "inception_weights_path",
           "verify_weights"]


@dataclass(frozen=True)
class Extractor:
    """A torch-fidelity feature extractor bound to one verified weights file.

    ``weights_sha256`` is what results record: the file's SHA-256, prefixed ``proxy:`` for a
    harness-trained proxy classifier so a proxy number can never pass for an Inception one.
    """

    name: str  # name in torch-fidelity's feature-extractor registry
    weights_path: Path
    weights_sha256: str
    proxy: bool


def inception_weights_path(root: str | os.PathLike | None = None) -> Path:
    return data_root(root) / "inception-weights" / INCEPTION_FILE


def _manual_step(path: Path) -> str:
    return (f"fetch it with `replicate fetch inception-weights --root {path.parents[1]}` where the network "
            f"allows it, or download {INCEPTION_URL} by hand and place it at {path}")


def verify_weights(path: Path, sha256: str | None = None) -> str:
    """Return the file's SHA-256 if it is ``sha256`` (default: the pinned ``INCEPTION_SHA256``,
    read at call time); else one ReplicationError."""
    path = Path(path)
    expected = INCEPTION_SHA256 if sha256 is None else sha256
    if not path.is_file():
        raise ReplicationError(f"missing Inception weights {path}: {_manual_step(path)}")
    digest = sha256_file(path)
    if digest != expected:
        raise ReplicationError(
            f"corrupt Inception weights {path} (sha256 {digest[:16]}…, expected {expected[:16]}…): "
            f"delete it, then {_manual_step(path)}")
    return digest


def fetch_inception_weights(root: str | os.PathLike | None = None, url: str | None = None,
                            sha256: str | None = None, progress: bool = True) -> Path:
    """Download the weights into the data root (no-op if a verified copy is there).

    Uses ``torch.hub.download_url_to_file`` (what torch-fidelity itself calls), which writes
    to a temporary file, checks the hash (given in full, its ``hash_prefix`` is the whole
    SHA-256) and only then moves it into place.
    """
    from torch.hub import download_url_to_file

    url = INCEPTION_URL if url is None else url
    sha256 = INCEPTION_SHA256 if sha256 is None else sha256
    path = inception_weights_path(root)
    if path.is_file():
        verify_weights(path, sha256)
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        download_url_to_file(url, str(path), hash_prefix=sha256, progress=progress)
    except Exception as err:  # URLError, HTTPError, timeouts, hash mismatch (RuntimeError)
        raise ReplicationError(
            f"could not download Inception weights ({type(err).__name__}: {err}); {_manual_step(path)}") from None
    verify_weights(path, sha256)
    return path


def inception_extractor(root: str | os.PathLike | None = None) -> Extractor:
    """The paper-scale extractor; raises ReplicationError if the weights are missing or corrupt."""
    path = inception_weights_path(root)
    return Extractor(INCEPTION_EXTRACTOR, path, verify_weights(path), proxy=False)

