"""Sending mail: one message at a time over SMTP, on a thread (smtplib blocks), with TLS unless the operator
chose a local relay. The messages themselves are `readers/mail.py`'s."""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from urllib.parse import urlsplit

from broadsheet.config import Settings
from broadsheet.readers.mail import smtp_server

__all__ = ["MAIL_TIMEOUT", "mail_on", "send", "sender"]

log = logging.getLogger(__name__)
MAIL_TIMEOUT = 15.0  # seconds for each step of one SMTP conversation


def mail_on(settings: Settings) -> bool:
    return bool(settings.smtp_url.get_secret_value().strip())


def sender(settings: Settings) -> str:
    if settings.smtp_from.strip():
        return settings.smtp_from.strip()
    host = urlsplit(settings.base_url).hostname or "localhost"
    return f"{settings.site_name} <noreply@{host}>"


def send(settings: Settings, message: EmailMessage) -> None:
    """Deliver `message` to the configured server. Raises OSError or smtplib.SMTPException on failure (the
    caller logs it; the reader is told the same either way)."""
    server = smtp_server(settings.smtp_url.get_secret_value())
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if server.tls == "implicit":
        smtp = smtplib.SMTP_SSL(server.host, server.port, timeout=MAIL_TIMEOUT, context=context)
    else:
        smtp = smtplib.SMTP(server.host, server.port, timeout=MAIL_TIMEOUT)
    with smtp:
        if server.tls == "starttls":
            smtp.starttls(context=context)  # SMTPNotSupportedError when the server does not offer it
        if server.user:
            smtp.login(server.user, server.password)
        smtp.send_message(message)
