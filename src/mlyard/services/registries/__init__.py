"""Registries: stores of models, environments, components and data shared by several workspaces."""
