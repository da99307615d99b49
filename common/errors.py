"""The errors the command line turns into one clear line: UsageError (exit 2) and RunError (exit 1)."""


class UsageError(Exception):
    """Bad input from the user: a missing file, an unknown name, an impossible combination.

    The message names the file or option and says how to fix it.
    """


class RunError(RuntimeError):
    """The run failed (a backend or preprocessing error); the message says where."""
