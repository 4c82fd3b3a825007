"""Validation before training and release: data against a data asset's profile, a scoring response's shape."""
