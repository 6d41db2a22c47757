"""webinar: registration for online meetings in Dutch education."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from flask import Flask, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from config import CONFIGS, INSTANCE_DIR

from . import dutch
from .api import register_api
from .attendance.views import bp as attendance_bp
from .certificates import bp as certificates_bp
from .cli import register_commands
from .database import begin_write
from .events.views import bp as events_bp
from .extensions import csrf, db, login, mail, migrate
from .forms import error_links
from .mailing.heartbeat import mail_health
from .organisations import bp as organisations_bp
from .organiser import bp as organiser_bp
from .organiser import roles
from .privacy import bp as privacy_bp
from .registration.views import bp as registration_bp
from .security import register_security
from .support import bp as support_bp
from .support import organiser_bp as support_organiser_bp
from .uploads import register_upload_limits

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: str | Mapping | None = None) -> Flask:
    """Build the app. `config` is a name from config.CONFIGS or a mapping of overrides."""
    app = Flask(
        __name__,
        instance_path=str(INSTANCE_DIR),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    if isinstance(config, Mapping):
        app.config.from_object(CONFIGS["testing" if config.get("TESTING") else "development"])
        app.config.from_mapping(config)
    else:
        app.config.from_object(CONFIGS[config or "development"])
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError("SECRET_KEY is not set")
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    register_extensions(app)
    register_security(app)  # before the write transactions: a refused request takes no lock
    register_write_transactions(app)
    # After the write transactions: a POST's write transaction must begin before
    # the organiser guard (an app-wide hook) loads the logged-in organiser.
    register_blueprints(app)
    register_templates(app)
    register_errors(app)
    register_api(app)  # after the app's error pages: under /api/ they answer as problem details
    register_health(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True)
    mail.init_app(app)
    register_upload_limits(app)  # before CSRF, which reads the form
    csrf.init_app(app)
    login.init_app(app)
    login.login_view = "organiser.login"


def register_blueprints(app: Flask) -> None:
    app.register_blueprint(events_bp)
    app.register_blueprint(registration_bp)
    app.register_blueprint(attendance_bp)
    app.register_blueprint(organiser_bp)
    app.register_blueprint(support_bp)
    app.register_blueprint(support_organiser_bp)
    app.register_blueprint(organisations_bp)
    app.register_blueprint(privacy_bp)
    app.register_blueprint(certificates_bp)


def register_write_transactions(app: Flask) -> None:
    """Every POST runs in a write transaction (BEGIN IMMEDIATE on SQLite), unless its view takes it late."""

    @app.before_request
    def _begin_write():
        view = app.view_functions.get(request.endpoint)
        if request.method == "POST" and request.endpoint != "static" and not getattr(view, "writes_late", False):
            begin_write()


def register_templates(app: Flask) -> None:
    app.jinja_env.filters["datum"] = dutch.date
    app.jinja_env.filters["tijd"] = dutch.time
    app.jinja_env.filters["datumtijd"] = dutch.datetime_text
    app.jinja_env.filters["getal"] = dutch.number
    app.jinja_env.filters["euro"] = dutch.euro
    app.jinja_env.globals["periode"] = dutch.period
    app.jinja_env.globals["error_links"] = error_links
    app.jinja_env.globals["has_endpoint"] = lambda name: name in app.view_functions
    app.jinja_env.globals["may"] = roles.current_may


def _page(title: str, message: str, status: int):
    return render_template("errors/generic.html", title=title, message=message), status


def register_errors(app: Flask) -> None:
    @app.errorhandler(404)
    def not_found(error):
        token = getattr(error, "description", "") == "token"
        return render_template("errors/404.html", token=token), 404

    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        return _page("Pagina verlopen",
                     "Het formulier was verlopen. Ga terug, laad de pagina opnieuw en probeer het nog eens.", 400)

    @app.errorhandler(400)
    def bad_request(error):
        return _page("Onjuist verzoek", "Dit verzoek konden we niet verwerken.", 400)

    @app.errorhandler(403)
    def forbidden(error):
        home = url_for(roles.start_endpoint(current_user)) if current_user.is_authenticated else None
        return render_template("errors/generic.html", title="Geen toegang", home=home,
                               message="Met uw rol kunt u dit niet doen. Vraag een beheerder als u dit nodig hebt."), 403

    @app.errorhandler(405)
    def not_allowed(error):
        return _page("Niet toegestaan", "Deze pagina kan zo niet worden gebruikt.", 405)

    @app.errorhandler(409)
    def conflict(error):
        return _page("Dat kan nu niet", "Deze actie is niet (meer) mogelijk.", 409)

    @app.errorhandler(413)
    def too_large(error):
        return _page("Te veel gegevens", "Het formulier bevatte te veel gegevens.", 413)

    @app.errorhandler(429)
    def too_many(error):
        return _page("Even wachten", "U hebt dit in korte tijd te vaak geprobeerd. "
                     "Wacht een paar minuten en probeer het dan opnieuw.", 429)

    @app.errorhandler(OperationalError)
    def busy(error):
        db.session.rollback()
        app.logger.warning("database busy: %s", error)
        return _page("Even geduld", "Het is nu erg druk. Probeer het over een minuut opnieuw.", 503)

    @app.errorhandler(500)
    def server_error(error):
        return _page("Er ging iets mis", "Er ging aan onze kant iets mis. Probeer het later opnieuw.", 500)


def register_health(app: Flask) -> None:
    @app.get("/healthz")
    def healthz():
        db.session.execute(text("SELECT 1"))
        return {"status": "ok"}

    @app.get("/healthz/mail")
    def healthz_mail():
        """503 when mail is due and no mail worker was seen lately: for the monitoring."""
        health = mail_health()
        return health.as_json(), 503 if health.stuck else 200
