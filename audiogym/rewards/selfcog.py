"""Self-cognition errors: replies in which the model says it cannot hear audio.

Models fine-tuned from text LLMs often answer "I am a text model, I cannot hear audio" or "please
upload the audio". The detector looks for first-person claims of not perceiving audio at all,
in English and Chinese; statements about the content ("I can't hear any drums", "she says she
cannot hear well", "I can hear a piano") are not errors. It serves as a penalty reward and as the
judge that builds DPO pairs (MGRD's self-cognition correction).
"""

from __future__ import annotations

import re
from typing import Any

from audiogym.rewards.base import Reward, register_reward

_AUDIO = r"(?:the |this |any |an |your )?(?:audio(?: files?| clips?| recordings?| input| content)?|sounds?|recordings?|sound files?|(?:audio |sound )?clips?|music|voice messages?|attachments?)"
_PATTERNS = [
    # "I cannot hear / listen to / process audio", "I'm unable to play the recording"
    rf"\bI(?:'m| am)? ?(?:can ?not|can't|cannot|am unable to|'m unable to|am not able to|'m not able to|do not have the ability to|don't have the ability to|have no (?:way|ability) to|lack the ability to)\s+(?:directly\s+)?(?:hear|listen(?: to)?|process|access|play|perceive|analy[sz]e|open|receive)\s+{_AUDIO}(?![\w-])",
    # "I don't have ears / audio capabilities / access to audio"
    r"\bI (?:do not|don't) have (?:ears|(?:any )?(?:audio|auditory|hearing|listening) (?:capabilit\w+|abilit\w+|input|access)|access to (?:the )?audio)",
    # "I am (just) a text(-based) model / AI / language model"
    r"\bI(?:'m| am) (?:just |only |simply |merely )?(?:a |an )?(?:text[- ]based|text[- ]only|text|purely text(?:ual)?) (?:\w+ )?(?:model|AI|assistant|system)",
    r"\bas an? (?:text[- ]based |text[- ]only |text )(?:\w+ )?(?:model|AI|assistant)\b",
    r"\bI can only (?:process|read|understand|handle|work with) text\b",
    # "please upload / provide / share the audio", "no audio was provided"
    r"\b(?:please|could you|can you|kindly)\s+(?:re-?)?(?:upload|provide|share|attach|send|include)\s+(?:the |an |your |a )?(?:audio|recording|sound file|clip|file)\b",
    r"\bno (?:audio|recording|sound file|clip) (?:was|has been|is) (?:provided|attached|uploaded|included|shared)\b",
    r"\bI (?:don't|do not|can't|cannot) see any (?:audio|attachment|recording|file)\b",
    # Chinese
    r"我(?:无法|不能|没办法|没有办法|不可以|听不到|听不见)(?:直接)?(?:听|收听|聆听|处理|播放|访问|接收|感知|分析)?(?:到|取)?(?:任何)?(?:这段|该|这个)?(?:音频|声音|录音|音乐|语音)",
    r"我(?:只是|仅仅是|是)(?:一个)?(?:纯)?(?:文本|文字|语言)(?:模型|AI|助手|人工智能)",
    r"作为(?:一个)?(?:纯)?(?:文本|文字)(?:模型|AI|助手)",
    r"我(?:只能|仅能)(?:处理|理解|阅读)(?:文本|文字)",
    r"请(?:重新)?(?:上传|提供|发送|附上)(?:一下)?(?:音频|录音|声音文件|音频文件)",
    r"(?:没有|未)(?:提供|上传|附上)(?:任何)?(?:音频|录音)",
]
SELF_COGNITION_RE = re.compile("|".join(f"(?:{p})" for p in _PATTERNS), re.I)


def self_cognition_error(text: str) -> str | None:
    """The phrase in which the reply denies hearing audio, or None. Never raises."""
    if not isinstance(text, str):
        return None
    m = SELF_COGNITION_RE.search(text[:20_000])
    return m.group(0) if m else None


@register_reward("self_cognition")
class SelfCognitionPenalty(Reward):
    """-penalty when the completion claims it cannot hear audio, else 0 (range [-penalty, 0])."""

    def __init__(self, name: str = "self_cognition", penalty: float = 1.0):
        self.name, self.penalty = name, penalty
        self.bounds = (-penalty, 0.0)

    def score(self, text: str, row: dict[str, Any]) -> tuple[float | None, dict[str, Any]]:
        hit = self_cognition_error(text)
        return (-self.penalty if hit else 0.0), {"error": hit is not None, "phrase": hit or ""}
