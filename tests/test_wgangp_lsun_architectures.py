"""WGAN-GP Figure 2: the seven pairs at the paper's parameter counts, each method's critic
normalization, the pairs at 32x32 grey with their depth kept (the registry's ``resolution`` /
``channels``), the claims' logic (the baseline row gates the other methods' failures) and one
clear line on bad input (a checkpoint of another architecture included), and a killed run that
resumes bit-identically."""

import pandas as pd
import pytest
import torch
import yaml
from test_wgan_stability import _proxy, fashion_root, prepared  # noqa: F401 (the smoke proxy, built once)
from torch import nn

from replication import config as cfg
from replication.errors import ReplicationError
from replication.runs import STAMP, execute_run
from replication.experiments.wgangp_lsun_architectures import judge, run_setup
from replication.recipes.outcomes import score_table
from replication.nets import build, count_parameters
from replication.nets.dcgan import BottleneckBlock

EXP = "wgangp_lsun_architectures"


def _weight_layers(net: nn.Module) -> int:
    return sum(isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)) for m in net.modules())


def test_paper_pairs_match_the_published_counts_and_normalizations():
    s = cfg.resolve(EXP, "paper")
    assert list(s.grid.architectures) == list(s.architectures) and len(s.architectures) == 7
    assert sorted(s.grid.methods) == sorted(s.methods)
    gp = {a: run_setup(s, "wgangp", a, 3)[1] for a in s.architectures}
    assert count_parameters(gp["dcgan"]["generator"]) == 5_364_739      # gan_64x64.py [C]
    assert count_parameters(gp["dcgan"]["critic"]) == 4_316_545         # with layer norm
    assert count_parameters(gp["nobn"]["generator"]) == 444_291
    assert count_parameters(gp["mlp"]["generator"]) == 7_157_760
    for method, norm in (("wgangp", nn.GroupNorm), ("wgan", nn.BatchNorm2d), ("dcgan", nn.BatchNorm2d),
                         ("lsgan", nn.BatchNorm2d)):
        for architecture in ("dcgan", "tanh", "gated", "resnet101"):
            critic = build(run_setup(s, method, architecture, 3)[1]["critic"])
            assert any(isinstance(m, norm) for m in critic.modules()), (method, architecture)
        nonorm = run_setup(s, method, "nonorm", 3)[1]
        for spec in nonorm.values():  # no normalization in either network, whatever the method
            assert not any(isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)) for m in build(spec).modules())
    for spec in gp["resnet101"].values():  # 33 bottleneck blocks x 3 convs + input and output layers
        net = build(spec)
        shortcuts = sum(_weight_layers(m.shortcut) for m in net.modules() if isinstance(m, BottleneckBlock))
        assert _weight_layers(net) - shortcuts == 101
    training = run_setup(s, "wgan", "dcgan", 3)[0]
    assert (training.lipschitz.method, training.lipschitz.clip_value, training.lipschitz.timing) == ("clip", 0.01, "after")
    assert training.iterations == 200_000 and training.batch_size == 64


@pytest.mark.parametrize("scale", ["smoke", "small"])
def test_pairs_at_reduced_scales_keep_their_depth_at_32px_grey(scale):
    s, paper = cfg.resolve(EXP, scale), cfg.resolve(EXP, "paper")
    for architecture in s.architectures:
        _, nets = run_setup(s, "wgangp", architecture, 1)
        pair = {role: build(spec) for role, spec in nets.items()}
        fake = pair["generator"](torch.randn(4, s.nz))
        assert fake.shape == (4, 1, 32, 32)
        assert pair["critic"](fake).shape == (4, 1)
        _, full = run_setup(paper, "wgangp", architecture, 3)
        for role in ("generator", "critic"):  # depth and type unchanged, only width and shape
            assert _weight_layers(pair[role]) == _weight_layers(build(full[role])), (architecture, role)


def test_networks_reject_a_resolution_they_cannot_reach_in_four_doublings():
    with pytest.raises(ReplicationError, match="multiple of 16"):
        build({"arch": "dcgan64_g", "resolution": 40})


def _table(outcomes: dict) -> pd.DataFrame:
    rows = [{"run": f"{m}_{a}_s0", "method": m, "architecture": a, "seed": 0, "fid": 1.0, "outcome": o}
            for (m, a), o in outcomes.items()]
    return pd.DataFrame(rows)


