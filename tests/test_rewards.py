import json
import math
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import audiogym
from audiogym import rewards as R
from audiogym.policies.scripted import OraclePolicy, TranscriptPolicy
from audiogym.tasks import AUDIO_FAMILIES

HOSTILE = {
    k: v
    for k, v in json.loads((Path(__file__).parent / "fixtures" / "hostile_completions.json").read_text()).items()
    if not k.startswith("_")
}
ALL_REWARDS = [
    R.binary,
    R.exact_answer,
    R.composite_format,
    R.reasoning_format,
    R.grounding,
    R.self_cognition,
    R.mgrd_reward(),
    R.build_reward({"composite_format": 1.0, "grounding": 0.5, "self_cognition": 1.0}),
]


def columns(task, n=1):
    return {k: [v] * n for k, v in task.columns().items()}


def call(reward, task, completions):
    return reward(prompts=["p"] * len(completions), completions=completions, **columns(task, len(completions)))


# ---- outcome rewards ---------------------------------------------------------------------------


def test_binary_and_composite_follow_eq_7():
    task = AUDIO_FAMILIES["ChordMood"].make(2)
    L = task.answer_letter
    reasoning = "<think>\nThe chords are built from a root, a third and a fifth; the third sets the colour.\n</think>\n"
    comps = [
        reasoning + f"The answer is ({L}).",
        f"The answer is ({L}).",
        reasoning + "The answer is (Z).",
        "<think>\n\n</think>\n" + L,
        "<think>" + task.question + "</think>" + L,
    ]
    assert call(R.binary, task, comps) == [1.0, 1.0, 0.0, 1.0, 1.0]
    assert call(R.composite_format, task, comps) == pytest.approx([1.0, 0.8, 0.2, 0.8, 0.8])
    custom = R.CompositeFormat(correct_weight=0.5, format_weight=0.5)
    assert call(custom, task, comps[:2]) == [1.0, 0.5]


@pytest.mark.parametrize(
    "think,present",
    [
        ("", False),
        ("ok", False),
        ("pitch pitch pitch pitch pitch pitch pitch pitch pitch", False),
        ("The melody climbs step by step from a low note to a high one, so it rises.", True),
        ("旋律从低音逐步上升到高音，所以是上行的", True),
    ],
)
def test_reasoning_present_means_real_reasoning(think, present):
    assert R.reasoning_present(f"<think>{think}</think>A", "What is the shape of the melody?")[0] is present
    assert not R.reasoning_present(f"<think>{think}", "q")[0]  # never closed


def test_question_repeated_is_not_reasoning():
    q = "What is the shape of the melody's pitch contour in this recording please?"
    assert not R.reasoning_present(f"<think>{q} {q}</think>A", q)[0]


# ---- grounding ---------------------------------------------------------------------------------


def other_facts(fam, task):
    """Facts of a task of the same family with a different answer (for contradicting chains)."""
    for s in range(1000, 1200):
        t = fam.make(s)
        if t.answer != task.answer:
            return t.facts
    raise AssertionError("no other answer found")


def hostile_chains(fam, task):
    wrong = fam.grounded(task, other_facts(fam, task))
    listing = ", ".join(f"({'ABCDEFGH'[i]}) {c}" for i, c in enumerate(task.choices))
    return {
        "stuffing": HOSTILE["claim_stuffing"],
        "keyword_stuffing": HOSTILE["keyword_stuffing"],
        "contradicted_by_facts": f"<think>\n{wrong}\n</think>\nThe answer is (A).",
        "self_contradictory": f"<think>\n{fam.grounded(task, task.facts)} {wrong}\n</think>\nThe answer is (A).",
        "transcript_only": f"<think>\n{fam.surrogate(task)}\n</think>\nThe answer is (A).",
        "answer_listing": f"<think>\nThe options are {listing}. Any of them could fit.\n</think>\nThe answer is {listing}.",
    }


