"""audiogym rewards inside a real trl.GRPOTrainer (tiny local text model, 2 steps on CPU)."""

import datasets
import pytest
import torch

import audiogym
from audiogym import rewards as R


@pytest.fixture(scope="module")
def tiny_text_model(tmp_path_factory):
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from audiogym.policies.tokenizer import corpus_texts, train_tokenizer

    path = tmp_path_factory.mktemp("tiny-text-lm")
    tok = train_tokenizer(corpus_texts(3), vocab_size=600)
    cfg = Qwen2Config(
        vocab_size=len(tok),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=512,
        tie_word_embeddings=True,
        pad_token_id=tok.pad_token_id,
        eos_token_id=tok.eos_token_id,
    )
    torch.manual_seed(0)
    Qwen2ForCausalLM(cfg).save_pretrained(path)
    tok.save_pretrained(path)
    return str(path)


@pytest.mark.slow
def test_grpo_trainer_logs_every_audiogym_reward(tiny_text_model, tmp_path):
    from trl import GRPOConfig, GRPOTrainer

    ds = datasets.concatenate_datasets(
        [
            audiogym.to_dataset("audiogym/Mixed-v0", 6, seed=1),
            audiogym.to_dataset("audiogym/TextReasoning-v0", 2, seed=1),
        ]
    ).shuffle(seed=0)
    reward_funcs = [R.binary, R.composite_format, R.grounding, R.self_cognition, R.mgrd_reward()]
    args = GRPOConfig(
        output_dir=str(tmp_path),
        max_steps=2,
        per_device_train_batch_size=4,
        num_generations=4,
        max_completion_length=8,
        learning_rate=1e-3,
        logging_steps=1,
        report_to="none",
        use_cpu=True,
        bf16=False,
        beta=0.0,
        save_strategy="no",
        seed=0,
        dataloader_num_workers=0,
    )
    trainer = GRPOTrainer(model=tiny_text_model, reward_funcs=reward_funcs, args=args, train_dataset=ds)
    trainer.train()
    logged = {k for entry in trainer.state.log_history for k in entry}
    for fn in reward_funcs:
        assert f"rewards/{fn.__name__}/mean" in logged, (fn.__name__, sorted(logged))
    assert trainer.state.global_step == 2
