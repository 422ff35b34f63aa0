"""The network registry (issue #9): parameter counts of the official code's networks [C], WAE
geometry (tolstikhin/wae models.py [C]), shapes/ranges/backward of every builder at tiny width, errors."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from replication.cli import main
from replication.errors import ReplicationError
from replication.nets import MLP, NETWORKS, build, count_parameters, list_networks
from replication.nets.layers import Conv2dSame, ConvTranspose2dSame, _same_pads

B = 3


# --- parameter counts of the official code's networks [C], counted layer by layer --------------

PAPER_COUNTS = [
    ({"arch": "wgan_dcgan_g"}, 3_576_704),
    ({"arch": "wgan_dcgan_d"}, 2_765_568),
    ({"arch": "wgan_mlp_g"}, 6_880_768),
    ({"arch": "wgan_mlp_d"}, 6_817_793),
    ({"arch": "wgan_dcgan_g_constant"}, 302_080),
    ({"arch": "wgangp_cifar_g"}, 5_179_907),
    ({"arch": "wgangp_cifar_d"}, 4_114_689),
    ({"arch": "wgangp_cifar_d", "norm": "batch"}, 4_116_225),
    ({"arch": "resnet_cifar_g"}, 1_204_483),
    ({"arch": "resnet_cifar_g", "num_classes": 10}, 1_218_307),
    ({"arch": "resnet_cifar_d"}, 1_053_825),
    ({"arch": "resnet_cifar_d", "acgan": True}, 1_055_115),
    ({"arch": "dcgan64_g"}, 5_364_739),
    ({"arch": "dcgan64_d", "norm": "layer"}, 4_316_545),
    ({"arch": "crippled_g"}, 444_291),
    ({"arch": "wgangp_fc_g"}, 7_157_760),
    ({"arch": "fc_g"}, 7_157_760),
]


@pytest.mark.parametrize("spec,expected", PAPER_COUNTS, ids=lambda v: v["arch"] if isinstance(v, dict) else "")
def test_paper_parameter_counts(spec, expected):
    assert count_parameters(spec) == expected


def test_meta_count_matches_a_real_build():
    spec = {"arch": "table1_d", "width": 8, "depth": 8}
    assert count_parameters(spec) == sum(p.numel() for p in build(spec).parameters())


# --- WAE geometry (TF 'SAME') -----------------------------------------------------------------

def _sizes(model: nn.Module, kind: type, x) -> list[int]:
    sizes: list[int] = []
    hooks = [m.register_forward_hook(lambda _m, _i, out: sizes.append(out.shape[-1]))
             for m in model.modules() if isinstance(m, kind)]
    model(x)
    for h in hooks:
        h.remove()
    return sizes


@pytest.mark.parametrize("dataset,shape,enc_sizes,dec_sizes,latent", [
    ("mnist", (1, 28, 28), [14, 7, 4, 2], [14, 28, 28], 8),
    ("celeba", (3, 64, 64), [32, 16, 8, 4], [16, 32, 64, 64], 64),
])
def test_wae_feature_maps(dataset, shape, enc_sizes, dec_sizes, latent):
    enc = build({"arch": "wae_encoder", "dataset": dataset, "width": 16})
    assert _sizes(enc, Conv2dSame, torch.randn(2, *shape)) == enc_sizes
    dec = build({"arch": "wae_decoder", "dataset": dataset, "width": 16})
    first = dec[1].shape[-1]  # Reshape after the FC
    assert first == {"mnist": 7, "celeba": 8}[dataset]
    assert _sizes(dec, ConvTranspose2dSame, torch.randn(2, latent)) == dec_sizes
    assert dec(torch.randn(2, latent)).shape == (2, *shape)


def test_tf_same_pads():
    assert _same_pads(7, 4, 2) == (1, 2)  # WAE MNIST 7 -> 4
    assert _same_pads(28, 4, 2) == (1, 1)
    assert _same_pads(64, 5, 2) == (1, 2)
    assert _same_pads(4, 4, 2) == (1, 1)


@pytest.mark.parametrize("kernel,stride,n", [(4, 2, 7), (5, 2, 8), (4, 1, 7), (5, 1, 6)])
def test_same_deconv_is_the_transpose_of_the_same_conv(kernel, stride, n):
    """TF's conv2d_transpose is the gradient of conv2d: <conv(x), y> == <x, deconv(y)>."""
    torch.manual_seed(0)
    conv = Conv2dSame(2, 3, kernel, stride, bias=False)
    deconv = ConvTranspose2dSame(3, 2, kernel, stride, bias=False)
    deconv.weight.data.copy_(conv.weight.data)
    x, y = torch.randn(1, 2, stride * n, stride * n, dtype=torch.float64), torch.randn(1, 3, n, n, dtype=torch.float64)
    conv, deconv = conv.double(), deconv.double()
    assert deconv(y).shape == x.shape
    assert torch.allclose((conv(x) * y).sum(), (x * deconv(y)).sum())


