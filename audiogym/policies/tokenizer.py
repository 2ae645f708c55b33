"""A tokenizer trained locally on the task and reasoning corpus (no hub is reachable).

Byte-level BPE with the special tokens an audio chat model needs (Qwen2-Audio's audio placeholder
and its brackets, chat markers), `<think>` and `</think>` as single tokens, and a Qwen-style chat
template, wrapped as a `PreTrainedTokenizerFast` so it saves and loads like any checkpoint's tokenizer.

The think tags are added tokens but *not special* (as in Qwen3's tokenizer): TRL's GRPOTrainer
decodes completions with `skip_special_tokens=True` before it calls the reward functions, and
special think tags would vanish there, leaving the rewards a completion without its reasoning
block (the 0.2 format term and the grounding score then read 0 on every sample).
"""

from __future__ import annotations

from collections.abc import Iterable

THINK_OPEN, THINK_CLOSE = "<think>", "</think>"
AUDIO_TOKEN, AUDIO_BOS, AUDIO_EOS = "<|AUDIO|>", "<|audio_bos|>", "<|audio_eos|>"
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", AUDIO_TOKEN, AUDIO_BOS, AUDIO_EOS]
THINK_TOKENS = [THINK_OPEN, THINK_CLOSE]
# A byte-level BPE holds every byte, the special tokens and the think tags before any merge.
MIN_VOCAB = 256 + len(SPECIAL_TOKENS) + len(THINK_TOKENS)
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' }}"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'audio' %}{{ '<|audio_bos|><|AUDIO|><|audio_eos|>\n' }}"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
    "{% endfor %}{% endif %}"
    "{{ '<|im_end|>\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


def corpus_texts(n_per_family: int = 40, seed: int = 0) -> list[str]:
    """Prompts, grounded and surrogate chains and answers of every family: the training corpus."""
    from audiogym.policies.scripted import OraclePolicy, TranscriptPolicy
    from audiogym.tasks import FAMILIES, render_prompt

    texts = []
    for fam in FAMILIES.values():
        for s in range(seed, seed + n_per_family):
            task = fam.make(s)
            texts.append(render_prompt(task))
            if task.category == "text":
                texts.append(OraclePolicy().act(task))
            else:
                texts.append(f"{THINK_OPEN}\n{fam.grounded(task, task.facts)}\n{THINK_CLOSE}")
                texts.append(TranscriptPolicy().act(task))
    return texts


def train_tokenizer(texts: Iterable[str] | None = None, vocab_size: int = 2000):
    """A byte-level BPE tokenizer trained on `texts` (the task corpus by default)."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    texts = list(texts) if texts is not None else corpus_texts()
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size - len(THINK_TOKENS),
        special_tokens=SPECIAL_TOKENS,
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(texts, trainer)
    # The BPE trainer marks every token it is given as special; the think tags are added after it.
    tok.add_tokens([AddedToken(t, special=False, normalized=False) for t in THINK_TOKENS])
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        unk_token=None,
        additional_special_tokens=SPECIAL_TOKENS[3:],
    )
    fast.chat_template = CHAT_TEMPLATE
    fast.padding_side = "left"
    return fast
