"""Who is calling: the master key, or (through a `KeyResolver`) a per-caller key.

The presented key is compared in constant time, never logged, never echoed. A caller is
known afterwards by its key's id only.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Protocol

from aiport.errors import AuthenticationFailed
from aiport.store.keys import KeyRecord

MISSING_KEY = (
    "You didn't provide an API key. You need to provide your API key in an Authorization "
    "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
)
WRONG_KEY = "Incorrect API key provided. You can find your API keys in your aiport admin."
MASTER_KEY_ID = "master"


@dataclass(frozen=True, slots=True)
class Caller:
    key_id: str
    is_admin: bool = False
    models: frozenset[str] | None = None  # None: every model
    record: KeyRecord | None = None  # the stored key, for limits and budgets (None: master)

    def may_use(self, model: str) -> bool:
        return self.models is None or model in self.models


MASTER = Caller(MASTER_KEY_ID, is_admin=True)


class KeyResolver(Protocol):
    async def resolve(self, presented: str) -> Caller | None:
        """The caller a per-caller key belongs to, or None when it is not a valid key."""


class Authenticator:
    def __init__(self, master_key: str, resolver: KeyResolver | None = None) -> None:
        self._master_digest = _digest(master_key)
        self.resolver = resolver

    def is_master(self, authorization: str | None) -> bool:
        """Whether the header carries the master key (never looks up other keys)."""
        presented = _bearer(authorization)
        return presented is not None and hmac.compare_digest(
            _digest(presented), self._master_digest
        )

    async def authenticate(self, authorization: str | None) -> Caller:
        presented = _bearer(authorization)
        if presented is None:
            raise AuthenticationFailed(MISSING_KEY)
        if hmac.compare_digest(_digest(presented), self._master_digest):
            return MASTER
        if self.resolver is not None:
            caller = await self.resolver.resolve(presented)
            if caller is not None:
                return caller
        raise AuthenticationFailed(WRONG_KEY)


def _bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


def _digest(key: str) -> bytes:
    # Hashing first makes the comparison constant-time whatever the presented length.
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()