@pytest.mark.parametrize("name", list(AUDIO_FAMILIES))
def test_honest_grounded_chain_beats_every_hostile_chain(name):
    fam = AUDIO_FAMILIES[name]
    for seed in (1, 2, 3):
        task = fam.make(seed)
        honest = f"<think>\n{fam.grounded(task, task.facts)}\n</think>\nThe answer is ({task.answer_letter})."
        hostile = hostile_chains(fam, task)
        h = call(R.grounding, task, [honest])[0]
        scores = dict(zip(hostile, call(R.grounding, task, list(hostile.values()))))
        assert h >= 0.4, (name, seed, h)
        for kind, s in scores.items():
            assert h > s, (name, seed, kind, h, s)
        assert scores["transcript_only"] <= 0.1 and scores["stuffing"] == 0.0
        ok, reasons = R.is_grounded(task, honest)
        assert ok, reasons
        for kind in ("stuffing", "contradicted_by_facts", "self_contradictory", "transcript_only", "answer_listing"):
            assert not R.is_grounded(task, hostile[kind])[0], (name, kind)


def test_grounding_reads_chinese_and_checks_claims():
    task = AUDIO_FAMILIES["ChordMood"].make(4)
    q = task.facts["chord_quality"]
    zh = {"major": "大三和弦", "minor": "小三和弦", "diminished": "减和弦", "augmented": "增和弦"}
    good = call(R.grounding, task, [f"<think>我听到的和弦都是{zh[q]}，和声的色彩很清楚。</think>B"])[0]
    wrong_q = next(x for x in zh if x != q)
    bad = call(R.grounding, task, [f"<think>我听到的和弦都是{zh[wrong_q]}。</think>B"])[0]
    lyric = call(R.grounding, task, ["<think>歌词里说她很伤心，所以是悲伤的。</think>B"])[0]
    assert good > 0.4 and bad == 0.0 and lyric == 0.0


def test_grounding_negation_and_text_tasks():
    task = AUDIO_FAMILIES["ChordMood"].make(4)
    q = task.facts["chord_quality"]
    other = next(x for x in ("major", "minor", "diminished", "augmented") if x != q)
    g = R.grounding_of(f"<think>These are not {other} chords; they are {q} chords.</think>", task.facts)
    assert [c.value for c in g.correct] == [q] and not g.wrong
    text_task = audiogym.get_family("TextReasoning").make(0)
    assert call(R.grounding, text_task, ["<think>6*7=42</think>42"]) == [None]


def test_grounding_on_manifest_audio_uses_measured_facts():
    fam = AUDIO_FAMILIES["Tempo"]
    task = fam.make(9)
    row = {**task.columns(), "facts": "{}", "audio": {"array": task.audio}}  # as if from a user's file
    cls = task.facts["tempo_class"]
    wrong = next(c for c in ("slow", "moderate", "fast") if c != cls)
    good, bad = R.grounding(
        prompts=["p", "p"],
        completions=[f"<think>The beat has a {cls} tempo.</think>", f"<think>The beat has a {wrong} tempo.</think>"],
        **{k: [v, v] for k, v in row.items()},
    )
    assert good > bad and bad == 0.0


# ---- self-cognition ----------------------------------------------------------------------------

SELF_COG = [
    ("I'm sorry, but I cannot hear audio. Could you describe it?", True),
    ("As a text-based AI model, I can't listen to recordings.", True),
    ("I am a text model and have no way to process sound.", True),
    ("Please upload the audio file so I can help.", True),
    ("I don't have the ability to hear the audio clip.", True),
    ("Unfortunately, no audio was provided with your question.", True),
    ("I can only process text, so I can't tell what the music sounds like.", True),
    ("I do not have ears, so I can't judge the audio quality.", True),
    ("抱歉，我无法听到音频内容。", True),
    ("我是一个文本模型，不能处理声音。", True),
    ("请上传音频文件。", True),
    ("作为文本AI助手，我只能处理文本。", True),
    ("I can hear a piano playing a slow melody.", False),
    ("The speaker says she cannot hear well in noisy rooms.", False),
    ("I can't hear any drums in this clip, only strings.", False),
    ("The lyrics say 'I can't hear you' but the chords are major.", False),
    ('He said, "I am unable to listen to this anymore", in a trembling voice.', False),
    ("There is no reverb; the recording sounds dry.", False),
    ("我听到了钢琴的声音，旋律是上行的。", False),
    ("说话人说她听不清楚，但语调是上扬的。", False),
    ("The audio quality is poor, with a lot of background noise.", False),
    ("Listening closely, I cannot detect any tremor in the voice.", False),
]