METHODS, ARCHS = ("dcgan", "lsgan", "wgan", "wgangp"), ("dcgan", "nobn", "mlp")
PAPER = {**{(m, a): "works" for m in METHODS for a in ARCHS},
         ("dcgan", "nobn"): "fails", ("lsgan", "mlp"): "collapses", ("wgan", "mlp"): "fails"}
KEYS = ["baseline_all_methods", "wgangp_trains_all", "others_fail_somewhere"]


def _values(outcomes):
    out = judge(_table(outcomes), "proxy measures", "files")
    return [out[k]["value"] for k in KEYS]


@pytest.mark.parametrize("change, expected", [
    ({}, [True, True, True]),
    ({("wgangp", "mlp"): "poor"}, [True, False, True]),                 # WGAN-GP must work in every row
    ({("wgan", "mlp"): "poor"}, [True, True, False]),                   # poor is not failure
    ({("lsgan", "mlp"): "works"}, [True, True, False]),                 # LSGAN then trains every row
    ({("lsgan", "dcgan"): "fails"}, [False, True, True]),               # a control that trained but failed: judged
    ({("wgangp", "dcgan"): "collapses"}, [False, False, True]),
])
def test_claims_follow_the_cells(change, expected):
    assert _values({**PAPER, **change}) == expected


def test_score_table_is_laid_out_as_the_figure():
    grid = score_table(_table(PAPER), "outcome")
    assert list(grid.index) == list(ARCHS) and list(grid.columns) == list(METHODS)
    assert grid.loc["nobn", "dcgan"] == "fails"


def test_unknown_method_or_architecture_is_one_line():
    s = cfg.resolve(EXP, "smoke")
    for method, architecture in (("began", "dcgan"), ("wgangp", "vgg")):
        with pytest.raises(ReplicationError) as err:
            run_setup(s, method, architecture, 1)
        assert "\n" not in str(err.value) and "choose one of" in str(err.value)


def _train(results, deltas_path, block: dict, run: str = "wgangp_nobn_s0"):
    deltas_path.write_text(yaml.safe_dump({EXP: block} if block else {}))
    execute_run(EXP, run, "smoke", "cpu", 1, results, deltas_path)
    return results / "smoke" / EXP / run


def test_a_killed_run_resumes_bit_identically(fashion_root, prepared, tmp_path):
    """Train to the first checkpoint (a run stopped there), resume to the end, and compare with
    an uninterrupted run: the same final weights and evaluation rows (WGAN-GP, layer-norm critic)."""
    from replication.io import load_torch

    done = {}
    for name, stops in (("whole", [6]), ("resumed", [3, 6])):  # checkpoint and evaluation every 3 at smoke
        results = tmp_path / name
        _proxy(results, prepared)
        for stop in stops:
            run = _train(results, tmp_path / f"{name}.yaml", {"training": {"iterations": stop}})
        done[name] = (load_torch(run / "final" / "generator.pt")["state_dict"], (run / "evaluation.csv").read_text())
    (w1, e1), (w2, e2) = done["whole"], done["resumed"]
    assert e1 == e2 and len(e1.splitlines()) == 4  # header + steps 0, 3, 6
    assert all(torch.equal(w1[k], w2[k]) for k in w1)


def test_a_checkpoint_of_another_width_is_one_line(fashion_root, prepared, tmp_path):
    """A changed width is a changed setting: the run starts over (its old state set aside). A
    state without a settings stamp (written before stamps) is resumed, and a checkpoint of other
    networks is then refused in one line."""
    results = tmp_path / "results"
    _proxy(results, prepared)
    state = results / ".state/smoke/wgangp_lsun_architectures/wgangp_nobn_s0"
    narrow = {"training": {"iterations": 1, "checkpoint_every": 1}}
    wider = {"training": {"iterations": 2}, "architectures": {"nobn": {"generator": {"width": 8}}}}
    _train(results, tmp_path / "a.yaml", narrow)
    _train(results, tmp_path / "b.yaml", wider)
    assert (state.parent / f"{state.name}.stale").is_dir()
    _train(results, tmp_path / "a.yaml", narrow)  # the stamped wider state is set aside in turn
    (state / STAMP).unlink()
    with pytest.raises(ReplicationError, match="does not fit this run's networks") as err:
        _train(results, tmp_path / "b.yaml", wider)
    assert "\n" not in str(err.value)
