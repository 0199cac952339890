"""A Whisper transcript and its OpenAI renderings: json, verbose_json, srt, vtt, text, and
the events of `stream: true`."""

from __future__ import annotations

import contextlib
import math
from collections.abc import AsyncGenerator, Collection
from dataclasses import asdict, dataclass, field
from typing import Any

from aiport.backends.base import Usage
from aiport.errors import InvalidRequest

JSON = dict[str, Any]

# Whisper's languages: code (ISO 639-1 mostly) to the lowercase name verbose_json reports.
_LANGUAGE_TABLE = (
    "en:english,zh:chinese,de:german,es:spanish,ru:russian,ko:korean,fr:french,"
    "ja:japanese,pt:portuguese,tr:turkish,pl:polish,ca:catalan,nl:dutch,ar:arabic,"
    "sv:swedish,it:italian,id:indonesian,hi:hindi,fi:finnish,vi:vietnamese,he:hebrew,"
    "uk:ukrainian,el:greek,ms:malay,cs:czech,ro:romanian,da:danish,hu:hungarian,"
    "ta:tamil,no:norwegian,th:thai,ur:urdu,hr:croatian,bg:bulgarian,lt:lithuanian,"
    "la:latin,mi:maori,ml:malayalam,cy:welsh,sk:slovak,te:telugu,fa:persian,lv:latvian,"
    "bn:bengali,sr:serbian,az:azerbaijani,sl:slovenian,kn:kannada,et:estonian,"
    "mk:macedonian,br:breton,eu:basque,is:icelandic,hy:armenian,ne:nepali,mn:mongolian,"
    "bs:bosnian,kk:kazakh,sq:albanian,sw:swahili,gl:galician,mr:marathi,pa:punjabi,"
    "si:sinhala,km:khmer,sn:shona,yo:yoruba,so:somali,af:afrikaans,oc:occitan,"
    "ka:georgian,be:belarusian,tg:tajik,sd:sindhi,gu:gujarati,am:amharic,yi:yiddish,"
    "lo:lao,uz:uzbek,fo:faroese,ht:haitian creole,ps:pashto,tk:turkmen,nn:nynorsk,"
    "mt:maltese,sa:sanskrit,lb:luxembourgish,my:myanmar,bo:tibetan,tl:tagalog,"
    "mg:malagasy,as:assamese,tt:tatar,haw:hawaiian,ln:lingala,ha:hausa,ba:bashkir,"
    "jw:javanese,su:sundanese,yue:cantonese"
)
LANGUAGES: dict[str, str] = {
    code: name for code, name in (pair.split(":") for pair in _LANGUAGE_TABLE.split(","))
}
_CODES_BY_NAME = {name: code for code, name in LANGUAGES.items()}


def language_code(language: str | None) -> str | None:
    """`en`, `EN`, `en-US` or `English` → `en`; an unknown language is a 400."""
    if language is None:
        return None
    wanted = language.strip().lower().replace("_", "-")
    code = wanted if wanted in LANGUAGES else _CODES_BY_NAME.get(wanted, wanted.split("-")[0])
    if code not in LANGUAGES:
        raise InvalidRequest(
            f"Language `{language}` is not supported; use an ISO-639-1 code such as `en`.",
            param="language",
        )
    return code


@dataclass(slots=True)
class Word:
    word: str
    start: float
    end: float


@dataclass(slots=True)
class Segment:
    """OpenAI's TranscriptionSegment, plus the segment's words (reported separately)."""

    id: int
    seek: int
    start: float
    end: float
    text: str
    tokens: list[int]
    temperature: float
    avg_logprob: float
    compression_ratio: float
    no_speech_prob: float
    words: list[Word] = field(default_factory=list)

    def as_json(self) -> JSON:
        data = asdict(self)
        del data["words"]
        return data


@dataclass(frozen=True, slots=True)
class Heard:
    """What the model found before decoding: the language and the audio's length."""

    language: str
    duration: float


@dataclass(slots=True)
class Transcript:
    language: str
    duration: float
    segments: list[Segment]

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.segments).strip()


def _timestamp(seconds: float, decimal: str) -> str:
    """`HH:MM:SS,mmm` (SRT) or `HH:MM:SS.mmm` (WebVTT)."""
    hours, ms = divmod(round(max(seconds, 0.0) * 1000), 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    secs, ms = divmod(ms, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{decimal}{ms:03d}"


def _cues(segments: list[Segment], decimal: str) -> list[str]:
    # A blank line ends a cue, so a segment's text must stay on one line.
    return [
        f"{_timestamp(s.start, decimal)} --> {_timestamp(s.end, decimal)}\n"
        f"{' '.join(s.text.split())}\n\n"
        for s in segments
    ]


def to_srt(segments: list[Segment]) -> str:
    return "".join(f"{i}\n{cue}" for i, cue in enumerate(_cues(segments, ","), start=1))


def to_vtt(segments: list[Segment]) -> str:
    return "WEBVTT\n\n" + "".join(_cues(segments, "."))


def render_json(t: Transcript, task: str, verbose: bool, granularities: Collection[str]) -> JSON:
    """OpenAI's CreateTranscription/TranslationResponse(Verbose)Json."""
    usage = {"type": "duration", "seconds": math.ceil(t.duration)}
    if not verbose:
        return {"text": t.text, "usage": usage} if task == "transcribe" else {"text": t.text}
    data: JSON = {
        "task": task,
        "language": "english" if task == "translate" else LANGUAGES.get(t.language, t.language),
        "duration": t.duration,
        "text": t.text,
    }
    if not granularities or "segment" in granularities:
        data["segments"] = [s.as_json() for s in t.segments]
    if "word" in granularities:
        data["words"] = [asdict(w) for s in t.segments for w in s.words]
    if task == "transcribe":
        data["usage"] = usage
    return data


def render_text(t: Transcript, response_format: str) -> str:
    """The plain-text formats: `text`, `srt` or `vtt`."""
    if response_format == "srt":
        return to_srt(t.segments)
    if response_format == "vtt":
        return to_vtt(t.segments)
    return t.text + "\n"


async def transcript_events(
    segments: AsyncGenerator[Segment, None], duration: float, usage: Usage
) -> AsyncGenerator[JSON, None]:
    """OpenAI's `stream: true` events: a `transcript.text.delta` per segment as it is
    decoded, then `transcript.text.done` with the whole text. `usage` counts the audio up
    to the end of the last segment taken, all of it at the end: the same as the whole
    transcript's once done. The done event carries no `usage`: the spec's is a token count,
    and this model is billed per second of audio (as the usage row records it)."""
    said: list[str] = []
    async with contextlib.aclosing(segments):
        async for segment in segments:
            delta = segment.text if said else segment.text.lstrip()
            if delta:
                said.append(delta)
                yield {"type": "transcript.text.delta", "delta": delta}
            usage.audio_seconds = min(segment.end, duration)
    usage.audio_seconds = duration
    yield {"type": "transcript.text.done", "text": "".join(said).strip()}
