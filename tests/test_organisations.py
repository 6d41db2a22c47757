"""Organisations that can be counted: the key of a name, matching on BRIN or key, the organiser's corrections."""

from __future__ import annotations

import io
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from helpers import NOW, make_request, post_registration, support_details
from webinar.audit import AuditEntry
from webinar.extensions import db
from webinar.organisations import grouping
from webinar.organisations.grouping import REGISTRATION, SUPPORT, Member, group_members, organisation_groups
from webinar.organisations.keys import organisation_key
from webinar.organisations.models import Organisation
from webinar.registration.models import Registration, RegistrationStatus
from webinar.support.services import SchoolDetails, submit_request

PAGE = "/organiser/organisaties"


# -- the key of a name ------------------------------------------------------------------


@pytest.mark.parametrize(("name", "key"), [
    ("OBS De Linde", "obs de linde"),
    ("obs de linde ", "obs de linde"),
    ("O.B.S. De Linde", "obs de linde"),
    ("Openbare Basisschool De Linde", "obs de linde"),
    ("  OBS   de  Linde", "obs de linde"),
    ("CBS 't Kompas", "cbs t kompas"),
    ("C.B.S. ’t Kompas", "cbs t kompas"),
    ("Christelijke basisschool 't Kompas", "cbs t kompas"),
    ("R.K. Basisschool Sint-Jozef", "rkbs sint jozef"),
    ("RKBS Sint Jozef", "rkbs sint jozef"),
    ("r.k.b.s. sint jozef", "rkbs sint jozef"),
    ("Rooms-Katholieke Basisschool Sint Jozef", "rkbs sint jozef"),
    ("Rooms Katholiek Basisschool Sint Jozef", "rkbs sint jozef"),
    ("Basisschool Het Mozaïek", "bs het mozaiek"),
    ("BS Het Mozaiek", "bs het mozaiek"),
    ("Stichting Openbaar Onderwijs Groningen", "stichting openbaar onderwijs groningen"),
    ("Stg. Openbaar Onderwijs Groningen", "stichting openbaar onderwijs groningen"),
    ("Prins Willem-Alexanderschool", "prins willem alexanderschool"),
    ("Kindcentrum De Élf", "kindcentrum de elf"),
    ("PCBS De Wegwijzer", "pcbs de wegwijzer"),
    ("Protestants-Christelijke Basisschool De Wegwijzer", "pcbs de wegwijzer"),
    ("Gemeente 's-Hertogenbosch", "gemeente s hertogenbosch"),
    ("Samenwerkingsverband Passend Onderwijs Zuid-Holland West", "samenwerkingsverband passend onderwijs zuid holland west"),
    ("Scholengroep Noord & Zuid", "scholengroep noord en zuid"),
    ("", ""),
])
def test_the_key_ignores_case_accents_spaces_dots_hyphens_and_how_a_prefix_is_written(name, key):
    assert organisation_key(name) == key


#: what people type in a school's name: Dutch letters with accents, spaces, dots, hyphens, apostrophes
NAMES = st.text(alphabet="abcdeéëfghiïjklmnoöpqrstuvwxyzABCDEÉFOÖRSTZ .-'’0123456789", max_size=40)


@given(NAMES)
def test_the_key_of_a_key_is_the_key(name):
    assert organisation_key(organisation_key(name)) == organisation_key(name)


@given(NAMES)
def test_case_and_spaces_around_a_name_do_not_change_its_key(name):
    assert organisation_key(f"  {name.upper()} ") == organisation_key(name) == organisation_key(name.lower())


def test_different_schools_keep_different_keys():
    assert organisation_key("OBS De Linde") != organisation_key("CBS De Linde")
    assert organisation_key("De Linde") != organisation_key("OBS De Linde")  # a prefix is part of the name


# -- grouping, counted by hand -----------------------------------------------------------


def registration(id_: int, name: str, brin: str = "", kind: str = "School", board: str = "") -> Member:
    return Member(REGISTRATION, id_, name, brin, kind, board, 1, "confirmed")


def support(id_: int, name: str, brin: str, board: str = "") -> Member:
    return Member(SUPPORT, id_, name, brin, "School", board, None, "new")


MEMBERS = [
    registration(1, "OBS De Linde", "12AB", board="Stichting Lindeboom"),
    registration(2, "obs de linde "),                        # no BRIN: the one BRIN with this key
    registration(3, "O.B.S. De Linde"),                      # idem
    registration(4, "De Regenboog", "34CD"),                 # two schools named De Regenboog,
    registration(5, "De Regenboog", "56EF"),                 # told apart by their BRIN
    registration(6, "De Regenboog"),                         # no BRIN, the name has two: on its own
    registration(7, "Gemeente Zwolle", kind="Gemeente"),
    registration(8, "gemeente  zwolle", kind=""),
    registration(9, "Stichting Primair", kind="Schoolbestuur"),
    support(1, "Openbare basisschool De Linde", "12AB", board="Stichting Lindeboom"),
    support(1, "CBS Het Anker", "78GH"),                     # the same request's second school
    support(2, "C.B.S. Het Anker", "78GH"),
]


