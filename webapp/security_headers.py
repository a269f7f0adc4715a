"""Security headers on every response, through Flask-Talisman: the Content-Security-Policy, no framing, no
MIME sniffing, the referrer kept on this site, and HSTS when the cookies are secure (that is, served over
HTTPS, usually behind a reverse proxy that says so with X-Forwarded-Proto).

The pages carry no inline script (JSON data blocks only, read by static files) and no inline <style> element
(htmx's indicator styles are switched off in base.html). Inline style *attributes* stay allowed: a few
templates, bpmn-js and frappe-gantt set them, and an attribute can neither run script nor load anything from
elsewhere under this policy."""
from __future__ import annotations

from flask import Flask
from flask_talisman import Talisman

CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "style-src-attr": "'unsafe-inline'",
    "img-src": "'self' data:",  # data: for the QR code of the second-factor set-up and bpmn-js icons
    "font-src": "'self' data:",
    "connect-src": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "object-src": "'none'",
}

#: browser features no page here uses
PERMISSIONS_POLICY = {"browsing-topics": "()", "camera": "()", "microphone": "()", "geolocation": "()",
                      "payment": "()", "usb": "()"}



def init_app(app: Flask) -> None:
    secure = bool(app.config.get("SESSION_COOKIE_SECURE"))
    # one Talisman per app: it keeps its options (and the app) on itself, and tests build many apps
    app.extensions["talisman"] = Talisman(
        app,
        force_https=False,  # TLS ends at the reverse proxy; the local demo serves plain HTTP
        frame_options="DENY",
        content_security_policy=CONTENT_SECURITY_POLICY,
        permissions_policy=PERMISSIONS_POLICY,
        referrer_policy="same-origin",
        strict_transport_security=secure,
        strict_transport_security_include_subdomains=False,  # other hosts of the company's domain are not ours
        # Talisman would otherwise overwrite the cookie settings create_app made
        session_cookie_secure=secure,
        session_cookie_http_only=True,
        session_cookie_samesite=app.config.get("SESSION_COOKIE_SAMESITE", "Lax"),
    )

    @app.after_request
    def no_caching_of_pages(response):
        if response.mimetype == "text/html":
            response.headers.setdefault("Cache-Control", "no-store")  # pages show personal and business data
        return response
