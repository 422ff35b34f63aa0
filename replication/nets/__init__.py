"""Network builders: few parametrised families shared by paper architectures and sweeps."""

from replication.nets.mlp import MLP

__all__ = ["MLP"]