def test_members_are_grouped_on_brin_else_on_the_key():
    groups = {group.ref: group for group in group_members(MEMBERS, {})}
    assert {ref: (group.registration_ids, group.support_request_ids) for ref, group in groups.items()} == {
        "brin:12AB": ([1, 2, 3], [1]),
        "brin:34CD": ([4], []),
        "brin:56EF": ([5], []),
        "naam:de regenboog": ([6], []),
        "naam:gemeente zwolle": ([7, 8], []),
        "naam:stichting primair": ([9], []),
        "brin:78GH": ([], [1, 2]),
    }
    linde = groups["brin:12AB"]
    assert (linde.name, linde.key, linde.brin, linde.organisation_type, linde.board_name) == (
        "OBS De Linde", "obs de linde", "12AB", "School", "Stichting Lindeboom")
    assert linde.match_keys == {"brin:12AB", "naam:obs de linde"}
    assert groups["naam:gemeente zwolle"].organisation_type == "Gemeente"  # the known type wins over ""


def test_a_kept_key_overrides_the_rule():
    kept = Organisation(id=5, name="Basisschool De Regenboog (Zwolle)", organisation_type="School", brin="34CD")
    groups = {group.ref: group for group in group_members(MEMBERS, {"naam:de regenboog": kept, "brin:34CD": kept})}
    assert groups["o5"].registration_ids == [4, 6]
    assert groups["o5"].name == "Basisschool De Regenboog (Zwolle)"
    assert "naam:de regenboog" not in groups


def test_a_group_without_a_known_type_shows_onbekend():
    [group] = group_members([registration(1, "Het Kompas", kind="")], {})
    assert (group.organisation_type, group.type_label) == ("", "Onbekend")


def test_organisation_groups_reads_registrations_and_support_requests(client, event):
    post_registration(client, event, email="a@example.org", organisation="OBS De Linde", brin="12ab")
    post_registration(client, event, email="b@example.org", organisation="O.B.S. De Linde", brin="")
    post_registration(client, event, email="c@example.org", organisation="Gemeente Zwolle", organisation_type="Gemeente")
    post_registration(client, event, email="d@example.org", organisation="Het Kompas", organisation_type="School",
                      board_name="Stichting Primair")
    make_request(board="Stichting Primair")  # School 1, 10AB
    submit_request(support_details(schools=[SchoolDetails("OBS De Linde", "12AB", "po", "onvoldoende", None, "", 4)]),
                   "b" * 32, NOW)
    db.session.commit()
    groups = {group.name: group for group in organisation_groups()}
    counted = {name: (len(group.registration_ids), len(group.support_request_ids)) for name, group in groups.items()}
    assert counted == {"OBS De Linde": (2, 1), "Gemeente Zwolle": (1, 0), "Het Kompas": (1, 0), "School 1": (0, 1)}
    assert groups["Het Kompas"].board_name == "Stichting Primair"
    assert groups["School 1"].board_name == "Stichting Primair"
    assert {group.name for group in organisation_groups(with_support=False)} == {
        "OBS De Linde", "Gemeente Zwolle", "Het Kompas"}
    assert organisation_groups(event_ids=[event.id + 1], with_support=False) == []


# -- the registration form -----------------------------------------------------------------


def test_the_form_requires_the_type_and_checks_the_brin(client, event):
    response = post_registration(client, event, organisation_type="", brin="12345")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Kies de soort organisatie." in page
    assert "Een BRIN-code is 2 cijfers en 2 letters" in page
    assert db.session.scalars(select(Registration)).all() == []


def test_the_board_is_kept_for_a_school_only(client, event):
    post_registration(client, event, email="a@example.org", brin="12ab 01", board_name="Stichting Lindeboom")
    post_registration(client, event, email="b@example.org", organisation="Gemeente Zwolle",
                      organisation_type="Gemeente", board_name="Stichting Lindeboom")
    stored = {r.email: (r.organisation_type, r.brin, r.board_name) for r in db.session.scalars(select(Registration))}
    assert stored == {"a@example.org": ("School", "12AB01", "Stichting Lindeboom"),
                      "b@example.org": ("Gemeente", "", "")}


def test_anders_is_a_type_to_choose(client, event):
    post_registration(client, event, organisation="Kennisland", organisation_type="Anders")
    assert db.session.scalars(select(Registration.organisation_type)).one() == "Anders"


