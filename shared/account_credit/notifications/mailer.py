"""Sending email: SES (v2) in AWS, an outbox folder of .eml files locally."""

from __future__ import annotations

import os
import re
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol

from account_credit.notifications.messages import Email


class Mailer(Protocol):
    def send(self, email: Email, *, notification_id: str) -> str:
        """Send; returns a message id."""
        ...


class SesMailer:
    def __init__(self, sender: str, configuration_set: str | None = None, client: Any = None) -> None:
        self.sender = sender
        self.configuration_set = configuration_set
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("sesv2")
        return self._client

    def send(self, email: Email, *, notification_id: str) -> str:
        tags = [{"Name": "notification", "Value": re.sub(r"[^A-Za-z0-9_-]", "_", notification_id)[:256]}]
        content: dict[str, Any]
        if email.attachments:  # SES sends attachments as a raw MIME message
            content = {"Raw": {"Data": bytes(mime(email, self.sender, notification_id))}}
        else:
            content = {
                "Simple": {
                    "Subject": {"Data": email.subject, "Charset": "UTF-8"},
                    "Body": {
                        "Text": {"Data": email.text, "Charset": "UTF-8"},
                        "Html": {"Data": email.html, "Charset": "UTF-8"},
                    },
                }
            }
        kwargs: dict[str, Any] = {
            "FromEmailAddress": self.sender,
            "Destination": {"ToAddresses": list(email.to)},
            "Content": content,
            "EmailTags": tags,
        }
        if self.configuration_set:
            kwargs["ConfigurationSetName"] = self.configuration_set
        return str(self.client.send_email(**kwargs)["MessageId"])


def mime(email: Email, sender: str, notification_id: str) -> EmailMessage:
    """The email as one MIME message: text and HTML alternatives, then its attachments."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(email.to)
    msg["Subject"] = email.subject
    msg["X-Notification-Id"] = notification_id
    msg.set_content(email.text)
    msg.add_alternative(email.html, subtype="html")
    for a in email.attachments:
        maintype, _, subtype = a.content_type.partition("/")
        msg.add_attachment(a.data, maintype=maintype, subtype=subtype, filename=a.filename)
    return msg


class OutboxMailer:
    """Writes each email as ``<notification_id>.eml`` (multipart text + HTML) in a folder."""

    def __init__(self, folder: str | Path, sender: str) -> None:
        self.folder = Path(folder)
        self.sender = sender

    def send(self, email: Email, *, notification_id: str) -> str:
        msg = mime(email, self.sender, notification_id)
        self.folder.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", notification_id) + ".eml"
        tmp = self.folder / (name + ".tmp")
        tmp.write_bytes(bytes(msg))
        tmp.replace(self.folder / name)  # atomic: a reader never sees half an email
        print(f"email {email.subject!r} to {msg['To']} -> {self.folder / name}", flush=True)
        return name


def from_env() -> Mailer:
    sender = os.environ.get("SENDER_EMAIL", "billing@account-credit.local")
    outbox = os.environ.get("EMAIL_OUTBOX_DIR")
    if outbox:
        return OutboxMailer(outbox, sender)
    return SesMailer(sender, os.environ.get("SES_CONFIGURATION_SET") or None)
