"""What an API request may carry: the JSON parser and token authentication in settings.

A module of its own, apart from core.drf: DRF resolves DEFAULT_PARSER_CLASSES and
DEFAULT_AUTHENTICATION_CLASSES while rest_framework.views is being imported, and core.drf
imports rest_framework.views.
"""

from __future__ import annotations

import json
import re

from django.conf import settings
from django.utils import timezone
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.signals import token_expired
from rest_framework import exceptions, parsers

# --- Bounds on what a request may carry (issue 12 item 7) ------------------------------------

MAX_JSON_DEPTH = 20  # a report is 3 deep (report > variants > variant); nothing needs 20
JSON_TOO_DEEP = f"JSON nested deeper than {MAX_JSON_DEPTH} levels."
# Strings (skipped whole, escapes included) and the brackets outside them.
_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def json_depth_exceeds(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether `text` nests arrays/objects deeper than `limit` (one regex pass, no parse)."""
    depth = 0
    for match in _JSON_TOKENS.finditer(text):
        piece = match.group()
        if piece in ("[", "{"):
            depth += 1
            if depth > limit:
                return True
        elif piece in ("]", "}"):
            depth -= 1
    return False


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser with the nesting depth capped: too deep is a 400, never a
    RecursionError (json's decoder, or any recursive walk after it, would hit it)."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = stream.read().decode(encoding)
        except UnicodeDecodeError as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from exc
        if json_depth_exceeds(text):
            raise exceptions.ParseError(JSON_TOO_DEEP)
        try:
            data = json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_object)
        except RecursionError as exc:
            raise exceptions.ParseError(JSON_TOO_DEEP) from exc
        except ValueError as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from exc
        # "\ud800" escapes a lone UTF-16 surrogate: valid JSON, but no UTF-8 text can hold
        # it (PostgreSQL, the audit trail and the error answer echoing it would all fail).
        if "\\u" in text and _has_lone_surrogate(data):
            raise exceptions.ParseError(LONE_SURROGATE)
        return data


LONE_SURROGATE = "JSON parse error - a string holds an unpaired UTF-16 surrogate (\\ud800-\\udfff)."


def _has_lone_surrogate(data) -> bool:
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


DUPLICATE_KEY = (
    "the key {key} is given twice in one object: send each field once "
    "(a receiver may keep either value)."
)


def _object(pairs: list[tuple[str, object]]) -> dict:
    """An object's members, refusing a key given twice: RFC 8259 leaves which value wins to
    the receiver, and "vaf_percent": 42, "vaf_percent": 0.42 (or two MRNs) must not be read as
    whichever came last, as json does, while the lab's system meant the other."""
    data = dict(pairs)
    if len(data) != len(pairs):
        seen: set[str] = set()
        key = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise ValueError(DUPLICATE_KEY.format(key=json.dumps(key[:64])))
    return data


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


TOKEN_SHAPE = re.compile(rb"[0-9A-Za-z_\-]{1,256}")
INVALID_TOKEN = "Invalid token."  # noqa: S105 - a message, not a secret


class TokenAuthentication(KnoxTokenAuthentication):
    """knox's token authentication, refusing a malformed token with 401 before any lookup:
    a token is a short run of URL-safe ASCII, so NUL, non-UTF-8 or other bytes are invalid
    (knox would otherwise decode them or send them to PostgreSQL, and answer 500)."""

    def authenticate_credentials(self, token: bytes):
        if not TOKEN_SHAPE.fullmatch(token):
            raise exceptions.AuthenticationFailed(INVALID_TOKEN)
        return super().authenticate_credentials(token)

    def _cleanup_token(self, auth_token) -> bool:
        """Whether the presented token has expired (then deleted, as knox does).

        knox's own version also loads every other token of the same user on every request
        to delete the expired ones: one more query per API call for a lab account that
        holds several tokens. Tokens are issued without expiry (TOKEN_TTL is None), and an
        expired one is refused and deleted here when it is next presented."""
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            username = auth_token.user.get_username()
            auth_token.delete()
            token_expired.send(sender=self.__class__, username=username, source="auth_token")
            return True
        return False


class TokenScheme(KnoxTokenScheme):
    """The OpenAPI security scheme of the subclass above: the same as knox's."""

    target_class = "core.drf_inputs.TokenAuthentication"