# -- the organiser's page -------------------------------------------------------------------


def add(event, email: str, organisation: str, **values) -> Registration:
    fields = dict(event_id=event.id, status=RegistrationStatus.confirmed, first_name="Anna", last_name="Berg",
                  email=email, email_normalized=email, organisation=organisation, organisation_type="School",
                  role="Schoolleider", privacy_accepted_at=event.starts_at)
    fields.update(values)
    db.session.add(Registration(**fields))
    db.session.commit()


def test_the_page_is_for_organisers_only(client, organiser):
    for url in (PAGE, f"{PAGE}/corrigeren?groep=naam:x"):
        response = client.get(url)
        assert response.status_code == 302 and "/organiser/login" in response.headers["Location"]
    response = client.post(f"{PAGE}/samenvoegen", data={"groep": ["a", "b"]})
    assert response.status_code == 302 and "/organiser/login" in response.headers["Location"]


def test_the_page_lists_organisations_with_their_counts_and_onbekend(organiser_client, event):
    add(event, "a@example.org", "OBS De Linde", brin="12AB", board_name="Stichting Lindeboom")
    add(event, "b@example.org", "o.b.s. de linde")
    add(event, "c@example.org", "Het Kompas", organisation_type="")  # registered before the type was asked
    make_request(board="Stichting Primair")
    page = organiser_client.get(PAGE).get_data(as_text=True)
    linde = page[page.index(">OBS De Linde</a>"):].split("</tr>")[0]
    assert [re.sub(r"<[^>]+>", "", cell).strip() for cell in linde.split("</td>")[1:-1]] == [
        "obs de linde", "12AB", "School", "Onbekend", "Stichting Lindeboom", "2", "0", "nee"]
    kompas = page[page.index(">Het Kompas</a>"):].split("</tr>")[0]
    assert "<td>Onbekend</td>" in kompas
    assert ">School 1</a>" in page and "4 organisaties" not in page and "3 organisaties" in page


def test_a_correction_is_kept_audited_and_catches_later_registrations(organiser_client, client, event):
    add(event, "a@example.org", "Het Kompas", organisation_type="")
    response = organiser_client.post(f"{PAGE}/corrigeren?groep=naam:het kompas", data={
        "name": "CBS Het Kompas", "organisation_type": "School", "brin": "99zz", "board_name": "Stichting Primair"})
    assert response.status_code == 302
    [kept] = db.session.scalars(select(Organisation)).all()
    assert (kept.name, kept.organisation_type, kept.brin, kept.board_name) == (
        "CBS Het Kompas", "School", "99ZZ", "Stichting Primair")
    assert [key.key for key in kept.keys] == ["brin:99ZZ", "naam:cbs het kompas", "naam:het kompas"]
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "organisation.edit")).all()
    assert "‘Het Kompas’ → ‘CBS Het Kompas’" in entry.summary and "BRIN: ‘’ → ‘99ZZ’" in entry.summary
    # later: the same school by its BRIN, and by its old spelling: both counted with the corrected one
    add(event, "b@example.org", "Kompas", brin="99ZZ")
    add(event, "c@example.org", "het  kompas")
    [group] = organisation_groups()
    assert (group.ref, group.name, len(group.registration_ids)) == (f"o{kept.id}", "CBS Het Kompas", 3)


def test_a_correction_refuses_a_brin_of_another_organisation(organiser_client, event):
    add(event, "a@example.org", "OBS De Linde", brin="12AB")
    add(event, "b@example.org", "Het Kompas")
    organiser_client.post(f"{PAGE}/corrigeren?groep=brin:12AB", data={"name": "OBS De Linde",
                                                                       "organisation_type": "School"})
    response = organiser_client.post(f"{PAGE}/corrigeren?groep=naam:het kompas", data={
        "name": "Het Kompas", "organisation_type": "School", "brin": "12AB"})
    assert response.status_code == 422
    assert "Deze BRIN-code hoort al bij de organisatie ‘OBS De Linde’" in response.get_data(as_text=True)
    assert db.session.scalars(select(Organisation.name)).all() == ["OBS De Linde"]


