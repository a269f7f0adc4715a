"""Attachments of forms: upload (the form's script sends a chosen file at once and keeps its reference) and
download, for the uploader and the people who may see the instance the file belongs to."""
from __future__ import annotations

from io import BytesIO

from flask import Blueprint, jsonify, request, send_file
from flask_babel import gettext as _

from core.errors import InvalidInput, NotFound
from erp.files import services as files
from erp.files.models import Attachment
from webapp import requestdb
from webapp.errors import error_response
from webapp.forms_render import FileStore
from webapp.security import requires, user

blueprint = Blueprint("files", __name__)


class AttachmentStore(FileStore):
    """Files of one form submission: new uploads are stored as the user's; a reference the request carries
    is honoured only for a file of this user's or one already attached to the same instance (a reference to
    somebody else's file would otherwise hand it over)."""

    def __init__(self, session, username: str, instance_id: int | None = None):
        self.session, self.username, self.instance_id = session, username, instance_id
        self.stored: list[dict] = []

    def store(self, upload) -> dict:
        ref = files.store(self.session, upload.filename, upload.read(), user=self.username,
                          content_type=upload.mimetype)
        self.stored.append(ref)
        return ref

    def check(self, reference: dict) -> dict | None:
        file_id = reference.get("id")
        attachment = self.session.get(Attachment, file_id) if isinstance(file_id, int) else None
        if attachment is None:
            return None
        mine = attachment.uploaded_by == self.username and attachment.instance_id in (None, self.instance_id)
        same_instance = self.instance_id is not None and attachment.instance_id == self.instance_id
        return files.reference(attachment) if mine or same_instance else None


@blueprint.route("/files/<int:file_id>")
@requires("task.work")
def download(file_id):
    from webapp.visibility import may_view_instance

    session, me = requestdb.session(), user()
    attachment = files.get(session, file_id)
    allowed = attachment.uploaded_by == me.username or (
        attachment.instance_id is not None and may_view_instance(session, attachment.instance_id, me))
    if not allowed:
        raise NotFound(_("File not found."))
    response = send_file(BytesIO(attachment.content), mimetype=attachment.content_type, as_attachment=True,
                         download_name=attachment.filename, etag=attachment.sha256, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@blueprint.route("/files", methods=["POST"])
@requires("task.work")
def upload():
    """Store one file (field `file`) and answer with its reference {id, name, size, sha256}."""
    chosen = request.files.get("file")
    try:
        if chosen is None or not chosen.filename:
            raise InvalidInput(_("Choose a file to upload."), {"file": [_("Choose a file to upload.")]})
        ref = files.store(requestdb.session(), chosen.filename, chosen.read(), user=user().username,
                          content_type=chosen.mimetype)
    except InvalidInput as exc:
        response = error_response(exc)
        if "application/json" in request.headers.get("Accept", ""):
            response = jsonify({"error": {"code": "invalid_input", "message": str(exc), "fields": exc.errors}})
            response.status_code = 422
        return response
    return jsonify(ref), 201
