"""Tests of the team server: the app in-process (TestClient) and `mlyard server start` as a process."""

API = "/api/v1/workspaces/default"  # the workspace `--workspace` is served as
TEST_BODY_LIMIT = 64 * 1024  # small, so the 413 tests send little
