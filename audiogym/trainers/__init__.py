"""Training on top of TRL: audio-correct GRPO, SFT and DPO, the recipe's stages and its runner."""
