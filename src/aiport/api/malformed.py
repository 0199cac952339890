"""Requests aiohttp refuses before any handler runs — a malformed request line or header
(a NUL byte, a bare CR), a header over the size limit, too many headers — answered in
OpenAI's error shape, with an `x-request-id`, instead of aiohttp's plain text.

aiohttp has no public hook for these (aio-libs/aiohttp#3287): its connection protocol
writes them from `RequestHandler.handle_error`. `OpenAIErrorServer.adopt` makes the
runner's server hand out connections of a subclass that answers in our shape. aiohttp's
text also quotes the offending bytes, which may be an `Authorization` header; ours names
only what kind of error it was, and the log the same.

A body whose framing breaks off while its handler reads it (a bad chunk size) would leave
the handler waiting for ever, since aiohttp only queues an answer for after it: the
connection fails that body instead, so the handler answers 400.

What stays out of reach: a connection that closes before its request is complete (nothing
can be answered), and errors after a response has begun (the connection is closed, as for
any broken response).
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import BadHttpMethod, HttpProcessingError, LineTooLong
from aiohttp.web_protocol import RequestHandler, RequestPayloadError, _ErrInfo

from aiport.api.middleware import next_request_id
from aiport.errors import APIError, InternalError, InvalidRequest

log = logging.getLogger("aiport.errors")


class BrokenBody(InvalidRequest):
    code = "invalid_http_request"


class HeadersTooLarge(InvalidRequest):
    # 400 as aiohttp answers (431 exists, but the SDKs map only 400 to a bad request).
    code = "request_header_fields_too_large"


class _Connection(RequestHandler):
    __slots__ = ()  # the same layout as aiohttp's class, so a connection can be adopted

    def data_received(self, data: bytes) -> None:
        reading = self._current_request
        queued = len(self._messages)
        super().data_received(data)
        if reading is None or len(self._messages) == queued:
            return
        if not isinstance(self._messages[-1][0], _ErrInfo):
            return
        # The body of the request being handled broke off mid-way (a bad chunk size, say).
        # aiohttp queues an error answer for after it, while the handler would wait for the
        # rest of the body for ever: fail the body instead, and close after its answer.
        self._messages.pop()
        reading.content.set_exception(
            BrokenBody("The request body's framing is malformed (e.g. a bad chunk size).")
        )
        self.close()

    def log_exception(self, *args: Any, **kwargs: Any) -> None:
        # aiohttp reads what is left of a body after the answer, meets the broken body (or
        # one its Content-Encoding could not decode) again, and closes the connection:
        # expected, and already answered.
        if not isinstance(kwargs.get("exc_info"), BrokenBody | RequestPayloadError):
            super().log_exception(*args, **kwargs)

    def handle_error(
        self,
        request: Any,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if request.writer.output_size > 0:  # as aiohttp: too late for an answer
            raise ConnectionError("the response had begun; closing the connection")
        error = _as_api_error(status, exc)
        request_id = next_request_id()
        if self.transport is None or self.transport.is_closing():
            pass  # the client left (its error reached here as one); nothing to answer
        elif error.status >= 500:
            log.error("request %s failed outside any handler", request_id, exc_info=exc)
        elif not isinstance(exc, BadHttpMethod):  # port scanners, TLS on a plain port
            log.warning(
                "refused a malformed HTTP request from %s (%s): %s",
                request.remote,
                request_id,
                type(exc).__name__,
            )
        response = web.Response(
            status=error.status,
            body=error.body(),
            content_type="application/json",
            headers={"x-request-id": request_id},
        )
        response.force_close()
        return response


def _as_api_error(status: int, exc: BaseException | None) -> APIError:
    if isinstance(exc, LineTooLong):
        return HeadersTooLarge("A header (or the request line) is longer than this server accepts.")
    if isinstance(exc, HttpProcessingError) or 400 <= status < 500:
        return InvalidRequest(
            "The HTTP request is malformed (e.g. a control character in a header, a "
            "header without a colon, or too many headers) and was not read.",
            code="invalid_http_request",
        )
    return InternalError("The server had an error.")


class OpenAIErrorServer(web.Server):
    """A `web.Server` whose connections answer malformed requests in OpenAI's shape."""

    def __call__(self) -> RequestHandler:
        connection = super().__call__()
        connection.__class__ = _Connection
        return connection

    @classmethod
    def adopt(cls, server: web.Server) -> web.Server:
        server.__class__ = cls
        return server
