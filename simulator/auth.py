"""API-key, HMAC-SHA256 signature and recvWindow checks of signed endpoints."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from exsdk.simulator import errors

DEFAULT_RECV_WINDOW = 5000
MAX_RECV_WINDOW = 60000
# Binance rejects timestamps more than this far ahead of its clock.
MAX_AHEAD_MS = 1000


def strip_signature(payload: str) -> tuple[str, str | None]:
    """Split a raw query/body into the signed text and the ``signature`` value."""
    parts = payload.split("&") if payload else []
    kept = [p for p in parts if not p.startswith("signature=")]
    sig = next((p.split("=", 1)[1] for p in parts if p.startswith("signature=")), None)
    return "&".join(kept), sig


def sign(secret: str, payload: str) -> str:
    """HMAC-SHA256 hex digest, as clients compute it."""
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def check_signed(
    keys: Mapping[str, str],
    api_key: str | None,
    raw_query: str,
    raw_body: str,
    params: Mapping[str, str],
    server_ms: int,
) -> None:
    """Raise the Binance error for a bad key, signature or timestamp."""
    if api_key is None or api_key == "":
        raise errors.BinanceError(401, -2014, "API-key format invalid.")
    secret = keys.get(api_key)
    if secret is None:
        raise errors.invalid_api_key()
    signed_q, sig_q = strip_signature(raw_query)
    signed_b, sig_b = strip_signature(raw_body)
    signature = sig_q or sig_b
    if signature is None:
        raise errors.mandatory_param("signature")
    # Binance signs the query string followed by the body ("totalParams").
    payload = signed_q + signed_b if signed_q and signed_b else signed_q or signed_b
    if not hmac.compare_digest(sign(secret, payload), signature.lower()):
        raise errors.bad_signature()
    ts_text = params.get("timestamp")
    if not ts_text:
        raise errors.mandatory_param("timestamp")
    try:
        ts = int(ts_text)
        window = int(params.get("recvWindow", DEFAULT_RECV_WINDOW))
    except ValueError:
        raise errors.mandatory_param("timestamp") from None
    if window > MAX_RECV_WINDOW or window <= 0:
        raise errors.recv_window_too_large()
    if ts - server_ms > MAX_AHEAD_MS:
        raise errors.ahead_of_server()
    if server_ms - ts > window:
        raise errors.outside_recv_window()
