# Report notebooks (one per artifact), the scorecard, and the reports/all manifest. Every figure
# and table is annotated for `snakemake --report reports/report.html` (category: the paper,
# subcategory: the artifact, labels: scale, method, architecture; captions in workflow/report/).

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
    shell:
        "{REPLICATE} notebook {params.artifact} --scale {wildcards.scale} 2>&1 | tee {log}"


rule scorecard:
    input:
        measured(SCALE, SELECTED),
        claims=expand("workflow/config/claims/{experiment}.yaml", experiment=ALL_EXPERIMENTS),
    output:
        md=f"reports/{SCALE}/scorecard.md",
        html=report(f"reports/{SCALE}/scorecard.html", caption="../report/scorecard.rst", category="Scorecard",
                    labels={"scale": SCALE}),
        csv=f"reports/{SCALE}/scorecard.csv",
    log:
        f"logs/{SCALE}/scorecard.log",
    params:
        experiments=",".join(SELECTED),
    shell:
        "{REPLICATE} scorecard --scale {SCALE} --experiments {params.experiments} 2>&1 | tee {log}"


rule manifest:
    input:
        rules.scorecard.output,
        notebooks(SCALE),
    output:
        "reports/all",
        index=f"reports/{SCALE}/report_index.rst",  # the report's landing page: the scorecard, rows linked
    params:
        scale=SCALE,
        experiments=",".join(SELECTED),
    log:
        "logs/manifest.log",
    shell:
        "{REPLICATE} manifest --scale {params.scale} --experiments {params.experiments} 2>&1 | tee {log}"
