"""How contract cassettes are recorded, stored and matched.

Stored with the venue's canonical hosts (its dialect says which host serves which path);
matching ignores the host and the dialect's volatile parameters (timestamps,
signatures); the dialect's key and signature headers and volatile parameters become
placeholders at record time (the same filters normalise every live request before it is
matched, so a replay signed with a dummy secret still matches). The body is matched, so
an order with another quantity or client order id is a stale cassette, not a silent pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    from exsdk.contracts.harness import VenueDialect

PLACEHOLDER = "<redacted>"
# Headers no venue may find stored, whatever its dialect adds.
SECRET_HEADERS = ("Authorization", "Cookie")

# What a replayed request must equal; "host" and "port" are left out on purpose.
MATCH_ON = ("method", "scheme", "path", "query", "body")

CASSETTES_INI = "exsdk_cassettes"
"""The pytest ini key naming a project's cassettes folder (relative to the ini file)."""
DEFAULT_CASSETTES = "cassettes"
"""The folder used when the ini key is not set: ``cassettes/`` beside the ini file, that is
at the project's root, beside its ``tests/``."""


def canonical_url(url: str, hosts: Sequence[tuple[str, str]]) -> str:
    """The URL with its host replaced by the venue host serving that path (``hosts``:
    path prefix -> host, first match wins); unchanged when no prefix matches."""
    parts = urlsplit(url)
    for prefix, host in hosts:
        if parts.path.startswith(prefix):
            return urlunsplit(("https", host, parts.path, parts.query, parts.fragment))
    return url


def vcr_config(dialect: VenueDialect) -> dict[str, Any]:
    """The vcrpy configuration of one dialect's cassettes (no ``record_mode``: the CLI
    decides)."""
    placeholders = [(name, PLACEHOLDER) for name in dialect.volatile_params]
    headers = [*SECRET_HEADERS, *dialect.secret_headers]
    hosts = tuple(dialect.canonical_hosts)

    def canonical_host(request: Any) -> Any:
        request.uri = canonical_url(request.uri, hosts)
        return request

    return {
        "filter_headers": [(name, PLACEHOLDER) for name in headers],
        "filter_query_parameters": placeholders,
        "filter_post_data_parameters": placeholders,
        "before_record_request": canonical_host,
        "decode_compressed_response": True,
        "match_on": MATCH_ON,
        "allow_playback_repeats": False,
    }


def resolve_cassettes_root(value: str | None, base: Path) -> Path:
    """The cassettes folder an ini value names, relative to ``base`` (the ini file's folder)."""
    return (base / (value or DEFAULT_CASSETTES)).resolve()


def cassettes_root(config: Any) -> Path:
    """The cassettes folder of the project a pytest run belongs to.

    ``exsdk_cassettes`` in its pytest ini (``pyproject.toml``, ``pytest.ini``, ...),
    relative to that file; without it, ``cassettes/`` beside the ini file (the rootdir when
    there is none). ``-o exsdk_cassettes=DIR`` overrides it for one run.
    """
    inipath = getattr(config, "inipath", None)
    base = Path(inipath).parent if inipath else Path(config.rootpath)
    try:
        value = config.getini(CASSETTES_INI)
    except ValueError:  # the plugin is disabled (-p no:exsdk_contracts): its key is unknown
        value = None
    return resolve_cassettes_root(str(value) if value else None, base)


def cassette_dir(root: Path, adapter_name: str) -> Path:
    """``<cassettes>/<adapter-name>/``: one directory per adapter."""
    return root / adapter_name


def markets_snapshot(root: Path, adapter_name: str) -> Path:
    """The markets snapshot injected into an adapter, so exchangeInfo stays out of cassettes."""
    return cassette_dir(root, adapter_name) / "markets.json"


def rerecord_command(adapter_name: str) -> str:
    """The command that re-records an adapter's cassettes (from the project's root)."""
    return f"exsdk record --adapter {adapter_name}"
