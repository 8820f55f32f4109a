"""The budgets and backends pages: no empty charts, numbers as people write them, and the
API call to change a budget with its id filled in."""

from __future__ import annotations

import re

import pytest

from tests.support.html import page_as

pytestmark = pytest.mark.django_db


def test_a_month_with_no_spend_says_so_instead_of_drawing_empty_charts(client, admin, budget):
    budget(limit="100")
    html = page_as(client, admin, "/budgets/")
    assert "No spend yet" in html
    assert "data-figure=" not in html and "plotly.min.js" not in html


def test_changing_a_budget_names_its_id(client, admin, budget):
    row = budget(limit="100")
    html = page_as(client, admin, "/budgets/")
    assert f"<code>PATCH /api/v1/budgets/{row.pk}/</code>" in html
    assert f'<td class="num">{row.pk}</td>' in html  # the # column the sentence points to


def test_budget_amounts_are_not_padded(client, admin, budget):
    budget(limit="12.5")
    html = page_as(client, admin, "/budgets/")
    assert '<td class="num">12.5</td>' in html and "12.500000" not in html


def test_backend_limits_and_prices_read_as_numbers(client, admin, priced):
    priced("aer_statevector", per_second="1.6")
    html = page_as(client, admin, "/backends/")
    row = re.search(r'<tr data-backend="aer_statevector">(.*?)</tr>', html, re.S).group(1)
    text = " ".join(re.sub(r"<[^>]+>", " ", row).split())
    assert "100,000 shots" in text and "1.6 / s" in text
    assert "1.600000" not in text and "100000" not in text
