"""Network builders: every network of the WGAN, WGAN-GP and WAE papers behind one registry.

    build({"arch": "dcgan64_d", "width": 64, "norm": "layer"})  -> nn.Module
    list_networks()                                             -> name, family, doc, params

Families (one module each): toy, mlp, dcgan, resnet, language, wae. Conventions: generators
take z (B, nz); conditional ones ``forward(z, y=None)``; critics return (B, 1); images are
N x C x H x W."""

from replication.nets import dcgan, language, resnet, toy, wae  # noqa: F401  (registration)
from replication.nets.mlp import MLP, linear_output_gradient_norms
from replication.nets.registry import NETWORKS, NetworkEntry, build, count_parameters, list_networks, register

__all__ = ["MLP", "NETWORKS", "NetworkEntry", "build", "count_parameters", "linear_output_gradient_norms",
           "list_networks", "register"]
