"""URL rewriting: a ccxt exchange's API URLs moved to another host (the simulator)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    pass


def rewrite_urls(urls: Any, base_url: str) -> Any:
    """Every URL in ``urls`` (a string or nested dicts) moved to ``base_url``, path kept."""
    if isinstance(urls, str):
        parts = urlsplit(urls)
        return base_url + parts.path + (f"?{parts.query}" if parts.query else "")
    if isinstance(urls, dict):
        return {key: rewrite_urls(value, base_url) for key, value in urls.items()}
    return urls
