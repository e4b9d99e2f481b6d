"""Application errors raised by services; the API renders them as {"message", "extra"}."""

from __future__ import annotations


class ApplicationError(Exception):
    status_code = 400

    def __init__(self, message: str, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class NotEligible(ApplicationError):
    """The record is not in a state that allows the action (e.g. collecting a cancelled draw)."""

    status_code = 409


class Mismatch(ApplicationError):
    """Well-formed input that does not match what is on record (422)."""

    status_code = 422


class Conflict(ApplicationError):
    status_code = 409
