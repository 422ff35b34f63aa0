# Rebuild every figure and table of WGAN, WGAN-GP and WAE at the scale the target names:
#     snakemake --cores 8 reports/paper/all                   # the published settings (GPU)
#     snakemake --cores 2 reports/small/all                   # CPU, offline data
#     snakemake --cores 8 reports/paper/all --config 'experiments=[wgan_distances]'
# Without a target: reports/<config scale>/all. All logic lives in the `replication` package;
# rules only call `replicate ...`.

from snakemake.utils import min_version

min_version("9.0")


configfile: "workflow/config/config.yaml"


# One browsable report of the study: snakemake --report reports/S/report.html --config scale=S
report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/experiments.smk"
include: "workflow/rules/reports.smk"


# At paper, before any job: every manual download the build's experiments need, at once.
onstart:
    paper_preflight()


rule all:
    default_target: True
    input:
        f"reports/{SCALE}/all",
