"""GET /metrics parsed with prometheus_client's own parser, and sums over label subsets."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from tests.support.server import MASTER_KEY, raw_request

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(url: str, key: str | None = MASTER_KEY) -> Samples:
    response = raw_request(url + "/metrics", key=key)
    assert response.status == 200, response.body[:300]
    assert response.headers["content-type"].startswith("text/plain; version=")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.body.decode()):
        for s in family.samples:
            samples[(s.name, frozenset(s.labels.items()))] = s.value
    return samples


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of `name`'s samples whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return total(after, name, **labels) - total(before, name, **labels)
