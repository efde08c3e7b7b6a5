"""persona-lab: clean persona data from chat exports, train and blend persona adapters, rank them.

Importing this package is cheap on purpose: heavy libraries (torch, transformers, sentence-transformers)
are imported inside the stage functions that need them, so `persona-lab --help` answers at once.
"""

__version__ = "0.1.0"
