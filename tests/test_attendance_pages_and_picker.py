"""The attendance page in pages of fifty, and linking a walk-in to any registrant found by a search."""

from __future__ import annotations

import re

from sqlalchemy import select

from helpers import NOW, add_confirmed, attendance_of, page_text, person, teams_participants, upload_report
from webinar.attendance.models import WalkIn
from webinar.extensions import db

PAGE = "/organiser/events/samen-onderwijs-versnellen/aanwezigheid"


def _names(page: str) -> list[str]:
    return re.findall(r'<th scope="row">(Deelnemer Nummer \d+)', page)


def test_the_attendance_table_has_pages_of_fifty_and_marking_returns_to_the_page(organiser_client, event):
    add_confirmed(event.id, 120, NOW)
    first = page_text(organiser_client.get(PAGE))
    assert _names(first)[0] == "Deelnemer Nummer 00000" and len(_names(first)) == 50
    assert "Pagina 1 van 3, 50 per pagina" in first
    assert "0 van de 120 aangemelden namen deel." in first  # the figures count every page
    last = page_text(organiser_client.get(f"{PAGE}?pagina=3"))
    assert _names(last) == [f"Deelnemer Nummer {n:05d}" for n in range(100, 120)]
    assert page_text(organiser_client.get(f"{PAGE}?pagina=99")).count('<th scope="row">Deelnemer') == 20

    second = page_text(organiser_client.get(f"{PAGE}?pagina=2"))
    action = re.search(r'<form method="post" action="([^"]+/aanwezigheid/\d+[^"]*)" class="inline">', second).group(1)
    response = organiser_client.post(action, data={"aanwezig": "ja"})
    target = response.headers["Location"]
    assert "pagina=2" in target and target.endswith("#aanmelding-" + action.split("/")[-1].split("?")[0])

    found = page_text(organiser_client.get(f"{PAGE}?q=00117"))
    assert _names(found) == ["Deelnemer Nummer 00117"] and "1 aangemelde en 0 niet aangemeld gevonden" in found


def test_a_walk_in_is_linked_to_any_registrant_found_by_name_or_address(organiser_client, event):
    joke = person(event, "Joke", "Meer", "van der", email="joke.meer@example.org", organisation="OBS De Linde")
    person(event, "Piet", "Bakker", organisation="Het Kompas")
    upload_report(organiser_client, event, teams_participants(["prive.adres@example.net"]))
    walk_in = db.session.scalar(select(WalkIn))
    page = page_text(organiser_client.get(PAGE))
    assert "Geen aangemelde met een naam die hierop lijkt." in page  # "Deelnemer 0" resembles nobody
    picker = f"{PAGE}/niet-aangemeld/{walk_in.id}/koppelen"
    assert picker in page

    assert "Geen bevestigde aanmelding gevonden voor ‘Jansen’." in page_text(organiser_client.get(f"{picker}?zoek=Jansen"))
    found = page_text(organiser_client.get(f"{picker}?zoek=joke.meer"))
    assert "Joke van der Meer" in found and "Piet Bakker" not in found
    response = organiser_client.post(f"{PAGE}/niet-aangemeld/{walk_in.id}", data={"aanmelding": str(joke.id)})
    assert "Joke van der Meer staat op aanwezig, met 5 minuten uit het rapport." in page_text(
        organiser_client.get(response.headers["Location"]))
    assert attendance_of(joke).minutes_present == 5
    assert "Deze regel is al gekoppeld" in page_text(organiser_client.get(picker))


def test_the_picker_finds_only_confirmed_registrants_and_shows_at_most_twenty(organiser_client, event):
    add_confirmed(event.id, 25, NOW)
    gone = person(event, "Deelnemer", "Weg")
    gone.status = gone.status.cancelled
    db.session.commit()
    upload_report(organiser_client, event, teams_participants(["prive.adres@example.net"]))
    walk_in = db.session.scalar(select(WalkIn))
    found = page_text(organiser_client.get(f"{PAGE}/niet-aangemeld/{walk_in.id}/koppelen?zoek=Deelnemer"))
    assert found.count("<th scope=\"row\">Deelnemer") == 20 and "Weg" not in found
    assert "20+ gevonden voor ‘Deelnemer’; de eerste 20 staan hieronder" in found
