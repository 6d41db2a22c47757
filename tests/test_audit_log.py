"""The audit log in Dutch: a label for every kind of action, what happened to whom, filters and pages."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from sqlalchemy import select

from helpers import NOW, login, page_text, person
from webinar.audit import ACTION_LABELS, AuditEntry, audit
from webinar.events.services import create_event
from webinar.extensions import db
from webinar.organiser.services import create_organiser

PACKAGE = Path(__file__).resolve().parent.parent / "webinar"


def _codes_in(tree: ast.Module, package: list[ast.Module]) -> list[str]:
    """The action codes the module passes to audit(): literals, f-string prefixes as patterns ('export\\..+'),
    and for a code that arrives as a parameter of the calling function, what its callers in the package pass."""
    functions = {node.name: node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
    found = []

    def literal(node) -> list[str] | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return [re.escape(node.value)]
        if isinstance(node, ast.JoinedStr):
            return ["".join(re.escape(part.value) if isinstance(part, ast.Constant) else ".+" for part in node.values)]
        if isinstance(node, ast.IfExp):
            return (literal(node.body) or [None]) + (literal(node.orelse) or [None])
        return None

    for function in functions.values():
        parameters = [argument.arg for argument in function.args.args]
        for call in ast.walk(function):
            if not (isinstance(call, ast.Call) and getattr(call.func, "id", None) == "audit" and len(call.args) > 1):
                continue
            codes = literal(call.args[1])
            if codes is not None:
                found += codes
                continue
            assert isinstance(call.args[1], ast.Name) and call.args[1].id in parameters, ast.unparse(call)
            position = parameters.index(call.args[1].id)
            callers = [node for module in package for node in ast.walk(module) if isinstance(node, ast.Call)
                       and getattr(node.func, "id", None) == function.name]
            assert callers, f"{function.name} passes its action code to audit() but nothing calls it"
            found += [code for caller in callers for code in literal(caller.args[position]) or [None]]
    return found


def test_every_audited_action_has_a_dutch_label():
    trees = {str(path.relative_to(PACKAGE)): ast.parse(path.read_text()) for path in sorted(PACKAGE.rglob("*.py"))}
    codes = []
    for name, tree in trees.items():
        codes += [(name, code) for code in _codes_in(tree, list(trees.values()))]
    assert len(codes) >= 25
    unlabelled = [(name, code) for name, code in codes
                  if code is None or not any(re.fullmatch(code, known) for known in ACTION_LABELS)]
    assert unlabelled == []
    assert all(not re.search(r"[a-z]\.[a-z]", label) for label in ACTION_LABELS.values())


def test_the_log_says_in_dutch_what_happened_to_whom(organiser_client, event):
    jan = person(event, "Jan", "Vries", "de", organisation="Stichting Primair")
    joke = person(event, "Joke", "Meer", "van der", organisation="OBS De Linde")
    base = f"/organiser/events/{event.slug}"
    organiser_client.post(f"{base}/aanmeldingen/{jan.id}/annuleren")
    organiser_client.post(f"{base}/aanwezigheid/{joke.id}", data={"aanwezig": "ja"})
    organiser_client.get(f"{base}/registrations.xlsx")
    page = page_text(organiser_client.get("/organiser/audit"))
    assert "Aanmelding van Jan de Vries (Stichting Primair) geannuleerd" in page
    assert "Joke van der Meer (OBS De Linde) met de hand op aanwezig gezet" in page
    assert "Aanmeldingen geëxporteerd (XLSX, 2 rijen), filters: geen" in page
    for label in ("Aanmelding geannuleerd", "Aanwezigheid met de hand", "Export (Excel)"):
        assert f"<td>{label}</td>" in page
    assert "attendance.manual" not in page.split("<table")[1] and "export.xlsx" not in page.split("<table")[1]
    assert page.count("<td>Mieke Organisator</td>") == 3 and page.count("<td>Samen onderwijs versnellen</td>") == 3


def test_the_log_filters_by_person_meeting_and_kind(app, organiser_client, organiser, event):
    other = create_event(slug="najaar", title="Najaarsbijeenkomst", starts_at=NOW.replace(month=10),
                         ends_at=NOW.replace(month=10, hour=13))
    kees = create_organiser("kees@example.org", "een lange zin als wachtwoord", name="Kees Collega")
    audit(organiser, "event.edit", "Gewijzigd: titel", event)
    audit(kees, "event.edit", "Gewijzigd: zaal", other)
    audit(kees, "export.csv", "Aanmeldingen geëxporteerd (CSV, 2 rijen), filters: geen", other)
    db.session.commit()

    def rows(query: str) -> list[str]:
        page = organiser_client.get(f"/organiser/audit?{query}").get_data(as_text=True)
        return re.findall(r"<td>([^<]*(?:Gewijzigd|geëxporteerd)[^<]*)</td>", page)

    assert len(rows("")) == 3
    assert rows("wie=kees@example.org") == ["Aanmeldingen geëxporteerd (CSV, 2 rijen), filters: geen", "Gewijzigd: zaal"]
    assert rows(f"bijeenkomst={event.id}") == ["Gewijzigd: titel"]
    assert rows("soort=export.csv") == ["Aanmeldingen geëxporteerd (CSV, 2 rijen), filters: geen"]
    assert rows(f"wie=kees@example.org&soort=event.edit&bijeenkomst={other.id}") == ["Gewijzigd: zaal"]
    page = page_text(organiser_client.get("/organiser/audit?soort=onzin&bijeenkomst=x"))  # ignored, never a 500
    assert "3 acties" in page
    assert '<option value="kees@example.org" >Kees Collega</option>' in page


def test_the_log_has_pages_of_fifty(app, organiser_client, organiser):
    for number in range(120):
        audit(organiser, "mail.retry", f"Actie {number:03}")
    db.session.commit()
    first = page_text(organiser_client.get("/organiser/audit"))
    assert "120 acties · pagina 1 van 3" in first and "Actie 119" in first and "Actie 070" in first
    assert "Actie 069" not in first
    last = page_text(organiser_client.get("/organiser/audit?pagina=3"))
    assert "Actie 019" in last and "Actie 000" in last and "Actie 020" not in last
    beyond = page_text(organiser_client.get("/organiser/audit?pagina=9"))
    assert "pagina 3 van 3" in beyond


def test_only_a_beheerder_reads_the_log(app, client, organiser):
    create_organiser("org@example.org", "een lange zin als wachtwoord", role="organisator")
    db.session.commit()
    login(client, "org@example.org", "een lange zin als wachtwoord")
    assert client.get("/organiser/audit").status_code == 403
    assert "Logboek" not in client.get("/organiser/").get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalar(select(AuditEntry.id)) is None
