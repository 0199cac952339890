"""Pure wire models, one module per endpoint. They import pydantic and the standard library only.

Request models list every field OpenAI's spec defines for the operation, so that the set of
fields forwarded upstream is exactly the spec's; fields nobody defines are accepted and
ignored. Ranges follow `openai-openapi.yaml`; the seed's defaults stand where it names them.
"""
