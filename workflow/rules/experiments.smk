# One generic job per run, and one summary per experiment. Training state lives in
# results/.state/ (undeclared), so a killed job resumes instead of starting over.


rule run:
    input:
        run_inputs,
    output:
        "results/{scale}/{experiment}/{run}/result.json",
    log:
        "logs/{scale}/{experiment}/{run}.log",
    threads: experiment_threads
    resources:
        gpu=experiment_gpu,
    params:
        device=config["device"],
        extra=EXTRA_ARG,
        settings=settings_digest,
    shell:
        "{REPLICATE} run {wildcards.experiment} {wildcards.run} --scale {wildcards.scale} "
        "--device {params.device} --threads {threads} {params.extra} 2>&1 | tee {log}"


rule summarize:
    input:
        run_results,
    output:
        "results/{scale}/{experiment}/measured.json",
    log:
        "logs/{scale}/{experiment}/summarize.log",
    params:
        extra=EXTRA_ARG,
    shell:
        "{REPLICATE} summarize {wildcards.experiment} --scale {wildcards.scale} {params.extra} 2>&1 | tee {log}"
