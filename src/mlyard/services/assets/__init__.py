"""Reusable assets a job is built from: environments, components, compute targets, stored code."""
