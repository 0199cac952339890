"""Routing: from a public model name to the deployment that answers, and how hard to try.

- `config`: the `models:`, `router:` and `cache:` sections of aiport.yaml
- `table`: public names → groups of deployments (`Router`)
- `deployment`, `policy`: a group's members and shared health; its routing policy
- `strategy`: choosing a deployment; `breaker`: ejecting failing ones; `quota`: their rpm/tpm
- `retry`: which failures to retry and how long to wait; `attempts`: one request's attempts
- `overload`: the instance's in-flight cap; `shared`: breaker state through Redis
- `cache`, `cache_store`, `semantic`: the response cache
"""

from aiport.routing.table import OPENAI_ALIASES, Router, Target

__all__ = ["OPENAI_ALIASES", "Router", "Target"]
