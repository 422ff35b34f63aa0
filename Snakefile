# Rebuild every figure and table of WGAN, WGAN-GP and WAE:
#     snakemake --cores 8 reports/all                         # scale=paper (default)
#     snakemake --cores 2 reports/all --config scale=small    # CPU, offline data
#     snakemake --cores 8 reports/all --config 'experiments=[wgan_distances]'
# All logic lives in the `replication` package; rules only call `replicate ...`.

from snakemake.utils import min_version

min_version("9.0")


configfile: "workflow/config/config.yaml"


# One browsable report of the study: snakemake --report reports/report.html --config scale=S
report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/experiments.smk"
include: "workflow/rules/reports.smk"


rule all:
    default_target: True
    input:
        "reports/all",
