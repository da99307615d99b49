"""The one error type the command line turns into a single clear line and exit code 2."""


class UsageError(Exception):
    """Bad input from the user: a missing file, an unknown name, an impossible combination.

    The message names the file or option and says how to fix it.
    """