def test_self_cognition_precision_and_recall():
    predicted = [R.self_cognition_error(t) is not None for t, _ in SELF_COG]
    truth = [y for _, y in SELF_COG]
    tp = sum(p and y for p, y in zip(predicted, truth))
    precision = tp / max(1, sum(predicted))
    recall = tp / sum(truth)
    assert precision == 1.0 and recall == 1.0, [t for (t, y), p in zip(SELF_COG, predicted) if p != y]
    task = AUDIO_FAMILIES["Timbre"].make(0)
    assert call(R.self_cognition, task, [SELF_COG[0][0], SELF_COG[12][0]]) == [-1.0, 0.0]


# ---- composition and the env ---------------------------------------------------------------------


def test_modality_routing_and_weights():
    audio_task = AUDIO_FAMILIES["Tempo"].make(1)
    text_task = audiogym.get_family("TextReasoning").make(1)
    mgrd = R.mgrd_reward()
    right_audio = OraclePolicy().act(audio_task)
    assert call(mgrd, audio_task, [right_audio]) == [pytest.approx(1.0)]
    assert call(mgrd, audio_task, [f"The answer is ({audio_task.answer_letter})."]) == [pytest.approx(0.8)]
    assert call(mgrd, text_task, [f"The answer is {text_task.answer}."]) == [1.0]  # binary: no format term
    w = R.build_reward({"binary": 2.0, "self_cognition": 1.0})
    assert call(w, audio_task, [right_audio]) == [2.0] and w.bounds == (-1.0, 2.0)
    with pytest.raises(audiogym.ConfigError, match="unknown reward"):
        R.build_reward({"nope": 1.0})
    with pytest.raises(audiogym.ConfigError, match="both"):
        R.build_reward({"audio": "binary"})


@pytest.mark.parametrize("reward", ALL_REWARDS, ids=lambda r: r.__name__)
def test_env_takes_any_reward_and_shows_components(reward):
    env = gym.make("audiogym/SpeakerEmotion-v0", reward=reward)
    env.reset(seed=0)
    task = env.unwrapped.task
    _, r, *_, info = env.step(OraclePolicy().act(task))
    assert reward.__name__ in info["reward_breakdown"] and math.isfinite(r)
    assert isinstance(info["reward_details"][reward.__name__], dict)


def test_env_reward_from_config_spec():
    env = gym.make("audiogym/Mixed-v0", reward={"audio": {"composite_format": 1.0, "grounding": 0.5}, "text": "binary"})
    env.reset(seed=5)
    _, r, *_, info = env.step(OraclePolicy().act(env.unwrapped.task))
    details = info["reward_details"]["routed(audio=composite_format+0.5*grounding,text=binary)"]
    assert details["route"] == "audio" and r > 0.8


def test_reward_logs_extra_metrics_through_log_metric():
    task = AUDIO_FAMILIES["Tempo"].make(1)
    logged = {}
    R.grounding(
        prompts=["p"],
        completions=[OraclePolicy().act(task)],
        log_metric=lambda k, v: logged.__setitem__(k, v),
        trainer_state=None,
        **columns(task),
    )
    assert logged["grounding/correct_claims"] >= 1 and "grounding/surrogate" in logged


