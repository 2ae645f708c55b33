"""Audio reaches training: the encoder runs with gradients on inside every trainer's training
forward and the adapter moves; stock TRL GRPO does not (so a TRL upgrade that fixes it shows)."""

import datasets
import pytest
import soundfile as sf
import torch
from test_policies import SMALL  # noqa: F401  (same small sizes)

import audiogym
from audiogym.data import task_rows
from audiogym.policies.encoding import THINK_PREFILL
from audiogym.policies.scripted import OraclePolicy
from audiogym.tasks import FAMILIES


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from audiogym.policies.audio_lm import build_tiny_model
    from audiogym.policies.tokenizer import corpus_texts, train_tokenizer

    return str(
        build_tiny_model(tmp_path_factory.mktemp("tiny"), SMALL, tokenizer=train_tokenizer(corpus_texts(2), 700))
    )


def spread_reward(prompts, completions, **_):
    """Differs between completions, so GRPO's advantages (and so its gradients) are not zero."""
    from audiogym.rewards import completion_text

    return [float(len(set(completion_text(c)))) for c in completions]


def load(path):
    from transformers import AutoProcessor, Qwen2AudioForConditionalGeneration

    from audiogym.trainers.model_io import freeze_audio_encoder

    model = Qwen2AudioForConditionalGeneration.from_pretrained(path)
    freeze_audio_encoder(model)
    return model, AutoProcessor.from_pretrained(path)


def watch(model):
    """Record (grad enabled, training) for each encoder and adapter forward."""
    seen = {"encoder": [], "adapter": []}
    model.model.audio_tower.register_forward_hook(
        lambda m, i, o: seen["encoder"].append((torch.is_grad_enabled(), m.training))
    )
    model.model.multi_modal_projector.register_forward_hook(lambda m, i, o: seen["adapter"].append(o.requires_grad))
    return seen


def adapter_weight(model):
    return model.model.multi_modal_projector.linear.weight.detach().clone()


def common(tmp_path):
    return dict(
        output_dir=str(tmp_path),
        max_steps=1,
        per_device_train_batch_size=4,
        learning_rate=1e-2,
        report_to="none",
        use_cpu=True,
        bf16=False,
        save_strategy="no",
        logging_steps=1,
        seed=0,
    )


def test_audio_grpo_trainer_hears_audio_in_every_pass(tiny, tmp_path):
    from trl import GRPOConfig

    from audiogym.trainers.grpo import AudioGRPOTrainer

    model, proc = load(tiny)
    seen = watch(model)
    before = adapter_weight(model)
    ds = audiogym.to_dataset("audiogym/Tempo-v0", 4, seed=0)
    args = GRPOConfig(**common(tmp_path), num_generations=4, max_completion_length=6, beta=0.1)
    trainer = AudioGRPOTrainer(model, reward_funcs=[spread_reward], args=args, train_dataset=ds, processing_class=proc)
    ref_seen = []
    trainer.ref_model.model.audio_tower.register_forward_hook(lambda m, i, o: ref_seen.append(1))
    trainer.train()
    assert (False, True) in seen["encoder"] or (False, False) in seen["encoder"]  # generation: no grad
    assert any(grad for grad, _ in seen["encoder"]), "encoder never ran in a training forward"
    assert any(seen["adapter"]), "adapter output never carried gradients"
    assert ref_seen, "the reference model's log-probs were computed without the audio"
    assert not torch.equal(before, adapter_weight(model)), "the adapter did not move"
    assert all(not p.requires_grad for p in model.model.audio_tower.parameters())


def test_grpo_rewards_see_the_think_block(tiny, tmp_path):
    """The reward functions get each completion with its `</think>` (TRL decodes them without
    special tokens; special think tags would vanish and every format/grounding score read 0)."""
    from trl import GRPOConfig

    from audiogym.policies.tokenizer import THINK_CLOSE
    from audiogym.rewards import build_reward, completion_text
    from audiogym.trainers.grpo import AudioGRPOTrainer

    model, proc = load(tiny)
    close_id = proc.tokenizer.convert_tokens_to_ids(THINK_CLOSE)

    def push_close_tag(module, inputs, logits):  # make the random model close its think block
        logits[..., close_id] += 30.0
        return logits

    model.lm_head.register_forward_hook(push_close_tag)
    received, reasoning_format = [], build_reward("reasoning_format")

    def recording_reward(prompts, completions, **columns):
        received.extend(completion_text(c) for c in completions)
        return reasoning_format(prompts, completions, **columns)

    ds = audiogym.to_dataset("audiogym/Tempo-v0", 4, seed=0)
    args = GRPOConfig(**common(tmp_path), num_generations=4, max_completion_length=4, beta=0.0)
    AudioGRPOTrainer(model, reward_funcs=[recording_reward], args=args, train_dataset=ds, processing_class=proc).train()
    assert received and all(THINK_CLOSE in t for t in received), received[:2]
    # ...read with the prompt's pre-fill in front, as evaluation reads them
    assert all(t.startswith(THINK_PREFILL) and t.count(THINK_PREFILL) == 1 for t in received), received[:2]


