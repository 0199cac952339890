"""Translations between the protocols clients speak and chat completions.

Pure functions over JSON dicts (plus small stream state machines): a backend that only
speaks chat completions (an OpenAI-compatible upstream, a local engine) serves the
Responses API and Anthropic's Messages API through them. Imports `protocol/` and
`errors` only.
"""
