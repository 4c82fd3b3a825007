"""Online endpoints and deployments, batch endpoints and batch jobs."""
