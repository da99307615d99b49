"""The errors the command line turns into one clear line: UsageError (exit 2), RunError (exit 1) and
Interrupted (exit 128 + the signal: 130 for Ctrl-C, 143 for SIGTERM)."""


class UsageError(Exception):
    """Bad input from the user: a missing file, an unknown name, an impossible combination.

    The message names the file or option and says how to fix it.
    """


class RunError(RuntimeError):
    """The run failed (a backend or preprocessing error); the message says where."""


class Interrupted(Exception):
    """The user (SIGINT) or the system (SIGTERM) stopped the run; the message says where it was."""

    def __init__(self, message: str, signum: int) -> None:
        super().__init__(message)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum
