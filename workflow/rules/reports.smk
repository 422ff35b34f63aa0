# Report notebooks (one per artifact), the scorecard, and the reports/<scale>/all manifest: the
# scale comes from the target's path, so each scale has its own. Every figure and table is
# annotated for `snakemake --report reports/<scale>/report.html --config scale=<scale>`
# (category: the paper, subcategory: the artifact, labels: scale, method, architecture; captions
# in workflow/report/).

from replication import report as rep


def _artifact(wildcards):
    return f"{wildcards.paper}/{wildcards.name}"


rule notebook:
    input:
        source="reports/notebooks/{paper}_{name}.py",
        measured=lambda wc: measured(wc.scale, [EXPERIMENT_OF[f"{wc.paper}_{wc.name}"]]),
    output:
        notebook="reports/{scale}/notebooks/{paper}_{name}.ipynb",
        artifact=report(
            directory("reports/{scale}/{paper}/{name}"),
            patterns=rep.REPORT_PATTERNS,
            caption="../report/artifact.rst",
            category=lambda wc: rep.report_category(_artifact(wc)),
            subcategory=lambda wc: rep.report_subcategory(_artifact(wc)),
            labels=lambda wc: rep.report_labels(_artifact(wc), wc.scale, wc.file),
        ),
    wildcard_constraints:
        paper="|".join(sorted({a.split("/")[0] for a in ARTIFACT_OF.values()})) or "none",
        name="|".join(sorted({a.split("/")[1] for a in ARTIFACT_OF.values()})) or "none",
    log:
        "logs/{scale}/notebooks/{paper}_{name}.log",
    params:
        artifact=_artifact,
        experiment=lambda wc: EXPERIMENT_OF[f"{wc.paper}_{wc.name}"],
        extra=EXTRA_ARG,
    shell:
        "{REPLICATE} notebook {params.artifact} --scale {wildcards.scale} {params.extra} 2>&1 | tee {log}"


rule scorecard:
    input:
        lambda wc: measured(wc.scale, SELECTED),
        claims=expand("workflow/config/claims/{experiment}.yaml", experiment=ALL_EXPERIMENTS),
    output:
        md="reports/{scale}/scorecard.md",
        html=report("reports/{scale}/scorecard.html", caption="../report/scorecard.rst", category="Scorecard",
                    labels=lambda wc: {"scale": wc.scale}),
        csv="reports/{scale}/scorecard.csv",
    log:
        "logs/{scale}/scorecard.log",
    params:
        experiments=",".join(SELECTED),
        extra=EXTRA_ARG,
    shell:
        "{REPLICATE} scorecard --scale {wildcards.scale} --experiments {params.experiments} {params.extra} "
        "2>&1 | tee {log}"


rule manifest:
    input:
        rules.scorecard.output,
        lambda wc: notebooks(wc.scale),
    output:
        "reports/{scale}/all",
        index="reports/{scale}/report_index.rst",  # the report's landing page: the scorecard, rows linked
    params:
        experiments=",".join(SELECTED),
    log:
        "logs/{scale}/manifest.log",
    shell:
        "{REPLICATE} manifest --scale {wildcards.scale} --experiments {params.experiments} 2>&1 | tee {log}"
