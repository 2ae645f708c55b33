"""Adding a family is one module: a family defined here (no other file edited) registers, becomes an
environment, is evaluated, and grounding verifies the claims its spec describes."""

from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import pytest

import audiogym
from audiogym.evaluation import eval_tasks, evaluate
from audiogym.policies import OraclePolicy
from audiogym.rewards.grounding import evidence_terms, grounding_of, measured_facts
from audiogym.tasks import AudioTask, ClaimSpec, Family, FamilyConfig
from audiogym.tasks.family import clip_task, pick_difficulty, transcript_for
from audiogym.tasks.registry import unregister
from audiogym.tasks.synth import add_noise, harmonic_tone, n_samples

REGISTERS = {"low": (90.0, 140.0), "high": (600.0, 900.0)}
CUES = {"low": ["a deep rumbling drone"], "high": ["a thin whistling tone"]}


@dataclass
class HumConfig(FamilyConfig):
    duration: float = 2.0


def hum(rng: np.random.Generator, cfg: HumConfig) -> AudioTask:
    difficulty = pick_difficulty(rng, cfg)
    register = str(rng.choice(list(REGISTERS)))
    hz = round(float(rng.uniform(*REGISTERS[register])), 1)
    audio = add_noise(0.3 * harmonic_tone(hz, n_samples(cfg.duration), np.array([1.0]), rng), 30.0, rng)
    transcript, conflict, cue = transcript_for(rng, CUES, register, cfg)
    return clip_task(
        rng,
        audio,
        question="Is this hum low or high?",
        options=list(REGISTERS),
        answer=register,
        category="sound",
        skill="pitch",
        difficulty=difficulty,
        transcript=transcript,
        transcript_label="Caption",
        facts={"hum_register": register, "hum_hz": hz},
        conflict=conflict,
        cue=cue,
    )


def register_of(m) -> str | None:
    """The family's own classifier over measured features: the register from the measured f0."""
    return None if m.f0_median_hz is None else ("low" if m.f0_median_hz < 300 else "high")


# The family's own evidence words: a chain that talks of drones and humming cites this kind of evidence.
EVIDENCE = {"drone_hum": (r"drones?", r"humm\w*", "嗡嗡")}


HUM = Family(
    name="Hum",
    category="sound",
    config=HumConfig,
    generate=hum,
    description="A low or a high steady hum (a family defined in a test module).",
    answer_keys=("hum_register",),
    read_facts=lambda m: {"hum_register": register_of(m), "hum_hz": m.f0_median_hz},
    answer_from=lambda f: f.get("hum_register") or "",
    grounded=lambda task, facts: (
        f"One steady partial near {facts['hum_hz']:.0f} Hz: a {facts['hum_register']}-register hum."
    ),
    cues=CUES,
    topic="the sound",
    claims=(
        ClaimSpec("hum_register", patterns=((r"\b(low|high)[- ]register hum\b", None),), triggers=("hum",)),
        ClaimSpec(
            "hum_hz",
            patterns=((r"\bpartial (?:near|at|around) (\d{2,4})\s*hz\b", None),),
            triggers=("partial",),
            tolerance=0.1,
        ),
    ),
    evidence=EVIDENCE,
)


@pytest.fixture
def hum_family():
    audiogym.register(HUM)
    yield HUM
    unregister("Hum")


def test_a_family_from_a_test_module_is_an_environment(hum_family):
    assert "audiogym/Hum-v0" in audiogym.list_envs()
    env = gym.make("audiogym/Hum-v0")
    obs, info = env.reset(seed=3)
    task = env.unwrapped.task
    assert task.family == "Hum" and obs["audio"].shape == (32_000,)
    _, reward, terminated, _, info = env.step(OraclePolicy().act(task))
    assert terminated and reward == 1.0 and info["parsed_answer"] == task.answer


def test_a_family_from_a_test_module_is_evaluated_and_its_claims_verified(hum_family):
    tasks = eval_tasks("audiogym/Hum-v0", n=16, seed=0)
    report = evaluate(OraclePolicy(), tasks, progress=False).summary()
    assert report["accuracy"] >= 0.9 and report["grounding_rate"] >= 0.9
    task = tasks[0]
    other = "high" if task.answer == "low" else "low"
    hz = task.facts["hum_hz"]

    def read(text):
        return grounding_of(f"<think>\n{text}\n</think>\n{task.answer}", task.facts, choices=task.choices, family="Hum")

    honest = read(f"One steady partial near {hz:.0f} Hz, a {task.answer}-register hum.")
    echo = read(f"It is a {task.answer}-register hum.")  # the option's own word: no evidence
    wrong = read(f"One steady partial near {2 * hz:.0f} Hz, a {other}-register hum.")
    assert [(c.key, round(c.value)) for c in honest.correct] == [("hum_hz", round(hz))]
    assert [c.text for c in honest.echoes] == [f"{task.answer}-register hum"] and echo.correct == []
    assert {(c.key, c.value if c.key == "hum_register" else round(c.value)) for c in wrong.wrong} == {
        ("hum_register", other),
        ("hum_hz", round(2 * hz)),
    }
    assert honest.score > echo.score >= wrong.score
    # Facts measured from the audio include the new family's reading (manifests rely on it).
    assert measured_facts(task.audio)["hum_register"] == task.answer


def test_unregistering_removes_the_family_and_its_claims(hum_family):
    unregister("Hum")
    assert "Hum" not in audiogym.FAMILIES
    g = grounding_of(
        "<think>\nA partial near 120 Hz, a low-register hum.\n</think>\nlow", {"hum_register": "low", "hum_hz": 120}
    )
    assert g.correct == [] and g.wrong == []
    audiogym.register(HUM)  # the fixture unregisters again


def test_a_family_brings_its_own_classifier_and_evidence_words(hum_family):
    from audiogym.analysis import measure

    tasks = [HUM.make(seed) for seed in range(8)]
    assert {t.answer for t in tasks} == {"low", "high"}
    assert all(HUM.read_facts(measure(t.audio))["hum_register"] == t.answer for t in tasks)
    assert evidence_terms()["drone_hum"] == EVIDENCE["drone_hum"]
    task = tasks[0]

    def cited(text):
        return grounding_of(f"<think>\n{text}\n</think>\n{task.answer}", task.facts, choices=task.choices).categories

    assert "drone_hum" in cited("A steady humming drone fills the clip.")
    assert "drone_hum" in cited("一直是嗡嗡的声音。")
    assert "drone_hum" not in cited("A steady tone fills the clip.")
    unregister("Hum")  # the words leave with the family
    try:
        assert "drone_hum" not in evidence_terms()
        assert "drone_hum" not in cited("A steady humming drone fills the clip.")
    finally:
        audiogym.register(HUM)
