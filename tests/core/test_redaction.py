"""One redaction rule for every user: SDK errors, the adapter's log filter and the journal.

``exsdk.redaction`` holds the rule; the three users must mask the same values and leave the
same others alone. Each case goes through all three (the journal to its file on disk), so a
user that grows a rule of its own, or loses one, fails here.
"""

from __future__ import annotations

import ast
import json
import logging
from pathlib import Path

import pytest

import exsdk.redaction
from exsdk.adapter.redaction import SecretRedactingFilter
from exsdk.errors import SdkError
from exsdk.journal import Journal
from exsdk.redaction import is_secret_key, redact_secrets, scrub

VALUE = "s3cr3tVALUEs3cr3tVALUE0042"
# Spellings of credential names as venues and ccxt write them.
SECRET_NAMES = [
    "X-MBX-APIKEY",
    "x_mbx_apikey",
    "apiKey",
    "api_key",
    "API-KEY",
    "apiSecret",
    "secret",
    "secretKey",
    "signature",
    "Signature",
    "password",
    "passphrase",
    "privateKey",
    "accessToken",
    "token",
    "listenKey",
    "X-BAPI-API-KEY",
    "X-BAPI-SIGN",
    "OK-ACCESS-KEY",
    "OK-ACCESS-SIGN",
    "OK-ACCESS-PASSPHRASE",
    "API-Sign",
]
# Names that look close but carry no credential: left readable by every user.
PLAIN_NAMES = ["symbol", "clientOrderId", "signatureVersion", "tokens", "apiKeyId", "msg"]
# How a name and its value appear in text: query or form body, dict repr, JSON, header line.
SHAPES = [
    "https://fapi.binance.com/fapi/v1/order?symbol=X&{name}={value}&timestamp=1",
    "{{'{name}': '{value}', 'Content-Type': 'json'}}",
    '{{"{name}": "{value}", "code": -1022}}',
    "{name}: {value}",
    "request failed, {name}: {value}",
]


def _through_error(text: str) -> tuple[str, str]:
    error = SdkError(text, body=text)
    assert error.body is not None
    return str(error), error.body


def _through_log_filter(text: str) -> str:
    record = logging.LogRecord("ccxt.base.exchange", logging.DEBUG, __file__, 1, text, None, None)
    assert SecretRedactingFilter().filter(record)
    return record.getMessage()


def _through_journal(path: Path, texts: list[str]) -> bytes:
    journal = Journal.open(path)
    for text in texts:
        journal.record_raw("r", "create_order", {"text": text})
        journal.record_error("r", SdkError(text))
    journal.close()
    wal = Path(f"{path}-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", SECRET_NAMES)
def test_every_user_masks_the_same_secret(name: str, shape: str) -> None:
    assert is_secret_key(name)
    text = shape.format(name=name, value=VALUE)
    message, body = _through_error(text)
    seen = {
        "redact_secrets": redact_secrets(text),
        "SdkError message": message,
        "SdkError body": body,
        "log filter": _through_log_filter(text),
        "journal scrub": scrub(text),
    }
    for user, out in seen.items():
        assert VALUE not in out and "***" in out and name in out, (user, out)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", PLAIN_NAMES)
def test_every_user_leaves_the_same_plain_value(name: str, shape: str) -> None:
    assert not is_secret_key(name)
    text = shape.format(name=name, value=VALUE)
    message, body = _through_error(text)
    for out in (redact_secrets(text), message, body, _through_log_filter(text), scrub(text)):
        assert VALUE in out and "***" not in out, out


def test_the_journal_file_follows_the_same_rule(tmp_path: Path) -> None:
    # Raw payloads and error rows, as written to disk: every secret case masked, every
    # plain case kept (so the journal masks by the rule, not by masking everything).
    secret = _through_journal(
        tmp_path / "secret.sqlite",
        [shape.format(name=name, value=VALUE) for name in SECRET_NAMES for shape in SHAPES],
    )
    assert VALUE.encode() not in secret
    for name in PLAIN_NAMES:
        plain = _through_journal(
            tmp_path / f"{name}.sqlite", [shape.format(name=name, value=VALUE) for shape in SHAPES]
        )
        assert plain.count(VALUE.encode()) >= 2 * len(SHAPES), name


@pytest.mark.parametrize("name", SECRET_NAMES + PLAIN_NAMES)
def test_keys_and_text_follow_one_rule(name: str) -> None:
    # A payload's key is masked exactly when the same name is masked in text.
    by_key = scrub({name: VALUE})[name] != VALUE
    in_text = VALUE not in redact_secrets(json.dumps({name: VALUE}))
    assert by_key == in_text == is_secret_key(name)


def _imported_roots(tree: ast.Module) -> set[str]:
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_the_rule_lives_below_its_users() -> None:
    # exsdk.redaction imports the standard library only, so errors, the adapter and the
    # journal can all stand on it; none of them keeps a rule of its own.
    root = Path(exsdk.redaction.__file__).parent
    tree = ast.parse((root / "redaction.py").read_text(encoding="utf-8"))
    assert _imported_roots(tree) <= {"__future__", "re", "collections", "functools", "typing"}
    for user in ("errors.py", "adapter/redaction.py", "journal/base.py", "app/diagnosis.py"):
        source = (root / user).read_text(encoding="utf-8")
        functions = {n.name for n in ast.walk(ast.parse(source)) if isinstance(n, ast.FunctionDef)}
        assert "from exsdk.redaction import" in source, user
        assert not functions & {"redact_secrets", "scrub", "_is_secret_key"}, user
        assert "SECRET_KEYS = " not in source and "_SECRET_IN" not in source, user
