"""The message that carries a forgotten password's one-time sign-in link, and where to send it from the
`smtp_url` setting; pure (the sending is `web/mail.py`'s)."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import unquote, urlsplit

__all__ = ["SmtpServer", "link_message", "smtp_server"]


@dataclass(frozen=True, slots=True)
class SmtpServer:
    host: str
    port: int
    tls: str  # "implicit" (smtps://), "starttls" (smtp://, the server offering it) or "none" (smtp+plain://)
    user: str
    password: str


def smtp_server(url: str) -> SmtpServer:
    """`smtps://user:pass@host:465` (TLS from the start), `smtp://user:pass@host:587` (STARTTLS, required), or
    `smtp+plain://host:25` (no TLS: a relay on the same machine). ValueError says what is wrong."""
    parts = urlsplit(url.strip())
    modes = {"smtps": ("implicit", 465), "smtp": ("starttls", 587), "smtp+plain": ("none", 25)}
    if parts.scheme not in modes or not parts.hostname:
        raise ValueError(
            f"smtp_url {url!r} is not smtps://HOST:465, smtp://HOST:587 (STARTTLS) or smtp+plain://HOST:25"
        )
    tls, port = modes[parts.scheme]
    return SmtpServer(parts.hostname, parts.port or port, tls, unquote(parts.username or ""),
                      unquote(parts.password or ""))  # fmt: skip


def link_message(*, sender: str, to: str, site: str, name: str, link: str, hours: float) -> EmailMessage:
    """Plain text only: the link, what it does, how long it lasts, and what to do if it was not asked for."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = f"Your sign-in link for {site}"
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip("> ") or None)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(
        f"Someone asked for a sign-in link for the account {name} on {site}.\n\n"
        f"To choose a new password and sign in, open:\n\n    {link}\n\n"
        f"The link works once, for {hours:g} hour{'s' if hours != 1 else ''}. Opening it only shows a form; "
        "your password changes when you send the form.\n\n"
        "If you did not ask for it, do nothing: your password stays as it is.\n"
    )
    return message
