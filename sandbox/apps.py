from django.apps import AppConfig


class SandboxConfig(AppConfig):
    """A built-in FlatPeak stand-in for demos and onboarding checks (SANDBOX_ENABLED)."""

    name = "sandbox"
    label = "sandbox"
    verbose_name = "FlatPeak sandbox"