# --- every builder: shapes, ranges, forward + backward at two tiny widths ---------------------

def image(c, r):
    return lambda: torch.randn(B, c, r, r)


def noise(d):
    return lambda: torch.randn(B, d)


# arch -> (tiny params, input, expected output shape, range check)
CASES = {
    "parallel_line_g": ({"theta0": 0.5}, lambda: torch.rand(B, 1), (B, 2), None),
    "identity": ({}, noise(2), (B, 2), None),
    "mlp": ({"in_features": 5, "out_features": 2, "depth": 2}, noise(5), (B, 2), None),
    "wgan_mlp_g": ({"nz": 6, "resolution": 16}, noise(6), (B, 3, 16, 16), None),
    "wgan_mlp_d": ({"resolution": 16}, image(3, 16), (B, 1), None),
    "wgangp_fc_g": ({"nz": 6, "resolution": 16}, noise(6), (B, 3, 16, 16), "tanh"),
    "fc_g": ({"nz": 6, "resolution": 8}, noise(6), (B, 3, 8, 8), "tanh"),
    "toy_g": ({"depth": 12}, noise(2), (B, 2), None),
    "toy_d": ({"depth": 12}, noise(2), (B, 1), None),
    "wgan_dcgan_g": ({"nz": 6, "resolution": 32, "n_extra_layers": 1}, noise(6), (B, 3, 32, 32), "tanh"),
    "wgan_dcgan_d": ({"resolution": 64, "n_extra_layers": 1}, image(3, 64), (B, 1), None),
    "wgan_dcgan_g_constant": ({"nz": 6}, noise(6), (B, 3, 64, 64), "tanh"),
    "wgangp_cifar_g": ({"nz": 6}, noise(6), (B, 3, 32, 32), "tanh"),
    "wgangp_cifar_d": ({"norm": "batch"}, image(3, 32), (B, 1), None),
    "dcgan64_g": ({"nz": 6, "activation": "tanh"}, noise(6), (B, 3, 64, 64), "tanh"),
    "dcgan64_d": ({"activation": "tanh"}, image(3, 64), (B, 1), None),
    "crippled_g": ({"nz": 6}, noise(6), (B, 3, 64, 64), "tanh"),
    "multiplicative_g": ({"nz": 6}, noise(6), (B, 3, 64, 64), "tanh"),
    "multiplicative_d": ({}, image(3, 64), (B, 1), None),
    "resnet101_g": ({"nz": 6}, noise(6), (B, 3, 64, 64), "tanh"),
    "resnet101_d": ({}, image(3, 64), (B, 1), None),
    "table1_g": ({"nz": 6, "depth": 8, "nonlinearity": "softplus_elu", "norm": "layer"}, noise(6), (B, 3, 32, 32), "tanh"),
    "table1_d": ({"depth": 12, "nonlinearity": "tanh", "norm": "batch"}, image(3, 32), (B, 1), None),
    "wgangp_mnist_g": ({"nz": 6, "batch_norm": True}, noise(6), (B, 1, 28, 28), "sigmoid"),
    "wgangp_mnist_d": ({"batch_norm": True}, image(1, 28), (B, 1), None),
    "resnet_cifar_g": ({"nz": 6, "num_classes": 10}, noise(6), (B, 3, 32, 32), "tanh"),
    "resnet_cifar_d": ({"acgan": True}, image(3, 32), (B, 1), None),
    "language_g": ({"vocab": 7, "seq_len": 8, "nz": 6, "blocks": 2}, noise(6), (B, 8, 7), "softmax"),
    "language_d": ({"vocab": 7, "seq_len": 8, "blocks": 2}, lambda: torch.rand(B, 8, 7), (B, 1), None),
    "wae_encoder": ({"dataset": "mnist", "gaussian": True}, image(1, 28), (B, 8), None),
    "wae_decoder": ({"dataset": "celeba", "latent": 5}, noise(5), (B, 3, 64, 64), "tanh"),
    "wae_adversary": ({"latent": 5, "p_trick": True, "sigma2": 2.0}, noise(5), (B, 1), None),
}


def test_every_registered_network_has_a_shape_case():
    assert set(CASES) == set(NETWORKS)


def _has_width(arch: str) -> bool:
    return any(p.name == "width" for p in NETWORKS[arch].parameters())


