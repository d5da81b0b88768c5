"""Errors that carry a message meant for a person."""


class UserError(Exception):
    """A mistake the person can fix; its text is shown to them."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class StartupError(Exception):
    """whoknows cannot start as configured; the text names what to fix."""
