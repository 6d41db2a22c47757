"""Signing in with the organisation's account (OpenID Connect, Authlib): off unless OIDC_ISSUER is set.

The identity provider only vouches for an e-mail address. Who may enter stays
ours: only an invited organiser whose address the provider marks as verified,
with the role this service gave them, and the second factor this service asks.
"""

from __future__ import annotations

from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import OAuth
from joserfc.errors import JoseError
from flask import abort, current_app, flash, redirect, request, session, url_for
from requests import RequestException

from ..audit import audit
from ..database import begin_write, utcnow
from ..extensions import db
from ..links import external_url
from . import bp
from .access import safe_next
from .models import Organiser
from .services import find_organiser
from .signin import after_first_factor

#: the Flask session's key for where to go after signing in
NEXT = "oidc_next"
#: the answer to everyone the provider vouches for who is not an invited organiser
NOT_INVITED = ("Met dit account kunt u hier niet inloggen: er hoort geen organisatorsaccount bij dit e-mailadres. "
               "Vraag een collega om een uitnodiging.")


class Refused(Exception):
    """Signing in did not work; the message says why, in Dutch."""


def _provider():
    """The app's OpenID Connect client, registered on first use from the settings."""
    config = current_app.config
    if not config["OIDC_ISSUER"]:
        abort(404)
    registry = current_app.extensions.get("oidc")
    if registry is None:
        registry = current_app.extensions["oidc"] = OAuth(current_app)
        registry.register(
            "organisation",
            server_metadata_url=config["OIDC_ISSUER"].rstrip("/") + "/.well-known/openid-configuration",
            client_id=config["OIDC_CLIENT_ID"], client_secret=config["OIDC_CLIENT_SECRET"],
            client_kwargs={"scope": "openid email", "code_challenge_method": "S256"},
        )
    return registry.organisation


@bp.get("/login/organisatie")
def oidc_login():
    """Off to the organisation's identity provider."""
    provider = _provider()
    session[NEXT] = safe_next(request.args.get("next"))
    try:
        return provider.authorize_redirect(external_url("organiser.oidc_callback"))
    except RequestException as error:
        current_app.logger.warning("OpenID provider unreachable: %s", error)
        flash("De inlogdienst van uw organisatie is nu niet bereikbaar. Log in met uw wachtwoord.", "error")
        return redirect(url_for(".login"))


@bp.get("/login/organisatie/terug")
def oidc_callback():
    """Back from the provider: check its answer and the ID token, then find the invited organiser."""
    provider = _provider()
    try:
        organiser_id = _organiser_for(provider).id
    except Refused as refusal:
        session.pop(NEXT, None)
        flash(str(refusal), "error")
        return redirect(url_for(".login"))
    db.session.rollback()  # what follows writes: in a write transaction, as every POST is
    begin_write()
    organiser = db.session.get(Organiser, organiser_id)
    audit(organiser, "account.login_oidc", f"ingelogd met het account van de organisatie ({organiser.email})")
    organiser.last_login_at = utcnow()
    return after_first_factor(organiser, session.pop(NEXT, None) or safe_next(None))


def _organiser_for(provider):
    """The invited, active organiser the provider vouches for; Refused otherwise."""
    try:
        # Authlib checks the state, swaps the code (with PKCE), and checks the ID token's
        # signature (the provider's published keys), issuer, expiry and nonce.
        token = provider.authorize_access_token()
        claims = dict(token["userinfo"])
        # Authlib checks the audience only through `azp`, which a token for another client may carry too:
        # the ID token must name this client among its audience (OpenID Connect Core 3.1.3.7, step 3).
        audience = claims.get("aud")
        if provider.client_id not in (audience if isinstance(audience, list) else [audience]):
            raise ValueError(f"ID token for another audience: {audience!r}")
        if "email" not in claims:
            # Many providers put the address only in the UserInfo answer; it must be about the same person.
            extra = provider.userinfo(token=token)
            if extra.get("sub") != claims["sub"]:
                raise ValueError("UserInfo is about another subject than the ID token")
            claims.update(extra)
    except (AuthlibBaseError, JoseError, RequestException, ValueError, KeyError) as error:
        current_app.logger.warning("OpenID sign-in refused: %r", error)
        raise Refused("Inloggen met het account van uw organisatie is niet gelukt. Probeer het opnieuw.") from error
    if not claims.get("email") or claims.get("email_verified") is not True:
        raise Refused("Uw organisatie bevestigt uw e-mailadres niet. Log in met uw wachtwoord.")
    organiser = find_organiser(claims["email"])
    if organiser is None or not organiser.active:
        current_app.logger.info("OpenID sign-in of %s: no organiser", claims["email"])
        raise Refused(NOT_INVITED)
    if organiser.locked_until and organiser.locked_until > utcnow():
        raise Refused("Dit account is tijdelijk geblokkeerd na te veel pogingen. Probeer het over een kwartier.")
    return organiser
