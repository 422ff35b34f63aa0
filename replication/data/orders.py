"""Permutations that re-create the papers' data splits. Each returns an index array: item
``k`` of the shuffled data set is item ``order[k]`` of the unshuffled one."""

from __future__ import annotations

import random

import numpy as np


def numpy_legacy_order(n: int, seed: int) -> np.ndarray:
    """``np.random.seed(seed); np.random.shuffle(X)`` on an ``n``-row array X.

    The legacy shuffle draws the same swap indices for a 1-D and an N-D array, so shuffling
    indices reproduces shuffling the images (tolstikhin/wae datahandler.py _load_mnist [C];
    tflib/mnist.py mnist_generator [C])."""
    order = np.arange(n)
    np.random.RandomState(seed).shuffle(order)
    return order


def python2_order(n: int, seed: int) -> np.ndarray:
    """``random.seed(seed); random.shuffle(x)`` as Python 2.7 ran it on an ``n``-item list.

    Python 3's ``random.shuffle`` draws indices with ``_randbelow``; Python 2 used
    ``int(random() * (i + 1))``. Integer seeding and ``random()`` are the same in both, so
    Fisher-Yates with the Python 2 index rule reproduces the old order (tolstikhin/wae
    datahandler.py _load_celebA [C]; that both Pythons seed alike is our reading of CPython [I])."""
    rng = random.Random(seed)
    order = list(range(n))
    for i in reversed(range(1, n)):
        j = int(rng.random() * (i + 1))
        order[i], order[j] = order[j], order[i]
    return np.asarray(order, dtype=np.int64)
