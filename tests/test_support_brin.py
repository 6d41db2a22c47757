"""Support requests: BRIN codes normalised, refused, and explained on the form."""

from __future__ import annotations

import pytest

from helpers import SUPPORT_URL as URL, request_data, school_fields, stored
from webinar.support.forms import normalize_brin


# -- BRIN codes ---------------------------------------------------------------------


@pytest.mark.parametrize(("value", "code"), [
    ("12AB", "12AB"), ("12ab", "12AB"), ("12AB01", "12AB01"), (" 12 ab 01 ", "12AB01"), ("00XY99", "00XY99"),
    ("12AB-01", "12AB01"),
])
def test_valid_brin_codes_are_normalised(value, code):
    assert normalize_brin(value) == code


@pytest.mark.parametrize("value", ["", "12A", "1AB2", "AB12", "123B", "12ABC", "12AB1", "12AB012", "12ÄB",
                                   "12A1", "1234", "ABCD", "12AB0X"])
def test_invalid_brin_codes_are_refused(value):
    with pytest.raises(ValueError):
        normalize_brin(value)


def test_the_form_explains_a_wrong_brin_code_and_stores_nothing(client):
    response = client.post(URL, data=request_data([school_fields(0, brin="1234")]))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Een BRIN-code is 2 cijfers en 2 letters" in page
    assert 'href="#schools-0-brin"' in page  # the summary links to the field
    assert stored() == []
