import json

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision import transforms

from replication.papercheck.fixtures import (MNIST_TEST, MNIST_TRAIN, read_stamp, write_celeba, write_cifar,
                                             write_imagenet32, write_lsun)
from replication.data import fetch, load_images, to_symmetric_range, to_unit_range
from replication.data.orders import python2_order
from replication.data.registry import celeba_splits
from replication.errors import ReplicationError


def test_mnist_splits(mnist_root):
    manifest = json.loads(fetch("mnist", root=mnist_root).read_text())
    assert manifest["raw"]["train-images-idx3-ubyte.gz"]["check"] == "published-md5"
    assert manifest["splits"] == {"train": 60_000, "test": 10_000, "wgangp-train": 50_000,
                                  "wgangp-valid": 10_000, "wae-train": 60_000, "wae-test": 10_000}

    train = load_images("mnist", "train", root=mnist_root)
    assert train.images.shape == (MNIST_TRAIN, 1, 28, 28) and train.images.dtype == torch.uint8
    assert train.labels.dtype == torch.int64 and train.labels[:12].tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]
    assert np.array_equal(read_stamp(load_images("mnist", "test", root=mnist_root).images),
                          np.arange(MNIST_TRAIN, MNIST_TRAIN + MNIST_TEST))
    # mnist.pkl.gz: first 50k / last 10k of the official training set
    assert np.array_equal(read_stamp(load_images("mnist", "wgangp-train", root=mnist_root).images), np.arange(50_000))
    assert np.array_equal(read_stamp(load_images("mnist", "wgangp-valid", root=mnist_root).images),
                          np.arange(50_000, 60_000))

    # WAE: the 70k concatenation shuffled as datahandler._load_mnist does it
    everything = np.arange(70_000, dtype=np.float64)[:, None]
    np.random.seed(123)
    np.random.shuffle(everything)
    np.random.seed()
    wae_train = load_images("mnist", "wae-train", root=mnist_root)
    wae_test = load_images("mnist", "wae-test", root=mnist_root)
    assert np.array_equal(read_stamp(wae_train.images), everything[:-10_000, 0])
    assert np.array_equal(read_stamp(wae_test.images), everything[-10_000:, 0])
    assert torch.equal(wae_test.labels, torch.from_numpy(read_stamp(wae_test.images) % 10))  # labels follow


def test_random_subset_is_seeded_and_drawn_from_the_split(mnist_root):
    fetch("mnist", root=mnist_root)
    train = load_images("mnist", "wgangp-train", root=mnist_root)
    subset = train.random_subset(1000, seed=7)
    again = train.random_subset(1000, seed=7)
    assert subset.images.shape == (1000, 1, 28, 28) and torch.equal(subset.images, again.images)
    stamps = read_stamp(subset.images)
    assert len(set(stamps)) == 1000 and stamps.max() < 50_000
    assert not torch.equal(subset.images, train.random_subset(1000, seed=8).images)
    assert torch.equal(subset.labels, torch.from_numpy(stamps % 10))


def test_scalings():
    x = torch.tensor([0, 1, 128, 255], dtype=torch.uint8)
    assert to_unit_range(x).tolist() == pytest.approx([0, 1 / 255, 128 / 255, 1])
    assert to_symmetric_range(x).tolist() == pytest.approx([-1, 2 * (1 / 255 - 0.5), 2 * (128 / 255 - 0.5), 1], abs=1e-6)
    assert to_symmetric_range(x).dtype == torch.float32 and x.dtype == torch.uint8


def test_cifar10(tmp_path, use_fixture):
    raw = tmp_path / "cifar10" / "raw"
    write_cifar(raw)
    use_fixture("cifar10", raw)
    fetch("cifar10", root=tmp_path)
    train = load_images("cifar10", "train", root=tmp_path)
    test = load_images("cifar10", "test", root=tmp_path)
    assert train.images.shape == (15, 3, 32, 32) and test.images.shape == (3, 3, 32, 32)
    assert train.labels.tolist() == [0] * 3 + [1] * 3 + [2] * 3 + [3] * 3 + [4] * 3
    # channel-major rows: channel c of batch b is 10*b + c everywhere
    assert train.images[3, :, 5, 7].tolist() == [10, 11, 12] and test.images[0, :, 0, 0].tolist() == [50, 51, 52]


