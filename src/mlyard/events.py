"""Helpers for receivers of mlyard's webhooks.

    import mlyard

    @app.post("/hooks/mlyard")
    async def hook(request):
        body = await request.body()
        mlyard.events.verify(request.headers, body, secret="whsec_…")   # raises if not genuine
        event = json.loads(body)        # a CloudEvents 1.0 object: id, type, subject, time, data

`verify` checks the Standard Webhooks signature (`webhook-id`, `webhook-timestamp`,
`webhook-signature`) in constant time and refuses stale timestamps (replays); during a secret
rotation the header carries one signature per live secret and either secret verifies.
"""

from __future__ import annotations

from mlyard.services.events.signing import verify

__all__ = ["verify"]