def test_routed_reward_logs_each_modality_apart():
    """An RL stage's curve on its audio items is `mgrd/audio/reward`: text rows must not leak in."""
    audio, text = AUDIO_FAMILIES["Tempo"].make(1), audiogym.get_family("TextReasoning").make(1)
    cols = {k: columns(audio)[k] + columns(text)[k] for k in columns(audio)}
    logged = {}
    mgrd = R.build_reward({"audio": "binary", "text": "binary"}, name="mgrd")  # the same reward on both sides
    values = mgrd(
        prompts=["p", "q"],
        completions=[OraclePolicy().act(audio), "<think>\n\n</think>\nno idea"],
        log_metric=lambda k, v: logged.__setitem__(k, v),
        **cols,
    )
    assert values == [1.0, 0.0]
    assert logged["mgrd/audio/reward"] == 1.0 and logged["mgrd/text/reward"] == 0.0
    assert logged["mgrd/audio/think_words"] > 5 and logged["mgrd/text/think_words"] == 0
    from audiogym.rewards.outcome import THINK_READ, think_words

    assert (
        think_words("<think>" + "好" * 3_000_000 + "</think>B") == THINK_READ
    )  # a hostile block is read up to the cap


# ---- hostile input -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_hostile_fixture_never_breaks_and_never_looks_grounded(kind):
    text = HOSTILE[kind]
    for task in (AUDIO_FAMILIES["ChordMood"].make(0), audiogym.get_family("TextReasoning").make(0)):
        for reward in ALL_REWARDS:
            v = call(reward, task, [text])[0]
            assert v is None or (math.isfinite(v) and reward.bounds[0] <= v <= reward.bounds[1]), (reward, v)
        if task.category != "text":
            assert not R.is_grounded(task, text)[0]
            assert call(R.grounding, task, [text])[0] < 0.4


TASKS = [AUDIO_FAMILIES[n].make(0) for n in ("ChordMood", "AcousticScene", "SpeakerEmotion")] + [
    audiogym.get_family("TextReasoning").make(0)
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=st.text(max_size=2000) | st.binary(max_size=500).map(lambda b: b.decode("latin-1")),
    task_i=st.integers(0, len(TASKS) - 1),
)
def test_any_string_gives_finite_values_in_range(text, task_i):
    for reward in ALL_REWARDS:
        v = call(reward, TASKS[task_i], [text])[0]
        assert v is None or (math.isfinite(v) and reward.bounds[0] <= v <= reward.bounds[1])


