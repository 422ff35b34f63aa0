# Report notebooks (one per artifact), the scorecard, and the reports/all manifest.


rule notebook:
    input:
        source="reports/notebooks/{notebook}.py",
        measured=lambda wc: measured(wc.scale, [EXPERIMENT_OF[wc.notebook]]),
    output:
        "reports/{scale}/notebooks/{notebook}.ipynb",
    log:
        "logs/{scale}/notebooks/{notebook}.log",
    params:
        artifact=lambda wc: ARTIFACT_OF[wc.notebook],
    shell:
        "{REPLICATE} notebook {params.artifact} --scale {wildcards.scale} 2>&1 | tee {log}"


rule scorecard:
    input:
        measured(SCALE, SELECTED),
        claims=expand("workflow/config/claims/{experiment}.yaml", experiment=ALL_EXPERIMENTS),
    output:
        multiext(f"reports/{SCALE}/scorecard", ".md", ".html", ".csv"),
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
    params:
        scale=SCALE,
        experiments=",".join(SELECTED),
    log:
        "logs/manifest.log",
    shell:
        "{REPLICATE} manifest --scale {params.scale} --experiments {params.experiments} 2>&1 | tee {log}"
