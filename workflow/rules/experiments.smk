# One generic job per run, and one summary per experiment. Training state lives in
# results/.state/ (undeclared), so a killed job resumes instead of starting over. Each run's
# final networks (final/<role>.pt, with their registry spec; empty for analysis runs) are a
# declared output, so DVC versions them and evaluation can rerun from pulled checkpoints.


rule run:
    input:
        run_inputs,
    output:
        result="results/{scale}/{experiment}/{run}/result.json",
        final=directory("results/{scale}/{experiment}/{run}/final"),
    log:
        "logs/{scale}/{experiment}/{run}.log",
    threads: experiment_threads
    resources:
        gpu=experiment_gpu,
        gpu_model=experiment_gpu_model,
        cpus_per_gpu=experiment_cpus_per_gpu,
        runtime=experiment_runtime,
        mem_mb=experiment_mem_mb,
    params:
        device=config["device"],
        extra=EXTRA_ARG,
        settings=settings_digest,
    shell:
        "{REPLICATE} run {wildcards.experiment} {wildcards.run} --scale {wildcards.scale} "
        "--device {params.device} --threads {threads} {params.extra} 2>&1 | tee {log}"


rule evaluate:
    input:
        result="results/{scale}/{experiment}/{run}/result.json",
        final="results/{scale}/{experiment}/{run}/final",
    output:
        "results/{scale}/{experiment}/{run}/final_metrics.json",
    log:
        "logs/{scale}/{experiment}/{run}.evaluate.log",
    threads: experiment_threads
    resources:
        gpu=experiment_gpu,
        gpu_model=experiment_gpu_model,
        cpus_per_gpu=experiment_cpus_per_gpu,
        runtime=lambda wildcards, attempt: cfg.EVALUATION_MIN * attempt,
        mem_mb=experiment_mem_mb,
    params:
        device=config["device"],
        extra=EXTRA_ARG,
    shell:
        "{REPLICATE} evaluate {wildcards.experiment} {wildcards.run} --scale {wildcards.scale} "
        "--device {params.device} --threads {threads} {params.extra} 2>&1 | tee {log}"


rule summarize:
    input:
        run_results,
        final_metrics,
    output:
        "results/{scale}/{experiment}/measured.json",
    log:
        "logs/{scale}/{experiment}/summarize.log",
    params:
        extra=EXTRA_ARG,
    shell:
        "{REPLICATE} summarize {wildcards.experiment} --scale {wildcards.scale} {params.extra} 2>&1 | tee {log}"
