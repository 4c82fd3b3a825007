"""The team server: FastAPI app serving the REST API (`/api/v1/...`), `/healthz` and `/metrics`.

`config` is light (the CLI imports it before anything heavy); `app.create_app` builds the
FastAPI application and `main.serve` runs it with uvicorn. Routes call `mlyard.services` only.
"""
