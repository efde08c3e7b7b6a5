"""The contracts between stages, as code: every path of a lab's workspace (paths.py), JSON/JSONL I/O with
errors that name file and line (files.py), the shapes that cross a stage boundary (shapes.py) and the
arena's vote store (votes.py, imported on its own: it loads SQLAlchemy).

Stages import this package and the other common modules, never each other (pyproject.toml's
import-linter contracts; `make lint`).
"""

from persona_lab.workspace.files import ShapeError
from persona_lab.workspace.paths import SOURCES, Workspace

__all__ = ["SOURCES", "ShapeError", "Workspace"]
