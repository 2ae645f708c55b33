"""The audio GRPO path on CUDA in bf16, as the recipe's stages run it on a GPU machine (model_io's
trainer arguments: bf16 where the GPU has it). Skipped where no CUDA device is present (CI)."""

import math

import pytest
import torch
from test_trainers import adapter_weight, load, spread_reward, tiny, watch  # noqa: F401  (tiny: the fixture)

import audiogym

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]


def test_audio_grpo_trains_in_bf16_on_cuda(tiny, tmp_path):  # noqa: F811
    from trl import GRPOConfig

    from audiogym.trainers.grpo import AudioGRPOTrainer

    model, proc = load(tiny)
    seen = watch(model)
    dtypes = []
    model.model.multi_modal_projector.register_forward_hook(lambda m, i, o: dtypes.append(o.dtype))
    before = adapter_weight(model)
    ds = audiogym.to_dataset("audiogym/Tempo-v0", 4, seed=0)
    args = GRPOConfig(
        output_dir=str(tmp_path),
        max_steps=2,
        per_device_train_batch_size=4,
        learning_rate=1e-2,
        report_to="none",
        use_cpu=False,
        bf16=True,
        save_strategy="no",
        logging_steps=1,
        seed=0,
        num_generations=4,
        max_completion_length=8,
        beta=0.1,
    )
    trainer = AudioGRPOTrainer(model, reward_funcs=[spread_reward], args=args, train_dataset=ds, processing_class=proc)
    trainer.train()
    assert next(model.parameters()).device.type == "cuda"
    assert any(grad for grad, _ in seen["encoder"]), "encoder never ran in a training forward"
    assert torch.bfloat16 in dtypes, "the audio adapter did not run under bf16 autocast"
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    assert losses and all(math.isfinite(v) for v in losses)
    assert not torch.equal(before, adapter_weight(model).to(before.device)), "the adapter did not move"


def test_cuda_first_token_log_probs_match_cpu(tiny):  # noqa: F811
    """The same prompts with audio give the same next-token distribution on CUDA as on CPU (fp32;
    cuDNN's TF32 convolutions in the Whisper encoder are what the tolerance allows for), and the
    policy samples on CUDA in bf16."""
    from audiogym.policies.audio_lm import AudioLMPolicy
    from audiogym.tasks import FAMILIES

    items = [FAMILIES[n].make(i) for i, n in enumerate(["ChordMood", "Tempo", "Intonation", "AcousticScene"])]
    first = {}
    for device in ("cpu", "cuda"):
        policy = AudioLMPolicy(tiny, device=device)
        with torch.no_grad():
            first[device] = [
                policy.model(**policy.inputs([t])).logits[0, -1].float().log_softmax(-1).cpu() for t in items
            ]
    for c, g in zip(first["cpu"], first["cuda"]):
        assert (c - g).abs().max().item() < 1e-2
        assert c.argmax() == g.argmax()
    policy = AudioLMPolicy(tiny, device="cuda", dtype="bfloat16")
    outs = policy.generate(items, num_samples=2, max_new_tokens=8, seed=0)
    assert [len(o) for o in outs] == [2] * len(items)
