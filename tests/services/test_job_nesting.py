"""Jobs submitted from inside jobs: their submitter and depth are recorded, and the depth is bounded."""

from __future__ import annotations

import pytest

from mlyard.errors import Conflict, InvalidArgument
from mlyard.services.submission.dispatch import submit_job_dict
from mlyard.services.tracking.jobs import search_jobs, start_job
from mlyard.services.workspaces.settings import get_settings, update_settings

JOB = {"command": "echo hi"}


def test_nesting_depth_defaults_to_8_and_cannot_be_negative(workspace):
    assert get_settings(workspace).max_job_nesting_depth == 8
    with pytest.raises(InvalidArgument, match="max_job_nesting_depth: Input should be greater than or eq"):
        update_settings(workspace, max_job_nesting_depth=-1)


def test_a_step_is_as_deep_as_its_pipeline_and_a_submission_past_the_setting_is_refused(workspace, tmp_path):
    update_settings(workspace, max_job_nesting_depth=2)
    top = submit_job_dict(workspace, dict(JOB), tmp_path, "job.yml")
    assert "mlyard.nesting_depth" not in top.tags
    nested = submit_job_dict(workspace, dict(JOB), tmp_path, "job.yml", submitted_from=top.id)
    assert nested.tags == {"mlyard.submitted_by": top.id, "mlyard.nesting_depth": "1"}
    step = start_job(workspace, parent_job_id=nested.id, job_type="command")  # a step of `nested`
    deepest = submit_job_dict(workspace, dict(JOB), tmp_path, "job.yml", submitted_from=step.id)
    assert deepest.tags["mlyard.nesting_depth"] == "2"
    with pytest.raises(Conflict, match=rf"nested 3 deep \(submitted from inside job {deepest.id}, itself "):
        submit_job_dict(workspace, dict(JOB), tmp_path, "job.yml", submitted_from=deepest.id)
    assert len(search_jobs(workspace)) == 4


def test_a_submitter_this_workspace_does_not_know_counts_as_top_level(workspace, tmp_path):
    job = submit_job_dict(workspace, dict(JOB), tmp_path, "job.yml", submitted_from="elsewhere_job")
    assert job.tags == {"mlyard.submitted_by": "elsewhere_job", "mlyard.nesting_depth": "1"}
