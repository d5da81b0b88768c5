"""Errors that carry a message meant for a person."""


class UserError(Exception):
    """A mistake the person can fix; its text is shown to them."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class StartupError(Exception):
    """whoknows cannot start as configured; the text names what to fix."""


class StopToRestart(Exception):
    """whoknows had to stop but nothing needs fixing: started again it carries on (exit 1, which a supervisor retries;
    exit 2 is kept for settings to fix). Its text says why."""


class ChatError(Exception):
    """The chat server refused or failed a call (the REST adapter raises its own kind of it); `status` is
    the HTTP status. Use cases catch this, never the adapter's class."""

    def __init__(self, detail: str, status: int) -> None:
        super().__init__(detail)
        self.status = status
