"""The SDK: `MLClient` and the active-run API; sits on `services/`."""
