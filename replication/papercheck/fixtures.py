"""Small data sets in each source's real on-disk format, shared by the data tests and the
paper-shape check: MNIST-style IDX (gzipped), CIFAR-10 and ImageNet 32 pickle batches, CelebA's
folder of aligned JPEGs with its partition list, LSUN's lmdb of WebP images, the Billion Word
shards and Debian's fortunes files.

Published checksums cannot match fixture bytes, so ``fixture_spec`` gives a copy of a data set's
spec whose MD5s are those of the fixture files (and with no download sources): everything else
(verification, packing, splits, loading) is the real code path."""

from __future__ import annotations

import contextlib
import dataclasses
import gzip
import hashlib
import io
import pickle
import struct
from pathlib import Path

import numpy as np
from PIL import Image

from replication.data import DATASETS, DatasetSpec

MNIST_TRAIN, MNIST_TEST = 60_000, 10_000


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def fixture_spec(name: str, raw: Path, **changes) -> DatasetSpec:
    """``name``'s spec with the MD5s of the fixture files under ``raw`` and no download sources."""
    spec = DATASETS[name]
    raw_items = tuple(dataclasses.replace(item, md5=md5(raw / item.path) if item.md5 else None, urls=())
                      for item in spec.raw)
    return dataclasses.replace(spec, **{"raw": raw_items, "archives": (), "copy_local": None, **changes})


@contextlib.contextmanager
def fixture_specs(specs: dict[str, DatasetSpec]):
    """The registry with these specs in place (restored afterwards)."""
    saved = {name: DATASETS[name] for name in specs}
    DATASETS.update(specs)
    try:
        yield
    finally:
        DATASETS.update(saved)


# -- IDX (MNIST, Fashion-MNIST) ---------------------------------------------------------------

def stamp(index: np.ndarray) -> np.ndarray:
    """Identify image k by its first three pixels (little-endian k); the rest is zero."""
    images = np.zeros((len(index), 28, 28), np.uint8)
    for byte in range(3):
        images[:, 0, byte] = (index >> (8 * byte)) & 255
    return images


def read_stamp(images) -> np.ndarray:
    pixels = np.asarray(images[:, 0, 0, :3], dtype=np.int64)
    return pixels[:, 0] + (pixels[:, 1] << 8) + (pixels[:, 2] << 16)


