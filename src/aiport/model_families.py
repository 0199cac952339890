"""Model-name families: which kind of local engine answers a model name offline.

In local mode (no default provider) aiport answers every current OpenAI model name with
the matching embedded engine — `gpt-5.4` chats, `gpt-image-2` draws — and `claude-*` names
on the Messages API, so clients that default to the newest names work unchanged. A name
is only resolved for the endpoint its family belongs to: a chat name on /embeddings stays
404 `model_not_found`. Explicitly configured names and aliases come first (`routing.py`);
`/v1/models` lists only those.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

# (pattern, engine kind), most specific first: `gpt-4o-mini-tts` is speech, not chat.
FAMILIES: tuple[tuple[str, str], ...] = (
    ("gpt-4o*-transcribe*", "transcription"),
    ("gpt-4o*-tts*", "speech"),
    ("gpt-image-*", "images"),
    ("dall-e-*", "images"),
    ("tts-*", "speech"),
    ("whisper-*", "transcription"),
    ("text-embedding-*", "embeddings"),
    ("*moderation*", "moderation"),
    ("gpt-5*", "chat"),
    ("gpt-4.1*", "chat"),
    ("gpt-4o*", "chat"),
    ("gpt-4*", "chat"),
    ("gpt-3.5*", "chat"),
    ("o1*", "chat"),
    ("o3*", "chat"),
    ("o4*", "chat"),
    ("chatgpt-*", "chat"),
    ("claude-*", "messages"),
)

# The endpoint kinds each family may serve: Anthropic's names only on the Messages API.
SERVES: dict[str, frozenset[str]] = {
    "chat": frozenset({"chat", "messages"}),
    "messages": frozenset({"messages"}),
}


def engine_for(model: str, endpoint: str) -> str | None:
    """The kind of local engine (chat, images, …) that answers `model` on `endpoint`
    (an engine kind, or `messages`), or None when its family is not that endpoint's."""
    for pattern, family in FAMILIES:
        if fnmatchcase(model, pattern):
            if endpoint in SERVES.get(family, frozenset({family})):
                return "chat" if family == "messages" else family
            return None
    return None
