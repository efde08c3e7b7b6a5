"""Training: base-model resolution (base.py) and LoRA SFT per source with checkpoints (sft.py)."""
