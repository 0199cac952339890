"""GET /admin/deployments: every model group's deployments and their health (master key)."""

from __future__ import annotations

from aiohttp import web

from aiport.api.context import context, services
from aiport.api.middleware import unmetered
from aiport.api.responses import json_response
from aiport.errors import PermissionDenied


@unmetered
async def list_deployments(request: web.Request) -> web.Response:
    caller = context(request).caller
    if caller is None or not caller.is_admin:
        raise PermissionDenied("The admin API needs the master key.")
    groups = [
        {
            "model": group.name,
            "strategy": group.policy.strategy,
            "fallbacks": list(group.policy.fallbacks),
            "deployments": [
                {
                    **deployment.health.report(),
                    "model": deployment.model,
                    "weight": deployment.weight,
                    "priority": deployment.priority,
                }
                for deployment in group.deployments
            ],
        }
        for group in services(request).router.groups()
    ]
    return json_response(request, {"object": "list", "data": groups})
