"""aiport: one OpenAI-compatible front door to AI models."""

__version__ = "0.1.0"
