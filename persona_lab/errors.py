"""One error type for everything a user can cause and fix.

Every error persona-lab raises on purpose is a ``PersonaLabError``: a message that names the file, field
or row, and a ``hint`` saying what to do. The CLI catches this class alone, so anything else that escapes
is a bug in persona-lab (and shows its traceback), not a message to the user.
"""

from __future__ import annotations


class PersonaLabError(Exception):
    """Base class; subclasses set a default ``hint`` and may pass a specific one."""

    hint: str = ""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint

    def __str__(self) -> str:  # KeyError subclasses would quote the message otherwise
        return str(self.args[0]) if self.args else ""


class WorkspaceError(PersonaLabError):
    """A file a stage needs is not in the lab's workspace yet, or is not of the shape it should be."""

    hint = "run the earlier stages first: `persona-lab run --config CFG` (or the stage named in the message)"


class ExportError(PersonaLabError):
    """A file or folder that cannot be imported at all (not found, unknown format, unreadable)."""

    hint = "check the path and the format (see shared EXPORT_FORMATS.md and README 'Export formats')"
