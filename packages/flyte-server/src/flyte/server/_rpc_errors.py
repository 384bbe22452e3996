"""The errors RPC handlers raise: a Connect error whose code the client sees (gRPC status alike)."""

from __future__ import annotations

from connectrpc.code import Code
from connectrpc.errors import ConnectError


def invalid_argument(message: str) -> ConnectError:
    return ConnectError(Code.INVALID_ARGUMENT, message)


def not_found(message: str) -> ConnectError:
    return ConnectError(Code.NOT_FOUND, message)


def already_exists(message: str) -> ConnectError:
    return ConnectError(Code.ALREADY_EXISTS, message)


def failed_precondition(message: str) -> ConnectError:
    return ConnectError(Code.FAILED_PRECONDITION, message)
