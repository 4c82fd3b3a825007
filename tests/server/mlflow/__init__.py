"""The MLflow-compatible API, driven by the real `mlflow` client against a real server process."""
