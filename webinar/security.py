"""Security headers on every response, the reverse proxy set-up, and rate limits."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app, request
from flask_limiter import ApplicationLimit, Limiter
from flask_limiter.util import get_remote_address
from werkzeug.middleware.proxy_fix import ProxyFix

#: the pages' policy: only our own files, no inline script or style, no framing
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
#: the organiser's e-mail preview: the mail's own inline styles, nothing else, in a sandbox
MAIL_PREVIEW_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'self'; sandbox"
)

#: URL rules of pages reached through a personal token (manage, join, invitation)
PERSONAL_LINKS = ("/r/<", "/j/<", "/organiser/uitnodiging/<", "/organiser/wachtwoord-herstellen/<", "/bewijs/<",
                  "/voorbeeld/<")
#: pages that are personal or private: browsers and proxies keep no copy
_NO_STORE = (*PERSONAL_LINKS, "/organiser/")


@dataclass(frozen=True)
class RateLimitRule:
    """One budget per client address, shared by a group of endpoints."""

    #: the config key holding the limit, e.g. "30 per minute;300 per hour"
    setting: str
    endpoints: frozenset[str] = frozenset()
    #: URL rules starting with these count too, so that new personal-link pages are covered
    prefixes: tuple[str, ...] = ()
    #: only these methods count (None: every method)
    methods: tuple[str, ...] | None = None
    #: only a POST whose submit button (form field "actie") has this value counts
    action: str | None = None
    #: whose budget a request counts against (None: the client's address)
    key: Callable[[], str] | None = None

    def applies(self) -> bool:
        """Whether the current request counts against this budget."""
        rule = request.url_rule.rule if request.url_rule else ""
        matches = request.endpoint in self.endpoints or bool(self.prefixes and rule.startswith(self.prefixes))
        return matches and (self.action is None or request.form.get("actie") == self.action)


def bearer_key() -> str:
    """An API request's budget: one per bearer token (its hash), else one per address."""
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and secret.strip():
        return "token:" + hashlib.sha256(secret.strip().encode("utf-8")).hexdigest()[:32]
    return get_remote_address()


RATE_LIMITS: dict[str, RateLimitRule] = {
    "registration": RateLimitRule("RATELIMIT_REGISTRATION", frozenset({"registration.submit"}), methods=("POST",)),
    "lost_link": RateLimitRule("RATELIMIT_LOST_LINK", frozenset({"registration.lost_link"}), methods=("POST",)),
    "token": RateLimitRule("RATELIMIT_TOKEN", prefixes=PERSONAL_LINKS),
    "login": RateLimitRule("RATELIMIT_LOGIN", frozenset({"organiser.login", "organiser.login_code"}),
                           methods=("POST",)),
    # Each request may send a mail to an organiser: not a way to flood someone's inbox.
    "password_reset": RateLimitRule("RATELIMIT_PASSWORD_RESET", frozenset({"organiser.forgot_password"}),
                                    methods=("POST",)),
    # Only sending counts: a board adding school rows posts the form many times.
    "support": RateLimitRule("RATELIMIT_SUPPORT", frozenset({"support.submit"}), methods=("POST",),
                             action="versturen"),
    # A test message goes to any address an organiser types: not a way to send mail in bulk.
    "message_test": RateLimitRule("RATELIMIT_MESSAGE_TEST", frozenset({"organiser.test_message"}), methods=("POST",)),
    # The API: a budget per token, so that one busy integration does not slow another.
    "api": RateLimitRule("RATELIMIT_API", prefixes=("/api/v1/",), key=bearer_key),
}


def register_security(app: Flask) -> None:
    """Wire the proxy settings, the headers and the rate limits into `app`."""
    register_proxy_fix(app)
    register_headers(app)
    register_rate_limits(app)


def register_proxy_fix(app: Flask) -> None:
    """Trust X-Forwarded-* only from as many proxies as configured (none by default)."""
    counts = {part: app.config[f"PROXY_FIX_X_{part.upper()}"] for part in ("for", "proto", "host", "prefix")}
    if any(counts.values()):
        app.wsgi_app = ProxyFix(app.wsgi_app, **{f"x_{part}": n for part, n in counts.items()})


def register_headers(app: Flask) -> None:
    @app.after_request
    def _security_headers(response):
        headers = response.headers
        # A view may set a policy of its own (the e-mail preview does).
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Frame-Options", "DENY")
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "same-origin"
        if request.is_secure:
            headers["Strict-Transport-Security"] = f"max-age={app.config['HSTS_SECONDS']}"
        rule = request.url_rule.rule if request.url_rule else ""
        if rule.startswith(_NO_STORE):
            headers["Cache-Control"] = "no-store"
        if rule.startswith(PERSONAL_LINKS):
            # A personal link that leaked (a forwarded mail) must not end up in a search engine.
            headers["X-Robots-Tag"] = "noindex"
        return response


def _limit_for(name: str, rule: RateLimitRule) -> ApplicationLimit:
    # Application limits are checked before any view code (and before the
    # write transaction begins), and one scope per rule gives each group of
    # endpoints one shared budget per address.
    return ApplicationLimit(
        lambda: current_app.config[rule.setting],
        key_function=rule.key,
        scope=name,
        methods=rule.methods,
        exempt_when=lambda: not rule.applies(),
    )


def register_rate_limits(app: Flask) -> Limiter | None:
    """Rate limits per client address; counts in memory, or in Redis when configured."""
    if not app.config["RATELIMIT_ENABLED"]:
        return None
    # One Limiter per app: the extension keeps settings such as the key prefix
    # from the first app it meets, which would leak between apps in one process.
    return Limiter(
        get_remote_address,
        app=app,
        application_limits=[_limit_for(name, rule) for name, rule in RATE_LIMITS.items()],
    )
