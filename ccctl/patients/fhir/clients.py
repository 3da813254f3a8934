"""The hospital systems allowed to use the FHIR API: one bearer token each, stored only as its SHA-256.

`ccctl api-clients add NAME --scope read,write` prints the token once; nothing can show it again. A request's
token is compared with every active client's hash in constant time, so the answer's timing says nothing about
how close a guess came.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.errors import UserError
from ccctl.records.database import in_transaction
from ccctl.records.models.appointments import ApiClient
from ccctl.records.models.base import utc_now

SCOPES = ("read", "write")
CLIENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
TOKEN_BYTES = 32
# a client's last use is written at most this often: every request need not write
TOUCH_EVERY_SECONDS = 60


class ApiClientError(UserError):
    """An api-clients command that cannot be done; one line naming the client or the scope."""


@dataclass(frozen=True)
class ClientView:
    name: str
    scopes: tuple[str, ...]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    def allows(self, scope: str) -> bool:
        return scope in self.scopes


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def parse_scopes(text: str) -> tuple[str, ...]:
    """'read,write' -> ('read', 'write'); ApiClientError naming an unknown scope."""
    scopes = tuple(dict.fromkeys(part.strip() for part in text.replace(" ", ",").split(",") if part.strip()))
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if unknown or not scopes:
        raise ApiClientError(f"--scope: '{unknown[0] if unknown else text}' is not one of {', '.join(SCOPES)}")
    return scopes


def _view(client: ApiClient) -> ClientView:
    scopes = tuple(scope for scope in client.scopes.split() if scope in SCOPES)
    return ClientView(client.name, scopes, client.created_at, client.last_used_at, client.revoked_at)


def add_client(session: Session, name: str, scopes: tuple[str, ...]) -> str:
    """A new client (or a revoked one given a new token); its token, shown once and stored only hashed."""
    if not CLIENT_NAME.fullmatch(name):
        raise ApiClientError(
            "client name: use 1 to 64 letters, digits, '.', '-' or '_', starting with a letter or digit"
        )
    token = secrets.token_urlsafe(TOKEN_BYTES)
    client = session.scalars(select(ApiClient).where(ApiClient.name == name)).first()
    if client is None:
        session.add(ApiClient(name=name, token_hash=token_hash(token), scopes=" ".join(scopes)))
    elif client.revoked_at is None:
        raise ApiClientError(f"API client '{name}' already exists (revoke it first for a new token)")
    else:
        client.token_hash, client.scopes, client.revoked_at = token_hash(token), " ".join(scopes), None
        client.created_at, client.last_used_at = utc_now(), None
    session.flush()
    return token


def list_clients(session: Session) -> list[ClientView]:
    return [_view(client) for client in session.scalars(select(ApiClient).order_by(ApiClient.name))]


def revoke_client(session: Session, name: str) -> bool:
    """Refuse the client's token from now on; False when it was revoked already."""
    client = session.scalars(select(ApiClient).where(ApiClient.name == name)).first()
    if client is None:
        raise ApiClientError(f"no API client named '{name}'")
    if client.revoked_at is not None:
        return False
    client.revoked_at = utc_now()
    return True


def authenticate(session: Session, token: str) -> ClientView | None:
    """The active client whose token this is, or None; every active hash is compared, in constant time."""
    wanted = token_hash(token)
    found = None
    for client in session.scalars(select(ApiClient).where(ApiClient.revoked_at.is_(None))):
        if hmac.compare_digest(client.token_hash, wanted):
            found = client
    if found is None:
        return None
    now = utc_now()
    if found.last_used_at is None or (now - found.last_used_at).total_seconds() > TOUCH_EVERY_SECONDS:
        found.last_used_at = now
    return _view(found)


def add(url: str, name: str, scope_text: str) -> str:
    scopes = parse_scopes(scope_text)
    return in_transaction(url, ApiClientError, lambda session: add_client(session, name, scopes))


def listing(url: str) -> list[ClientView]:
    return in_transaction(url, ApiClientError, list_clients)


def revoke(url: str, name: str) -> bool:
    return in_transaction(url, ApiClientError, lambda session: revoke_client(session, name))
