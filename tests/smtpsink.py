"""A mail server on loopback for the tests: it speaks enough SMTP (RFC 5321) for Python's smtplib to deliver
to it, without TLS or authentication, and keeps every message it was given.

    with SmtpSink() as sink:  # sink.url is "smtp+plain://127.0.0.1:PORT"
        ...
        sink.messages[0]["To"], sink.messages[0].get_content()
"""

from __future__ import annotations

import socketserver
import threading
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

__all__ = ["SmtpSink"]


class SmtpSink:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []  # (MAIL FROM, RCPT TOs)
        sink = self

        class Conversation(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                self._say("220 sink.test ESMTP ready")
                sender, recipients = "", []
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return
                    command = line.decode("ascii", "replace").strip()
                    verb = command.split(" ", 1)[0].upper()
                    if verb == "EHLO":
                        self._say("250-sink.test\r\n250 8BITMIME")
                    elif verb == "HELO":
                        self._say("250 sink.test")
                    elif verb == "MAIL":
                        sender, recipients = command.split(":", 1)[1].strip(), []
                        self._say("250 OK")
                    elif verb == "RCPT":
                        recipients.append(command.split(":", 1)[1].strip())
                        self._say("250 OK")
                    elif verb == "DATA":
                        self._say("354 End data with <CR><LF>.<CR><LF>")
                        body = b""
                        while not body.endswith(b"\r\n.\r\n"):
                            chunk = self.rfile.readline()
                            if not chunk:
                                return
                            body += chunk
                        data = body[: -len(b".\r\n")].replace(b"\r\n..", b"\r\n.")
                        sink.messages.append(BytesParser(policy=policy.default).parsebytes(data))  # type: ignore[arg-type]
                        sink.envelopes.append((sender, recipients))
                        self._say("250 OK: queued")
                    elif verb in ("RSET", "NOOP"):
                        self._say("250 OK")
                    elif verb == "QUIT":
                        self._say("221 Bye")
                        return
                    else:
                        self._say("502 Command not implemented")

            def _say(self, text: str) -> None:
                self.wfile.write(text.encode() + b"\r\n")

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Conversation)
        self._server.daemon_threads = True
        self.url = f"smtp+plain://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> SmtpSink:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()
