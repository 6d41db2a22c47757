"""Settings, read from the environment; one class per way of running."""

from __future__ import annotations

import os
from email.utils import parseaddr
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("WEBINAR_INSTANCE_DIR", BASE_DIR / "instance"))


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def database_url(url: str | None) -> str:
    """Return a SQLAlchemy URL; plain postgres:// URLs get the psycopg 3 driver."""
    if not url:
        return f"sqlite:///{INSTANCE_DIR / 'webinar.db'}"
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class Config:
    """Shared defaults. Every value can be set through the environment."""

    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("DATABASE_URL"))
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000")

    MAIL_SERVER = os.environ.get("MAIL_SERVER", "127.0.0.1")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "8025"))
    MAIL_USE_TLS = _bool("MAIL_USE_TLS")
    MAIL_USE_SSL = _bool("MAIL_USE_SSL")
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_DEFAULT_SENDER = os.environ.get(
        "MAIL_DEFAULT_SENDER", "Samen onderwijs versnellen <bijeenkomsten@example.org>"
    )
    #: how many outbox rows one worker pass claims
    MAIL_BATCH_SIZE = int(os.environ.get("MAIL_BATCH_SIZE", "100"))
    #: seconds a claimed row stays with one worker before another may take it
    MAIL_CLAIM_SECONDS = int(os.environ.get("MAIL_CLAIM_SECONDS", "300"))
    #: rows the server accepted are marked sent together, at most this many at a time ...
    MAIL_MARK_GROUP = int(os.environ.get("MAIL_MARK_GROUP", "20"))
    #: ... and at most this many seconds after the first of them was accepted
    MAIL_MARK_SECONDS = float(os.environ.get("MAIL_MARK_SECONDS", "0.25"))
    #: seconds between passes of `flask mail worker`
    MAIL_WORKER_INTERVAL = float(os.environ.get("MAIL_WORKER_INTERVAL", "5"))
    #: minutes without a pass of any mail worker after which due mail counts as stuck (warning, /healthz/mail)
    MAIL_WORKER_STALE_MINUTES = int(os.environ.get("MAIL_WORKER_STALE_MINUTES", "3"))
    #: the mailbox that gets the mail that comes back (the envelope sender, with each message's own tag:
    #: bounces+<id>-<signature>@...); "" sends with MAIL_DEFAULT_SENDER's address and reads no bounces
    MAIL_BOUNCE_ADDRESS = os.environ.get("MAIL_BOUNCE_ADDRESS", "")
    #: reading that mailbox over IMAP (`flask mail bounces`; the worker too when the host is set)
    MAIL_BOUNCE_IMAP_HOST = os.environ.get("MAIL_BOUNCE_IMAP_HOST", "")
    #: "ssl" (port 993), "starttls" (port 143) or "none" (only for a server on the same machine)
    MAIL_BOUNCE_IMAP_SECURITY = os.environ.get("MAIL_BOUNCE_IMAP_SECURITY", "ssl")
    #: 0: the port that goes with the security
    MAIL_BOUNCE_IMAP_PORT = int(os.environ.get("MAIL_BOUNCE_IMAP_PORT", "0"))
    MAIL_BOUNCE_IMAP_USERNAME = os.environ.get("MAIL_BOUNCE_IMAP_USERNAME", "")
    MAIL_BOUNCE_IMAP_PASSWORD = os.environ.get("MAIL_BOUNCE_IMAP_PASSWORD", "")
    #: certificates to trust besides the system's (a server with a certificate of its own CA)
    MAIL_BOUNCE_IMAP_CA_FILE = os.environ.get("MAIL_BOUNCE_IMAP_CA_FILE", "")
    #: the folder the reports arrive in, and the one handled reports are moved to
    MAIL_BOUNCE_IMAP_FOLDER = os.environ.get("MAIL_BOUNCE_IMAP_FOLDER", "INBOX")
    MAIL_BOUNCE_DONE_FOLDER = os.environ.get("MAIL_BOUNCE_DONE_FOLDER", "Verwerkt")
    #: minutes between the worker's readings of the mailbox
    MAIL_BOUNCE_INTERVAL_MINUTES = float(os.environ.get("MAIL_BOUNCE_INTERVAL_MINUTES", "5"))
    #: where `flask mail sink` writes every message it receives, as .eml files
    MAIL_SINK_DIR = os.environ.get("MAIL_SINK_DIR", str(INSTANCE_DIR / "mail"))

    #: defaults for new events' mail schedule
    REMINDER_DAYS_BEFORE = int(os.environ.get("REMINDER_DAYS_BEFORE", "1"))
    REMINDER_LOCAL_TIME = os.environ.get("REMINDER_LOCAL_TIME", "10:00")
    JOIN_LINK_MINUTES_BEFORE = int(os.environ.get("JOIN_LINK_MINUTES_BEFORE", "30"))
    FOLLOWUP_MINUTES_AFTER = int(os.environ.get("FOLLOWUP_MINUTES_AFTER", "60"))
    #: what a new event starts with (the organiser changes it per event): the roles to choose from,
    #: separated by ";", and the contact person shown on its page (by default the sender of the mail)
    EVENT_DEFAULT_ROLES = [role.strip() for role in os.environ.get(
        "EVENT_DEFAULT_ROLES", "Schoolbestuurder;Schoolleider;HRM'er;Beleidsadviseur gemeente").split(";")
        if role.strip()]
    EVENT_CONTACT_NAME = os.environ.get("EVENT_CONTACT_NAME", parseaddr(MAIL_DEFAULT_SENDER)[0])
    EVENT_CONTACT_EMAIL = os.environ.get("EVENT_CONTACT_EMAIL", parseaddr(MAIL_DEFAULT_SENDER)[1])
    EVENT_CONTACT_PHONE = os.environ.get("EVENT_CONTACT_PHONE", "")
    #: seconds the SMTP connection may take to answer
    MAIL_TIMEOUT = int(os.environ.get("MAIL_TIMEOUT", "30"))

    #: who the certificate of attendance names as the organiser
    CERTIFICATE_ORGANISER = os.environ.get("CERTIFICATE_ORGANISER", "Samen onderwijs versnellen")

    #: days after an event's end (or cancellation) that `flask privacy purge` removes registrants' data
    PRIVACY_PURGE_DAYS = int(os.environ.get("PRIVACY_PURGE_DAYS", "90"))

    #: minutes of inactivity after which an organiser must log in again
    ORGANISER_IDLE_MINUTES = int(os.environ.get("ORGANISER_IDLE_MINUTES", "30"))
    #: hours after logging in that an organiser must log in again, however active
    ORGANISER_SESSION_HOURS = int(os.environ.get("ORGANISER_SESSION_HOURS", "12"))

    #: who must use a second factor (an authenticator app): "everyone", "personal-data" (every role that sees
    #: registrants' data, which is every organiser until roles exist) or "off"
    ORGANISER_2FA_REQUIRED = os.environ.get("ORGANISER_2FA_REQUIRED", "personal-data")
    #: keys that encrypt the authenticator secrets in the database (Fernet keys, comma-separated: the first
    #: encrypts, every one decrypts, so a key can be replaced); empty: one key derived from SECRET_KEY
    TOTP_KEYS = os.environ.get("TOTP_KEYS", "")
    #: minutes a password reset link works
    PASSWORD_RESET_MINUTES = int(os.environ.get("PASSWORD_RESET_MINUTES", "30"))
    #: sign in with the organisation's account (OpenID Connect); off while OIDC_ISSUER is empty
    OIDC_ISSUER = os.environ.get("OIDC_ISSUER", "")
    OIDC_CLIENT_ID = os.environ.get("OIDC_CLIENT_ID", "")
    OIDC_CLIENT_SECRET = os.environ.get("OIDC_CLIENT_SECRET", "")
    #: the button's text on the login page
    OIDC_LABEL = os.environ.get("OIDC_LABEL", "Inloggen met uw organisatie-account")

    #: who hears of each new support request (the programme's project lead)
    SUPPORT_PROJECT_LEAD_EMAIL = os.environ.get("SUPPORT_PROJECT_LEAD_EMAIL", "projectleider@example.org")
    #: the sender name and Reply-To of every support-request e-mail (the address stays MAIL_DEFAULT_SENDER's)
    SUPPORT_MAIL_SENDER_NAME = os.environ.get("SUPPORT_MAIL_SENDER_NAME", "Leren verbeteren")
    SUPPORT_MAIL_REPLY_TO = os.environ.get("SUPPORT_MAIL_REPLY_TO", "lerenverbeteren@example.org")
    #: days after a request is done or declined before it is purged
    SUPPORT_PURGE_DAYS = int(os.environ.get("SUPPORT_PURGE_DAYS", "180"))

    #: how many proxies in front of the app set X-Forwarded-For / -Proto / -Host / -Prefix
    #: (0: not trusted); only count proxies you run, or clients can fake their address
    PROXY_FIX_X_FOR = int(os.environ.get("PROXY_FIX_X_FOR", "0"))
    PROXY_FIX_X_PROTO = int(os.environ.get("PROXY_FIX_X_PROTO", "0"))
    PROXY_FIX_X_HOST = int(os.environ.get("PROXY_FIX_X_HOST", "0"))
    PROXY_FIX_X_PREFIX = int(os.environ.get("PROXY_FIX_X_PREFIX", "0"))
    #: seconds browsers remember to use HTTPS only (sent on HTTPS responses only)
    HSTS_SECONDS = int(os.environ.get("HSTS_SECONDS", "31536000"))

    #: rate limits per client address (Flask-Limiter); a load test may turn them off
    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    #: memory:// keeps counts per process; redis://host:6379 shares them between servers
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI") or "memory://"
    RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", "webinar")
    RATELIMIT_HEADERS_ENABLED = True
    #: when Redis is down, count in memory per process instead of refusing or failing
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    #: limits in Flask-Limiter's notation; a whole school registering at once shares an address
    RATELIMIT_REGISTRATION = os.environ.get("RATELIMIT_REGISTRATION", "30 per minute;300 per hour")
    RATELIMIT_LOST_LINK = os.environ.get("RATELIMIT_LOST_LINK", "5 per minute;30 per hour")
    RATELIMIT_TOKEN = os.environ.get("RATELIMIT_TOKEN", "60 per minute;600 per hour")
    RATELIMIT_LOGIN = os.environ.get("RATELIMIT_LOGIN", "10 per minute;60 per hour")
    RATELIMIT_SUPPORT = os.environ.get("RATELIMIT_SUPPORT", "5 per minute;20 per hour")
    RATELIMIT_MESSAGE_TEST = os.environ.get("RATELIMIT_MESSAGE_TEST", "5 per minute;30 per hour")
    RATELIMIT_PASSWORD_RESET = os.environ.get("RATELIMIT_PASSWORD_RESET", "3 per minute;10 per hour")
    #: per API token
    RATELIMIT_API = os.environ.get("RATELIMIT_API", "120 per minute;3000 per hour")

    #: webhooks: send to private, loopback and link-local addresses too (an integration inside one's own network)
    WEBHOOK_ALLOW_PRIVATE = _bool("WEBHOOK_ALLOW_PRIVATE", False)
    #: seconds a receiver has to answer before the attempt counts as failed (and is retried)
    WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOK_TIMEOUT_SECONDS", "10"))
    #: a worker's claim on a delivery; a killed worker's deliveries are sent again after it
    WEBHOOK_CLAIM_SECONDS = int(os.environ.get("WEBHOOK_CLAIM_SECONDS", "120"))
    WEBHOOK_BATCH_SIZE = int(os.environ.get("WEBHOOK_BATCH_SIZE", "20"))

    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    MAX_CONTENT_LENGTH = 1024 * 1024
    #: the organiser's imports (registrants, attendance reports): a Teams report of
    #: 10,000 people is about 3 MB in UTF-16
    IMPORT_MAX_BYTES = int(os.environ.get("IMPORT_MAX_BYTES", str(10 * 1024 * 1024)))


class DevelopmentConfig(Config):
    SECRET_KEY = Config.SECRET_KEY or "development-only-not-secret"


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "testing-only-not-secret"
    SQLALCHEMY_DATABASE_URI = database_url(
        os.environ.get("TEST_DATABASE_URL") or "sqlite:///:memory:"
    )
    WTF_CSRF_ENABLED = False
    #: off, so that tests may send many requests from 127.0.0.1; tests of the limits turn it on
    RATELIMIT_ENABLED = False
    #: off, so that tests log in with a password alone; the two-factor tests turn it on
    ORGANISER_2FA_REQUIRED = "off"
    BASE_URL = "http://webinar.test"
    MAIL_DEFAULT_SENDER = "Samen onderwijs versnellen <bijeenkomsten@example.org>"


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}
