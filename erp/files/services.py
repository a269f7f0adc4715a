"""Storing and reading attachments (take a session, never commit)."""
from __future__ import annotations

import hashlib
import mimetypes

from sqlalchemy import select

from core import clock
from core.errors import InvalidInput, NotFound
from erp.files.models import Attachment

MAX_BYTES = 10 * 1024 * 1024


def store(session, filename: str, content: bytes, *, user: str, content_type: str | None = None) -> dict:
    """Keep an uploaded file; returns the reference a form's data holds: {id, name, size, sha256}."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()[:255]
    if not name:
        raise InvalidInput("the file has no name", {"": ["the file has no name"]})
    if len(content) > MAX_BYTES:
        raise InvalidInput(f"{name} is larger than {MAX_BYTES // (1024 * 1024)} MB",
                           {"": [f"larger than {MAX_BYTES // (1024 * 1024)} MB"]})
    digest = hashlib.sha256(content).hexdigest()
    kind = content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
    attachment = Attachment(filename=name, content_type=kind[:200], size=len(content), sha256=digest,
                            content=content, uploaded_by=user, uploaded_at=clock.now())
    session.add(attachment)
    session.flush()
    return reference(attachment)


def reference(attachment: Attachment) -> dict:
    return {"id": attachment.id, "name": attachment.filename, "size": attachment.size,
            "sha256": attachment.sha256}


def attach_to_instance(session, references, instance_id: int) -> None:
    ids = [r["id"] for r in references if isinstance(r, dict) and isinstance(r.get("id"), int)]
    for attachment in session.scalars(select(Attachment).where(Attachment.id.in_(ids),
                                                               Attachment.instance_id.is_(None))):
        attachment.instance_id = instance_id
    session.flush()


def get(session, attachment_id: int) -> Attachment:
    attachment = session.get(Attachment, attachment_id)
    if attachment is None:
        raise NotFound(f"attachment {attachment_id} not found")
    return attachment