@pytest.mark.parametrize("width", [8, 16])
@pytest.mark.parametrize("arch", sorted(CASES))
def test_shapes_ranges_and_backward(arch, width):
    params, make_input, shape, check = CASES[arch]
    if not _has_width(arch):
        if width != 8:
            pytest.skip("no width parameter")
    else:
        params = {**params, "width": width}
    torch.manual_seed(0)
    model = build({"arch": arch, **params})
    x = make_input()
    if arch == "identity":
        x.requires_grad_(True)
    out = model(x, return_logits=True) if params.get("acgan") else model(x)
    if isinstance(out, tuple):  # Gaussian encoder (mu, logvar); ACGAN critic (out, class logits)
        assert out[1].shape == (shape if arch == "wae_encoder" else (B, 10))
        loss = out[0].sum() + out[1].sum()
        out = out[0]
    else:
        loss = out.square().mean()
    assert out.shape == shape
    assert torch.isfinite(out).all()
    if check == "tanh":
        assert out.min() >= -1 and out.max() <= 1
    elif check == "sigmoid":
        assert out.min() >= 0 and out.max() <= 1
    elif check == "softmax":
        assert out.min() >= 0 and torch.allclose(out.sum(-1), torch.ones(shape[:-1]))
    loss.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None, name
        assert torch.isfinite(p.grad).all(), name
    if arch == "identity":
        assert x.grad is not None


def test_conditional_generator_and_acgan_critic():
    torch.manual_seed(0)
    g = build({"arch": "resnet_cifar_g", "width": 8, "num_classes": 10, "nz": 6})
    z, y = torch.randn(4, 6), torch.tensor([0, 1, 2, 3])
    assert g(z, y).shape == (4, 3, 32, 32)
    assert g(z).shape == (4, 3, 32, 32)  # labels drawn uniformly when none are given
    d = build({"arch": "resnet_cifar_d", "width": 8, "acgan": True})
    out, logits = d(g(z, y), return_logits=True)
    assert out.shape == (4, 1) and logits.shape == (4, 10)
    plain = build({"arch": "resnet_cifar_d", "width": 8})
    assert plain(g(z, y)).shape == (4, 1)
    with pytest.raises(ValueError):
        plain(g(z, y), return_logits=True)
    uncond = build({"arch": "resnet_cifar_g", "width": 8, "nz": 6})
    assert uncond(z, y).shape == (4, 3, 32, 32)  # labels ignored


def test_critics_return_one_value_per_sample():
    """No batch mean inside the critic: each output depends only on its own sample."""
    d = build({"arch": "dcgan64_d", "width": 8})
    x = torch.randn(4, 3, 64, 64)
    assert torch.allclose(d(x)[:2], d(x[:2]), atol=1e-5)


def test_wae_p_trick_adds_the_prior_log_density():
    torch.manual_seed(0)
    plain = build({"arch": "wae_adversary", "latent": 3, "width": 8})
    torch.manual_seed(0)
    trick = build({"arch": "wae_adversary", "latent": 3, "width": 8, "p_trick": True, "sigma2": 2.0})
    z = torch.randn(5, 3)
    log_p = -(z * z).sum(1, keepdim=True) / 4 - 0.5 * math.log(2 * math.pi) - 1.5 * math.log(2.0)
    assert torch.allclose(trick(z), plain(z) + log_p, atol=1e-6)


def test_wae_decoder_logits_for_the_vae():
    torch.manual_seed(0)
    probs = build({"arch": "wae_decoder", "dataset": "mnist", "width": 8})
    torch.manual_seed(0)
    logits = build({"arch": "wae_decoder", "dataset": "mnist", "width": 8, "logits": True})
    z = torch.randn(2, 8)
    assert torch.allclose(torch.sigmoid(logits(z)), probs(z), atol=1e-6)


def test_parallel_line_generator():
    g = build({"arch": "parallel_line_g", "theta0": 0.25})
    assert g.theta.item() == 0.25
    assert torch.equal(g(torch.tensor([[0.5]])), torch.tensor([[0.25, 0.5]]))


# --- initialisations --------------------------------------------------------------------------

def test_initialisations():
    torch.manual_seed(0)
    d = build({"arch": "wgangp_cifar_d", "width": 16})  # tflib he: fan_in 3*25, fan_out 16*25/4
    bound = math.sqrt(3) * math.sqrt(4 / (75 + 100))
    w = d[0].weight.abs().max().item()
    assert 0.9 * bound < w <= bound and d[0].bias.abs().max() == 0
    g = build({"arch": "dcgan64_g", "width": 16})  # uniform with std 0.02
    assert 0.03 < g[0].weight.abs().max() <= math.sqrt(3) * 0.02
    enc = build({"arch": "wae_encoder", "dataset": "mnist", "width": 16})  # truncated at 2 std
    conv = enc.features[0].weight
    assert conv.abs().max() <= 2 * 0.0099999 and 0.008 < conv.std() < 0.0099999
    wg = build({"arch": "wgan_dcgan_g", "width": 16})  # N(0, 0.02), BN gamma N(1, 0.02)
    assert abs(wg[1].weight.std().item() - 0.02) < 0.002
    assert abs(wg[2].weight.mean().item() - 1) < 0.02


