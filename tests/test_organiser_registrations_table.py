"""The organiser table of registrations: sorting, search, filters, pages, download links."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import insert

from helpers import NOW, REGISTRATIONS_URL as BASE, page_text as text, person
from webinar.attendance.models import Attendance
from webinar.extensions import db
from webinar.organiser.queries import TUSSENVOEGSELS
from webinar.registration import services as registration_services
from webinar.registration.models import Registration, RegistrationStatus


def names(response) -> list[str]:
    """The names in the table, in the order the organiser sees them."""
    body = response.get_data(as_text=True)
    return [html.unescape(name) for name in re.findall(r'<th scope="row"><a href="[^"]+">(.*?)</a></th>', body)]


# The table


def test_table_sorts_by_last_name_ignoring_tussenvoegsels(organiser_client, people):
    response = organiser_client.get(BASE)
    assert response.status_code == 200
    assert names(response) == ["Bakker, Piet", "Berg, Anna van den", "Dijk, Jan van", "Vries, Mirjam de"]
    assert "4 aanmeldingen" in text(response)


def test_a_tussenvoegsel_typed_into_the_last_name_is_ignored_too(organiser_client, event, people):
    person(event, "Kees", "van der Meer", email="kees@example.org")
    person(event, "Els", "De Groot", email="els@example.org")
    person(event, "Tom", "Vandenbroucke", email="tom@example.org")  # no tussenvoegsel: under V
    person(event, "Ria", "Ter Horst", email="ria@example.org")
    assert names(organiser_client.get(BASE)) == [
        "Bakker, Piet", "Berg, Anna van den", "Dijk, Jan van", "De Groot, Els", "Ter Horst, Ria",
        "van der Meer, Kees", "Vandenbroucke, Tom", "Vries, Mirjam de",
    ]


def test_every_tussenvoegsel_typed_into_the_last_name_is_ignored(organiser_client, event):
    # One name per tussenvoegsel, each with the rest of the name under another letter, and
    # names that only look like one ('Vandijk', 'Dekker', "D'Ancona" is one).
    letters = iter("ZYXWVUTSRQPONMLKJIHGFEDCBA")
    typed = {prefix.strip().title() + (" " if prefix.endswith(" ") else "") + next(letters) + "aal": prefix
             for prefix in TUSSENVOEGSELS}
    plain = ["Vandijk", "Dekker", "Hetzel", "Tenhagen", "Opdam", "Lange", "Inkema", "Uitert", "Aalders"]
    db.session.execute(insert(Registration), [
        dict(event_id=event.id, status=RegistrationStatus.confirmed, first_name="Lid", tussenvoegsel="",
             last_name=name, email=f"lid{n}@example.org", email_normalized=f"lid{n}@example.org",
             organisation="OBS De Linde", organisation_type="School", role="Leraar", question="",
             privacy_accepted_at=NOW)
        for n, name in enumerate([*typed, *plain])
    ])
    db.session.commit()

    def sort_key(name: str) -> str:
        lower = name.lower()
        prefix = typed.get(name, "")
        assert lower.startswith(prefix)
        return lower[len(prefix):]

    expected = sorted([*typed, *plain], key=sort_key)
    assert names(organiser_client.get(BASE)) == [f"{name}, Lid" for name in expected]


@pytest.mark.parametrize("query, expected", [
    ("berg", ["Berg, Anna van den"]),
    ("Anna van den Berg", ["Berg, Anna van den"]),
    ("Piet Bakker", ["Bakker, Piet"]),
    ("bakker piet", ["Bakker, Piet"]),
    ("_", []),  # a LIKE wildcard is searched for as itself
    ("PIET.bakker@", ["Bakker, Piet"]),
    ("gemeente zwolle", ["Vries, Mirjam de"]),
    ("kompas", ["Bakker, Piet"]),
    ("niemand", []),
])
def test_search_by_name_email_or_organisation(organiser_client, people, query, expected):
    response = organiser_client.get(BASE, query_string={"q": query})
    assert names(response) == expected
    if not expected:
        assert "Geen aanmeldingen gevonden met deze zoekopdracht." in text(response)


def test_filters_by_role_status_and_attendance(organiser_client, event, people):
    event.capacity = 4
    db.session.commit()
    waiting = person(event, "Wim", "Wachter")
    db.session.add(Attendance(registration_id=people["berg"].id, first_joined_at=NOW, last_joined_at=NOW))
    db.session.commit()
    assert names(organiser_client.get(BASE, query_string={"rol": "HRM'er"})) == ["Vries, Mirjam de"]
    assert names(organiser_client.get(BASE, query_string={"status": "wachtlijst"})) == ["Wachter, Wim"]
    assert len(names(organiser_client.get(BASE, query_string={"status": "aangemeld"}))) == 4
    registration_services.cancel_registration(waiting)
    db.session.commit()
    assert names(organiser_client.get(BASE, query_string={"status": "afgemeld"})) == ["Wachter, Wim"]
    joined = organiser_client.get(BASE, query_string={"deelgenomen": "ja"})
    assert names(joined) == ["Berg, Anna van den"]
    assert re.search(r"Berg, Anna van den</a></th>.*?<td>ja</td>", joined.get_data(as_text=True), re.S)
    assert "Berg, Anna van den" not in names(organiser_client.get(BASE, query_string={"deelgenomen": "nee"}))
    both = organiser_client.get(BASE, query_string={"rol": "Schoolleider", "deelgenomen": "nee"})
    assert names(both) == ["Bakker, Piet", "Wachter, Wim"]
    page = text(both)
    assert '<option value="Schoolleider" selected>' in page and '<option value="nee" selected>' in page


def test_pagination_shows_fifty_a_page_and_keeps_the_filters(organiser_client, event):
    event.capacity = None
    db.session.commit()
    for number in range(1, 121):
        person(event, "Lid", f"Persoon {number:03}", email=f"lid{number}@example.org")
    first = organiser_client.get(BASE, query_string={"q": "example.org", "status": "aangemeld"})
    assert len(names(first)) == 50
    assert "120 aanmeldingen gevonden · pagina 1 van 3" in text(first)
    links = [urlsplit(html.unescape(href)) for href in re.findall(r'href="([^"]+)"', first.get_data(as_text=True))]
    to_page_two = [parse_qs(link.query) for link in links if parse_qs(link.query).get("pagina") == ["2"]]
    assert to_page_two and all(q["q"] == ["example.org"] and q["status"] == ["aangemeld"] for q in to_page_two)
    third = organiser_client.get(BASE, query_string={"q": "example.org", "status": "aangemeld", "pagina": 3})
    assert names(third)[0] == "Persoon 101, Lid" and len(names(third)) == 20
    assert names(organiser_client.get(BASE, query_string={"pagina": 99})) == names(third)  # beyond the end
    assert len(names(organiser_client.get(BASE, query_string={"pagina": "twee"}))) == 50


def test_thousands_of_rows_page_by_page(organiser_client, event):
    rows = [dict(event_id=event.id, status=RegistrationStatus.confirmed, first_name="Lid", tussenvoegsel="",
                 last_name=f"Persoon {n:04}", email=f"lid{n}@example.org", email_normalized=f"lid{n}@example.org",
                 organisation="OBS De Linde", organisation_type="School", role="Leraar", role_other="",
                 question="", privacy_accepted_at=NOW) for n in range(1, 2501)]
    db.session.execute(insert(Registration), rows)
    db.session.commit()
    first = organiser_client.get(BASE)
    assert "2.500 aanmeldingen · pagina 1 van 50" in text(first)
    assert len(names(first)) == 50
    pager = re.search(r'<nav class="pagination".*?</nav>', text(first), re.S).group(0)
    assert len(re.findall(r"<a ", pager)) <= 10 and "…" in pager  # not fifty links
    middle = organiser_client.get(BASE, query_string={"pagina": 25})
    assert names(middle)[0] == "Persoon 1201, Lid" and "pagina 25 van 50" in text(middle)
    assert names(organiser_client.get(BASE, query_string={"pagina": 50}))[-1] == "Persoon 2500, Lid"


def test_download_links_carry_the_filters(organiser_client, event, people):
    body = text(organiser_client.get(BASE, query_string={"q": "berg", "rol": "Schoolleider"}))
    for label, extra in (("Download CSV", {}), ("Download Excel", {}), ("CSV met komma's", {"scheidingsteken": ["komma"]})):
        href = re.search(rf'<a href="([^"]+)">{label}</a>', body).group(1)
        assert parse_qs(urlsplit(href).query) == {"q": ["berg"], "rol": ["Schoolleider"], **extra}
        assert organiser_client.get(href).status_code == 200
    commas = re.search(r'<a href="([^"]+)">CSV met komma\'s</a>', body).group(1)
    assert organiser_client.get(commas).get_data().decode("utf-8-sig").startswith("Bijeenkomst,Datum bijeenkomst,Voornaam,Tussenvoegsel,")
