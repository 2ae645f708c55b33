"""Run inside verl's own virtualenv (scripts/verl_env.sh) by tests/test_verl.py: verl's RLHFDataset
loads audiogym's parquet with the tiny Qwen2-Audio processor and the processor turns its audio into
features; verl's reward loader loads audiogym.integrations.verl.compute_score and scores the given
completions. Writes what it saw as JSON."""

import argparse
import json

import numpy as np
import pandas as pd
from omegaconf import OmegaConf
from transformers import AutoProcessor
from verl.trainer.ppo.reward import get_custom_reward_fn
from verl.utils.dataset.rl_dataset import RLHFDataset
from verl.utils.tokenizer import build_multimodal_processor_inputs

ap = argparse.ArgumentParser()
ap.add_argument("--parquet", required=True)
ap.add_argument("--processor", required=True)
ap.add_argument("--reward-file", required=True)
ap.add_argument("--completions", required=True)
ap.add_argument("--out", required=True)
args = ap.parse_args()

processor = AutoProcessor.from_pretrained(args.processor)
data_cfg = OmegaConf.create(
    {
        "audio_key": "audios",
        "prompt_key": "prompt",
        "max_prompt_length": 4096,
        "filter_overlong_prompts": True,
        "cache_dir": "/tmp/verl-cache",
    }
)
ds = RLHFDataset(data_files=[args.parquet], tokenizer=processor.tokenizer, config=data_cfg, processor=processor)
item = ds[0]
messages = item["raw_prompt"]
_, _, audios = RLHFDataset._process_multi_modal_info(messages, 14, data_cfg)
text = processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
inputs = build_multimodal_processor_inputs(processor, text=[text], audio=audios)
features = inputs["input_features"]

reward_cfg = OmegaConf.create(
    {
        "reward": {
            "custom_reward_function": {
                "path": args.reward_file,
                "name": "compute_score",
                "reward_kwargs": {"reward": "mgrd"},
            }
        }
    }
)
fn = get_custom_reward_fn(reward_cfg)
frame = pd.read_parquet(args.parquet)
with open(args.completions) as f:
    completions = json.load(f)
scores = []
for (_, row), texts in zip(frame.iterrows(), completions):
    scores.append(
        [fn(row["data_source"], t, row["reward_model"]["ground_truth"], row["extra_info"])["score"] for t in texts]
    )
seen = {
    "rows": len(ds),
    "audio_items": sum(
        1
        for m in messages
        for c in (m["content"] if isinstance(m["content"], list) else [])
        if c.get("type") == "audio"
    ),
    "audio_samples": int(np.asarray(audios[0]).size) if audios else 0,
    "input_features_shape": list(features.shape),
    "input_features_nonzero": bool(np.abs(features.float().numpy()).sum() > 0),
    "audio_placeholders": int((inputs["input_ids"] == processor.tokenizer.convert_tokens_to_ids("<|AUDIO|>")).sum()),
    "scores": scores,
}
with open(args.out, "w") as f:
    json.dump(seen, f)
