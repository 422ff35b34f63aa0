"""The Inception weights file that the metric stack reads at scale paper: what it is, where it
comes from, its pinned SHA-256, and its fetch and check (the data layer owns files; the metric
stack, ``replication.metrics.inception``, only loads a verified one)."""

from __future__ import annotations

import os
from pathlib import Path

from replication.data.registry import DatasetSpec, RawItem, register
from replication.data.store import data_root
from replication.errors import ReplicationError
from replication.io import sha256_file

# INCEPTION_URL is torch-fidelity 0.4's URL_INCEPTION_V3 (torch_fidelity/feature_extractor_inceptionv3.py),
# pinned here; tests/metrics/test_inception.py checks that the two still agree.
INCEPTION_URL = ("https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/"
                 "weights-inception-2015-12-05-6726825d.pth")
INCEPTION_FILE = INCEPTION_URL.rsplit("/", 1)[-1]  # weights-inception-2015-12-05-6726825d.pth
# The full SHA-256 of that release file (95,628,359 bytes): its name carries only the first 8
# hex digits (torch-hub style), 32 bits that a crafted file could be made to match.
INCEPTION_SHA256 = "6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2"


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


def fetch_inception_files(root: Path) -> dict[str, dict]:
    """Download (where the network allows) and verify the weights; the manifest's checks."""
    path = fetch_inception_weights(root)
    return {path.name: {"check": "pinned-sha256", "digest": verify_weights(path)}}


register(DatasetSpec(
    name="inception-weights", kind="files",
    summary="torch-fidelity's inception-v3-compat weights (TF graph inception-2015-12-05), for IS/FID/KID at "
            "scale paper",
    raw=(RawItem(INCEPTION_FILE, urls=(INCEPTION_URL,), sha256=INCEPTION_SHA256),),
    manual=f"download {INCEPTION_URL} on a machine with network access and copy it into the folder unchanged",
    fetch_files=fetch_inception_files,
))
