"""Helpers the tests share: fake upstreams, server processes, fixtures, reference data."""