def test_a_completion_that_stops_inside_its_think_block_has_no_answer_for_grpo():
    """With `<think>\\n` pre-filled, "The pitch is low." and a stop is an unclosed think block: no
    answer, reward 0, as evaluation scores it (read bare, it was the answer "low", reward 0.8)."""
    from audiogym.rewards import build_reward
    from audiogym.trainers.grpo import with_prefill

    reward, row = build_reward("composite_format"), {"answer": "low", "choices": ["low", "medium", "high"]}
    stopped = "The voice's fundamental frequency is low."
    closed = "The voice's pitch sits low, well under the middle of the range.\n</think>\nThe answer is low."
    assert reward.score(stopped, row)[0] == pytest.approx(0.8)  # what GRPO's rewards used to read
    assert reward.score(with_prefill(stopped), row)[0] == 0.0
    assert reward.score(with_prefill(closed), row)[0] == reward.score(closed, row)[0] == pytest.approx(1.0)
    message = with_prefill([{"role": "assistant", "content": stopped}])
    assert message == [{"role": "assistant", "content": THINK_PREFILL + stopped}]
    with pytest.raises(TypeError):
        with_prefill(None)


def test_stock_trl_grpo_does_not_hear_audio_in_training(tiny, tmp_path):
    """The known TRL gap: audio reaches generation only. If this fails, TRL has learnt audio."""
    from trl import GRPOConfig, GRPOTrainer

    from audiogym.trainers.grpo import prepare_audio_model

    model, proc = load(tiny)
    prepare_audio_model(model)
    seen = watch(model)
    prompts = []
    for i in range(4):
        task = FAMILIES["Tempo"].make(i)
        sf.write(tmp_path / f"{i}.wav", task.audio, 16000)
        prompts.append(
            [
                {
                    "role": "user",
                    "content": [
                        {"type": "audio", "path": str(tmp_path / f"{i}.wav")},
                        {"type": "text", "text": task.question},
                    ],
                }
            ]
        )
    ds = datasets.Dataset.from_dict({"prompt": prompts})
    args = GRPOConfig(**common(tmp_path), num_generations=4, max_completion_length=6, beta=0.0)
    GRPOTrainer(model=model, reward_funcs=[spread_reward], args=args, train_dataset=ds, processing_class=proc).train()
    assert seen["encoder"], "the encoder should at least run during generation"
    assert not any(grad for grad, _ in seen["encoder"]), "stock GRPO now runs the audio encoder in training"


def sft_rows():
    tasks = [FAMILIES["Tempo"].make(i) for i in range(6)] + [FAMILIES["TextReasoning"].make(i) for i in range(2)]
    rows = task_rows(tasks)
    rows["audio"] = [a if len(t.audio) else None for a, t in zip(rows["audio"], tasks)]
    rows["completion"] = [OraclePolicy().act(t) for t in tasks]
    return datasets.Dataset.from_dict(rows)


def test_audio_sft_hears_audio_and_masks_the_prompt(tiny, tmp_path):
    from audiogym.trainers.sft import audio_sft_config, audio_sft_trainer

    model, proc = load(tiny)
    seen = watch(model)
    before = adapter_weight(model)
    ds = sft_rows()
    trainer = audio_sft_trainer(model, proc, ds, audio_sft_config(**common(tmp_path)))
    batch = trainer.data_collator([ds[0], ds[7]])
    labels = batch["labels"][0]
    n_audio = int((batch["input_ids"][0] == trainer.data_collator.encoder.audio_token_id).sum())
    assert n_audio == 100 and batch["input_features"].shape[0] == 1  # only the audio row carries features
    first = int((labels != -100).nonzero()[0])
    assert (labels[:first] == -100).all() and first > n_audio  # the whole prompt is masked
    trainer.train()
    assert any(grad for grad, _ in seen["encoder"]) and any(seen["adapter"])
    assert not torch.equal(before, adapter_weight(model))