def write_idx(path: Path, array: np.ndarray) -> None:
    """IDX: magic 0x0000 08 <ndim>, big-endian int32 dims, then uint8 data; gzipped."""
    header = struct.pack(">I", 0x0800 + array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb", compresslevel=1) as handle:
        handle.write(header + array.tobytes())


def write_mnist(raw: Path) -> None:
    """The four MNIST files at the official counts (70k: the WAE re-split holds out 10k), image k
    stamped with k, label k mod 10."""
    raw.mkdir(parents=True, exist_ok=True)
    write_idx(raw / "train-images-idx3-ubyte.gz", stamp(np.arange(MNIST_TRAIN)))
    write_idx(raw / "train-labels-idx1-ubyte.gz", (np.arange(MNIST_TRAIN) % 10).astype(np.uint8))
    write_idx(raw / "t10k-images-idx3-ubyte.gz", stamp(np.arange(MNIST_TRAIN, MNIST_TRAIN + MNIST_TEST)))
    write_idx(raw / "t10k-labels-idx1-ubyte.gz", (np.arange(MNIST_TEST) % 10).astype(np.uint8))


def class_images(labels: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
    """Class c = a bright 8×8 block at one of ten places, on noise: learnable in one epoch."""
    images = rng.randint(0, 60, (len(labels), 28, 28)).astype(np.uint8)
    for i, c in enumerate(labels):
        r, col = 2 + 12 * (c // 5), 2 + 5 * (c % 5)
        images[i, r:r + 8, col:col + 6] = 250
    return images


def write_classes(raw: Path, train: int = 500, test: int = 200) -> None:
    """The four IDX files of an MNIST-style set whose ten classes a small classifier learns at once
    (the proxy classifier's Fashion-MNIST)."""
    raw.mkdir(parents=True, exist_ok=True)
    rng = np.random.RandomState(0)
    for part, n in (("train", train), ("t10k", test)):
        labels = (np.arange(n) % 10).astype(np.uint8)
        rng.shuffle(labels)
        write_idx(raw / f"{part}-images-idx3-ubyte.gz", class_images(labels, rng))
        write_idx(raw / f"{part}-labels-idx1-ubyte.gz", labels)


# -- pickle batches (CIFAR-10, ImageNet 32) ----------------------------------------------------

def write_cifar(raw: Path, per_batch: int = 3, varied: bool = False) -> None:
    """Channel c of every image of batch b is 10*b + c, or (``varied``) seeded random pixels."""
    folder = raw / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    rng = np.random.default_rng(0)
    for b, name in enumerate(names):
        # channel-major rows: 3 x 1024 values per image
        data = np.repeat(np.array([10 * b, 10 * b + 1, 10 * b + 2], np.uint8), 1024)[None].repeat(per_batch, 0)
        if varied:
            data = rng.integers(0, 256, data.shape, dtype=np.uint8)
        labels = [(b + i) % 10 for i in range(per_batch)] if varied else [b] * per_batch
        entry = {"batch_label": name, "labels": labels, "data": data,
                 "filenames": [f"{name}_{i}.png" for i in range(per_batch)]}
        (folder / name).write_bytes(pickle.dumps(entry, protocol=2))
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": [str(i) for i in range(10)]}, protocol=2))


def write_imagenet32(raw: Path, per_batch: int = 2, valid: int = 3, varied: bool = False) -> None:
    """Image k is filled with k (mod 256), or (``varied``) seeded random pixels; labels 1, 2, ..."""
    rng = np.random.default_rng(0)

    def batch(path: Path, n: int, first: int):
        path.parent.mkdir(parents=True, exist_ok=True)
        data = (np.arange(first, first + n) % 256).astype(np.uint8)[:, None].repeat(3072, 1)
        if varied:
            data = rng.integers(0, 256, data.shape, dtype=np.uint8)
        path.write_bytes(pickle.dumps({"data": data, "labels": [k % 1000 + 1 for k in range(n)],
                                       "mean": np.zeros(3072)}))
    for i in range(1, 11):
        batch(raw / "Imagenet32_train" / f"train_data_batch_{i}", per_batch, (i - 1) * per_batch)
    batch(raw / "Imagenet32_val" / "val_data", valid, 200)


# -- image folders and databases (CelebA, LSUN) -------------------------------------------------

def write_celeba(raw: Path, n: int = 30, parts=(20, 5, 5)) -> None:
    """Aligned 178×218 JPEGs: red outside the WAE crop box, grey level 8*i (mod 256) inside it."""
    folder = raw / "img_align_celeba"
    folder.mkdir(parents=True)
    rows = []
    for i in range(n):
        image = Image.new("RGB", (178, 218), (255, 0, 0))
        grey = 8 * i % 256
        image.paste((grey, grey, grey), (19, 39, 159, 179))
        image.save(folder / f"{i + 1:06d}.jpg", quality=95)
        rows.append(f"{i + 1:06d}.jpg {0 if i < parts[0] else 1 if i < parts[0] + parts[1] else 2}")
    (raw / "list_eval_partition.txt").write_text("\n".join(rows) + "\n")


LSUN_SIZES = ((96, 80), (80, 120), (64, 64), (200, 100))


def lsun_image(i: int) -> Image.Image:
    """Red, with a blue 20×20 square at the centre (it survives main.py's centre crop)."""
    w, h = LSUN_SIZES[i % len(LSUN_SIZES)]
    image = Image.new("RGB", (w, h), (255, 0, 0))
    image.paste((0, 0, 255), (w // 2 - 10, h // 2 - 10, w // 2 + 10, h // 2 + 10))
    return image


def write_lsun(raw: Path, n: int = 4) -> list[Image.Image]:
    """bedroom_train_lmdb: keys in order, values WebP-encoded images (LSUN's lmdb layout); needs
    the lmdb package. Returns the images written."""
    import lmdb

    folder = raw / "bedroom_train_lmdb"
    folder.mkdir(parents=True)
    images = [lsun_image(i) for i in range(n)]
    env = lmdb.open(str(folder), map_size=max(1 << 24, 4096 * n))
    with env.begin(write=True) as txn:
        for i, image in enumerate(images):
            buffer = io.BytesIO()
            image.save(buffer, format="WEBP", lossless=True)
            txn.put(f"{i:07d}".encode(), buffer.getvalue())
    env.close()
    return images


# -- text (Billion Word, fortunes) ---------------------------------------------------------------

def write_billion_word(raw: Path, per_file: int = 2, every_byte: bool = False) -> Path:
    """The 100 training shards; ``every_byte``: lines that use every byte from 0x20 up as well, so
    the character vocabulary is as large as the real corpus' (read byte-wise, as Python 2 did)."""
    folder = raw / "1-billion-word-language-modeling-benchmark-r13output" / "training-monolingual.tokenized.shuffled"
    folder.mkdir(parents=True)
    high = bytes(range(0x20, 0x100))
    for i in range(1, 100):
        lines = [f"file {i} line {k} : a long enough sentence to be cut at thirty-two characters .".encode()
                 for k in range(per_file)]
        if i == 1:
            lines[0] = "Café .".encode()  # UTF-8 é = two bytes = two characters, as in Python 2
        if every_byte:
            lines += [high[k:k + 32] for k in range(0, len(high), 32)]
        (folder / f"news.en-{i:05d}-of-00100").write_bytes(b"\n".join(lines) + b"\n")
    (folder / "news.en-00100-of-00100").write_text("not read: the code stops at file 99\n")
    return folder


FORTUNES_TEXT = """A short one.
%
Two lines
\tjoined   by  whitespace.
\t\t-- Someone Famous
%
Non-ASCII caf\u00e9 and a\ttab.
%
%
Last entry without trailing separator
"""


def write_fortunes(raw: Path) -> None:
    folder = raw / "fortunes"
    folder.mkdir(parents=True)
    (folder / "wisdom").write_text(FORTUNES_TEXT)
    (folder / "wisdom.dat").write_bytes(b"\x00\x01binary index")
    (folder / "art").write_text("  /\\_/\\\n ( o.o )\n%\n")
