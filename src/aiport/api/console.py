"""The web console at /console: a single page and its bundled assets, from the package.

Everything it needs ships in `aiport/console/` (built from `console/` in the repository by
esbuild); nothing is fetched from elsewhere at run time. The pages hold no secret and need no
key: the signed-in key lives in the browser's session storage and goes to the API as an
`Authorization` header only. Every answer carries a strict Content-Security-Policy: scripts
and styles from this origin only (no inline code), requests to this origin only, no frames.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from importlib import resources
from urllib.parse import urlsplit

from aiohttp import web

from aiport.api.context import services
from aiport.api.middleware import public
from aiport.api.responses import response_headers

log = logging.getLogger(__name__)

CONSOLE_ASSETS: web.AppKey[dict[str, Asset]] = web.AppKey("aiport.console")
ROOT = "/console"
ASSETS = ROOT + "/assets/"
_TYPES = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".css": "text/css",
    ".txt": "text/plain",
    ".svg": "image/svg+xml",
}


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    content_type: str
    etag: str


def load_assets() -> dict[str, Asset]:
    """The built console files by name (read once: they are small and never change)."""
    assets: dict[str, Asset] = {}
    folder = resources.files("aiport") / "console"
    if not folder.is_dir():
        log.warning("the console's files are missing from the package; /console is off")
        return assets
    for entry in folder.iterdir():
        suffix = "." + entry.name.rpartition(".")[2]
        if entry.is_file() and suffix in _TYPES:
            body = entry.read_bytes()
            etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
            assets[entry.name] = Asset(body, _TYPES[suffix], etag)
    return assets


def security_headers(public_url: str | None) -> dict[str, str]:
    """Headers for every console answer. Images may come from the configured public URL
    (generated images are links under it); media and images also from blob:/data: URLs
    the page makes itself (speech, recordings, previews)."""
    image_sources = "'self' data: blob:"
    if public_url:
        parts = urlsplit(public_url)
        if parts.scheme in ("http", "https") and parts.netloc:
            image_sources += f" {parts.scheme}://{parts.netloc}"
    policy = "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src {image_sources}",
            "media-src 'self' blob:",
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        )
    )
    return {
        "content-security-policy": policy,
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
        "x-frame-options": "DENY",
        "cross-origin-opener-policy": "same-origin",
        "permissions-policy": "microphone=(self), camera=(), geolocation=()",
        "cache-control": "no-cache",
    }


def add_routes(app: web.Application) -> None:
    app[CONSOLE_ASSETS] = load_assets()
    app.router.add_get(ROOT, page)
    app.router.add_get(ROOT + "/", page)
    app.router.add_get(ASSETS + "{name}", asset)


@public
async def page(request: web.Request) -> web.Response:
    if not request.path.endswith("/"):
        # The page's links are relative (so a proxy may mount aiport under a prefix).
        headers = response_headers(request, {"location": "console/"})
        return web.Response(status=308, headers=headers)
    return _serve(request, "index.html")


@public
async def asset(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name == "index.html":
        raise web.HTTPNotFound()
    return _serve(request, name)


def _serve(request: web.Request, name: str) -> web.Response:
    found = request.app[CONSOLE_ASSETS].get(name)
    if found is None:
        raise web.HTTPNotFound()
    headers = response_headers(request, security_headers(services(request).settings.public_url))
    headers["etag"] = found.etag
    if request.headers.get("If-None-Match") == found.etag:
        return web.Response(status=304, headers=headers)
    return web.Response(
        body=found.body, content_type=found.content_type, charset="utf-8", headers=headers
    )
