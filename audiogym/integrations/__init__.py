"""audiogym's tasks and rewards in other training engines (verl, NeMo-RL); see docs/engines.md."""
