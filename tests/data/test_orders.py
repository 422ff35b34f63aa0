import random

import numpy as np

from replication.data.orders import numpy_legacy_order, python2_order


def test_numpy_order_matches_wae_shuffle_of_the_image_array():
    """WAE shuffles the 4-D image array in place after np.random.seed(123)."""
    images = np.arange(500 * 2 * 2 * 1, dtype=np.float64).reshape(500, 2, 2, 1)
    np.random.seed(123)
    np.random.shuffle(images)
    np.random.seed()
    order = numpy_legacy_order(500, 123)
    assert np.array_equal(images[:, 0, 0, 0] / 4, order)


def test_python2_shuffle_known_case():
    # Integer seeding is the same in Python 2.7 and 3: random.seed(123); random.random()
    # gives 0.052363598850944326, then 0.08718667752263232. Python 2's shuffle of [0, 1, 2]:
    # i=2: j = int(0.0524 * 3) = 0 -> [2, 1, 0]; i=1: j = int(0.0872 * 2) = 0 -> [1, 2, 0].
    rng = random.Random(123)
    assert rng.random() == 0.052363598850944326
    assert rng.random() == 0.08718667752263232
    assert python2_order(3, 123).tolist() == [1, 2, 0]


def test_python2_shuffle_differs_from_python3_and_is_a_permutation():
    order = python2_order(1000, 123)
    assert sorted(order.tolist()) == list(range(1000))
    py3 = list(range(1000))
    random.Random(123).shuffle(py3)
    assert order.tolist() != py3  # the emulation matters
