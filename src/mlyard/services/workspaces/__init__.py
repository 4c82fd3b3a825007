"""Workspaces and what belongs to one as a whole: location, settings, keys, audit, ids, versions."""
