"""Uploads in resumable pieces and downloads with Range, through the app on both databases."""

from __future__ import annotations

import os

from mlyard.services.tracking import jobs
from tests.server import API
from tests.server.test_api import assert_error


def test_a_file_goes_up_in_pieces_resumes_from_what_the_server_has_and_registers(api):
    content = os.urandom(300_000)
    upload = api.post(f"{API}/uploads").json()["id"]
    first = api.put(
        f"{API}/uploads/{upload}/files/data/blob.bin", params={"offset": 0}, content=content[:100_000]
    )
    assert first.json() == {"path": "data/blob.bin", "size": 100_000}
    # A client that lost track asks what arrived, and a wrong offset is refused with the right one.
    assert api.get(f"{API}/uploads/{upload}").json()["files"] == [{"path": "data/blob.bin", "size": 100_000}]
    assert_error(
        api.put(f"{API}/uploads/{upload}/files/data/blob.bin", params={"offset": 50}, content=b"x"),
        409, "CONFLICT", "resume with offset=100000",
    )  # fmt: skip
    api.put(
        f"{API}/uploads/{upload}/files/data/blob.bin", params={"offset": 100_000}, content=content[100_000:]
    )
    registered = api.post(f"{API}/data/blob/versions", json={"upload": upload, "path": "data/blob.bin"})
    assert registered.status_code == 201, registered.text
    asset = registered.json()["asset"]
    assert asset["size_bytes"] == 300_000
    assert_error(api.get(f"{API}/uploads/{upload}"), 404, "RESOURCE_DOES_NOT_EXIST", "removed once used")
    listed = api.get(f"{API}/artifacts", params={"path": asset["artifact_path"], "recursive": "true"}).json()
    [stored] = [entry for entry in listed["value"] if not entry["is_dir"]]
    whole = api.get(f"{API}/artifacts/{stored['path']}")
    assert whole.status_code == 200 and whole.content == content
    part = api.get(f"{API}/artifacts/{stored['path']}", headers={"range": "bytes=250000-"})
    assert part.status_code == 206 and part.content == content[250_000:]
    assert part.headers["content-range"] == "bytes 250000-299999/300000"


def test_upload_paths_and_downloads_are_checked(api):
    upload = api.post(f"{API}/uploads").json()["id"]
    escaped = api.put(f"{API}/uploads/{upload}/files/..%2F..%2Fescape.txt", content=b"x")
    assert escaped.status_code in (400, 404), escaped.text
    assert_error(api.get(f"{API}/uploads/{'0' * 24}"), 404, "RESOURCE_DOES_NOT_EXIST")
    assert_error(api.get(f"{API}/artifacts/jobs/nothing/here.txt"), 404, "RESOURCE_DOES_NOT_EXIST")
    assert_error(api.post(f"{API}/data/x/versions", json={"upload": upload, "path": "missing.csv"}), 404,
                 "RESOURCE_DOES_NOT_EXIST", "not in the upload")  # fmt: skip


def test_a_job_artifact_streams_up_and_lists(api, workspace):
    job = jobs.start_job(workspace)
    done = api.put(f"{API}/jobs/{job.id}/artifacts/plots/curve.png", content=b"\x89PNG" + b"0" * 1000)
    assert done.status_code == 201 and done.json()["path"].endswith("plots/curve.png")
    listed = api.get(f"{API}/jobs/{job.id}/artifacts").json()["value"]
    assert [entry["path"] for entry in listed if not entry["is_dir"]] == ["plots/curve.png"]
    assert_error(api.put(f"{API}/jobs/nobody/artifacts/a.txt", content=b"x"), 404, "RESOURCE_DOES_NOT_EXIST")
