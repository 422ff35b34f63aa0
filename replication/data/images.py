"""Readers for the image data sets' raw formats. Each yields ``(images, labels)`` chunks:
``images`` uint8 N×C×H×W (numpy), ``labels`` int64 N or None. The pack writer in
``store.py`` streams them to disk, so no reader holds a whole large data set in memory."""

from __future__ import annotations

import contextlib
import io
import itertools
import tempfile
from multiprocessing import Pool
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np
from PIL import Image
from torchvision.datasets.mnist import read_image_file, read_label_file
from torchvision.datasets.utils import extract_archive
from torchvision.transforms import functional as TF

from replication.errors import ReplicationError
from replication.io import load_pickle_data

Chunk = tuple[np.ndarray, "np.ndarray | None"]
CHUNK = 1000  # images per chunk handed to the writer


def read_idx_pair(images_gz: Path, labels_gz: Path) -> Iterator[Chunk]:
    """MNIST-format IDX files (gzipped), parsed by torchvision's IDX reader."""
    with tempfile.TemporaryDirectory() as tmp:
        images = read_image_file(extract_archive(str(images_gz), tmp)).numpy()
        labels = read_label_file(extract_archive(str(labels_gz), tmp)).numpy()
    yield images[:, None], labels.astype(np.int64)


def read_pickle_batches(paths: Iterable[Path], side: int) -> Iterator[Chunk]:
    """CIFAR-10 python batches and downsampled-ImageNet batches: a pickled dict with
    'data' (N×3·side·side uint8, channel-major rows) and 'labels', read by the restricted
    unpickler (containers and numpy arrays only: ImageNet 32 has no published checksum)."""
    for path in paths:
        entry = load_pickle_data(path)
        data = np.asarray(entry["data"], dtype=np.uint8).reshape(-1, 3, side, side)
        yield data, np.asarray(entry["labels"], dtype=np.int64)


# CelebA, tolstikhin/wae datahandler.py Data._read_celeba_image 'closecrop' [C]: centre 140×140 box of
# the 178×218 aligned image, (left, top, right, bottom) = ((178-140)/2, (218-140)/2, ...),
# then PIL ANTIALIAS (= LANCZOS) to 64×64.
CELEBA_SIZE = (178, 218)
CELEBA_BOX = (19, 39, 159, 179)


def celeba_64(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        if image.size != CELEBA_SIZE:
            raise ReplicationError(f"{path} is {image.size[0]}×{image.size[1]}, not the aligned "
                                   "178×218 CelebA image: use img_align_celeba")
        image = image.convert("RGB").crop(CELEBA_BOX).resize((64, 64), Image.LANCZOS)
        return np.asarray(image).transpose(2, 0, 1)


def lsun_64(encoded: bytes) -> np.ndarray:
    """WGAN main.py [C]: ``Scale(64)`` (shorter side to 64, PIL bilinear) then
    ``CenterCrop(64)``; torchvision's resize/center_crop on a PIL image do the same today."""
    with Image.open(io.BytesIO(encoded)) as image:
        image = TF.center_crop(TF.resize(image.convert("RGB"), 64), 64)
        return np.asarray(image).transpose(2, 0, 1)


def read_celeba(folder: Path, names: list[str], workers: int) -> Iterator[Chunk]:
    return _decode_in_chunks(celeba_64, [folder / name for name in names], workers)


def read_lsun(lmdb_dir: Path, workers: int) -> Iterator[Chunk]:
    """The LSUN lmdb layout torchvision's LSUNClass reads (values are encoded images, key
    order = lmdb order). Read directly because LSUNClass pickles a key cache into the cwd."""
    try:
        import lmdb
    except ImportError:
        raise ReplicationError("LSUN needs the lmdb package: run `pip install lmdb` "
                               "(or install replication[lsun])") from None
    env = lmdb.open(str(lmdb_dir), readonly=True, lock=False, readahead=False, meminit=False)
    try:
        with env.begin(write=False) as txn:
            values = (value for _, value in txn.cursor())
            yield from _decode_in_chunks(lsun_64, values, workers)
    finally:
        env.close()


def _decode_in_chunks(decode: Callable, items: Iterable, workers: int) -> Iterator[Chunk]:
    """Decode items (in order, with ``workers`` processes) and stack them ``CHUNK`` at a time."""
    with Pool(workers) if workers > 1 else contextlib.nullcontext() as pool:
        decoded = pool.imap(decode, items, chunksize=64) if pool else map(decode, items)
        while batch := list(itertools.islice(decoded, CHUNK)):
            yield np.stack(batch), None
