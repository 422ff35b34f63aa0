"""Reproducibility harness for WGAN (Arjovsky et al. 2017), WGAN-GP (Gulrajani et al. 2017)
and WAE (Tolstikhin et al. 2018)."""

__version__ = "0.1.0"
