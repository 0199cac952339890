"""Thin HTTP handlers, one module per endpoint; `sse.py` alone writes SSE frames."""
