import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import audiogym
from audiogym import AudiogymError, list_envs
from audiogym.envs import AudioFeatureObservation, ChoiceIndexAction
from audiogym.envs.wrappers import FEATURE_NAMES

IDS = [i for i in list_envs() if i != "audiogym/Manifest-v0"]


def make(env_id, **kw):
    return gym.make(env_id, **kw)


def test_at_least_fifteen_envs_registered():
    assert len(list_envs()) >= 15
    assert {"audiogym/Mixed-v0", "audiogym/TextReasoning-v0", "audiogym/Manifest-v0"} <= set(list_envs())


def test_make_through_module_prefix_registers():
    env = gym.make("audiogym:audiogym/ChordMood-v0")
    assert isinstance(env.unwrapped, audiogym.AudioQAEnv)


@pytest.mark.parametrize("env_id", IDS)
def test_check_env_and_seeded_reset(env_id):
    env = make(env_id)
    check_env(env.unwrapped, skip_render_check=True)
    a, _ = env.reset(seed=123)
    b, _ = env.reset(seed=123)
    assert a["audio"].tobytes() == b["audio"].tobytes() and a["question"] == b["question"]
    c, _ = env.reset(seed=124)
    assert (c["audio"].tobytes(), c["question"]) != (a["audio"].tobytes(), a["question"]) or env_id.endswith("Text")


def test_check_env_on_a_manifest_env(good_manifest):
    env = make("audiogym/Manifest-v0", path=str(good_manifest))
    check_env(env.unwrapped, skip_render_check=True)
    obs, info = env.reset(seed=0)
    assert obs["transcript"] == "naïve café"  # the manifest's characters are part of the space
    assert obs["audio"].shape == (30 * 16000,)


def test_step_scores_and_reports():
    env = make("audiogym/ChordMood-v0")
    obs, info = env.reset(seed=4)
    task = env.unwrapped.task
    assert "answer" not in info and task.question in info["prompt"]
    letter = task.answer_letter
    _, r, term, trunc, info = env.step(f"<think>\nminor triads\n</think>\nThe answer is ({letter}).")
    assert (r, term, trunc) == (1.0, True, False)
    assert info["correct"] and info["parsed_answer"] == task.answer and info["answer"] == task.answer
    assert info["reward_breakdown"] == {"exact_answer": 1.0}
    env.reset(seed=4)
    wrong = next(c for c in task.choices if c != task.answer)
    _, r, *_, info = env.step(f"The answer is {wrong}.")
    assert r == 0.0 and not info["correct"] and info["parsed_answer"] == wrong


def test_step_with_a_custom_reward_shows_components():
    def length_bonus(prompts, completions, **cols):
        return [min(len(c), 100) / 100 for c in completions]

    def not_applicable(prompts, completions, **cols):
        return [None for _ in completions]

    env = make("audiogym/Tempo-v0", reward=[audiogym.rewards.exact_answer, length_bonus, not_applicable])
    env.reset(seed=0)
    _, r, *_, info = env.step("x" * 50)
    assert info["reward_breakdown"] == {"exact_answer": 0.0, "length_bonus": 0.5, "not_applicable": None}
    assert r == pytest.approx(0.5)


def test_bad_actions_give_clear_errors():
    env = make("audiogym/Tempo-v0").unwrapped
    with pytest.raises(AudiogymError, match="reset"):
        env.step("A")
    env.reset(seed=0)
    with pytest.raises(AudiogymError, match="completion text"):
        env.step(3)


def test_manifest_env_needs_a_path():
    with pytest.raises(AudiogymError, match="path="):
        make("audiogym/Manifest-v0")


def test_transcript_can_be_hidden():
    env = make("audiogym/ChordMood-v0", show_transcript=False)
    obs, info = env.reset(seed=2)
    assert obs["transcript"] == "" and "Lyrics" not in info["prompt"]


def test_choice_index_wrapper_and_spec_rebuild():
    env = ChoiceIndexAction(make("audiogym/Meter-v0"))
    assert env.action_space == gym.spaces.Discrete(8)
    obs, info = env.reset(seed=1)
    task = env.unwrapped.task
    assert info["action_mask"].tolist() == [1, 1, 0, 0, 0, 0, 0, 0]
    _, r, *_ = env.step(task.answer_index)
    assert r == 1.0
    env.reset(seed=1)
    assert env.step(7)[1] == 0.0  # past the choices: no answer
    rebuilt = gym.make(env.spec)
    assert isinstance(rebuilt, ChoiceIndexAction)


def test_feature_observation_wrapper():
    env = AudioFeatureObservation(ChoiceIndexAction(make("audiogym/Tempo-v0")))
    obs, _ = env.reset(seed=3)
    assert obs.shape == (len(FEATURE_NAMES),) and obs.dtype == np.float32 and np.isfinite(obs).all()
    assert env.observation_space.contains(obs)
    tempo = obs[FEATURE_NAMES.index("tempo_bpm")]
    assert abs(tempo - env.unwrapped.task.facts["tempo_bpm"]) < 8
    assert isinstance(gym.make(env.spec), AudioFeatureObservation)


@pytest.mark.parametrize("vector", ["sync", "async"])
def test_vector_envs(vector):
    fns = [lambda: gym.make("audiogym/Mixed-v0") for _ in range(2)]
    venv = gym.vector.SyncVectorEnv(fns) if vector == "sync" else gym.vector.AsyncVectorEnv(fns, shared_memory=False)
    try:
        obs, info = venv.reset(seed=[1, 2])
        assert obs["audio"].shape == (2, 64000)
        single = gym.make("audiogym/Mixed-v0")
        o1, _ = single.reset(seed=2)
        assert obs["question"][1] == o1["question"]
        np.testing.assert_array_equal(obs["audio"][1], o1["audio"])
        _, rew, term, _, info = venv.step(("A", "B"))
        assert rew.shape == (2,) and term.all()
    finally:
        venv.close()


def test_render_ansi():
    env = make("audiogym/Tempo-v0", render_mode="ansi")
    env.reset(seed=0)
    env.step("The answer is (A).")
    text = env.render()
    assert "answer:" in text and env.unwrapped.task.question in text
