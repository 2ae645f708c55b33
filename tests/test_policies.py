import copy
import json

import numpy as np
import pytest

from audiogym import ConfigError, get_family
from audiogym.evaluation import eval_tasks, evaluate, load_policy
from audiogym.policies.audio_lm import AudioLMPolicy, TinyModelConfig, build_tiny_model
from audiogym.policies.omni import build_tiny_omni_thinker
from audiogym.policies.tokenizer import AUDIO_TOKEN, THINK_CLOSE, THINK_OPEN, corpus_texts, train_tokenizer
from audiogym.rewards import parse_completion

SMALL = TinyModelConfig(
    encoder_layers=1,
    encoder_d_model=64,
    encoder_heads=2,
    encoder_ffn_dim=128,
    decoder_layers=1,
    hidden_size=64,
    attention_heads=2,
    kv_heads=1,
    intermediate_size=128,
    vocab_size=700,
)


@pytest.fixture(scope="module")
def tokenizer():
    return train_tokenizer(corpus_texts(3), vocab_size=700)


@pytest.fixture(scope="module")
def tiny_qwen2_audio(tmp_path_factory, tokenizer):
    return build_tiny_model(tmp_path_factory.mktemp("tiny-qwen2-audio"), SMALL, tokenizer=tokenizer)


@pytest.fixture(scope="module")
def tiny_omni(tmp_path_factory, tokenizer):
    return build_tiny_omni_thinker(tmp_path_factory.mktemp("tiny-omni"), tokenizer=tokenizer)


def test_tokenizer_keeps_special_tokens_whole(tokenizer):
    for t in (THINK_OPEN, THINK_CLOSE, AUDIO_TOKEN):
        assert len(tokenizer(t, add_special_tokens=False)["input_ids"]) == 1
    text = tokenizer.apply_chat_template(
        [{"role": "user", "content": [{"type": "audio"}, {"type": "text", "text": "Q?"}]}],
        tokenize=False,
        add_generation_prompt=True,
    )
    assert AUDIO_TOKEN in text and text.endswith("<|im_start|>assistant\n")


def test_think_tags_survive_decoding_without_special_tokens(tokenizer):
    """TRL's GRPO decodes completions with skip_special_tokens=True before the rewards see them:
    the think tags must stay (format and grounding rewards read the think block), eos must go."""
    ids = tokenizer(
        f"{THINK_OPEN}\nI hear a low hum.\n{THINK_CLOSE}\nThe answer is B.<|im_end|>", add_special_tokens=False
    )["input_ids"]
    assert (
        tokenizer.decode(ids, skip_special_tokens=True)
        == f"{THINK_OPEN}\nI hear a low hum.\n{THINK_CLOSE}\nThe answer is B."
    )
    from audiogym.trainers.grpo import think_tag_survives_decoding

    assert think_tag_survives_decoding(tokenizer)
    special = copy.deepcopy(tokenizer)  # a checkpoint whose think tags are special: the trainer warns
    special.add_special_tokens({"additional_special_tokens": [THINK_OPEN, THINK_CLOSE]})
    assert not think_tag_survives_decoding(special)


def test_tiny_model_reloads_with_from_pretrained(tiny_qwen2_audio):
    from transformers import AutoConfig, AutoProcessor, Qwen2AudioForConditionalGeneration

    cfg = AutoConfig.from_pretrained(tiny_qwen2_audio)
    assert cfg.model_type == "qwen2_audio" and cfg.audio_config.max_source_positions == 200
    model = Qwen2AudioForConditionalGeneration.from_pretrained(tiny_qwen2_audio)
    proc = AutoProcessor.from_pretrained(tiny_qwen2_audio)
    assert proc.feature_extractor.n_fft == 2048 and proc.feature_extractor.chunk_length == 4
    assert sum(p.numel() for p in model.parameters()) < 2_000_000
    w = model.model.multi_modal_projector.linear.weight
    assert abs(float(w.std()) - 0.05) < 0.01  # the N(0, 0.05) init that lets audio through


@pytest.mark.parametrize("which", ["tiny_qwen2_audio", "tiny_omni"])
def test_audio_lm_policy_generates_with_the_encoder_running(which, request):
    policy = AudioLMPolicy(request.getfixturevalue(which))
    calls = []
    policy.audio_encoder.register_forward_hook(lambda m, i, o: calls.append(i[0].shape if i else None))
    tasks = [get_family("ChordMood").make(0), get_family("Tempo").make(1), get_family("TextReasoning").make(2)]
    out = policy.generate(tasks, num_samples=2, temperature=1.0, max_new_tokens=12, seed=0)
    assert len(out) == 3 and all(len(g) == 2 for g in out)
    assert calls, "the audio encoder never ran"
    for gens in out:
        for g in gens:
            assert g.text.startswith(THINK_OPEN + "\n") and 0 < g.tokens <= 12
            parsed = parse_completion(g.text, ["a", "b"])
            assert parsed.think is not None  # the pre-filled think block parses
    assert all(not p.requires_grad for p in policy.audio_encoder.parameters())  # frozen by default


def test_generation_is_seeded_and_greedy_is_deterministic(tiny_qwen2_audio):
    policy = AudioLMPolicy(tiny_qwen2_audio)
    tasks = [get_family("Meter").make(3)]
    a = policy.generate(tasks, num_samples=2, temperature=1.0, max_new_tokens=8, seed=5)
    b = policy.generate(tasks, num_samples=2, temperature=1.0, max_new_tokens=8, seed=5)
    assert [g.text for g in a[0]] == [g.text for g in b[0]]
    assert policy.act(tasks[0]) == policy.act(tasks[0])


