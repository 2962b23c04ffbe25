"""The borrower's receipt: the amount in Indian words, and a PDF that carries the rupee sign."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import cast

import pytest
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from desktop.viewmodels.receipt import PROVISIONAL_NOTE, Receipt, amount_in_words, write_receipt
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


def _receipt(pending: bool) -> Receipt:
    return Receipt(
        payment_id="0190b5c3-1f2e-7a44-9c3d-5e6f7a8b9c0d",
        account_no="LN0000042",
        borrower_name="Lakshmi Narayanan",
        amount_paise=12_34_567_89,
        mode=PaymentMode.NEFT,
        reference="SBIN0000000012AB",
        payment_date=date(2026, 3, 10),
        collector_name="Anil Collector",
        pending=pending,
    )


def test_the_receipt_number_is_the_short_form_of_the_payment_id() -> None:
    assert _receipt(True).number == "5E6F-7A8B-9C0D"


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
