"""Network builders: few parametrised families shared by paper architectures and sweeps."""

from replication.nets.mlp import MLP, linear_output_gradient_norms

__all__ = ["MLP", "linear_output_gradient_norms"]
