"""The device budget of a scale's jobs (``python -m replication.budget``; the README's table): for each
experiment, the GPU-hours of its training jobs (each run's own iterations at the experiment's
paper step speed, ``resources.gen_it_s``, plus the quality probes it runs while it trains), its
evaluation jobs and its analysis runs that pass images through the features, the total, and the
largest single job. Speeds are the H200's (benchmarks/results/2026-11-30_cuda.md) where measured
and estimates elsewhere (``resources.paper_speed`` says which); one speed per experiment (its
slowest step), so cheaper runs of it (a GAN beside WGAN, an MLP generator) are counted at that
speed: an upper bound; a sampled grid whose runs differ widely declares its runs' average speed
(``resources.mean_gen_it_s``) for the total, and its largest job runs at the slowest. CPU experiments (``gpu: false``) are listed in core-hours.
"""

from __future__ import annotations

from replication import config as cfg


def experiment_budget(exp_id: str, scale: str = "paper", extra_deltas=None) -> dict:
    doc = cfg.paper_file(exp_id)
    declared = doc.get("resources", {})
    runs = cfg.runs_of(exp_id, scale, extra_deltas)
    trained = cfg.training_runs(exp_id, scale, extra_deltas) if "gen_it_s" in declared else {}

    def seconds(params, **how):
        return cfg.training_seconds(exp_id, scale, extra_deltas, params, **how)

    training = {run: seconds(params, speed="mean_gen_it_s") for run, params in trained.items()}
    probes = sum(training[run] - seconds(params, probes=False, speed="mean_gen_it_s") for run, params in trained.items())
    evaluation = {f"{run} evaluate": cfg.feature_seconds(exp_id, scale, declared.get("evaluation"),
                                                         extra_deltas=extra_deltas, params=runs[run])
                  for run in cfg.evaluated_runs(exp_id, scale, extra_deltas)}
    analyses = {run: cfg.feature_seconds(exp_id, scale, declared["analyses"][params["task"]],
                                         extra_deltas=extra_deltas, params=params)
                for run, params in runs.items() if params["task"] in declared.get("analyses", {})}
    jobs = {**training, **evaluation, **analyses}
    if "mean_gen_it_s" in declared:  # the largest job is the slowest run, at the slowest speed
        jobs["its slowest run"] = max(seconds(params) for params in trained.values())
    largest = max(jobs, key=jobs.get) if jobs else None
    return {"experiment": exp_id, "gpu": bool(doc["gpu"]), "speed": declared.get("paper_speed", ""),
            "training_jobs": len(training), "evaluation_jobs": len(evaluation), "analysis_jobs": len(analyses),
            "training_h": sum(training.values()) / 3600, "probes_h": probes / 3600,
            "evaluation_h": (sum(evaluation.values()) + sum(analyses.values())) / 3600,
            "total_h": (sum(training.values()) + sum(evaluation.values()) + sum(analyses.values())) / 3600,
            "largest": largest, "largest_h": jobs[largest] / 3600 if largest else 0.0}


def _duration(hours: float) -> str:
    return f"{hours:.1f} h" if hours >= 0.1 else f"{hours * 60:.0f} min"


def markdown(scale: str = "paper") -> str:
    rows = [experiment_budget(exp, scale) for exp in cfg.experiment_ids()]
    gpu = [r for r in rows if r["gpu"] and r["total_h"] > 0]
    lines = ["| experiment | GPU jobs (train + evaluate + analysis) | paper step speed | training GPU-h (of it probes) "
             "| evaluation GPU-h | total GPU-h | largest job |", "|---|---|---|---:|---:|---:|---|"]
    for r in gpu:
        lines.append(f"| `{r['experiment']}` | {r['training_jobs']} + {r['evaluation_jobs']} + {r['analysis_jobs']} | "
                     f"{r['speed'] or '—'} | {r['training_h']:.1f} ({r['probes_h']:.1f}) | {r['evaluation_h']:.2f} | "
                     f"{r['total_h']:.1f} | {r['largest']}: {_duration(r['largest_h'])} |")
    total = sum(r["total_h"] for r in gpu)
    biggest = max(gpu, key=lambda r: r["largest_h"])
    lines.append(f"| **total** | {sum(r['training_jobs'] + r['evaluation_jobs'] + r['analysis_jobs'] for r in gpu)} | | "
                 f"{sum(r['training_h'] for r in gpu):.0f} ({sum(r['probes_h'] for r in gpu):.0f}) | "
                 f"{sum(r['evaluation_h'] for r in gpu):.1f} | **{total:.0f}** | "
                 f"{biggest['experiment']}, {biggest['largest']}: {_duration(biggest['largest_h'])} |")
    cpu = [r for r in rows if not r["gpu"] or r["total_h"] == 0]
    lines += ["", "CPU experiments (`gpu: false`, or no GPU step): " + ", ".join(
        f"`{r['experiment']}` ({r['training_jobs']} jobs, {r['total_h']:.1f} core-h)" if r["total_h"]
        else f"`{r['experiment']}` (minutes)" for r in cpu)]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown())
