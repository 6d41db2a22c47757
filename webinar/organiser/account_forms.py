"""Forms of the organiser's own account: a forgotten password, the second factor."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Email, Length

from ..forms import single_line, strip
from .passwords import PASSWORD_HINT


class ForgotPasswordForm(FlaskForm):
    email = StringField("E-mailadres", [DataRequired("Vul uw e-mailadres in."),
                                        Email("Dat is geen geldig e-mailadres."), single_line],
                        filters=[strip], render_kw={"autocomplete": "username"})


class ResetPasswordForm(FlaskForm):
    new = PasswordField("Nieuw wachtwoord", [DataRequired("Kies een wachtwoord.")], description=PASSWORD_HINT,
                        render_kw={"autocomplete": "new-password"})


class CodeForm(FlaskForm):
    code = StringField("Code", [DataRequired("Vul de code in."), Length(max=40, message="Deze code is te lang.")],
                       filters=[strip],
                       description="De zes cijfers uit uw authenticator-app, of een van uw herstelcodes.",
                       render_kw={"autocomplete": "one-time-code", "inputmode": "text", "spellcheck": "false"})


class ConfirmPasswordForm(FlaskForm):
    password = PasswordField("Uw wachtwoord", [DataRequired("Vul uw wachtwoord in.")],
                             render_kw={"autocomplete": "current-password"})