def test_audio_tokens_match_the_encoder_output(tiny_qwen2_audio):
    policy = AudioLMPolicy(tiny_qwen2_audio, prefill_think=False)
    enc = policy.inputs([get_family("Tempo").make(0)])
    n_audio = int((enc["input_ids"] == policy.tokenizer.convert_tokens_to_ids(AUDIO_TOKEN)).sum())
    assert n_audio == 100  # 4 s -> 400 mel frames -> 200 encoder positions -> 100 after pooling
    assert not policy.prompt_text(get_family("Tempo").make(0)).endswith(THINK_OPEN + "\n")


def test_bad_model_folder_and_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="not a model folder"):
        AudioLMPolicy(tmp_path)
    with pytest.raises(ConfigError, match="unknown keys"):
        TinyModelConfig.from_dict({"hidden": 3})
    with pytest.raises(ConfigError, match="divisible"):
        TinyModelConfig(hidden_size=130, attention_heads=4).validate()
    with pytest.raises(ConfigError, match="policy"):
        load_policy("no-such-policy")


@pytest.mark.slow
def test_scripted_policies_on_mixed_score_as_specified():
    tasks = eval_tasks("audiogym/Mixed-v0", n=150, seed=7)
    oracle = evaluate(load_policy("oracle"), tasks, progress=False).summary()
    cascade = evaluate(load_policy("transcript"), tasks, progress=False).summary()
    rand = evaluate(load_policy("random"), tasks, progress=False).summary()
    assert oracle["accuracy"] >= 0.9 and oracle["grounding_rate"] >= 0.9 and oracle["verified_claim_precision"] >= 0.95
    assert cascade["accuracy_conflict"] <= cascade["chance_conflict"] + 0.10
    assert cascade["accuracy_aligned"] >= 0.9 and cascade["grounding_rate"] <= 0.05
    chance = float(np.mean([1 / len(t.choices) for t in tasks]))
    assert abs(rand["accuracy"] - chance) <= 0.12
    assert oracle["self_cognition_error_rate"] == 0.0


def test_eval_writes_json_and_markdown(tmp_path, tiny_qwen2_audio, capsys):
    from audiogym.cli import main

    assert (
        main(
            [
                "eval",
                "--env",
                "audiogym/Mixed-v0",
                "--policy",
                str(tiny_qwen2_audio),
                "--n",
                "4",
                "--max-new-tokens",
                "8",
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    data = json.loads((tmp_path / "eval.json").read_text())
    assert data["summary"]["n"] == 4 and len(data["items"]) == 4
    assert "| accuracy |" in (tmp_path / "eval.md").read_text()
    assert main(["eval", "--policy", "oracle"]) == 2  # neither --env nor --manifest


def test_saved_tiny_model_runs_the_same_with_its_config_honoured(tiny_qwen2_audio):
    """The config says what the weights are: the saved lm_head is not the embedding matrix, so the
    tie flag is False, and a loader that honours the flag (vLLM does) runs the same model as
    from_pretrained. Tied, the logits would differ."""
    import copy
    import json

    import torch
    from transformers import Qwen2AudioForConditionalGeneration

    cfg = json.loads((tiny_qwen2_audio / "config.json").read_text())
    loaded = Qwen2AudioForConditionalGeneration.from_pretrained(tiny_qwen2_audio).eval()
    emb = loaded.get_input_embeddings().weight
    assert not torch.equal(loaded.lm_head.weight, emb)  # untied weights...
    assert cfg["text_config"]["tie_word_embeddings"] is False  # ...and a config that says so
    honoured = copy.deepcopy(loaded)
    if cfg["text_config"]["tie_word_embeddings"]:
        honoured.lm_head.weight = honoured.get_input_embeddings().weight
    tied = copy.deepcopy(loaded)
    tied.lm_head.weight = tied.get_input_embeddings().weight
    ids = torch.tensor([[1, 5, 9, 12, 7]])
    with torch.no_grad():
        ref = loaded(input_ids=ids).logits
        assert torch.allclose(ref, honoured(input_ids=ids).logits)
        assert not torch.allclose(ref, tied(input_ids=ids).logits)  # what a wrong flag would run


def test_omni_placeholders_are_tokens_of_their_own(tiny_omni):
    from transformers import AutoConfig, AutoTokenizer

    cfg, tok = AutoConfig.from_pretrained(tiny_omni), AutoTokenizer.from_pretrained(tiny_omni)
    assert tok.convert_ids_to_tokens(cfg.image_token_index) == "<|IMAGE|>"
    assert tok.convert_ids_to_tokens(cfg.video_token_index) == "<|VIDEO|>"
    assert "</think>" not in (
        tok.convert_ids_to_tokens(cfg.image_token_index),
        tok.convert_ids_to_tokens(cfg.video_token_index),
    )


def test_audio_features_are_computed_once_per_task(tiny_qwen2_audio):
    import torch
    from transformers import AutoProcessor

    from audiogym.policies.encoding import AudioPromptEncoder

    proc = AutoProcessor.from_pretrained(tiny_qwen2_audio)
    enc = AudioPromptEncoder(proc.tokenizer, proc.feature_extractor)
    task = get_family("Tempo").make(0)
    conv = [{"role": "user", "content": task.question}]
    first = enc.encode([conv] * 4, [task.audio] * 4, ["t0"] * 4)  # one prompt, four samples (a GRPO group)
    assert (enc.cache_misses, enc.cache_hits) == (1, 3)
    again = enc.encode([conv], [task.audio], ["t0"])  # a later pass over the same task
    assert (enc.cache_misses, enc.cache_hits) == (1, 4)
    assert torch.equal(first["input_features"][0], again["input_features"][0])
    enc.encode([conv], [task.audio])  # no key: computed, not counted
    assert (enc.cache_misses, enc.cache_hits) == (1, 4)
