"""mlyard's version, importable without the SDK the package root names (the server reports it)."""

__version__ = "0.1.0"
