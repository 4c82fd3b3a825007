"""Data assets: versioned, content-hashed, profiled; reading tabular ones."""
