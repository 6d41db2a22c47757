"""The accounts page: who has an account, in which role, and the beheerder's changes to them."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from ..audit import audit
from ..extensions import db
from ..forms import EmptyForm, button_or_400
from . import bp
from .accounts_services import AccountRefused, accounts, change_role, open_invitations, set_active
from .forms import RoleForm
from .models import Organiser
from .roles import ACCOUNTS_MANAGE, ROLE_DESCRIPTIONS, ROLES, requires


def _who(account: Organiser) -> str:
    return f"{account.name} ({account.email})" if account.name else account.email


@bp.get("/accounts", endpoint="accounts")
@requires(ACCOUNTS_MANAGE)
def accounts_page():
    """Every account with its role, last login and state; the open invitations."""
    return render_template("organiser/accounts.html", accounts=accounts(), invitations=open_invitations(),
                           roles=ROLES, descriptions=ROLE_DESCRIPTIONS, button=EmptyForm(),
                           role_form=lambda account: RoleForm(formdata=None, role=account.role, prefix=f"a{account.id}"))


def _account_or_404(organiser_id: int) -> Organiser:
    return db.get_or_404(Organiser, organiser_id)


@bp.post("/accounts/<int:organiser_id>/rol")
@requires(ACCOUNTS_MANAGE)
def account_role(organiser_id: int):
    """Give an account another role."""
    account = _account_or_404(organiser_id)
    form = RoleForm(prefix=f"a{account.id}")
    if not form.validate_on_submit():
        flash("Kies een van de rollen.", "error")
        return redirect(url_for(".accounts"))
    try:
        change = change_role(current_user, account, form.role.data)
    except AccountRefused as refused:
        db.session.rollback()
        flash(str(refused), "error")
        return redirect(url_for(".accounts"))
    if change:
        audit(current_user, "account.role", f"Rol van {_who(account)} gewijzigd {change.text()}")
        db.session.commit()
        flash(f"{account.label} is nu {ROLES[account.role].lower()}.", "success")
    else:
        flash(f"{account.label} was al {ROLES[account.role].lower()}.", "success")
    return redirect(url_for(".accounts"))


def _switch(organiser_id: int, active: bool):
    account = _account_or_404(organiser_id)
    button_or_400()
    try:
        changed = set_active(current_user, account, active)
    except AccountRefused as refused:
        db.session.rollback()
        flash(str(refused), "error")
        return redirect(url_for(".accounts"))
    if changed:
        audit(current_user, "account.reactivate" if active else "account.deactivate",
              f"Account van {_who(account)} " + ("weer actief gemaakt" if active else "uitgezet"))
        db.session.commit()
    state = "kan weer inloggen" if active else "kan niet meer inloggen; open sessies zijn beëindigd"
    flash(f"{account.label} {state}." if changed else "Er was niets te wijzigen.", "success")
    return redirect(url_for(".accounts"))


@bp.post("/accounts/<int:organiser_id>/uitzetten")
@requires(ACCOUNTS_MANAGE)
def account_deactivate(organiser_id: int):
    """Switch an account off: it can no longer log in, and its open sessions end."""
    return _switch(organiser_id, False)


@bp.post("/accounts/<int:organiser_id>/aanzetten")
@requires(ACCOUNTS_MANAGE)
def account_reactivate(organiser_id: int):
    """Let a switched-off account log in again, in the role it had."""
    return _switch(organiser_id, True)
