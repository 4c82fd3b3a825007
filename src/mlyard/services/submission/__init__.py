"""Submitting jobs: every reference resolved and checked, then queued, for each job type."""
