"""The SDK's remote implementation: the same operations over a team server's REST API."""
