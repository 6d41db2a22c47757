"""The verification code: a signed statement that only this app can make, short enough for an easy QR code."""

from __future__ import annotations

import hashlib
import random
import string
from datetime import timezone

import pytest
import segno
from itsdangerous import URLSafeSerializer

from helpers import STARTS, page_text, qr_codes_on_page, require_pango
from webinar.certificates.pdf import certificate_pdf, verify_url
from webinar.certificates.statement import SALT, InvalidCode, Statement, sign, verify

ANNA = Statement("Anna van den Berg", "Samen onderwijs versnellen", STARTS.astimezone(timezone.utc), 75, 75)
#: a long name and title of real length
LONG = Statement("Jan-Willem van der Heijden-Oosterhout",
                 "Leiderschap in het primair onderwijs: samen werken aan de basisvaardigheden",
                 ANNA.starts_at, 90, 81)


def _letters(rng: random.Random, count: int) -> str:
    return "".join(rng.choices(string.ascii_letters + "éëöü ", k=count))


_RNG = random.Random(13)
#: the longest a name (100 + 30 + 100) and a title (200) can be, in letters that do not compress
LONGEST = Statement(f"{_letters(_RNG, 100)} {_letters(_RNG, 30)} {_letters(_RNG, 100)}", _letters(_RNG, 200),
                    ANNA.starts_at, 75, 75)
REFUSED = "Dit bewijs kunnen we niet bevestigen"


def test_a_code_carries_the_statement_back(app):
    assert verify(sign(ANNA)) == ANNA
    assert verify(sign(LONGEST)) == LONGEST


def change_one_character(code: str, index: int) -> str:
    replacement = "A" if code[index] != "A" else "B"
    return code[:index] + replacement + code[index + 1:]


def other_key_code(secret_key: str, salt: str, payload) -> str:
    serializer = URLSafeSerializer(secret_key, salt=salt, signer_kwargs={
        "key_derivation": "hmac", "digest_method": hashlib.sha256})
    return serializer.dumps(payload)


def forged_codes(app) -> dict[str, str]:
    code = sign(ANNA)
    payload, _, signature = code.rpartition(".")
    start = int((ANNA.starts_at.timestamp()) // 60)
    return {
        "statement changed": change_one_character(code, 5),
        "signature changed": change_one_character(code, len(code) - 3),
        "signature cut off": payload,
        "signature of another code": sign(ANNA.__class__("Bram Smit", ANNA.title, ANNA.starts_at, 75, 75)
                                          ).rpartition(".")[0] + "." + signature,
        "another secret key": other_key_code("een andere sleutel", SALT, [1, "Anna", "T", start, 75, 75]),
        "another salt": other_key_code(app.config["SECRET_KEY"], "itsdangerous", [1, "Anna", "T", start, 75, 75]),
        "a layout this app never made": other_key_code(app.config["SECRET_KEY"], SALT, [2, "Anna"]),
        "not a code at all": "bewijs",
        "dots only": "...",
        "not base64": "é€%20.x",
        "very long": "A" * 5000 + "." + "B" * 43,
    }


@pytest.mark.parametrize("name", ["statement changed", "signature changed", "signature cut off",
                                  "signature of another code", "another secret key", "another salt",
                                  "a layout this app never made", "not a code at all", "dots only",
                                  "not base64", "very long"])
def test_a_changed_or_forged_code_is_refused_in_dutch(app, client, name):
    code = forged_codes(app)[name]
    with pytest.raises(InvalidCode):
        verify(code)
    response = client.get(f"/bewijs/{code}")
    assert response.status_code == 404
    page = page_text(response)
    assert REFUSED in page and "Anna" not in page


def test_a_code_of_the_same_statement_checks_with_another_secret_key_only_there(app):
    code = sign(ANNA)
    app.config["SECRET_KEY"] = "een nieuwe sleutel"
    with pytest.raises(InvalidCode):
        verify(code)


@pytest.mark.parametrize("statement, most_characters, highest_version", [
    (ANNA, 165, 9),  # 161 characters: version 9, 53 × 53 modules
    (LONG, 245, 11),  # 240: version 11, 61 × 61
    (LONGEST, 620, 19),  # 618: version 19, 93 × 93
], ids=["typical", "long", "longest"])
def test_the_verification_link_is_short_enough_for_an_easy_qr_code(app, statement, most_characters,
                                                                   highest_version):
    """The link's length and its QR code's version (17 + 4 × version modules a side), at error correction M.

    Printed 38 mm wide, a version 9 to 11 code has 0.6 to 0.7 mm modules, easy
    for any phone; only a name and title of the greatest length the forms
    allow, of letters that do not compress, need version 19.
    """
    link = "http://webinar.test/bewijs/" + sign(statement)
    assert len(link) <= most_characters
    assert segno.make(link, error="m", micro=False).version <= highest_version


def test_the_longest_statement_still_reads_from_the_qr_code_on_the_page(app):
    require_pango()
    link = verify_url(LONGEST)
    pdf = certificate_pdf(LONGEST, link)
    assert qr_codes_on_page(pdf) == [link]
