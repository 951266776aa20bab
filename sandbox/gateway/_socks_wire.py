"""SOCKS4/4a/5 wire format, sans I/O: parse messages from a buffer, build replies.

Each ``parse_*`` returns None while the message is incomplete (Tor waits for more
bytes too), the parsed fields with the number of bytes used once it is complete, or
raises ``SocksError`` carrying the reply Tor would send before closing (None: close
without a word).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from ..errors import SandboxError

# RFC 1928 reply codes, and Tor's extended ones (proposal 304, SocksPort ExtendedErrors).
SUCCEEDED = 0x00
GENERAL_FAILURE = 0x01
NOT_ALLOWED = 0x02
HOST_UNREACHABLE = 0x04
CONNECTION_REFUSED = 0x05
TTL_EXPIRED = 0x06
COMMAND_NOT_SUPPORTED = 0x07
ADDRESS_TYPE_NOT_SUPPORTED = 0x08
HS_NOT_FOUND = 0xF0
HS_IS_INVALID = 0xF1
HS_INTRO_FAILED = 0xF2
HS_REND_FAILED = 0xF3
HS_MISSING_CLIENT_AUTH = 0xF4
HS_BAD_CLIENT_AUTH = 0xF5
HS_BAD_ADDRESS = 0xF6
HS_INTRO_TIMEDOUT = 0xF7

CMD_CONNECT = 0x01
CMD_RESOLVE = 0xF0  # Tor extension (tor-resolve)
CMD_RESOLVE_PTR = 0xF1  # Tor extension

METHOD_NO_AUTH = 0x00
METHOD_USER_PASS = 0x02
METHOD_NONE_ACCEPTABLE = 0xFF

SOCKS4_GRANTED = 0x5A
SOCKS4_REJECTED = 0x5B

# Tor gives up on a handshake message longer than this (proto_socks.c MAX_SOCKS_MESSAGE_LEN).
MAX_MESSAGE = 512


class SocksError(SandboxError):
    """A malformed or unsupported message; ``reply`` is what to send before closing."""

    def __init__(self, why: str, reply: bytes | None = None):
        """Keep the explanation and the reply bytes."""
        super().__init__(why)
        self.reply = reply


@dataclass(frozen=True, slots=True)
class Request:
    """A parsed SOCKS request: command, destination, port and the SOCKS4 user id."""

    command: int
    host: str
    port: int
    atyp: int = 3
    user_id: str | None = None


def reply5(code: int) -> bytes:
    """Return a SOCKS5 reply with bound address 0.0.0.0:0, as Tor sends."""
    return bytes((5, code, 0, 1, 0, 0, 0, 0, 0, 0))


def resolved5(address: str) -> bytes:
    """Return Tor's SOCKS5 answer to RESOLVE: the IPv4 address as bound address, port 0."""
    return bytes((5, SUCCEEDED, 0, 1)) + ipaddress.IPv4Address(address).packed + b"\0\0"


def resolved5_name(name: str) -> bytes:
    """Return Tor's SOCKS5 answer to RESOLVE_PTR: the host name as bound address, port 0."""
    raw = name.encode("ascii")
    return bytes((5, SUCCEEDED, 0, 3, len(raw))) + raw + b"\0\0"


def resolved4(address: str) -> bytes:
    """Return Tor's SOCKS4a answer to RESOLVE: granted, port 0, the IPv4 address."""
    return bytes((0, SOCKS4_GRANTED, 0, 0)) + ipaddress.IPv4Address(address).packed


def reply4(granted: bool) -> bytes:
    """Return a SOCKS4 reply; Tor leaves version, port and address zero."""
    return bytes((0, SOCKS4_GRANTED if granted else SOCKS4_REJECTED, 0, 0, 0, 0, 0, 0))


def is_ipv4(host: str) -> bool:
    """Tell whether a requested host is an IPv4 literal (dotted quad)."""
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        return False
    return True


def _text(raw: bytes) -> str:
    """Decode client-supplied bytes for validation and logging (never fails)."""
    return raw.decode("utf-8", "replace")


