"""Ingest: chat exports in, clean paired training and evaluation files out.

import (importers/) → text only (records.py kinds) → merge and sessionize (clean.py) → pair with context
(pairs.py) → split by time (split.py). stage.py wires them and keeps the accounting exact.
"""
