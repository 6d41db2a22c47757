"""An event's dashboard: counts, charts, mail status and retrying failed mail."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import update

from ..audit import audit
from ..database import utcnow
from ..events.lookup import event_or_404
from ..extensions import db
from ..forms import EmptyForm, button_or_400
from ..mailing.heartbeat import mail_health
from ..mailing.kinds import labels
from ..mailing.models import MailStatus, OutgoingMail
from ..privacy.services import purge_after
from ..registration.capacity import status_label
from . import bp
from .broadcast_services import STATUS_LABELS
from .charts import bars, cumulative_line
from .figures import event_stats, failed_mail
from .roles import EVENTS_EDIT, EVENTS_VIEW, requires


@bp.get("/events/<slug>")
@requires(EVENTS_VIEW)
def dashboard(slug: str):
    """Counts by status, role and organisation type; sign-ups over time; mail."""
    event = event_or_404(slug)
    stats = event_stats(event)
    now = utcnow()
    return render_template(
        "organiser/dashboard.html",
        event=event,
        stats=stats,
        status=status_label(event, now, stats.places_left),
        before_start=now < event.starts_at,
        role_bars=bars(stats.by_role),
        type_bars=bars(stats.by_organisation_type),
        line=cumulative_line(stats.cumulative),
        failed=failed_mail(event),
        mail=mail_health(now),
        purge_at=purge_after(event, current_app.config["PRIVACY_PURGE_DAYS"]),
        form=EmptyForm(),
        kind_labels=labels(),
        status_labels={status.value: label for status, label in STATUS_LABELS.items()},
    )


@bp.post("/events/<slug>/mail/opnieuw")
@requires(EVENTS_VIEW, EVENTS_EDIT)
def retry_failed_mail(slug: str):
    """Put the event's failed e-mails back in the queue."""
    event = event_or_404(slug)
    button_or_400()
    count = db.session.execute(
        update(OutgoingMail)
        .where(OutgoingMail.event_id == event.id, OutgoingMail.status == MailStatus.failed)
        .values(status=MailStatus.pending, next_attempt_at=None, attempts=0)
        .execution_options(synchronize_session=False)
    ).rowcount
    mails = "1 e-mail" if count == 1 else f"{count} e-mails"
    audit(current_user, "mail.retry", f"mislukte e-mails opnieuw in de wachtrij: {count}", event)
    db.session.commit()
    flash(f"{mails} {'staat' if count == 1 else 'staan'} weer in de wachtrij.", "success")
    return redirect(url_for(".dashboard", slug=slug))