def test_celeba_crop_resize_and_wae_split(tmp_path, use_fixture):
    raw = tmp_path / "celeba" / "raw"
    write_celeba(raw)
    use_fixture("celeba", raw, splits=celeba_splits(test_size=3))
    manifest = json.loads(fetch("celeba", root=tmp_path).read_text())
    assert manifest["raw"]["img_align_celeba"]["check"] == "lock-sha256"
    assert manifest["splits"] == {"train": 20, "valid": 5, "test": 5, "wae-train": 27, "wae-test": 3}

    train = load_images("celeba", "train", root=tmp_path)
    assert train.images.shape == (20, 3, 64, 64) and train.labels is None
    # the 140×140 box is grey level 8*i: no red from outside the box survives the crop
    # (the outermost output pixels are left out: JPEG chroma subsampling smears the edge)
    grey = train.images[:, :, 4:-4, 4:-4].float()
    assert (grey[:, 0] - grey[:, 1]).abs().max() < 12
    assert grey[5].mean().item() == pytest.approx(40, abs=2)

    # WAE: Python 2 shuffle of the 30 sorted names, last 3 held out
    wae_test = load_images("celeba", "wae-test", root=tmp_path)
    expected = python2_order(30, 123)[-3:]
    assert wae_test.images[:, :, 4:-4, 4:-4].float().mean(dim=(1, 2, 3)).tolist() == pytest.approx(
        [8.0 * i for i in expected], abs=2)


def test_celeba_rejects_unaligned_images(tmp_path, use_fixture):
    raw = tmp_path / "celeba" / "raw"
    write_celeba(raw, n=3, parts=(1, 1, 1))
    Image.new("RGB", (100, 100)).save(raw / "img_align_celeba" / "000002.jpg")
    use_fixture("celeba", raw)
    with pytest.raises(ReplicationError, match="000002.jpg is 100×100"):
        fetch("celeba", root=tmp_path)


def test_imagenet32_with_limit(tmp_path, use_fixture):
    raw = tmp_path / "imagenet32" / "raw"
    write_imagenet32(raw)
    use_fixture("imagenet32", raw)
    fetch("imagenet32", root=tmp_path)
    train = load_images("imagenet32", "train", root=tmp_path)
    assert train.images.shape == (20, 3, 32, 32)
    assert train.images[:, 0, 0, 0].tolist() == list(range(20)) and train.labels[:4].tolist() == [0, 1, 0, 1]
    assert len(load_images("imagenet32", "valid", root=tmp_path)) == 3

    manifest = json.loads(fetch("imagenet32", root=tmp_path, limit=5).read_text())  # a new limit repacks
    assert manifest["limit"] == 5 and manifest["splits"] == {"train": 5, "valid": 3}
    assert load_images("imagenet32", "train", root=tmp_path).images[:, 0, 0, 0].tolist() == [0, 1, 2, 3, 4]


def test_lsun_lmdb(tmp_path, use_fixture):
    raw = tmp_path / "lsun-bedroom" / "raw"
    originals = write_lsun(raw, n=4)  # LSUN's lmdb values are WebP; lmdb is a test dependency
    use_fixture("lsun-bedroom", raw)
    fetch("lsun-bedroom", root=tmp_path, workers=2)
    train = load_images("lsun-bedroom", "train", root=tmp_path)
    assert train.images.shape == (4, 3, 64, 64)
    assert train.images[:, 2, 32, 32].tolist() == [255] * 4  # the centre survives the centre crop
    wgan_transform = transforms.Compose([transforms.Resize(64), transforms.CenterCrop(64), transforms.PILToTensor()])
    assert torch.equal(train.images, torch.stack([wgan_transform(image) for image in originals]))