# --- the MLP builder keeps MLP's weights ------------------------------------------------------

@pytest.mark.parametrize("init", ["torch", "tflib"])
def test_mlp_builder_is_bit_identical_to_mlp(init):
    torch.manual_seed(7)
    ref = MLP(2, 1, 32, 3, init=init)
    torch.manual_seed(7)
    built = build({"arch": "mlp", "in_features": 2, "out_features": 1, "width": 32, "depth": 3, "init": init})
    assert ref.state_dict().keys() == built.state_dict().keys()
    assert all(torch.equal(a, b) for a, b in zip(ref.state_dict().values(), built.state_dict().values()))


@pytest.mark.parametrize("arch", ["toy_d", "toy_g", "mlp"])
def test_init_bound_rescales_into_the_range(arch):
    """init_bound: every Linear parameter inside +-bound, uniform layers stay uniform on +-bound;
    without it the build is unchanged (bit-identical), and layers already inside are untouched."""
    spec = {"arch": arch, "width": 64, "depth": 4, "init": "tflib",
            **({"in_features": 2, "out_features": 1} if arch == "mlp" else {})}
    torch.manual_seed(3)
    ref = build(spec)
    torch.manual_seed(3)
    bounded = build({**spec, "init_bound": 0.01})
    torch.manual_seed(3)
    assert all(torch.equal(a, b) for a, b in zip(ref.state_dict().values(), build(spec).state_dict().values()))
    for (name, a), b in zip(ref.state_dict().items(), bounded.state_dict().values()):
        assert b.abs().max() <= 0.01 + 1e-12, name
        if a.abs().max() > 0.01:  # rescaled: same shape of distribution, range exactly +-0.01
            assert torch.allclose(b, a * (0.01 / a.abs().max()))
            assert b.abs().max().item() == pytest.approx(0.01)
            if name.endswith("weight") and b.numel() > 1000:  # uniform: ~1% of weights within 1% of the bound
                assert 0.003 < (b.abs() >= 0.0099).double().mean() < 0.03
        else:
            assert torch.equal(a, b)  # tflib biases (zeros) and small layers untouched
    torch.manual_seed(3)
    loose = build({**spec, "init_bound": 100.0})
    assert all(torch.equal(a, b) for a, b in zip(ref.state_dict().values(), loose.state_dict().values()))
    with pytest.raises(ReplicationError, match="init_bound"):
        build({**spec, "init_bound": 0.0})


# --- errors: one line each --------------------------------------------------------------------

@pytest.mark.parametrize("spec,words", [
    ({"arch": "dcgan_64_g"}, ["unknown network arch", "dcgan64_g", "wae_encoder"]),
    ({"width": 8}, ["'arch'"]),
    ({"arch": "dcgan64_g", "widht": 8}, ["unknown parameter 'widht'", "width", "nz"]),
    ({"arch": "wae_encoder"}, ["missing", "dataset"]),
    ({"arch": "language_d"}, ["missing", "vocab"]),
    ({"arch": "dcgan64_d", "norm": "group"}, ["dcgan64_d", "group", "layer"]),
    ({"arch": "wgan_dcgan_g", "resolution": 28}, ["28", "16"]),
    ({"arch": "table1_g", "depth": 3}, ["depth"]),
    ({"arch": "wae_decoder", "dataset": "svhn"}, ["svhn", "mnist"]),
    ({"arch": "toy_d", "init": "xavier"}, ["xavier"]),
])
def test_errors_are_one_line(spec, words):
    with pytest.raises(ReplicationError) as info:
        build(spec)
    msg = str(info.value)
    assert "\n" not in msg
    for word in words:
        assert word in msg


# --- listing ----------------------------------------------------------------------------------

def test_list_networks_and_cli(capsys):
    rows = list_networks()
    assert {r["name"] for r in rows} == set(NETWORKS)
    by_name = {r["name"]: r for r in rows}
    assert by_name["dcgan64_g"]["params"] == 5_364_739
    assert all(r["doc"] and "\n" not in r["doc"] for r in rows)
    assert main(["list", "--networks"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == len(NETWORKS)
    assert any(line.split()[:3] == ["dcgan64_g", "dcgan", "5,364,739"] for line in lines)