def test_audio_dpo_hears_audio(tiny, tmp_path):
    from audiogym.trainers.dpo import audio_dpo_config, audio_dpo_trainer

    model, proc = load(tiny)
    seen = watch(model)
    before = adapter_weight(model)
    ds = sft_rows().map(lambda r: {"chosen": r["completion"], "rejected": "I'm sorry, I cannot hear audio."})
    trainer = audio_dpo_trainer(model, proc, ds.remove_columns(["completion"]), audio_dpo_config(**common(tmp_path)))
    batch = trainer.data_collator([ds[0], ds[1]])
    assert batch["input_ids"].shape[0] == 4 and batch["input_features"].shape[0] == 4  # chosen + rejected rows
    trainer.train()
    assert any(grad for grad, _ in seen["encoder"]) and any(seen["adapter"])
    assert not torch.equal(before, adapter_weight(model))


def test_frozen_encoder_cache_serves_each_clip_once_and_matches_the_encoder(tiny):
    from audiogym.policies.encoding import FrozenEncoderCache

    model, _ = load(tiny)
    tower = model.model.audio_tower
    assert FrozenEncoderCache.applies(tower)
    feats = torch.randn(3, tower.config.num_mel_bins, 2 * tower.config.max_source_positions * 2 // 2)
    batch = feats[[0, 1, 0, 2, 1, 0]]  # 3 clips, 6 rows (as num_generations repeats them)
    with torch.no_grad():
        want = tower(batch).last_hidden_state
        cache = FrozenEncoderCache(tower).install()
        got = tower(batch).last_hidden_state
        assert (cache.misses, cache.hits) == (3, 3)
        assert torch.allclose(got, want, atol=1e-5)
        again = tower(batch[[5, 3]]).last_hidden_state  # a later pass: no clip encoded again
        assert (cache.misses, cache.hits) == (3, 5) and torch.allclose(again, want[[5, 3]], atol=1e-5)
        other = feats[:1] + 1e-3  # a clip that differs a little is a different clip
        assert not torch.allclose(tower(other).last_hidden_state, want[:1]) and cache.misses == 4
    cache.remove()
    assert "forward" not in tower.__dict__
    for p in tower.parameters():
        p.requires_grad_(True)
    assert not FrozenEncoderCache.applies(tower)  # a trainable encoder is never cached


def test_grpo_caches_a_frozen_encoder_and_gives_it_back(tiny, tmp_path):
    from trl import GRPOConfig

    from audiogym.trainers.grpo import AudioGRPOTrainer

    model, proc = load(tiny)
    ds = audiogym.to_dataset("audiogym/Tempo-v0", 4, seed=0)
    args = GRPOConfig(**common(tmp_path), num_generations=4, max_completion_length=6, beta=0.0)
    trainer = AudioGRPOTrainer(model, reward_funcs=[spread_reward], args=args, train_dataset=ds, processing_class=proc)
    assert trainer.encoder_cache is not None
    trainer.train()
    # 1 prompt x 4 generations: the clip is encoded once, in generation; every other row reuses it
    assert trainer.encoder_cache.misses == 1 and trainer.encoder_cache.hits >= 7
    assert "forward" not in model.model.audio_tower.__dict__


@pytest.mark.parametrize("scaling", ["group", "batch", "none"])
def test_a_stage_section_reaches_trls_grpo_config(tmp_path, scaling):
    from audiogym.trainers.grpo import grpo_config
    from audiogym.trainers.job import TrainJob
    from audiogym.trainers.sections import GRPOSection

    section = GRPOSection(max_steps=3, batch=8, num_generations=4, lr=3e-5, scale_rewards=scaling, loss_type="grpo")
    job = TrainJob(name="rl", model_in=tmp_path, model_out=tmp_path / "out", work_dir=tmp_path, seed=7)
    args = grpo_config(job, section)
    assert (args.scale_rewards, args.loss_type, args.num_generations, args.max_steps) == (scaling, "grpo", 4, 3)
    assert args.learning_rate == 3e-5 and args.seed == 7
