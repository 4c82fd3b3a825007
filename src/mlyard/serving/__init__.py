"""Serving: the scoring runtime, deployment instances, and packaging for running elsewhere.

    scorers/        a loaded model with predict(batch), by flavor (table in scorers/__init__.py)
    schema.py       what a model takes (columns or a tensor), from its signature; /swagger.json
    inputs.py       request bodies (Azure ML, MLflow shapes) → a checked Batch; 422 names the column
    v2.py           Open Inference Protocol V2 requests, responses and metadata
    outputs.py      predictions → JSON bytes
    score_script.py a user's score.py with Azure ML's init()/run() contract
    app.py          the raw ASGI app of one instance (routes, limits, readiness)
    instance.py     `python -m mlyard.serving.instance`: one instance process (TCP and/or UDS)
    upstream.py     a keep-alive HTTP/1.1 client pool to instances, and a minimal forwarding app
    packaging.py    a Docker build context and Kubernetes manifests for a deployment

Nothing heavy is imported here: `import mlyard.serving` costs nothing.
"""

from __future__ import annotations

__all__: list[str] = []
