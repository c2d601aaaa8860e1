"""API credentials, held as secrets and bound to the venue they were issued for.

A :class:`Credentials` never shows its key or secret in ``repr``/``str`` (they are pydantic
``SecretStr``), and records its :class:`~exsdk.adapter.Venue`: an adapter given credentials
for another venue refuses them, so a key set for one venue is never sent to another.

Two loaders:

- :meth:`Credentials.from_env`: ``EXSDK_<VENUE>_API_KEY``, ``EXSDK_<VENUE>_SECRET`` and
  optionally ``EXSDK_<VENUE>_PASSWORD`` (the prefix is configurable).
- :meth:`Credentials.from_file`: a TOML or JSON secrets file with one table per venue
  (``[demo]`` with ``api_key`` and ``secret``); a file that group or others may read or
  write is refused.
"""

from __future__ import annotations

import json
import os
import stat
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
from pydantic import SecretStr

from exsdk._value import Value
from exsdk.adapter.venue import Venue
from exsdk.errors import SdkError

__all__ = ["Credentials", "CredentialsError"]


class CredentialsError(SdkError):
    """Credentials are missing, malformed, stored unsafely, or meant for another venue."""


def _secret(value: SecretStr | str) -> SecretStr:
    return value if isinstance(value, SecretStr) else SecretStr(value)


def _optional_secret(value: SecretStr | str | None) -> SecretStr | None:
    return None if value is None else _secret(value)


@attrs.frozen(repr=False, eq=False)
class Credentials(Value):
    """An API key set for one venue. ``repr`` shows the venue, never the key or secret."""

    venue: Venue = attrs.field(converter=Venue)
    api_key: SecretStr = attrs.field(converter=_secret)
    secret: SecretStr = attrs.field(converter=_secret)
    # Some exchanges (not Binance) also want a passphrase; ccxt calls it ``password``.
    password: SecretStr | None = attrs.field(default=None, converter=_optional_secret)

    def __attrs_post_init__(self) -> None:
        if not self.api_key.get_secret_value() or not self.secret.get_secret_value():
            raise CredentialsError(f"credentials for venue '{self.venue}' have an empty key")

    def ccxt_config(self) -> dict[str, str]:
        """The ccxt constructor keys (``apiKey``, ``secret``[, ``password``]).

        The only place the secret values are revealed; the result goes straight to ccxt.
        """
        config = {
            "apiKey": self.api_key.get_secret_value(),
            "secret": self.secret.get_secret_value(),
        }
        if self.password is not None:
            config["password"] = self.password.get_secret_value()
        return config

    @classmethod
    def from_env(
        cls,
        venue: Venue | str,
        *,
        prefix: str = "EXSDK",
        environ: Mapping[str, str] | None = None,
    ) -> Credentials:
        """Read ``<PREFIX>_<VENUE>_API_KEY`` and ``<PREFIX>_<VENUE>_SECRET``.

        The venue is part of the variable names, so demo keys cannot be read as live ones.
        """
        venue = Venue(venue)
        env = os.environ if environ is None else environ
        stem = f"{prefix}_{venue.value.upper()}"
        key, secret = env.get(f"{stem}_API_KEY"), env.get(f"{stem}_SECRET")
        if not key or not secret:
            raise CredentialsError(
                f"no credentials for venue '{venue}': set {stem}_API_KEY and {stem}_SECRET"
            )
        return cls(venue=venue, api_key=key, secret=secret, password=env.get(f"{stem}_PASSWORD"))

    @classmethod
    def from_file(cls, path: Path | str, venue: Venue | str) -> Credentials:
        """Read the ``[<venue>]`` table of a TOML (or ``.json``) secrets file.

        Refuses a file whose mode lets group or others read or write it, as ssh does for
        private keys: ``chmod 600`` it first.
        """
        venue = Venue(venue)
        path = Path(path)
        try:
            mode = path.stat().st_mode
        except OSError as exc:
            raise CredentialsError(f"cannot read secrets file {path}: {exc.strerror}") from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise CredentialsError(
                f"secrets file {path} has mode {stat.S_IMODE(mode):04o}, open to group or "
                f"others; run: chmod 600 {path}"
            )
        try:
            text = path.read_text(encoding="utf-8")
            data: Any = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
        except (OSError, ValueError) as exc:
            # The parser's message can quote the offending line, which may hold a secret.
            raise CredentialsError(
                f"secrets file {path} is not valid {'JSON' if path.suffix == '.json' else 'TOML'}"
                f" ({type(exc).__name__})"
            ) from None
        section = data.get(venue.value) if isinstance(data, dict) else None
        if not isinstance(section, dict):
            raise CredentialsError(f"secrets file {path} has no [{venue.value}] table")
        key, secret = section.get("api_key"), section.get("secret")
        password = section.get("password")
        if not isinstance(key, str) or not isinstance(secret, str):
            raise CredentialsError(
                f"secrets file {path}: [{venue.value}] needs string api_key and secret"
            )
        if password is not None and not isinstance(password, str):
            raise CredentialsError(f"secrets file {path}: [{venue.value}] password must be text")
        return cls(venue=venue, api_key=key, secret=secret, password=password)
