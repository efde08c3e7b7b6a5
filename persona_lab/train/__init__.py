"""Training: LoRA SFT per source with checkpoints (sft.py) and the train stage (stage.py); the base model is
resolved by persona_lab/basemodel.py, which blending and serving share."""
