# Data sets: the only rule that touches the network. It runs where Snakemake itself runs
# (localrules), so on a cluster it fetches on the login node, which has network access.
# DATA_ROOT comes from common.smk. `replicate fetch NAME` prints the manual steps for
# CelebA and ImageNet 32, which need a download by hand first.

import re

from replication.data import DATASETS

localrules: fetch


rule fetch:
    output:
        f"{DATA_ROOT}/{{dataset}}/manifest.json",
    wildcard_constraints:
        dataset="|".join(re.escape(name) for name in DATASETS),
    shell:
        "{REPLICATE} fetch {wildcards.dataset} --root {DATA_ROOT}"