def test_bad_input_is_refused_in_dutch(organiser_client, event):
    add(event, "a@example.org", "Het Kompas")
    response = organiser_client.post(f"{PAGE}/corrigeren?groep=naam:het kompas", data={
        "name": " ", "organisation_type": "Bakkerij", "brin": "1234"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    for message in ("Vul de naam van de organisatie in.", "Kies de soort organisatie.",
                    "Een BRIN-code is 2 cijfers en 2 letters"):
        assert message in page
    assert organiser_client.get(f"{PAGE}/corrigeren?groep=naam:bestaat niet").status_code == 404


def test_merging_joins_the_groups_for_every_later_count(organiser_client, event):
    add(event, "a@example.org", "OBS De Linde", brin="12AB")
    add(event, "b@example.org", "Linde, OBS de")
    add(event, "c@example.org", "De Linde (Zwolle)")
    make_request(board="Stichting Primair")  # School 1: not chosen
    response = organiser_client.post(f"{PAGE}/samenvoegen", data={
        "groep": ["brin:12AB", "naam:linde obs de", "naam:de linde zwolle"]})
    assert response.status_code == 302 and "corrigeren?groep=o" in response.headers["Location"]
    groups = {group.name: len(group.registration_ids) for group in organisation_groups()}
    assert groups == {"OBS De Linde": 3, "School 1": 0}
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "organisation.merge")).all()
    assert "‘Linde, OBS de’" in entry.summary and "‘De Linde (Zwolle)’" in entry.summary
    # merging a corrected organisation into another moves its keys and removes it
    add(event, "d@example.org", "Het Kompas")
    [linde] = db.session.scalars(select(Organisation)).all()
    organiser_client.post(f"{PAGE}/samenvoegen", data={"groep": ["naam:het kompas", f"o{linde.id}"]})
    db.session.expire_all()
    assert {group.name: len(group.registration_ids) for group in organisation_groups(with_support=False)} == {
        "OBS De Linde": 4}
    assert len(db.session.scalars(select(Organisation)).all()) == 1


def test_merging_needs_two(organiser_client, event):
    add(event, "a@example.org", "OBS De Linde")
    response = organiser_client.post(f"{PAGE}/samenvoegen", data={"groep": ["naam:obs de linde"]},
                                     follow_redirects=True)
    assert "Kies twee of meer organisaties om samen te voegen." in response.get_data(as_text=True)
    assert db.session.scalars(select(Organisation)).all() == []


def test_a_registration_without_a_type_shows_onbekend_in_the_export_and_its_page(organiser_client, event):
    add(event, "a@example.org", "Het Kompas", organisation_type="")
    csv = organiser_client.get(f"/organiser/events/{event.slug}/registrations.csv").get_data(as_text=True)
    assert csv.splitlines()[1].split(";")[6:8] == ["Het Kompas", "Onbekend"]
    registration_id = db.session.scalars(select(Registration.id)).one()
    page = organiser_client.get(f"/organiser/events/{event.slug}/aanmeldingen/{registration_id}").get_data(as_text=True)
    assert "<dt>Soort organisatie</dt><dd>Onbekend</dd>" in page


def test_an_imported_list_may_lack_the_type_and_carries_brin_and_board(organiser_client, event):
    content = (
        "Voornaam;Achternaam;E-mailadres;Organisatie;Rol;Soort organisatie;BRIN-code;Bestuur\n"
        "Anna;Berg;anna@example.org;OBS De Linde;Schoolleider;school;12ab;Stichting Lindeboom\n"
        "Bram;Smit;bram@example.org;Het Kompas;Schoolleider;;;\n"
        "Cas;Dekker;cas@example.org;Gemeente Zwolle;Schoolleider;Gemeente;;Stichting Lindeboom\n"
        "Door;Wit;door@example.org;De Regenboog;Schoolleider;School;12345;\n"
    ).encode()
    response = organiser_client.post(f"/organiser/events/{event.slug}/aanmeldingen/importeren",
                                     data={"file": (io.BytesIO(content), "lijst.csv")},
                                     content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert "Import klaar: 3 overgenomen, 1 geweigerd." in page
    assert "BRIN-code ‘12345’: Een BRIN-code is 2 cijfers en 2 letters" in page
    stored = {r.email: (r.organisation_type, r.brin, r.board_name) for r in db.session.scalars(select(Registration))}
    assert stored == {"anna@example.org": ("School", "12AB", "Stichting Lindeboom"),
                      "bram@example.org": ("", "", ""),
                      "cas@example.org": ("Gemeente", "", "")}


def test_a_correction_that_crosses_a_colleagues_is_refused_without_an_error_page(organiser_client, event, monkeypatch):
    add(event, "a@example.org", "Het Kompas")
    organiser_client.post(f"{PAGE}/corrigeren?groep=naam:het kompas", data={"name": "Het Kompas",
                                                                            "organisation_type": "School"})
    # as if the page was read just before the colleague's correction was committed
    monkeypatch.setattr(grouping, "kept_keys", lambda: {})
    response = organiser_client.post(f"{PAGE}/corrigeren?groep=naam:het kompas", data={
        "name": "CBS Het Kompas", "organisation_type": "School"}, follow_redirects=True)
    assert response.status_code == 200
    assert "Een collega wijzigde deze organisaties net." in response.get_data(as_text=True)
    assert db.session.scalars(select(Organisation.name)).all() == ["Het Kompas"]
