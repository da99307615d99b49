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


_FINISHED: list[str] = []  # results files this process wrote complete (a later interruption leaves them so)


def forget_finished() -> None:
    """A new command starts: no results of it are written yet."""
    _FINISHED.clear()


def record_finished(path: object) -> None:
    """A run's results file is written complete: an interruption after this point says so."""
    _FINISHED.append(str(path))


def finished_note() -> str:
    """What an interruption line adds when a run had finished before it (empty when none had)."""
    if not _FINISHED:
        return ""
    return f" after the run finished: {_FINISHED[-1]} is complete and holds its results"
