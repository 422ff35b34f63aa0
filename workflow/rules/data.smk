# Data sets: the only rule that touches the network. It runs where Snakemake itself runs
# (localrules), so on a cluster it fetches on the login node, which has network access.
# DATA_ROOT comes from common.smk. `replicate fetch NAME` prints the manual steps for
# CelebA and ImageNet 32, which need a download by hand first.

localrules: fetch


rule fetch:
    output:
        f"{DATA_ROOT}/{{dataset}}/manifest.json",
    wildcard_constraints:
        dataset="[a-z0-9-]+",  # `replicate fetch` names the known data sets if this one is not
    shell:
        "{REPLICATE} fetch {wildcards.dataset} --root {DATA_ROOT}"


rule datasets:
    """Every dataset the selected experiments read at this scale, and no other (DVC's `data` stage):
    a smoke or small build never fetches LSUN, CelebA, ImageNet 32 or Billion Word."""
    input:
        sorted({f"{DATA_ROOT}/{name}/manifest.json" for exp in SELECTED for name in cfg.datasets_of(exp, SCALE)}),
