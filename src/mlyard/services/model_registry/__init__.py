"""The model registry: versions, aliases, lineage and comparison, gated promotion, logged models."""
