"""A tiny random Qwen2.5-Omni thinker checkpoint: the second model kind audiogym's policy and
trainers run (on the hf backend), built from a config for tests and for trying the Omni path."""

from __future__ import annotations

import copy
from pathlib import Path

import torch

from audiogym.policies.audio_lm import feature_extractor
from audiogym.policies.tokenizer import AUDIO_BOS, AUDIO_EOS, AUDIO_TOKEN


def build_tiny_omni_thinker(folder: str | Path, max_seconds: int = 4, tokenizer=None, seed: int = 0) -> Path:
    """A tiny random Qwen2.5-Omni thinker checkpoint (for tests and for trying the Omni path)."""
    from transformers import Qwen2_5OmniThinkerConfig, Qwen2_5OmniThinkerForConditionalGeneration

    from audiogym.policies.tokenizer import corpus_texts, train_tokenizer

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tok = copy.deepcopy(tokenizer) if tokenizer is not None else train_tokenizer(corpus_texts(5), 800)
    # Image and video placeholders of their own: TRL suppresses the image token while generating, so
    # pointing it at a real token (it was </think>) silently forbids that token.
    tok.add_tokens(["<|IMAGE|>", "<|VIDEO|>", "<|vision_start|>"], special_tokens=True)
    ids = tok.convert_tokens_to_ids
    config = Qwen2_5OmniThinkerConfig(
        audio_config=dict(
            num_mel_bins=128,
            encoder_layers=1,
            encoder_attention_heads=2,
            encoder_ffn_dim=64,
            d_model=32,
            max_source_positions=50 * max_seconds,
            n_window=50,
            output_dim=32,
        ),
        vision_config=dict(
            depth=1, hidden_size=32, intermediate_size=64, num_heads=2, out_hidden_size=32, fullatt_block_indexes=[0]
        ),
        text_config=dict(
            vocab_size=len(tok),
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=1,
            num_attention_heads=2,
            num_key_value_heads=1,
            max_position_embeddings=2048,
            rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [2, 3, 3]},
        ),
        audio_token_index=ids(AUDIO_TOKEN),
        audio_start_token_id=ids(AUDIO_BOS),
        audio_end_token_id=ids(AUDIO_EOS),
        image_token_index=ids("<|IMAGE|>"),
        video_token_index=ids("<|VIDEO|>"),
        user_token_id=ids("<|im_start|>"),
    )
    # transformers 5.23's thinker config lacks vision_start_token_id, which its rope index reads.
    config.vision_start_token_id = ids("<|vision_start|>")
    torch.manual_seed(seed)
    model = Qwen2_5OmniThinkerForConditionalGeneration(config)
    model.generation_config.pad_token_id = tok.pad_token_id
    model.generation_config.eos_token_id = tok.eos_token_id
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    feature_extractor(max_seconds).save_pretrained(folder)
    return folder
