"""The benchmark script (benchmarks/bench.py): its official-style input pipeline and a quick run.

The speed figures themselves are measured by ``make bench``, never asserted here.
"""

import csv
import io
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import bench  # noqa: E402


def test_lsun_stand_ins_are_webp_photographs_of_lsun_size():
    encoded = bench.synthetic_lsun_webp(3, seed=0)
    with Image.open(io.BytesIO(encoded[0])) as image:
        assert image.format == "WEBP" and image.size == bench.LSUN_SIZE
        pixels = np.asarray(image.convert("RGB"), dtype=np.float64)
    assert pixels.std() > 20  # not a flat image that would decode for free
    assert encoded[0] != encoded[1]


@pytest.mark.parametrize("size", ["paper", "small"])
def test_official_input_is_main_py_transforms(size):
    """Each item: decode (or Image.fromarray), shorter side to the resolution, centre crop,
    [-1, 1]; the batch drawn without replacement within an epoch."""
    step = bench.STEPS["wgan_dcgan64"][size]
    c, h, w = step.shape
    pipeline = bench.OfficialInput(step, 128, torch.device("cpu"), seed=0)
    batch = pipeline.next()
    assert batch.shape == (64, c, h, w) and batch.dtype == torch.float32
    assert -1.0 <= batch.min() < -0.5 and 0.5 < batch.max() <= 1.0
    item = pipeline.dataset.items[int(pipeline.order[0])]
    image = Image.open(io.BytesIO(item)).convert("RGB") if c == 3 else Image.fromarray(item, mode="L")
    short = min(image.size)
    resized = image.resize((int(image.size[0] * h / short), int(image.size[1] * h / short)), Image.BILINEAR)
    left, top = int(round((resized.size[0] - w) / 2)), int(round((resized.size[1] - h) / 2))
    expected = np.asarray(resized.crop((left, top, left + w, top + h)), dtype=np.float32).reshape(h, w, c)
    expected = torch.from_numpy(expected).permute(2, 0, 1) / 127.5 - 1
    assert torch.allclose(batch[0], expected, atol=2 / 255 + 1e-6)
    second = pipeline.next()
    assert not torch.equal(batch, second)


def test_quick_run_writes_tables_with_both_baselines(tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "RESULTS", tmp_path)
    assert bench.main(["--quick", "--steps", "wgan_dcgan64,gan_cifar", "--numerics-iterations", "0",
                       "--configs", "engine", "--rounds", "1"]) == 0
    (table,) = tmp_path.glob("*_quick.csv")
    rows = list(csv.DictReader(table.open()))
    configs = [(r["step"], r["config"]) for r in rows]
    assert configs == [("wgan_dcgan64", "baseline"), ("wgan_dcgan64", bench.BASELINE_IN_MEMORY),
                       ("wgan_dcgan64", "engine"), ("gan_cifar", "baseline"), ("gan_cifar", "engine")]
    for r in rows:
        assert float(r["gen_it_per_s"]) > 0 and float(r["gflop_per_it"]) > 0
    assert float(rows[0]["ratio_to_baseline"]) == 1.0
    # main.py's pipeline: drawing a batch is work the in-memory baseline does not do
    assert float(rows[0]["data_wait_share"]) > float(rows[1]["data_wait_share"])
    assert float(rows[0]["peak_fp32_gflop_s"]) > 0