@pytest.mark.parametrize("size", [1_000_000])
def test_megabyte_strings(size):
    rng = np.random.default_rng(0)
    words = [
        "pitch",
        "<think>",
        "</think>",
        "major",
        "chords",
        "(B)",
        "the lyrics say",
        "BPM",
        "120",
        "我",
        "无法",
        "\n",
    ]
    texts = ["".join(rng.choice(words, size=size // 5)), "x" * size, "<think>" + "minor " * (size // 6) + "</think>B"]
    for reward in ALL_REWARDS:
        for v in call(reward, TASKS[0], texts):
            assert v is None or (math.isfinite(v) and reward.bounds[0] <= v <= reward.bounds[1])


def test_transcript_policy_is_not_grounded_and_oracle_is():
    for name, fam in AUDIO_FAMILIES.items():
        task = fam.make(21)
        assert R.is_grounded(task, OraclePolicy().act(task))[0], name
        assert not R.is_grounded(task, TranscriptPolicy().act(task))[0], name


def test_filler_words_do_not_earn_the_format_term():
    from audiogym.rewards.outcome import reasoning_present

    for filler in (
        "<think>hmm hmm let me think about it ok so</think>B",
        "<think>um uh so well let me think now okay yeah right</think>B",
        "<think>嗯嗯嗯啊啊哦哦吧吧呢</think>B",
    ):
        assert reasoning_present(filler)[0] is False, filler
    assert reasoning_present("<think>The chords are minor triads, so the mood is sad.</think>B")[0]
    assert reasoning_present("<think>和弦是小三和弦，所以情绪悲伤。</think>B")[0]


def test_answers_stuffed_into_a_think_block_closed_twice_do_not_earn_the_format_term():
    """What the tiny model learned under the composite reward (round 1 RL at lr 5e-4): close the
    pre-filled think block, state answers, close it again, so the 'think block' had eight words."""
    from audiogym.rewards.outcome import reasoning_present

    for hack in (
        "<think>\n</think>\nThe answer is street\n</think>\nThe answer is words\nThe answer is street.",
        "<think>\n</think>\nThe answer is street,The answer is street.\n</think>\nThe answer is street.",
        "<think>so so</think> the level climbs and the hum is low and steady</think>(B)",
    ):
        assert reasoning_present(hack) == (False, "think block closed more than once"), hack
    mgrd = R.mgrd_reward()
    task = AUDIO_FAMILIES["AcousticScene"].make(3)
    hacked = (
        f"<think>\n</think>\nThe answer is {task.answer}, {task.answer} here.\n</think>\nThe answer is {task.answer}."
    )
    assert call(mgrd, task, [hacked]) == [pytest.approx(0.8)]  # correct, no format credit


# ---- the readers' speed-ups read exactly what the plain patterns read ----------------------------

_PIECES = st.one_of(
    st.text(alphabet=list("ab .!?;\n。！？；不对更正歌词他说 "), max_size=12),
    st.sampled_from(["actually", "lyrics", "the speaker says", "歌词", "不对", "not", "rather than", "A", "(B)"]),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_PIECES, max_size=6).map("".join))
def test_guarded_patterns_match_what_plain_alternations_match(text):
    import re

    from audiogym.rewards import answer as P

    grounding = __import__("audiogym.rewards.grounding", fromlist=["_SENTENCE_END"])
    plain_end = re.compile(r"[.!?;]+(?=\s|$)|[。！？；\n]+")
    assert [m.span() for m in grounding._SENTENCE_END.finditer(text)] == [m.span() for m in plain_end.finditer(text)]
    plain_corr = re.compile(
        r"\bno,? wait\b|\bactually\b|\bi mean\b|\bcorrection\b|\bscratch that\b|\bon second thought\b"
        r"|不对|更正|不，|改为",
        re.I,
    )
    assert [m.span() for m in P._CORRECTION.finditer(text)] == [m.span() for m in plain_corr.finditer(text)]
    zh = grounding._SURROGATE_ZH
    plain_zh = re.compile("|".join(zh))
    assert [m.group(0) for m in re.compile(grounding.first_char_guard(zh)).finditer(text)] == [
        m.group(0) for m in plain_zh.finditer(text)
    ]


def test_answer_reading_is_cached_per_text_and_options_and_never_changes_the_result():
    from audiogym.rewards import answer as P
    from audiogym.rewards.parse import parse_completion

    P.clear_caches()  # (not the canonical "The answer is fast.", which is read without the cache)
    choices = ["slow", "fast"]
    first = P.parse_choice("So it must be fast.", choices)
    assert first == 1 and P._cached_choice.cache_info().misses == 1
    assert P.parse_choice("So it must be fast.", choices) == 1 and P._cached_choice.cache_info().hits == 1
    assert P.parse_choice("So it must be fast.", ["fast", "slow"]) == 0  # other options, other reading
    assert parse_completion("So it must be fast.", [["unhashable"], "fast"]).choice is None  # a hostile row: no answer
    long_tail = "x " * 400 + "The answer is slow."
    assert P.parse_choice(long_tail, choices) == 0 and P._cached_choice.cache_info().currsize == 2


def test_a_reward_registers_itself_and_a_config_builds_it_by_name():
    from audiogym.rewards import build_reward
    from audiogym.rewards.base import REWARDS, Reward, register_reward

    @register_reward("brevity_test")
    class Brevity(Reward):
        name = "brevity_test"

        def score(self, text, row):
            return (1.0 if len(text) < 40 else 0.0), {}

    try:
        reward = build_reward({"brevity_test": 0.5, "binary": 1.0})
        row = {"answer": "B", "choices": ["A", "B"], "category": "music"}
        assert reward.score("<think>\nx\n</think>\nThe answer is B.", row)[0] == 1.5
        with pytest.raises(ValueError, match="already registered"):
            register_reward("brevity_test")(type("Other", (Reward,), {}))
        assert {"binary", "composite_format", "reasoning_format", "grounding", "self_cognition"} <= set(REWARDS)
    finally:
        REWARDS.pop("brevity_test", None)
    with pytest.raises(audiogym.ConfigError, match="unknown reward .brevity_test."):
        build_reward({"brevity_test": 1.0})
