"""The procedural families, one self-contained module each; importing a module registers it.

The import order is the registration order: it fixes `AUDIO_FAMILIES`' order, and with it the
default mixture's draws and `recipe.families: all` (changing it changes which task a seed makes
in a mixture), so the imports below are deliberately not sorted.
"""

# ruff: noqa: I001, F401
from __future__ import annotations

from audiogym.tasks.families import chord_mood, tempo, melody_contour, timbre, meter  # music
from audiogym.tasks.families import acoustic_scene, event_count, loudness_trend  # sound
from audiogym.tasks.families import intonation, speaker_emotion, speaking_rate, voice_pitch  # speech
from audiogym.tasks.families import text_reasoning  # text
