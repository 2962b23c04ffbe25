"""The borrower's receipt: the amount in Indian words, and a PDF that carries the rupee sign."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import cast

import pytest
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from desktop.settings import LenderDetails
from desktop.viewmodels.receipt import (
    PROVISIONAL_NOTE,
    Balance,
    Receipt,
    SplitLine,
    amount_in_words,
    receipt_number,
    write_receipt,
)
from loancore.acceptance import PaymentMode


@pytest.mark.parametrize(
    ("paise", "words"),
    [
        (
            12_34_567_89,
            "Rupees Twelve Lakh Thirty-Four Thousand Five Hundred Sixty-Seven and Eighty-Nine "
            "Paise Only",
        ),
        (1_00_000_00, "Rupees One Lakh Only"),
        (50, "Fifty Paise Only"),
        (0, "Rupees Zero Only"),
        (1_15_00, "Rupees One Hundred Fifteen Only"),
        (1_000_00_00_000_00, "Rupees One Thousand Crore Only"),
        (2_05_00_011_00, "Rupees Two Crore Five Lakh Eleven Only"),
    ],
)
def test_amounts_are_written_in_indian_words(paise: int, words: str) -> None:
    assert amount_in_words(paise) == words


def test_a_negative_amount_has_no_words() -> None:
    with pytest.raises(ValueError, match="whole number"):
        amount_in_words(-1)


PAYMENT_ID = "0190b5c3-1f2e-7a44-9c3d-5e6f7a8b9c0d"
LENDER = LenderDetails(
    "Sahyadri Micro Finance Ltd",
    ("CIN U65929MH2010PLC123456 · RBI registration N-13.02145", "Regd. office: FC Road, Pune"),
)


def _receipt(pending: bool, mode: PaymentMode = PaymentMode.NEFT) -> Receipt:
    reference = "RB-4471" if mode is PaymentMode.CASH else "SBIN0000000012AB"
    return Receipt(
        receipt_no=receipt_number(mode, reference, PAYMENT_ID),
        payment_id=PAYMENT_ID,
        account_no="LN0000042",
        borrower_name="Lakshmi Narayanan",
        amount_paise=12_34_567_89,
        mode=mode,
        reference=reference,
        payment_date=date(2026, 3, 10),
        collector_name="Anil Collector",
        pending=pending,
        received_at=datetime(2026, 3, 10, 9, 5, tzinfo=UTC),
        branch="PNC — Pune Camp",
        split=(
            SplitLine("Penal charges", 1_500_00),
            SplitLine("EMI 10 (due 05-03-2026) interest", 3_500_00),
            SplitLine("EMI 10 (due 05-03-2026) principal", 12_29_567_89),
        ),
        balance=Balance(principal_paise=2_45_000_00, overdue_paise=0),
        lender=LENDER,
    )


def _text(path: Path) -> str:
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(path).pages)


def test_a_non_cash_receipt_is_numbered_by_its_payment_and_names_the_banks_reference() -> None:
    assert _receipt(True).number == "5E6F-7A8B-9C0D"


def test_a_cash_receipt_carries_the_number_the_collector_wrote_once_under_one_label(
    tmp_path: Path,
) -> None:
    receipt = _receipt(True, PaymentMode.CASH)
    assert receipt.number == "RB-4471"
    text = _text(write_receipt(receipt, tmp_path / "cash.pdf"))
    assert text.count("RB-4471") == 1
    assert text.count("Receipt no.") == 1
    assert "Receipt number" not in text
    assert "5E6F-7A8B-9C0D" not in text


def test_the_receipt_says_when_where_who_lends_how_it_was_applied_and_what_is_left(
    tmp_path: Path,
) -> None:
    text = _text(write_receipt(_receipt(False), tmp_path / "full.pdf"))
    assert "Received on 10-03-2026 14:35 IST" in text
    assert "Branch PNC — Pune Camp" in text
    assert "Sahyadri Micro Finance Ltd" in text
    assert "CIN U65929MH2010PLC123456 · RBI registration N-13.02145" in text
    assert "Regd. office: FC Road, Pune" in text
    assert "Penal charges ₹1,500.00" in text
    assert "EMI 10 (due 05-03-2026) interest ₹3,500.00" in text
    assert "Principal outstanding ₹2,45,000.00" in text
    assert "Overdue after payment ₹0.00" in text
    assert "UTR SBIN0000000012AB" in text
    assert text.count("Receipt no.") == 1


def test_a_pending_receipt_pdf_shows_the_rupee_amount_words_and_the_provisional_mark(
    tmp_path: Path,
) -> None:
    path = write_receipt(_receipt(True), tmp_path / "out" / "receipt.pdf")
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(path).pages)
    assert "₹12,34,567.89" in text
    assert "Twelve Lakh Thirty-Four Thousand" in text
    assert "LN0000042" in text
    assert "5E6F-7A8B-9C0D" in text
    assert "10-03-2026" in text
    assert "UTR" in text
    assert PROVISIONAL_NOTE.upper() in text


def test_every_font_in_the_receipt_is_embedded_dejavu(tmp_path: Path) -> None:
    reader = PdfReader(write_receipt(_receipt(False), tmp_path / "r.pdf"))
    resources = cast(DictionaryObject, reader.pages[0]["/Resources"])
    fonts = [
        cast(DictionaryObject, font.get_object())
        for font in cast(DictionaryObject, resources["/Font"]).values()
    ]
    assert {str(font["/BaseFont"]).split("+")[-1] for font in fonts} == {
        "DejaVuSans",
        "DejaVuSans-Bold",
    }
    assert all("/FontFile2" in cast(DictionaryObject, font["/FontDescriptor"]) for font in fonts)


def test_a_synced_receipt_has_no_provisional_mark(tmp_path: Path) -> None:
    reader = PdfReader(write_receipt(_receipt(False), tmp_path / "r.pdf"))
    assert PROVISIONAL_NOTE.upper() not in reader.pages[0].extract_text()
