"""Signed button contexts: a card's buttons carry their context with an HMAC-SHA256 and an expiry, so a
forged, tampered or stale call is refused before any work is done."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any


class BadSignature(Exception):
    """The context was not made by us, was changed, or has expired."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(secret: bytes, payload: dict[str, Any], *, expires_at: int) -> str:
    """`payload` (JSON-able) with its expiry (Unix ms), as one opaque token."""
    body = _b64(json.dumps({"p": payload, "exp": expires_at}, sort_keys=True, separators=(",", ":")).encode())
    mac = hmac.new(secret, body.encode(), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


def verify(secret: bytes, token: object, *, now: int) -> dict[str, Any]:
    """The payload of a token we signed that has not expired; BadSignature otherwise."""
    if not isinstance(token, str) or token.count(".") != 1:
        raise BadSignature("malformed")
    body, mac = token.split(".")
    expected = _b64(hmac.new(secret, body.encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(mac, expected):
        raise BadSignature("signature")
    try:
        decoded = json.loads(_unb64(body))
    except ValueError:
        raise BadSignature("malformed") from None
    if not isinstance(decoded, dict) or not isinstance(decoded.get("p"), dict) or not isinstance(decoded.get("exp"), int):
        raise BadSignature("malformed")
    if decoded["exp"] < now:
        raise BadSignature("expired")
    payload: dict[str, Any] = decoded["p"]
    return payload
