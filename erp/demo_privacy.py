"""The personal-information demo: 周敏 (zhoumin, legal) is the person in charge of personal-information protection
(个人信息保护负责人) and leads nothing but answers the privacy_officers group, 刘洋 leading it; a few customer
contacts have consented to marketing (one has withdrawn); a sales rep has filed an access request on behalf of a
contact, and a security incident waits for its assessment. Running it twice adds nothing."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from core import clock
from erp.crm.models import Contact
from erp.identity.services import ensure_group, ensure_user
from erp.privacy import services
from erp.privacy.models import Consent, PrivacyRequest, SecurityIncident
from erp.privacy.process import file_and_start, report_and_start

OFFICER, LEAD = "zhoumin", "liuyang"


def load_privacy(session, engine) -> str:
    ensure_group(session, services.OFFICERS, "个人信息保护负责人", "Privacy officers")
    ensure_user(session, OFFICER, groups=[services.OFFICERS], roles=["employee", "privacy_officer"])
    ensure_user(session, LEAD, lead_of=[services.OFFICERS])
    consents = _consents(session)
    requests = _requests(session, engine)
    incidents = _incidents(session, engine)
    return f"{consents} consent(s), {requests} privacy request(s), {incidents} security incident(s)"


def _none_yet(session, model) -> bool:
    return not session.scalar(select(func.count()).select_from(model))


def _consents(session) -> int:
    if not _none_yet(session, Consent):
        return 0
    contacts = session.scalars(select(Contact).order_by(Contact.id).limit(3)).all()
    given = clock.now() - timedelta(days=60)
    for contact in contacts:
        services.record_consent(session, "contact", contact.id, purpose="marketing", scope=["mobile", "email"],
                                channel="paper", by="zhaoqiang", given_at=given)
    if contacts:
        withdrawn = session.scalars(select(Consent).order_by(Consent.id.desc()).limit(1)).one()
        services.withdraw_consent(session, withdrawn.id, by="zhaoqiang", channel="phone")
    return len(contacts)


def _requests(session, engine) -> int:
    contact = session.scalars(select(Contact).order_by(Contact.id).limit(1)).first()
    if contact is None or not _none_yet(session, PrivacyRequest):
        return 0
    file_and_start(session, engine, user="zhaoqiang", kind="access", subject_type="contact", subject_id=contact.id,
                   channel="phone", details="客户来电要求查阅我司保存的其个人信息")
    return 1


def _incidents(session, engine) -> int:
    if not _none_yet(session, SecurityIncident):
        return 0
    report_and_start(session, engine, user="wangfang", title="客户联系人表格误发外部邮箱",
                     description="采购部同事将含 20 位客户联系人手机号的表格误发给供应商邮箱，已请对方删除。")
    return 1
