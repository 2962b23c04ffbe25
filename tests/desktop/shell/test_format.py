"""What people read: rupees, dates, instants in IST, and overdue wording."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from desktop import format as fmt
from desktop.viewmodels.online import grouped
from loancore.roles import Role
from tests.loancore.frozen import rows


def test_rupees_have_the_sign_and_indian_grouping() -> None:
    assert fmt.rupees(1_23_45_678_90) == "₹1,23,45,678.90"
    assert fmt.rupees(50_000, symbol=False) == "500.00"
    assert fmt.rupees(None) == fmt.NOTHING


@pytest.mark.parametrize(
    ("paise", "shown"),
    [
        (45_60_000_00, "₹45.60 L"),
        (1_28_000_00, "₹1.28 L"),  # once "₹1.3 L"
        (1_30_000_00, "₹1.30 L"),
        (1_28_500_00, "₹1.29 L"),  # half up: babel's half-even would say 1.28
        (1_27_949_00, "₹1.28 L"),
        (1_27_949_99, "₹1.28 L"),
        (1_27_400_00, "₹1.27 L"),
        (99_999_50, "₹1.00 L"),
        (99_999_49, "₹99,999"),
        (45_600_00, "₹45,600"),
        (99_99_500_00, "₹1.00 Cr"),
        (12_34_56_789_00, "₹12.35 Cr"),
        (1_234_56_78_900_00, "₹1,234.57 Cr"),
        (-1_28_000_00, "-₹1.28 L"),
        (-49, "₹0"),
    ],
)
def test_short_rupees_are_lakhs_and_crores_with_two_decimals(paise: int, shown: str) -> None:
    assert fmt.rupees_short(paise) == shown


def test_dates_are_day_month_year_from_a_date_or_wire_text() -> None:
    assert fmt.day(date(2026, 3, 31)) == "31-03-2026"
    assert fmt.day("2026-03-31") == "31-03-2026"
    assert fmt.day(None) == fmt.NOTHING


def test_instants_are_shown_in_india_whatever_zone_they_carry() -> None:
    assert fmt.instant(datetime(2026, 11, 27, 18, 45, tzinfo=UTC)) == "28-11-2026 00:15 IST"
    new_york = timezone(timedelta(hours=-5))
    assert fmt.instant(datetime(2026, 11, 27, 5, 0, tzinfo=new_york)) == "27-11-2026 15:30 IST"
    assert fmt.instant("2026-11-27T10:00:00+00:00") == "27-11-2026 15:30 IST"


def test_an_instant_without_a_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        fmt.instant(datetime(2026, 11, 27, 10, 0))  # noqa: DTZ001


def test_overdue_wording() -> None:
    assert fmt.dpd_text(0) == "Current"
    assert fmt.dpd_text(1) == "1 day overdue"
    assert fmt.dpd_text(91) == "91 days overdue"
    with pytest.raises(ValueError, match="never negative"):
        fmt.dpd_text(-1)


def test_buckets_and_classes_read_as_printed() -> None:
    assert fmt.bucket_label("31-60") == "31–60"
    assert fmt.bucket_of(90) == "61–90"
    assert fmt.bucket_of(91) == "90+"
    assert fmt.asset_class_label("NPA") == "NPA"
    assert fmt.role_label(Role.BRANCH_MANAGER) == "Branch manager"


def test_counts_use_indian_grouping_and_the_right_number() -> None:
    assert fmt.count(1, "payment") == "1 payment"
    assert fmt.count(3, "entry", "entries") == "3 entries"
    assert fmt.count(120_000, "loan") == "1,20,000 loans"
    assert fmt.count(12_345_678, "loan") == "1,23,45,678 loans"
    assert fmt.count(999, "loan") == "999 loans"


@pytest.mark.parametrize(
    ("name", "role", "shown"),
    [
        ("Farida Mistry (Finance)", Role.FINANCE, "Farida Mistry (Finance)"),  # was twice
        ("Farida Mistry", Role.FINANCE, "Farida Mistry (Finance)"),
        ("Anita Rao (Admin)", Role.ADMIN, "Anita Rao (Administrator)"),
        ("Rahul Iyer (Audit)", Role.AUDITOR, "Rahul Iyer (Auditor)"),
        ("Pune Camp Manager", Role.BRANCH_MANAGER, "Pune Camp Manager (Branch manager)"),
        ("Ravi (Field)", Role.COLLECTOR, "Ravi (Field) (Collector)"),
    ],
)
def test_a_person_is_named_with_their_role_once(name: str, role: Role, shown: str) -> None:
    assert fmt.person_with_role(name, role) == shown


def test_tiles_and_counts_read_as_before_babel_grouped_them() -> None:
    """Frozen from the hand-written grouping the desk had: 1,200 paise amounts for the tiles
    (rounding and lakh/crore boundaries, both signs) and 1,200 whole numbers for the counts."""
    for paise, tile, _with_symbol, _plain in rows("indian_grouping_rupees.tsv"):
        assert fmt.rupees_short(int(paise)) == tile, paise
    for number, shown in rows("indian_grouping_counts.tsv"):
        assert fmt.count(int(number), "loan") == f"{shown} {'loan' if shown == '1' else 'loans'}"
        assert grouped(int(number)) == shown
