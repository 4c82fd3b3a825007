"""Online endpoints and deployments: traffic rules, pinned references, keys and tokens."""
