"""Embedded engines, one module each; heavy imports stay inside their functions."""
