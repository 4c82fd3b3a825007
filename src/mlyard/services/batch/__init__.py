"""Batch endpoints and deployments, batch jobs and their durable partial results."""
