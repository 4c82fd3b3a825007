"""A submitted job's life: its inputs and outputs on this machine, claims, heartbeats, the queue."""
