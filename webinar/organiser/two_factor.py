"""Two-factor authentication: codes from an authenticator app (RFC 6238, pyotp) and single-use recovery codes."""

from __future__ import annotations

import base64
import hmac
import logging
import secrets
from datetime import datetime

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from sqlalchemy import delete, select

from ..audit import audit
from ..database import utcnow
from ..extensions import db
from ..mailing.services import queue_mail
from ..tokens import hash_token
from .models import Organiser, RecoveryCode
from .roles import EVENTS_VIEW, SUPPORT_VIEW, may
from .services import LOCK_TIME

#: what the authenticator app shows above the codes
ISSUER = "Samen onderwijs versnellen"
#: a code is accepted one step (30 seconds) early or late: clocks differ a little
VALID_WINDOW = 1
RECOVERY_CODES = 10
#: wrong codes in a row before the account is locked for LOCK_TIME, as after wrong passwords
MAX_FAILED_CODES = 5
#: the settings ORGANISER_2FA_REQUIRED may hold
REQUIRED_SETTINGS = ("everyone", "personal-data", "off")
#: how a stored (encrypted) secret starts
SEALED = "fernet:"

log = logging.getLogger(__name__)


class WrongCode(ValueError):
    """A code that is wrong, used before, or refused because the account is locked."""


def sees_personal_data(organiser: Organiser) -> bool:
    """Whether the organiser's role shows personal data: registrants' (events) or requesters' (support)."""
    return may(organiser, EVENTS_VIEW) or may(organiser, SUPPORT_VIEW)


def two_factor_required(organiser: Organiser, setting: str) -> bool:
    """Whether ORGANISER_2FA_REQUIRED asks this organiser for a second factor."""
    if setting not in REQUIRED_SETTINGS:
        raise ValueError(f"ORGANISER_2FA_REQUIRED is {setting!r}, not one of {', '.join(REQUIRED_SETTINGS)}")
    return setting == "everyone" or (setting == "personal-data" and sees_personal_data(organiser))


def new_secret() -> str:
    """A fresh base32 secret for the authenticator app (160 bits)."""
    return pyotp.random_base32(32)


def _keys(config) -> MultiFernet:
    """TOTP_KEYS (the first encrypts, each decrypts), or one key derived from SECRET_KEY when it is empty."""
    keys = [key.strip() for key in config.get("TOTP_KEYS", "").split(",") if key.strip()]
    if not keys:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"webinar two-factor secrets")
        keys = [base64.urlsafe_b64encode(derived.derive(config["SECRET_KEY"].encode()))]
    return MultiFernet([Fernet(key) for key in keys])


def seal(secret: str, config=None) -> str:
    """The secret as stored: encrypted and authenticated (Fernet) with the first of the keys."""
    return SEALED + _keys(config or current_app.config).encrypt(secret.encode()).decode("ascii")


def unseal(stored: str, config=None) -> str | None:
    """The secret from its stored form; None when no key reads it (a lost or changed key)."""
    if not stored.startswith(SEALED):
        return None
    try:
        return _keys(config or current_app.config).decrypt(stored.removeprefix(SEALED).encode()).decode()
    except InvalidToken:
        return None


def setup_uri(organiser: Organiser, secret: str) -> str:
    """The otpauth:// URI the app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=organiser.email, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The URI as a QR code: an inline SVG element."""
    return segno.make(uri, error="m").svg_inline(scale=5, title="QR-code voor uw authenticator-app", border=2)


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step whose code this is (within the window), or None."""
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _digits(code: str) -> str:
    return "".join(code.split())


def _recovery_hash(code: str) -> str:
    # With or without the dashes, in either case: the same code.
    return hash_token(code.replace("-", "").lower())


def enable(organiser: Organiser, secret: str, code: str, now: datetime | None = None) -> list[str]:
    """Switch two-factor on once the app shows a right code for `secret`; the new recovery codes.

    WrongCode (Dutch) when the code does not match.
    """
    now = now or utcnow()
    step = _matching_step(secret, _digits(code), now)
    if step is None:
        raise WrongCode("Deze code klopt niet. Kijk of de tijd op uw telefoon goed staat en probeer de nieuwe code.")
    organiser.totp_secret, organiser.totp_enabled_at, organiser.totp_last_step = seal(secret), now, step
    organiser.failed_codes = 0
    return new_recovery_codes(organiser)


def disable(organiser: Organiser) -> None:
    """Switch two-factor off: the secret and the recovery codes are gone."""
    organiser.totp_secret = organiser.totp_enabled_at = organiser.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.organiser_id == organiser.id))
    db.session.flush()


def new_recovery_codes(organiser: Organiser) -> list[str]:
    """Ten new recovery codes (80 random bits each, only their hashes stored); older ones stop working."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.organiser_id == organiser.id))
    codes = ["-".join(secrets.token_hex(10)[i:i + 5] for i in range(0, 20, 5)) for _ in range(RECOVERY_CODES)]
    db.session.add_all(RecoveryCode(organiser_id=organiser.id, code_hash=_recovery_hash(code)) for code in codes)
    db.session.flush()
    return codes


def unused_recovery_codes(organiser: Organiser) -> int:
    """How many recovery codes are left."""
    return len(db.session.scalars(select(RecoveryCode.id).where(RecoveryCode.organiser_id == organiser.id,
                                                                 RecoveryCode.used_at.is_(None))).all())


def check_code(organiser: Organiser, code: str, now: datetime | None = None) -> str:
    """Accept a code from the app ("app") or a recovery code ("herstelcode"); else WrongCode.

    A code from the app is never accepted twice (nor one of an earlier step); a
    recovery code works once. Too many wrong codes lock the account, as wrong passwords do.
    """
    now = now or utcnow()
    if organiser.locked_until and organiser.locked_until > now:
        raise WrongCode("Te veel onjuiste codes. Wacht een kwartier en probeer het dan opnieuw.")
    entered = _digits(code).lower()
    secret = unseal(organiser.totp_secret or "")
    if secret is None:
        log.error("the two-factor secret of organiser %s cannot be decrypted: check TOTP_KEYS", organiser.id)
    step = _matching_step(secret, entered, now) if secret and entered.isdigit() else None
    if step is not None and (organiser.totp_last_step is None or step > organiser.totp_last_step):
        organiser.totp_last_step, organiser.failed_codes = step, 0
        return "app"
    recovery = db.session.scalar(select(RecoveryCode).where(
        RecoveryCode.organiser_id == organiser.id, RecoveryCode.code_hash == _recovery_hash(entered),
        RecoveryCode.used_at.is_(None)))
    if recovery is not None:
        recovery.used_at, organiser.failed_codes = now, 0
        return "herstelcode"
    if secret is None and entered.isdigit():  # not the organiser's fault: no lock-out, a way out
        raise WrongCode("Codes uit uw app kunnen nu niet worden gecontroleerd. Log in met een van uw herstelcodes "
                        "en koppel daarna uw app opnieuw, of vraag een beheerder om hulp.")
    organiser.failed_codes += 1
    if organiser.failed_codes >= MAX_FAILED_CODES:
        organiser.locked_until, organiser.failed_codes = now + LOCK_TIME, 0
    raise WrongCode("Deze code klopt niet of is al gebruikt. Na te veel pogingen moet u een kwartier wachten.")


def tell_organiser(organiser: Organiser, action: str, summary: str) -> None:
    """Audit a change to the organiser's sign-in and mail them about it (if it was not them, they will know)."""
    entry = audit(organiser, action, summary)
    db.session.flush()
    queue_mail("account_notice", recipient=organiser.email, dedupe_key=f"account_notice:{entry.id}")
