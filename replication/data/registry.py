"""What each data set is: its raw files and checksums, where they come from, how they are
packed and which splits the papers used. ``register`` keeps the registry open. Besides the
image and text data sets it holds one ``files`` entry, ``inception-weights`` (torch-fidelity's
TF-compatible Inception), registered by ``replication.data.weights``, which fetches and verifies it."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Callable, Iterable, Literal

from torchvision.datasets import CIFAR10, MNIST, CelebA, FashionMNIST

from replication.data import images, text
from replication.data.orders import numpy_legacy_order, python2_order
from replication.errors import ReplicationError


@dataclass(frozen=True)
class RawItem:
    """A raw file or folder, relative to ``<root>/<name>/raw/``."""
    path: str
    md5: str | None = None          # published checksum of the file as distributed (torchvision)
    content_md5: str | None = None  # MD5 of the gunzipped bytes, for recompressed copies (Debian)
    urls: tuple[str, ...] = ()      # direct downloads, tried in order
    sha256: str | None = None  # full SHA-256 pinned here (the Inception weights)
    # md5 None: no published checksum; a lock file records its SHA-256 at first fetch


@dataclass(frozen=True)
class Archive:
    """A download that unpacks into ``raw/`` and provides the raw item ``provides``."""
    url: str
    filename: str
    provides: str
    md5: str | None = None


@dataclass(frozen=True)
class Split:
    """Concatenate ``parts`` (packed files), optionally permute, keep the ``keep`` slice."""
    parts: tuple[str, ...]
    order: Callable[[int], object] | None = None
    keep: slice = field(default_factory=lambda: slice(None))
    note: str = ""


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    summary: str
    kind: Literal["images", "text", "files"]
    raw: tuple[RawItem, ...]
    manual: str                      # one line: how to get the raw files by hand
    pack: Callable[[Path, int], dict[str, Iterable]] | None = None  # (raw dir, workers) → part streams
    splits: dict[str, Split] = field(default_factory=dict)
    archives: tuple[Archive, ...] = ()
    copy_local: Callable[[Path], None] | None = None  # fills raw/ from an installed package, if present
    default_limit: int | None = None  # at most this many items per packed part
    # kind "files": the files sit in <root>/<name>/ (no raw/, no packing) and this function
    # (data root → {file: check}) downloads and verifies them itself, raising ReplicationError
    # with the manual step when it cannot
    fetch_files: Callable[[Path], dict[str, dict]] | None = None
    # the raw files must be got by hand first: no automatic source, or one that refuses scripts
    # (Google Drive's quota on CelebA); `replicate preflight` and error messages say so
    manual_download: bool = False


DATASETS: dict[str, DatasetSpec] = {}


def register(spec: DatasetSpec) -> DatasetSpec:
    DATASETS[spec.name] = spec
    return spec


def get_spec(name: str) -> DatasetSpec:
    if name not in DATASETS:
        raise ReplicationError(f"unknown dataset {name!r}; valid names: {', '.join(sorted(DATASETS))}")
    return DATASETS[name]


# --- MNIST and Fashion-MNIST --------------------------------------------------------------

IDX_FILES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
             "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}

# MD5 of the decompressed Fashion-MNIST files: not published by Zalando, but the bytes of
# the archives that match its published gz MD5s (reproduced in several public code bases,
# e.g. older torchvision forks). Debian recompresses the gz files, so only these apply there.
FASHION_CONTENT_MD5 = {
    "train-images-idx3-ubyte.gz": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
    "train-labels-idx1-ubyte.gz": "9018921c3c673c538a1fc5bad174d6f9",
    "t10k-images-idx3-ubyte.gz": "8181f5470baa50b63fa0f6fddb340f0a",
    "t10k-labels-idx1-ubyte.gz": "15d484375f8d13e6eb1aabb0c3f46965",
}
DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")


def pack_idx(raw: Path, workers: int) -> dict[str, Iterable]:
    return {part: images.read_idx_pair(raw / imgs, raw / labels) for part, (imgs, labels) in IDX_FILES.items()}


def mnist_splits(source: str) -> dict[str, Split]:
    return {
        "train": Split(("train",), note="official 60k"),
        "test": Split(("test",), note="official 10k"),
        # mnist.pkl.gz (gan_mnist.py [C]): train = first 50k of the official training set,
        # valid = its last 10k [I: the deeplearning.net split]
        "wgangp-train": Split(("train",), keep=slice(0, 50_000), note="mnist.pkl.gz train"),
        "wgangp-valid": Split(("train",), keep=slice(50_000, None), note="mnist.pkl.gz valid"),
        # tolstikhin/wae datahandler.py _load_mnist [C]: 60k train + 10k test, np.random.seed(123)
        # shuffle, last 10k = test
        "wae-train": Split(("train", "test"), partial(numpy_legacy_order, seed=123), slice(None, -10_000),
                           note=f"WAE re-split of all 70k {source}"),
        "wae-test": Split(("train", "test"), partial(numpy_legacy_order, seed=123), slice(-10_000, None),
                          note=f"WAE re-split of all 70k {source}"),
    }


def copy_debian_fashion(raw: Path) -> None:
    for name in FASHION_CONTENT_MD5:
        if (DEBIAN_FASHION / name).is_file() and not (raw / name).exists():
            raw.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(DEBIAN_FASHION / name, raw / name)


register(DatasetSpec(
    name="mnist", kind="images", summary="MNIST handwritten digits, 60k train + 10k test, 1×28×28",
    raw=tuple(RawItem(f, md5, urls=tuple(m + f for m in MNIST.mirrors)) for f, md5 in MNIST.resources),
    manual="download the four *-ubyte.gz files of MNIST (e.g. from the PyTorch S3 mirror) into the raw folder",
    pack=pack_idx, splits=mnist_splits("MNIST"),
))

register(DatasetSpec(
    name="fashion-mnist", kind="images",
    summary="Fashion-MNIST, 60k train + 10k test, 1×28×28 (offline stand-in for MNIST, LSUN, CIFAR-10, CelebA)",
    raw=tuple(RawItem(f, md5, FASHION_CONTENT_MD5[f], tuple(m + f for m in FashionMNIST.mirrors))
              for f, md5 in FashionMNIST.resources),
    manual="`apt-get install dataset-fashion-mnist` (files in /usr/share/datasets/fashion-mnist/), "
           "or download the four *-ubyte.gz files from Zalando's fashion-mnist repository into the raw folder",
    pack=pack_idx, splits=mnist_splits("Fashion-MNIST"), copy_local=copy_debian_fashion,
))

# --- CIFAR-10 -----------------------------------------------------------------------------

CIFAR_DIR = CIFAR10.base_folder


def pack_cifar(raw: Path, workers: int) -> dict[str, Iterable]:
    # gan_cifar.py [C]: data_batch_1..5 = training set, test_batch = dev set
    return {"train": images.read_pickle_batches([raw / CIFAR_DIR / f for f, _ in CIFAR10.train_list], 32),
            "test": images.read_pickle_batches([raw / CIFAR_DIR / f for f, _ in CIFAR10.test_list], 32)}


register(DatasetSpec(
    name="cifar10", kind="images", summary="CIFAR-10 python batches, 50k train + 10k test, 3×32×32",
    raw=tuple(RawItem(f"{CIFAR_DIR}/{f}", md5) for f, md5 in CIFAR10.train_list + CIFAR10.test_list),
    archives=(Archive(CIFAR10.url, CIFAR10.filename, CIFAR_DIR, CIFAR10.tgz_md5),),
    manual=f"download {CIFAR10.url} and unpack it in the raw folder (giving {CIFAR_DIR}/)",
    pack=pack_cifar, splits={"train": Split(("train",)), "test": Split(("test",))},
))

# --- CelebA -------------------------------------------------------------------------------

CELEBA_MD5 = {filename: (file_id, md5) for file_id, md5, filename in CelebA.file_list}
GDRIVE = "https://drive.google.com/file/d/{}/view"
CELEBA_PARTS = {"train": "0", "valid": "1", "test": "2"}
CELEBA_WAE_TEST = 20_000  # tolstikhin/wae datahandler.py _load_celebA test_size [C]


def pack_celeba(raw: Path, workers: int) -> dict[str, Iterable]:
    """Official partitions in file order. They are contiguous runs of the sorted names, so
    train+valid+test is 000001.jpg..202599.jpg, the list the WAE code shuffles."""
    rows = [line.split() for line in (raw / "list_eval_partition.txt").read_text().splitlines() if line.strip()]
    names = [name for name, _ in rows]
    if names != sorted(names) or [p for _, p in rows] != sorted(p for _, p in rows):
        raise ReplicationError(f"{raw / 'list_eval_partition.txt'} is not the official partition list "
                               "(sorted names, partitions 0, 1, 2 in runs)")
    return {part: images.read_celeba(raw / "img_align_celeba", [n for n, p in rows if p == code], workers)
            for part, code in CELEBA_PARTS.items()}


def celeba_splits(test_size: int = CELEBA_WAE_TEST) -> dict[str, Split]:
    every = ("train", "valid", "test")
    wae = partial(python2_order, seed=123)  # random.seed(123); random.shuffle(paths) under Python 2 [C]
    return {
        **{part: Split((part,), note="official list_eval_partition.txt") for part in every},
        "wae-train": Split(every, wae, slice(None, -test_size), note="WAE: Py2 shuffle, all but the last 20k"),
        "wae-test": Split(every, wae, slice(-test_size, None), note="WAE: Py2 shuffle, last 20k"),
    }


register(DatasetSpec(
    name="celeba", kind="images",
    summary="CelebA aligned faces (202,599), 140×140 centre crop, Lanczos to 3×64×64 (WAE)",
    raw=(RawItem("list_eval_partition.txt", CELEBA_MD5["list_eval_partition.txt"][1],
                 urls=(GDRIVE.format(CELEBA_MD5["list_eval_partition.txt"][0]),)),
         RawItem("img_align_celeba")),
    archives=(Archive(GDRIVE.format(CELEBA_MD5["img_align_celeba.zip"][0]), "img_align_celeba.zip",
                      "img_align_celeba", CELEBA_MD5["img_align_celeba.zip"][1]),),
    manual="from the CelebA page (mmlab.ie.cuhk.edu.hk/projects/CelebA.html, Google Drive 'Align&Cropped Images') "
           "download img_align_celeba.zip and Eval/list_eval_partition.txt; put both in the raw folder "
           "(the zip is checked and unpacked to img_align_celeba/, or unpack it there yourself)",
    pack=pack_celeba, splits=celeba_splits(), manual_download=True,
))

# --- LSUN bedrooms ------------------------------------------------------------------------

LSUN_URL = "http://dl.yf.io/lsun/scenes/bedroom_train_lmdb.zip"  # LSUN download.py


register(DatasetSpec(
    name="lsun-bedroom", kind="images",
    summary="LSUN bedroom_train (3,033,042 images), shorter side 64 + centre crop, 3×64×64 (WGAN main.py)",
    raw=(RawItem("bedroom_train_lmdb/data.mdb"),),
    archives=(Archive(LSUN_URL, "bedroom_train_lmdb.zip", "bedroom_train_lmdb/data.mdb"),),
    manual=f"download {LSUN_URL} (43 GB; or `python download.py -c bedroom` from fyu/lsun) and unzip it "
           "in the raw folder, giving bedroom_train_lmdb/data.mdb; reading it needs `pip install lmdb`",
    pack=lambda raw, workers: {"train": images.read_lsun(raw / "bedroom_train_lmdb", workers)},
    splits={"train": Split(("train",))},
))

# --- ImageNet 32×32 -----------------------------------------------------------------------

IMAGENET32_TRAIN = tuple(f"Imagenet32_train/train_data_batch_{i}" for i in range(1, 11))
IMAGENET32_VALID = "Imagenet32_val/val_data"


def pack_imagenet32(raw: Path, workers: int) -> dict[str, Iterable]:
    # labels are stored 1..1000; shift to 0..999
    def zero_based(chunks):
        return ((data, labels - 1) for data, labels in chunks)
    return {"train": zero_based(images.read_pickle_batches([raw / f for f in IMAGENET32_TRAIN], 32)),
            "valid": zero_based(images.read_pickle_batches([raw / IMAGENET32_VALID], 32))}


register(DatasetSpec(
    name="imagenet32", kind="images",
    summary="Downsampled ImageNet 32×32 (Chrabaszcz et al. 2017 pickle batches), 1.28M train + 50k valid, 3×32×32",
    raw=tuple(RawItem(f) for f in IMAGENET32_TRAIN + (IMAGENET32_VALID,)),
    manual="log in at image-net.org (Download > 'Downsampled ImageNet' 32x32), download Imagenet32_train.zip and "
           "Imagenet32_val.zip, and unzip both in the raw folder (giving Imagenet32_train/train_data_batch_1..10 "
           "and Imagenet32_val/val_data); note the WGAN-GP authors used the older PixelRNN 32x32 release "
           "(igul222/nn tflib/small_imagenet_32.py)",
    pack=pack_imagenet32, splits={"train": Split(("train",)), "valid": Split(("valid",))}, manual_download=True,
))

# --- text ---------------------------------------------------------------------------------

BILLION_WORD_URL = ("http://www.statmt.org/lm-benchmark/"
                    "1-billion-word-language-modeling-benchmark-r13output.tar.gz")

register(DatasetSpec(
    name="billion-word", kind="text",
    summary="One Billion Word benchmark, first 10M training lines in file order (WGAN-GP gan_language.py)",
    raw=(RawItem(text.BILLION_WORD_DIR),),
    archives=(Archive(BILLION_WORD_URL, "1-billion-word-language-modeling-benchmark-r13output.tar.gz",
                      text.BILLION_WORD_DIR),),
    manual=f"download {BILLION_WORD_URL} (1.7 GB) and unpack it in the raw folder",
    pack=lambda raw, workers: {"train": text.read_billion_word(raw / text.BILLION_WORD_DIR)},
    splits={"train": Split(("train",))}, default_limit=text.BILLION_WORD_LINES,
))

DEBIAN_FORTUNES = Path("/usr/share/games/fortunes")


def copy_debian_fortunes(raw: Path) -> None:
    if DEBIAN_FORTUNES.is_dir() and not (raw / "fortunes").exists():
        staging = raw / ".fortunes.partial"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        for path in text.fortune_files(DEBIAN_FORTUNES):
            shutil.copyfile(path, staging / path.name)
        staging.rename(raw / "fortunes")


register(DatasetSpec(
    name="fortunes", kind="text",
    summary="Debian fortunes (no ASCII art), one entry per line; test = the 10% whose sha1 mod 10 == 0",
    raw=(RawItem("fortunes"),),
    manual="`apt-get install fortunes` (files in /usr/share/games/fortunes/)",
    pack=lambda raw, workers: text.split_fortunes(raw / "fortunes"), copy_local=copy_debian_fortunes,
    splits={"train": Split(("train",)), "test": Split(("test",))},
))
