"""edgesim's version (the one place it is written besides pyproject.toml; a test keeps them equal)."""

__version__ = "0.1.0"
