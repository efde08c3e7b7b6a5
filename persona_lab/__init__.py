"""persona-lab: clean persona data from chat exports, train and blend persona adapters, rank them.

Importing this package is cheap on purpose: heavy libraries (torch, transformers, sentence-transformers)
are imported inside the stage functions that need them, so `persona-lab --help` answers at once.
"""

import warnings

__version__ = "0.1.0"

# TRL and PEFT still use transformers' renamed (is_)gradient_checkpointing; the rename warning is theirs and
# would otherwise show on every training run and every model load.
warnings.filterwarnings("ignore", message=r".*gradient_checkpointing.*deprecated", category=FutureWarning)
