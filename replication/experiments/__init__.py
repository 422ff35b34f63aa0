"""Experiments: one settings file and one module per experiment id.

    workflow/config/experiments/<id>.yaml   settings (paper values + sources) and the ``runs:``
                                            matrix: {run_id: params}, each run naming a task
    replication/settings/experiments.py     the settings' types (parsed when a scale is resolved)
    replication/experiments/<id>.py         TASKS = {task: fn(ctx, **params) -> dict}  (one job each)
                                            EVALUATE(ctx, networks) -> final metrics (evaluated runs)
                                            summarize(res: Results) -> {claim key: {value, file, note}}

``replication.runs`` runs them. Experiments never import each other: what several of them do
lives in ``replication.recipes`` (a test walks their imports).
"""
