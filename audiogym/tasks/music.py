"""Music families: chord mood, tempo, melodic contour, timbre, meter.

Each family is a recipe card: a config, a generator, a reader that turns measured acoustics into
the family's facts, and the two reasoning styles (grounded: cites what is audible; surrogate:
reasons from the lyrics or the announcer's words).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from audiogym.tasks import synth
from audiogym.tasks.core import (SNR_DB, AudioTask, Family, FamilyConfig, check_range, pick_difficulty,
                                 shuffled_choices, transcript_for)

NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


# ---- ChordMood ------------------------------------------------------------------------------

TRIADS = {"major": (0, 4, 7), "minor": (0, 3, 7), "diminished": (0, 3, 6), "augmented": (0, 4, 8)}
MOODS = {"major": "cheerful", "minor": "sad", "diminished": "tense", "augmented": "mysterious"}
CHORD_CUES = {
    "cheerful": ["sunshine on my face, we're dancing all day long", "happy days are here, we laugh and sing"],
    "sad": ["tears fall down, I'm all alone tonight", "goodbye my love, my heart is broken"],
    "tense": ["something's wrong, they're coming closer", "hold your breath, danger in the dark"],
    "mysterious": ["whispers in the fog, secrets no one knows", "strange lights drift across the silent sky"],
}


@dataclass
class ChordMoodConfig(FamilyConfig):
    n_chords: int = 4

    def validate(self) -> "ChordMoodConfig":
        super().validate()
        check_range("n_chords", self.n_chords, 2, 8)
        return self


def chord_mood(rng: np.random.Generator, cfg: ChordMoodConfig) -> AudioTask:
    difficulty = pick_difficulty(rng, cfg)
    quality = str(rng.choice(list(TRIADS)))
    n = synth.n_samples(cfg.duration)
    seg = n // cfg.n_chords
    out = np.zeros(n)
    roots = []
    root = int(rng.integers(55, 63))
    for i in range(cfg.n_chords):
        roots.append(root)
        for iv in TRIADS[quality]:
            tone = synth.harmonic_tone(synth.midi_to_hz(root + iv), seg, np.array([1.0, 0.3, 0.1]), rng)
            out[i * seg:(i + 1) * seg] += tone * synth.envelope(seg, 0.01, 0.05, decay_tau=0.9)
        root = 55 + (root - 55 + int(rng.choice([5, 7, 2, 9]))) % 9
    out = synth.add_noise(synth.at_level(out, -18), SNR_DB[difficulty], rng)
    mood = MOODS[quality]
    transcript, conflict = transcript_for(rng, CHORD_CUES, mood, cfg)
    return AudioTask(
        id="", audio=synth.finish(out), question="What mood does this music convey?",
        choices=shuffled_choices(rng, list(CHORD_CUES), mood), answer=mood, category="music",
        skill="harmony", difficulty=difficulty, transcript=transcript, transcript_label="Lyrics",
        facts={"chord_quality": quality, "mood": mood, "roots": [NOTE_NAMES[r % 12] for r in roots]},
        conflict=conflict)


def chord_grounded(task: AudioTask, facts: dict) -> str:
    q = facts["chord_quality"]
    detail = {"major": "a major third and a perfect fifth above the root: bright major triads",
              "minor": "a minor third and a perfect fifth above the root: minor triads",
              "diminished": "two stacked minor thirds, a diminished fifth: unstable diminished triads",
              "augmented": "two stacked major thirds, an augmented fifth: floating augmented triads"}[q]
    roots = ", ".join(facts.get("roots", [])) or "several roots"
    return (f"I hear a progression of sustained chords on {roots}. Each chord has {detail}. "
            f"The harmony is {q}, and {q} harmony sounds {MOODS[q]}, so the mood is {MOODS[q]}.")


CHORD_MOOD = Family(
    name="ChordMood", category="music", config=ChordMoodConfig, generate=chord_mood,
    description="Mood of a chord progression (major/minor/diminished/augmented); lyrics may disagree.",
    answer_keys=("chord_quality",),
    read_facts=lambda m: {"chord_quality": m.chord_quality, "roots": m.chord_roots},
    answer_from=lambda f: MOODS.get(f.get("chord_quality"), ""),
    grounded=chord_grounded, cues=CHORD_CUES, topic="that feeling")


# ---- Tempo ----------------------------------------------------------------------------------

TEMPO_BANDS = {"slow": (58.0, 76.0), "moderate": (92.0, 112.0), "fast": (132.0, 168.0)}
TEMPO_CUES = {
    "slow": ["take it easy, lazy Sunday afternoon", "drifting gently, no need to hurry"],
    "moderate": ["walking steady down the road", "keep an even pace, step by step"],
    "fast": ["running racing, can't stop now", "quick quick, we're in a rush"],
}


def tempo_class(bpm: float | None) -> str | None:
    """Slow below 84 BPM, fast above 122, moderate between (boundaries sit in the gaps)."""
    if bpm is None:
        return None
    return "slow" if bpm < 84 else "fast" if bpm > 122 else "moderate"


def drum_hit(rng: np.random.Generator, low: bool, gain: float = 1.0) -> np.ndarray:
    n = synth.n_samples(0.12)
    t = np.arange(n) / synth.SR
    if low:  # kick: a falling sine
        x = np.sin(2 * np.pi * (55 + 90 * np.exp(-t / 0.02)) * t) * np.exp(-t / 0.05)
    else:  # snare/click: bright noise
        x = synth.highpass(rng.standard_normal(n), 1500) * np.exp(-t / 0.025) * 0.7
    return gain * x


def beat_track(rng: np.random.Generator, n: int, bpm: float, accents_every: int | None = None) -> np.ndarray:
    out = np.zeros(n)
    period = 60.0 / bpm
    start = float(rng.uniform(0.05, 0.25))
    i = 0
    while start + i * period < n / synth.SR - 0.1:
        strong = accents_every is None or i % accents_every == 0
        hit = drum_hit(rng, low=True, gain=1.0) if strong else drum_hit(rng, low=False, gain=0.3)
        synth.place(out, hit, synth.n_samples(start + i * period))
        i += 1
    return out


def tempo(rng: np.random.Generator, cfg: FamilyConfig) -> AudioTask:
    difficulty = pick_difficulty(rng, cfg)
    cls = str(rng.choice(list(TEMPO_BANDS)))
    bpm = round(float(rng.uniform(*TEMPO_BANDS[cls])), 1)
    n = synth.n_samples(cfg.duration)
    beats = beat_track(rng, n, bpm)
    pad = synth.harmonic_tone(synth.midi_to_hz(int(rng.integers(48, 60))), n, np.array([1, 0.5, 0.3]), rng)
    out = synth.at_level(beats, -16) + synth.at_level(pad, -30)
    out = synth.add_noise(out, SNR_DB[difficulty], rng)
    transcript, conflict = transcript_for(rng, TEMPO_CUES, cls, cfg)
    return AudioTask(
        id="", audio=synth.finish(out), question="How would you describe the tempo of this beat?",
        choices=shuffled_choices(rng, list(TEMPO_BANDS), cls), answer=cls, category="music",
        skill="rhythm", difficulty=difficulty, transcript=transcript, transcript_label="Lyrics",
        facts={"tempo_bpm": bpm, "tempo_class": cls}, conflict=conflict)


def tempo_grounded(task: AudioTask, facts: dict) -> str:
    bpm = facts.get("tempo_bpm")
    cls = facts["tempo_class"]
    gap = f"about {60.0 / bpm:.2f} s between beats, roughly {bpm:.0f} BPM" if bpm else "an irregular pulse"
    return (f"The drum hits are evenly spaced with {gap}. That tempo is {cls}, so the beat is {cls}.")


TEMPO = Family(
    name="Tempo", category="music", config=FamilyConfig, generate=tempo,
    description="Tempo of a drum beat: slow, moderate or fast.",
    answer_keys=("tempo_class",),
    read_facts=lambda m: {"tempo_bpm": m.tempo_bpm, "tempo_class": tempo_class(m.tempo_bpm)},
    answer_from=lambda f: f.get("tempo_class") or "",
    grounded=tempo_grounded, cues=TEMPO_CUES, topic="pace")


# ---- MelodyContour --------------------------------------------------------------------------

CONTOURS = ("ascending", "descending", "arch", "valley")
CONTOUR_CUES = {
    "ascending": ["climbing higher and higher to the stars", "rise up, rise up, reach the top"],
    "descending": ["falling down, sinking to the ground", "sliding down the hill below"],
    "arch": ["up the mountain and back down the other side", "we rose and then we fell again"],
    "valley": ["down into the valley and up again", "we sank low and then climbed back"],
}


def contour_steps(rng: np.random.Generator, contour: str, n_notes: int) -> list[int]:
    up = lambda: int(rng.integers(2, 5))  # noqa: E731 - a step of 2-4 semitones
    half = n_notes // 2
    if contour == "ascending":
        return [up() for _ in range(n_notes - 1)]
    if contour == "descending":
        return [-up() for _ in range(n_notes - 1)]
    if contour == "arch":
        return [up() for _ in range(half)] + [-up() for _ in range(n_notes - 1 - half)]
    return [-up() for _ in range(half)] + [up() for _ in range(n_notes - 1 - half)]


@dataclass
class MelodyConfig(FamilyConfig):
    n_notes: int = 6

    def validate(self) -> "MelodyConfig":
        super().validate()
        check_range("n_notes", self.n_notes, 4, 12)
        return self


def melody_contour(rng: np.random.Generator, cfg: MelodyConfig) -> AudioTask:
    difficulty = pick_difficulty(rng, cfg)
    contour = str(rng.choice(CONTOURS))
    steps = contour_steps(rng, contour, cfg.n_notes)
    notes = np.cumsum([int(rng.integers(55, 72))] + steps)
    notes = list(notes - max(0, notes.max() - 79) + max(0, 52 - notes.min()))  # keep within G3..G5
    n = synth.n_samples(cfg.duration)
    note_n = int(n * 0.9) // cfg.n_notes
    out = np.zeros(n)
    for i, m in enumerate(notes):
        tone = synth.harmonic_tone(synth.midi_to_hz(m), note_n, np.array([1.0, 0.4, 0.2]), rng)
        synth.place(out, tone * synth.envelope(note_n, 0.02, 0.06), i * note_n)
    out = synth.add_noise(synth.at_level(out, -18), SNR_DB[difficulty], rng)
    transcript, conflict = transcript_for(rng, CONTOUR_CUES, contour, cfg)
    return AudioTask(
        id="", audio=synth.finish(out), question="What is the shape of the melody's pitch contour?",
        choices=shuffled_choices(rng, list(CONTOURS), contour), answer=contour, category="music",
        skill="melody", difficulty=difficulty, transcript=transcript, transcript_label="Lyrics",
        facts={"contour": contour, "notes": [NOTE_NAMES[int(m) % 12] + str(int(m) // 12 - 1) for m in notes]},
        conflict=conflict)


def contour_grounded(task: AudioTask, facts: dict) -> str:
    c = facts["contour"]
    shape = {"ascending": "each note is higher than the one before: the pitch rises throughout",
             "descending": "each note is lower than the one before: the pitch falls throughout",
             "arch": "the pitch rises to a peak in the middle and then falls back",
             "valley": "the pitch falls to a low point in the middle and then rises again"}[c]
    notes = " - ".join(facts.get("notes", [])) or "a sequence of notes"
    return f"I hear the melody {notes}; {shape}. The contour is {c}."


MELODY_CONTOUR = Family(
    name="MelodyContour", category="music", config=MelodyConfig, generate=melody_contour,
    description="Shape of a melody: ascending, descending, arch or valley.",
    answer_keys=("contour",),
    read_facts=lambda m: {"contour": m.contour, "notes": m.note_names},
    answer_from=lambda f: f.get("contour") or "",
    grounded=contour_grounded, cues=CONTOUR_CUES, topic="direction")


# ---- Timbre ---------------------------------------------------------------------------------

TIMBRES = ("flute-like", "clarinet-like", "string-like", "plucked", "brassy")
TIMBRE_CUES = {
    "flute-like": ["and now, the flute solo", "our flautist takes the stage"],
    "clarinet-like": ["the clarinet carries the tune", "listen to our clarinetist"],
    "string-like": ["the violin section plays next", "here come the strings"],
    "plucked": ["now the guitar picks the melody", "listen to the harp"],
    "brassy": ["here comes the trumpet", "the horn section plays"],
}


def timbre_spectrum(kind: str) -> np.ndarray:
    k = np.arange(1, 31, dtype=np.float64)
    if kind == "flute-like":
        return np.where(k == 1, 1.0, np.where(k == 2, 0.06, 0.0))
    if kind == "clarinet-like":
        return np.where(k % 2 == 1, 1.0 / k, 0.01 / k)
    if kind == "string-like":
        return 1.0 / k
    if kind == "plucked":
        return 1.0 / k ** 1.3
    return k ** 1.5 * np.exp(-k / 2.5)  # brassy: strongest partials above the fundamental


def timbre(rng: np.random.Generator, cfg: FamilyConfig) -> AudioTask:
    difficulty = pick_difficulty(rng, cfg)
    kind = str(rng.choice(TIMBRES))
    n = synth.n_samples(cfg.duration)
    notes = [int(rng.integers(55, 70)) for _ in range(3)]
    note_n = n // 3
    out = np.zeros(n)
    for i, m in enumerate(notes):
        f0 = synth.midi_to_hz(m)
        vib = 0.15 if kind in ("string-like", "flute-like") else 0.0
        tone = synth.harmonic_tone(f0, note_n, timbre_spectrum(kind), rng, vibrato_hz=5.5, vibrato_semitones=vib)
        if kind == "plucked":
            env = synth.envelope(note_n, 0.003, 0.03, decay_tau=0.15)
        elif kind == "flute-like":
            env = synth.envelope(note_n, 0.08, 0.08)
            tone += 0.03 * synth.bandpass(rng.standard_normal(note_n), 1000, 5000)
        else:
            env = synth.envelope(note_n, 0.04, 0.06)
        synth.place(out, tone * env, i * note_n)
    out = synth.add_noise(synth.at_level(out, -18), SNR_DB[difficulty], rng)
    transcript, conflict = transcript_for(rng, TIMBRE_CUES, kind, cfg)
    return AudioTask(
        id="", audio=synth.finish(out), question="Which kind of instrument sound plays these notes?",
        choices=shuffled_choices(rng, list(TIMBRES), kind), answer=kind, category="music",
        skill="timbre", difficulty=difficulty, transcript=transcript, transcript_label="Announcer",
        facts={"timbre": kind}, conflict=conflict)


TIMBRE_EVIDENCE = {
    "flute-like": "an almost pure tone: the fundamental with hardly any overtones, and a soft breathy attack",
    "clarinet-like": "strong odd harmonics (3rd, 5th, 7th) with weak even ones: a hollow, woody spectrum",
    "string-like": "a full series of harmonics falling off gradually: a bright, sawtooth-like spectrum with vibrato",
    "plucked": "a sharp attack and each note decaying quickly to silence",
    "brassy": "overtones stronger than the fundamental, peaking around the 3rd-4th harmonic: a bright, brassy spectrum",
}


def timbre_grounded(task: AudioTask, facts: dict) -> str:
    t = facts["timbre"]
    return f"Each note has {TIMBRE_EVIDENCE[t]}. That spectrum and envelope sound {t}, so the timbre is {t}."


TIMBRE = Family(
    name="Timbre", category="music", config=FamilyConfig, generate=timbre,
    description="Instrument-like timbre from spectrum and envelope (flute, clarinet, string, plucked, brass).",
    answer_keys=("timbre",),
    read_facts=lambda m: {"timbre": m.timbre},
    answer_from=lambda f: f.get("timbre") or "",
    grounded=timbre_grounded, cues=TIMBRE_CUES, topic="that instrument")


# ---- Meter ----------------------------------------------------------------------------------

METERS = {3: "waltz (groups of three)", 4: "march (groups of four)"}
METER_CUES = {
    METERS[3]: ["let's waltz around the ballroom", "a gentle waltz for you and me"],
    METERS[4]: ["left, right, soldiers on parade", "march along with the band"],
}


def meter(rng: np.random.Generator, cfg: FamilyConfig) -> AudioTask:
    difficulty = pick_difficulty(rng, cfg)
    beats = int(rng.choice([3, 4]))
    bpm = round(float(rng.uniform(132, 168)), 1)
    n = synth.n_samples(cfg.duration)
    out = synth.add_noise(synth.at_level(beat_track(rng, n, bpm, accents_every=beats), -16), SNR_DB[difficulty], rng)
    answer = METERS[beats]
    transcript, conflict = transcript_for(rng, METER_CUES, answer, cfg)
    return AudioTask(
        id="", audio=synth.finish(out), question="Is this rhythm a waltz or a march?",
        choices=shuffled_choices(rng, list(METERS.values()), answer), answer=answer, category="music",
        skill="meter", difficulty=difficulty, transcript=transcript, transcript_label="Lyrics",
        facts={"beats_per_bar": beats, "tempo_bpm": bpm}, conflict=conflict)


def meter_grounded(task: AudioTask, facts: dict) -> str:
    b = facts["beats_per_bar"]
    return (f"A loud low drum hit falls on every {'third' if b == 3 else 'fourth'} beat with softer "
            f"clicks between, so the accents group the beats in {b}s: {b}/4 time, a {METERS[b]}.")


METER = Family(
    name="Meter", category="music", config=FamilyConfig, generate=meter,
    description="Meter from accent pattern: waltz (3) or march (4).",
    answer_keys=("beats_per_bar",),
    read_facts=lambda m: {"beats_per_bar": m.accent_period, "tempo_bpm": m.tempo_bpm},
    answer_from=lambda f: METERS.get(f.get("beats_per_bar"), ""),
    grounded=meter_grounded, cues=METER_CUES, topic="that dance")

FAMILIES = [CHORD_MOOD, TEMPO, MELODY_CONTOUR, TIMBRE, METER]
