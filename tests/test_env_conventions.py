"""Gymnasium conventions users bring: vector envs stepping unparsable completions, config keywords,
one reward per episode, pickling."""

import pickle

import gymnasium as gym
import numpy as np
import pytest

import audiogym
from audiogym.envs.wrappers import ChoiceIndexAction
from audiogym.errors import AudiogymError, ConfigError


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_vector_envs_step_parsable_unparsable_and_empty_completions(mode):
    kwargs = {"vector_kwargs": {"shared_memory": False}} if mode == "async" else {}
    env = gym.make_vec("audiogym/Tempo-v0", num_envs=4, vectorization_mode=mode, **kwargs)
    try:
        env.reset(seed=0)
        _, reward, terminated, _, info = env.step(("Answer: A", "no idea", "", "A, B or C"))
        assert reward.shape == (4,) and terminated.all()
        assert info["parsed_choice"].tolist()[1:] == [-1, -1, -1] and info["answered"].tolist()[1:] == [False] * 3
        assert list(info["parsed_answer"][1:]) == ["", "", ""]
        env.step(("B", "C", "A", "B"))  # next-step autoreset: these are reset steps
    finally:
        env.close()


def test_vector_envs_with_choice_index_actions_out_of_range():
    env = gym.vector.SyncVectorEnv(
        [lambda: ChoiceIndexAction(gym.make("audiogym/Meter-v0")) for _ in range(2)],
        autoreset_mode=gym.vector.AutoresetMode.SAME_STEP,
    )
    env.reset(seed=1)
    _, reward, _, _, info = env.step(np.array([0, 7]))
    final = info["final_info"]  # same-step autoreset: the finished episodes' infos
    assert reward[1] == 0.0 and final["parsed_choice"][1] == -1 and not final["answered"][1]
    env.close()


@pytest.mark.parametrize("name", list(audiogym.FAMILIES) + ["Mixed"])
def test_config_fields_as_keywords(name):
    env = gym.make(f"audiogym/{name}-v0", difficulty="hard", conflict_rate=0.5)
    env.reset(seed=2)
    if name not in ("Mixed", "TextReasoning"):
        assert env.unwrapped.task.difficulty == "hard"


def test_config_as_a_mapping_and_bad_keys():
    env = gym.make("audiogym/ChordMood-v0", config={"difficulty": "easy", "n_chords": 3})
    env.reset(seed=0)
    assert env.unwrapped.config.n_chords == 3
    with pytest.raises(ConfigError, match="unknown config key 'n_chord'"):
        gym.make("audiogym/ChordMood-v0", n_chord=3)
    with pytest.raises(ConfigError, match="difficulty"):
        gym.make("audiogym/Tempo-v0", difficulty="brutal")
    with pytest.raises(ConfigError, match="unknown config key"):
        gym.make("audiogym/Mixed-v0", n_chordz=3)


def test_one_reward_per_episode():
    env = gym.make("audiogym/Tempo-v0").unwrapped
    env.reset(seed=0)
    env.step("A")
    with pytest.raises(AudiogymError, match="reset"):
        env.step("A")


def test_envs_pickle_and_round_trip():
    for env_id in ("audiogym/Tempo-v0", "audiogym/Mixed-v0"):
        env = gym.make(env_id, difficulty="easy").unwrapped
        env.reset(seed=3)
        clone = pickle.loads(pickle.dumps(env))
        assert clone.source.name == env.source.name
        clone.reset(seed=3)
        assert np.array_equal(clone.task.audio, env.task.audio)


def test_canonical_actions_normalised_features_mask_and_task_pool():
    from audiogym.envs.wrappers import AudioFeatureObservation

    options = ["flute-like", "clarinet-like", "string-like", "plucked", "brassy"]
    env = AudioFeatureObservation(
        ChoiceIndexAction(gym.make("audiogym/Timbre-v0", task_pool=4), options=options),
        normalize=True,
        action_mask=True,
    )
    obs, info = env.reset(seed=0)
    task = env.unwrapped.task
    assert env.observation_space.contains(obs) and np.abs(obs["features"]).max() <= 5.0
    assert obs["action_mask"].tolist() == [1.0] * 5 and info["action_mask"].tolist() == [1] * 5
    _, reward, *_ = env.step(options.index(task.answer))  # the answer's canonical index, wherever it was shuffled
    assert reward == 1.0
    seen = set()
    for s in range(12):
        env.reset(seed=s)
        seen.add(env.unwrapped.task.id)
    assert len(seen) <= 4  # episodes draw from the pool of 4 tasks
    meter = ChoiceIndexAction(
        gym.make("audiogym/Meter-v0"), options=["march (groups of four)", "waltz (groups of three)", "polka"]
    )
    _, info = meter.reset(seed=1)
    assert info["action_mask"].tolist() == [1, 1, 0] and meter.step(2)[1] == 0.0  # 'polka' names no choice
    with pytest.raises(ConfigError, match="task_pool"):
        gym.make("audiogym/Tempo-v0", task_pool=0)
