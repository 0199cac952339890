"""How a speech request is planned: voices, pieces, and the split of `speed`."""

from __future__ import annotations

import pytest

from aiport.backends.local.speech import (
    MAX_PIECE_PHONEMES,
    NEWER_VOICES,
    VOICE_NAMES,
    VOICES,
    SpeechJob,
    plan_pieces,
    resolve_voice,
)
from aiport.errors import InvalidRequest
from tests.support.openapi_spec import spec


def test_every_seed_voice_has_a_distinct_preset() -> None:
    assert set(VOICES) == set(VOICE_NAMES)
    assert len({preset.pitch for preset in VOICES.values()}) == len(VOICE_NAMES)


@pytest.mark.parametrize("voice", ["nova", "Nova", {"id": "nova"}])
def test_voice_by_name_or_object(voice: object) -> None:
    assert resolve_voice(voice) is VOICES["nova"]


def test_every_voice_openai_names_is_served() -> None:
    """The spec's voice names (gpt-4o-mini-tts's `coral` is in OpenAI's own examples)."""
    names = spec()["components"]["schemas"]["VoiceIdsShared"]["anyOf"][1]["enum"]
    for name in names:
        assert resolve_voice(name) in (*VOICES.values(), *NEWER_VOICES.values())
    assert len({resolve_voice(name) for name in names}) == len(names)


@pytest.mark.parametrize("voice", ["nova2", {"id": "voice_1234"}, {"voice": "nova"}, {"id": 3}])
def test_other_voices_are_refused(voice: object) -> None:
    with pytest.raises(InvalidRequest) as caught:
        resolve_voice(voice)
    assert caught.value.param == "voice"
    assert "alloy, echo, fable, onyx, nova, shimmer, ash" in caught.value.message


def phonemes(text: str) -> list[str]:
    return list(text)


def test_the_first_sentence_is_split_at_its_first_comma() -> None:
    first = phonemes("ɪn ðə mɔːɹnɪŋ, wiː wɛnt daʊn tə ðə siː.")
    second = phonemes("ɪt wʌz kould, ænd ɪt wʌz wɛt.")
    pieces = plan_pieces([first, second])

    assert [ends for _, ends in pieces] == [False, True, True]
    assert pieces[0][0] == phonemes("ɪn ðə mɔːɹnɪŋ,")
    assert pieces[0][0] + pieces[1][0] == first
    assert pieces[2][0] == second  # later sentences stay whole


def test_a_short_opening_clause_is_not_split_off() -> None:
    sentence = phonemes("jɛs, wiː wɛnt daʊn tə ðə siː.")
    assert plan_pieces([sentence]) == [(sentence, True)]


def test_empty_sentences_are_skipped() -> None:
    assert plan_pieces([[], phonemes("haɪ.")]) == [(phonemes("haɪ."), True)]


def job(speed: float, voice: str = "alloy") -> SpeechJob:
    return SpeechJob(text="", preset=VOICES[voice], speed=speed, fmt="pcm")


def test_normal_speed_needs_no_stretch() -> None:
    assert job(1.0).length_scale == 1.0
    assert job(1.0).tempo(phoneme_ids=80, frames=180) == 1.0


def test_piper_takes_up_to_twice_the_speed_and_a_stretch_the_rest() -> None:
    # Measured on the joe voice: 81 ids last ~2.27 frames each at scale 1, ~1.46 at 0.5.
    fast = job(2.0)
    assert fast.length_scale == 0.5
    tempo = fast.tempo(phoneme_ids=81, frames=81 * 1.46)
    assert 81 * 1.46 / tempo == pytest.approx(81 * 2.27 / 2, rel=0.05)

    fastest = job(4.0)
    assert fastest.length_scale == 0.5
    assert fastest.tempo(phoneme_ids=81, frames=81 * 1.46) == pytest.approx(2 * tempo)


def test_slow_speech_lengthens_in_piper_first() -> None:
    slow = job(0.5)
    assert slow.length_scale == 2.0
    # At scale 2 the same ids last ~3.93 frames each: nearly the 2x wanted.
    tempo = slow.tempo(phoneme_ids=81, frames=81 * 3.93)
    assert 81 * 3.93 / tempo == pytest.approx(81 * 2.27 * 2, rel=0.05)


def test_a_shifted_voice_is_lengthened_before_it_is_resampled() -> None:
    shimmer = VOICES["shimmer"]
    assert job(1.0, "shimmer").length_scale == pytest.approx(shimmer.pitch / shimmer.pace)


def test_a_long_sentence_is_cut_at_words_into_bounded_pieces() -> None:
    """Piper's memory grows with a piece's length (a 12,000-phoneme sentence, such as
    4,096 Cyrillic letters without a stop, took 20 GB and the server with it): no piece
    is longer than the bound, cuts fall between words, and only the last one ends the
    sentence."""
    word = list("ʒˈɛ ")
    sentence = word * 3000
    pieces = plan_pieces([sentence, list("hi.")])
    assert all(len(phonemes) <= MAX_PIECE_PHONEMES for phonemes, _ in pieces)
    assert [p for phonemes, _ in pieces for p in phonemes] == sentence + list("hi.")
    assert [ends for _, ends in pieces].count(True) == 2 and pieces[-1][1]
    assert all(phonemes[-1] == " " for phonemes, _ in pieces[:-2])
    unbroken = list("a" * (MAX_PIECE_PHONEMES * 2 + 5))  # no word boundary at all
    assert [len(p) for p, _ in plan_pieces([unbroken])] == [
        MAX_PIECE_PHONEMES,
        MAX_PIECE_PHONEMES,
        5,
    ]
