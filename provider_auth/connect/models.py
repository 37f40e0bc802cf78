"""Models: see the module docstring of the app."""
