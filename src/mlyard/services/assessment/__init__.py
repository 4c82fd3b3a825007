"""Assessments that read every concept of a workspace: `mlyard maturity` against the MLOps maturity model."""
