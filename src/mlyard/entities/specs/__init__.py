"""The YAML machinery every spec shares: loading with located errors, values, warnings, `--set`
overrides, names, local files, command lines."""
