"""The MLLP wire: HL7 messages framed as <VT> message <FS><CR> on TCP, received and sent.

`Hl7Listener` accepts the hospital's connections on gevent and hands each whole message's text to a
handler that returns the ACK; `send_message` is the sending half for outbound messages. Nothing here
reads a message: a frame larger than the bound closes the connection before it is kept in memory.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable

import gevent
from gevent.pool import Pool
from gevent.server import StreamServer

from ccctl.errors import UserError

log = logging.getLogger("ccctl.hl7")

START_BLOCK = b"\x0b"
END_BLOCK = b"\x1c\x0d"
RECV_BYTES = 65536
# the HIS keeps its connection open between messages; one silent this long is closed
IDLE_TIMEOUT_SECONDS = 600.0
MAX_CONNECTIONS = 64


class MllpError(UserError):
    """A frame could not be sent or its answer not read; one line naming the address, never the message."""


def frame(text: str) -> bytes:
    return START_BLOCK + text.encode("utf-8") + END_BLOCK


class FrameReader:
    """Splits a byte stream into message bodies; bytes outside a frame are dropped."""

    def __init__(self, max_message_bytes: int) -> None:
        self.max_message_bytes = max_message_bytes
        self._buffer = b""

    def feed(self, data: bytes) -> list[bytes]:
        """The whole messages completed by `data`; ValueError when one grows past the bound."""
        self._buffer += data
        messages = []
        while True:
            start = self._buffer.find(START_BLOCK)
            if start < 0:
                self._buffer = b""
                return messages
            end = self._buffer.find(END_BLOCK, start)
            if end < 0:
                self._buffer = self._buffer[start:]
                if len(self._buffer) > self.max_message_bytes + 1:
                    raise ValueError("message over the size bound")
                return messages
            body = self._buffer[start + 1 : end]
            self._buffer = self._buffer[end + len(END_BLOCK) :]
            if len(body) > self.max_message_bytes:
                raise ValueError("message over the size bound")
            messages.append(body)


class Hl7Listener:
    """An MLLP server: one greenlet per connection, messages answered one at a time in order."""

    def __init__(
        self, host: str, port: int, handle: Callable[[str, str], str], max_message_bytes: int = 1_048_576
    ) -> None:
        self.handle = handle
        self.max_message_bytes = max_message_bytes
        self._server = StreamServer((host, port), self._connection, spawn=Pool(MAX_CONNECTIONS))
        self._where = f"{host}:{port}"

    def start(self) -> None:
        try:
            self._server.start()
        except OSError as exc:
            raise MllpError(
                f"cannot listen for HL7 on {self._where} ({exc.strerror}); change hl7.listen_port"
            ) from None
        log.info("HL7 (MLLP) listening on %s:%d", *self.address)

    def stop(self) -> None:
        self._server.stop(timeout=2)

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.socket.getsockname()[:2]
        return host, port

    def _connection(self, sock: socket.socket, address) -> None:
        peer = f"{address[0]}:{address[1]}"
        reader = FrameReader(self.max_message_bytes)
        sock.settimeout(IDLE_TIMEOUT_SECONDS)
        try:
            while True:
                data = sock.recv(RECV_BYTES)
                if not data:
                    return
                for body in reader.feed(data):
                    sock.sendall(frame(self._answer(body, peer)))
        except ValueError:
            log.warning("HL7 connection from %s closed: a message over hl7.max_message_bytes", peer)
        except (OSError, TimeoutError) as exc:
            log.info("HL7 connection from %s ended: %s", peer, type(exc).__name__)
        finally:
            sock.close()

    def _answer(self, body: bytes, peer: str) -> str:
        text = body.decode("utf-8", errors="replace")
        # the database work runs in the threadpool: the event loop keeps serving calls meanwhile
        return gevent.get_hub().threadpool.apply(self.handle, (text, peer))


def send_message(host: str, port: int, text: str, timeout: float, max_reply_bytes: int = 1_048_576) -> str:
    """Send one message and return the text of the first framed reply; MllpError when there is none."""
    where = f"{host}:{port}"
    reader = FrameReader(max_reply_bytes)
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(frame(text))
            while True:
                data = sock.recv(RECV_BYTES)
                if not data:
                    raise MllpError(f"HL7 peer {where} closed the connection without an ACK")
                replies = reader.feed(data)
                if replies:
                    return replies[0].decode("utf-8", errors="replace")
    except ValueError:
        raise MllpError(f"HL7 peer {where} answered with a frame over the size bound") from None
    except OSError as exc:
        raise MllpError(f"HL7 peer {where}: {exc.strerror or type(exc).__name__}") from None