def parse_greeting(buf: bytes | bytearray) -> tuple[int, frozenset[int]] | None:
    """Parse a SOCKS5 method-selection message: (bytes used, offered methods)."""
    if len(buf) < 2:
        return None
    count = buf[1]
    if count == 0:
        raise SocksError("SOCKS5 greeting offers no authentication method")
    if len(buf) < 2 + count:
        return None
    return 2 + count, frozenset(buf[2 : 2 + count])


def choose_method(methods: frozenset[int], prefer_no_auth: bool) -> int:
    """Pick the method like Tor: username/password if offered, unless PreferSOCKSNoAuth."""
    if METHOD_USER_PASS in methods and not (prefer_no_auth and METHOD_NO_AUTH in methods):
        return METHOD_USER_PASS
    if METHOD_NO_AUTH in methods:
        return METHOD_NO_AUTH
    return METHOD_NONE_ACCEPTABLE


def parse_userpass(buf: bytes | bytearray) -> tuple[int, str, str] | None:
    """Parse an RFC 1929 username/password message: (bytes used, username, password)."""
    if len(buf) < 2:
        return None
    if buf[0] != 1:
        # Tor has already chosen SOCKS5 here, so it answers general failure before closing.
        raise SocksError(
            f"username/password sub-negotiation version {buf[0]}, expected 1",
            reply5(GENERAL_FAILURE),
        )
    ulen = buf[1]
    if len(buf) < 3 + ulen:
        return None
    plen = buf[2 + ulen]
    end = 3 + ulen + plen
    if len(buf) < end:
        return None
    return end, _text(bytes(buf[2 : 2 + ulen])), _text(bytes(buf[3 + ulen : end]))


def parse_request5(buf: bytes | bytearray) -> tuple[int, Request] | None:
    """Parse a SOCKS5 request (RFC 1928 section 4)."""
    if len(buf) < 4:
        return None
    if buf[0] != 5:
        raise SocksError(f"SOCKS5 request with version {buf[0]}", reply5(GENERAL_FAILURE))
    command, atyp = buf[1], buf[3]
    if atyp == 1:
        end = 10
        if len(buf) < end:
            return None
        host = str(ipaddress.IPv4Address(bytes(buf[4:8])))
    elif atyp == 3:
        if len(buf) < 5:
            return None
        end = 5 + buf[4] + 2
        if len(buf) < end:
            return None
        host = _text(bytes(buf[5 : end - 2]))
    elif atyp == 4:
        end = 22
        if len(buf) < end:
            return None
        host = str(ipaddress.IPv6Address(bytes(buf[4:20])))
    else:
        raise SocksError(f"SOCKS5 address type {atyp}", reply5(ADDRESS_TYPE_NOT_SUPPORTED))
    port = int.from_bytes(buf[end - 2 : end], "big")
    return end, Request(command, host, port, atyp)


def parse_request4(buf: bytes | bytearray) -> tuple[int, Request] | None:
    """Parse a SOCKS4 or SOCKS4a request (user id, and host name for 4a)."""
    if len(buf) < 9:
        _need_more4(buf)
        return None
    command = buf[1]
    port = int.from_bytes(buf[2:4], "big")
    ip = bytes(buf[4:8])
    user_end = buf.find(b"\0", 8)
    if user_end < 0:
        _need_more4(buf)
        return None
    user_id = _text(bytes(buf[8:user_end])) or None
    # tor-resolve asks with port 0, which Tor accepts for its RESOLVE commands only.
    if ip == b"\0\0\0\0" or (port == 0 and command not in (CMD_RESOLVE, CMD_RESOLVE_PTR)):
        raise SocksError("SOCKS4 request with port or address zero", reply4(False))
    if ip[:3] == b"\0\0\0":
        host_end = buf.find(b"\0", user_end + 1)
        if host_end < 0:
            _need_more4(buf)
            return None
        host = _text(bytes(buf[user_end + 1 : host_end]))
        return host_end + 1, Request(command, host, port, 3, user_id)
    return user_end + 1, Request(command, str(ipaddress.IPv4Address(ip)), port, 1, user_id)


def _need_more4(buf: bytes | bytearray) -> None:
    """Wait for more of a SOCKS4 request, unless it is already longer than Tor accepts."""
    if len(buf) >= MAX_MESSAGE:
        raise SocksError("SOCKS4 request too long", reply4(False))
    return None
