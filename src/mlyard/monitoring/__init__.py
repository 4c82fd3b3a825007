"""Monitoring statistics: drift, data quality and model performance between two tables.

The layer beside `runtime/` and `serving/` (DESIGN §3). Everything here is computed from
mergeable per-file summaries (`summaries.py`) against a layout learned once from the reference
(`layout.py`: bin edges, bounds, categories, types), so the same code can summarise each file of a
large window on its own worker and combine the results. `compare()` (`compare.py`) is the entry
point; the metrics are registered by name in `metrics.py`. Feature attribution drift fits models
on both sides: `attribution.feature_attribution_drift()`.
"""
