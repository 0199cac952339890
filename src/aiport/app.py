"""The HTTP application: `create_app(settings)` builds it; everything lives on the app.

Every endpoint answers on the seed's paths and on OpenAI's `/v1` paths with the same
handler. Services are opened and closed in the app's cleanup context, never at import.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from aiport.api import (
    admin,
    audio,
    chat,
    completions,
    console,
    deployments,
    embeddings,
    health,
    image_edits,
    images,
    me,
    messages,
    metrics,
    models,
    moderations,
    responses_api,
)
from aiport.api.bodies import expect
from aiport.api.context import SERVICES
from aiport.api.middleware import gateway, public
from aiport.imagestore import ROUTE_PREFIX
from aiport.services import Services
from aiport.settings import Settings

# (method, path without prefix, handler); each is served at "" and at "/v1".
ENDPOINTS = (
    ("POST", "/chat/completions", chat.create_chat_completion),
    ("POST", "/images/generations", images.create_image),
    ("POST", "/images/generate", images.create_image),
    ("POST", "/audio/speech", audio.create_speech),
    ("POST", "/audio/transcriptions", audio.create_transcription),
    ("POST", "/audio/translations", audio.create_translation),
    ("POST", "/embeddings", embeddings.create_embedding),
    ("POST", "/moderations", moderations.create_moderation),
    ("POST", "/completions", completions.create_completion),
    ("POST", "/images/edits", image_edits.create_image_edit),
    ("POST", "/images/variations", image_edits.create_image_variation),
    ("POST", "/messages", messages.create_message),
    ("POST", "/messages/count_tokens", messages.count_tokens),
    ("POST", "/responses", responses_api.create_response),
    ("GET", "/responses/{response_id}", responses_api.retrieve_response),
    ("DELETE", "/responses/{response_id}", responses_api.delete_response),
    ("GET", "/responses/{response_id}/input_items", responses_api.list_input_items),
    ("GET", "/models", models.list_models),
    ("GET", "/models/{model:.+}", models.retrieve_model),
)


UPLOADS = ("/audio/transcriptions", "/audio/translations", "/images/edits", "/images/variations")


def create_app(settings: Settings, master_key: str) -> web.Application:
    app = web.Application(middlewares=[gateway], client_max_size=settings.max_body_bytes)
    app[SERVICES] = Services.build(settings, master_key)
    for method, path, handler in ENDPOINTS:
        limit = settings.max_body_bytes if path in UPLOADS else settings.max_json_bytes
        for prefix in ("", "/v1"):
            app.router.add_route(method, prefix + path, handler, expect_handler=expect(limit))
            if method == "GET":  # RFC 9110: HEAD wherever GET (aiohttp sends no body)
                app.router.add_route("HEAD", prefix + path, handler)
    for path in dict.fromkeys(path for _, path, _ in ENDPOINTS):
        for prefix in ("", "/v1"):
            app.router.add_route("OPTIONS", prefix + path, _preflight)
    messages.add_other_routes(app)
    app.router.add_get("/health", health.health)
    app.router.add_get("/health/live", health.live)
    app.router.add_get("/health/ready", health.ready)
    app.router.add_get("/metrics", metrics.metrics)
    app.router.add_get("/admin/keys", admin.list_keys)
    app.router.add_post("/admin/keys", admin.create_key)
    app.router.add_delete("/admin/keys/{id}", admin.revoke_key)
    app.router.add_post("/admin/keys/{id}/revoke", admin.revoke_key)
    app.router.add_patch("/admin/keys/{id}", admin.update_key)
    app.router.add_get("/admin/usage", admin.usage)
    app.router.add_get("/admin/usage/series", admin.usage_series)
    app.router.add_get("/admin/storage", admin.storage)
    app.router.add_get("/admin/deployments", deployments.list_deployments)
    app.router.add_get("/me", me.me)
    app.router.add_get("/me/usage", me.my_usage)
    console.add_routes(app)
    app.router.add_get(ROUTE_PREFIX + "{name}", images.get_image_file)
    app.cleanup_ctx.append(_lifespan)
    return app


async def _lifespan(app: web.Application) -> AsyncIterator[None]:
    services = app[SERVICES]
    services.begin_start()
    yield
    await services.close()


@public
async def _preflight(request: web.Request) -> web.Response:
    # Reached only for an OPTIONS from an origin CORS does not allow: the middleware
    # answers allowed preflights itself, before authentication.
    return web.Response(status=204)
