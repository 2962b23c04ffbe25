import io
import zipfile
from datetime import date

import pytest
from openpyxl import Workbook

from loancore.reconciliation.narration import Channel, read_reference
from sync_server.reconciliation.statements import (
    ColumnMapping,
    StatementRefused,
    read_statement,
)

HDFC = """HDFC BANK Ltd.,,,,,,
Account No :50200012345678,,,,,,
Statement From :27/11/26 To :30/11/26,,,,,,
Date,Narration,Chq./Ref.No.,Value Dt,Withdrawal Amt.,Deposit Amt.,Closing Balance
********,********,********,********,********,********,********
27/11/26,NEFT CR-SBIN0001234-RAMESH KUMAR-LDPNC000001-SBINN52026112712345678,SBINN52026112712345678,27/11/26,,"2,500.00","1,02,500.00"
27/11/26,RTGS CR-ICIC0000001-ICICR42026112700001234-SHREE TRADERS,ICICR42026112700001234,27/11/26,,"3,12,500.00","4,15,000.00"
28/11/26,IMPS/P2A/330212345678/ANIL PATIL,330212345678,28/11/26,,"1,875.50","4,16,875.50"
28/11/26,UPI/330112345678/sunita.rao@okaxis/SUNITA RAO,330112345678,28/11/26,,"3,125.00","4,20,000.50"
29/11/26,BY CASH DEP SLIP 00123 PUNE CAMP,00123,30/11/26,,"12,750.00","4,32,750.50"
29/11/26,CHQ DEP 000456 VIJAY SHARMA,000456,01/12/26,,"5,000.00","4,37,750.50"
30/11/26,CHQ RETURN CHGS 000456,0,30/11/26,590.00,,"4,37,160.50"

STATEMENT SUMMARY :-,,,,,,
"""

SBI = """Account Name,:  LOANDESK FINANCE PVT LTD,,,,,
Account Number,:  00000031234567890,,,,,
Txn Date,Value Date,Description,Ref No./Cheque No.,Debit,Credit,Balance
1 Dec 2026,1 Dec 2026,BY TRANSFER-NEFT*HDFC0000001*HDFCN52026120112345678*PRIYA IYER,TRANSFER FROM 9876,,2500.00,10500.00 CR
1 Dec 2026,2 Dec 2026,NACH-CR-HDFC7021807230001234-EMI LDPNC000007,,,1250.00,11750.00 CR
2 Dec 2026,2 Dec 2026,ATM WDL,,15000.00,,3250.00 DR
"""


def test_an_hdfc_csv_export_reads_with_its_preset_and_running_balance() -> None:
    (statement,) = read_statement(HDFC.encode())
    assert statement.currency == "INR"
    assert statement.opening_balance == 10000000
    assert statement.closing_balance == 43716050
    assert len(statement.lines) == 7
    first = statement.lines[0]
    assert first.position == "line 6"
    assert (first.booked_on, first.amount, first.balance_after) == (
        date(2026, 11, 27),
        250000,
        10250000,
    )
    assert first.reference == "SBINN52026112712345678"
    assert statement.lines[5].value_date == date(2026, 12, 1)
    assert statement.lines[6].amount == -59000
    assert statement.lines[6].reference is None


def test_every_indian_narration_in_the_hdfc_export_yields_its_reference() -> None:
    (statement,) = read_statement(HDFC.encode())
    read = [read_reference(line.narration) for line in statement.lines[:6]]
    assert [(r.channel, r.reference) for r in read if r is not None] == [
        (Channel.NEFT, "SBINN52026112712345678"),
        (Channel.RTGS, "ICICR42026112700001234"),
        (Channel.IMPS, "330212345678"),
        (Channel.UPI, "330112345678"),
        (Channel.CASH_DEPOSIT, "00123"),
        (Channel.CHEQUE, "000456"),
    ]


def test_an_sbi_csv_export_reads_balances_marked_cr_and_dr() -> None:
    (statement,) = read_statement(SBI.encode())
    assert statement.opening_balance == 800000
    assert statement.closing_balance == -325000
    assert [line.value_date for line in statement.lines] == [
        date(2026, 12, 1),
        date(2026, 12, 2),
        date(2026, 12, 2),
    ]
    assert statement.lines[0].reference == "TRANSFER FROM 9876"
    assert statement.lines[1].reference is None


def _icici_xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["DETAILED STATEMENT"])
    sheet.append(["Transactions List - LOANDESK FINANCE (INR) - 000405012345"])
    sheet.append(
        [
            "S No.",
            "Value Date",
            "Transaction Date",
            "Cheque Number",
            "Transaction Remarks",
            "Withdrawal Amount (INR )",
            "Deposit Amount (INR )",
            "Balance (INR )",
        ]
    )
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


ICICI_ROWS: list[list[object]] = [
    [
        1,
        date(2026, 12, 1),
        date(2026, 12, 1),
        None,
        "UPI/330512345678/arjun@ybl/ARJUN DAS",
        0,
        2500.5,
        102500.5,
    ],
    [2, "02/12/2026", "02/12/2026", "000789", "CLG CHQ 000789 KAVITA NAIR", 0, 10000, 112500.5],
    [
        3,
        "03/12/2026",
        "03/12/2026",
        None,
        "BY CASH PICKUP 889900 CMS",
        None,
        "7,500.00",
        "1,20,000.50",
    ],
]


def test_an_icici_xlsx_export_reads_dates_and_numbers_from_cells() -> None:
    (statement,) = read_statement(_icici_xlsx(ICICI_ROWS))
    assert statement.opening_balance == 10000000
    assert statement.closing_balance == 12000050
    assert [(line.position, line.amount) for line in statement.lines] == [
        ("row 4", 250050),
        ("row 5", 1000000),
        ("row 6", 750000),
    ]
    assert statement.lines[0].booked_on == date(2026, 12, 1)
    assert statement.lines[1].reference == "000789"


def test_an_xlsx_amount_with_a_fraction_of_a_paisa_is_refused() -> None:
    rows = [list(ICICI_ROWS[0])]
    rows[0][6], rows[0][7] = 2500.505, 102500.505
    with pytest.raises(StatementRefused, match=r"^row 4: 2500.505 has more than two decimals$"):
        read_statement(_icici_xlsx(rows))


def test_a_broken_xlsx_is_refused() -> None:
    with pytest.raises(StatementRefused, match=r"^row 1: not a readable XLSX workbook"):
        read_statement(b"PK\x03\x04 truncated")


def test_a_saved_mapping_reads_a_layout_no_preset_knows() -> None:
    mapping = ColumnMapping(
        name="Pune co-operative bank",
        date="Tran Dt",
        narration="Particulars",
        debit="Dr",
        credit="Cr",
        balance="Bal",
        date_formats=("%d.%m.%Y",),
    )
    text = "Tran Dt,Particulars,Dr,Cr,Bal\n01.12.2026,NEFT-X-LDPNC000001,,100.00,600.00\n"
    with pytest.raises(StatementRefused, match="no header row with the columns a known bank"):
        read_statement(text.encode())
    (statement,) = read_statement(text.encode(), mapping)
    assert (statement.opening_balance, statement.lines[0].value_date) == (50000, date(2026, 12, 1))
    wrong = text.replace("Particulars", "Details")
    with pytest.raises(StatementRefused, match="no header row with the columns Tran Dt, Part"):
        read_statement(wrong.encode(), mapping)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("28/11/26,IMPS", "31/11/26,IMPS"), "line 8: '31/11/26' is not a date"),
        (('"1,875.50","4,16,875.50"', '"1,875.50","4,16,875.00"'), "line 8: balance 416875.00"),
        ((',,"1,875.50"', ',"10.00","1,875.50"'), "line 8: both a withdrawal and a deposit"),
        ((',,"1,875.50","4,16,875.50"', ',,,"4,16,875.50"'), "line 8: neither a withdrawal"),
        ((',,"1,875.50","4,16,875.50"', ',,"1,875.50",'), "line 8: no balance"),
        ((',,"1,875.50"', ',,"1,875.5x"'), "line 8: '1,875.5x' is not an amount"),
    ],
)
def test_a_bad_row_in_a_csv_is_refused_naming_the_line(
    change: tuple[str, str], message: str
) -> None:
    with pytest.raises(StatementRefused) as refused:
        read_statement(HDFC.replace(*change).encode())
    assert refused.value.message.startswith(message)


def test_a_csv_with_a_header_and_no_lines_is_refused() -> None:
    header_only = HDFC.split("********")[0]
    with pytest.raises(StatementRefused, match=r"^line 5: the statement has no lines$"):
        read_statement(header_only.encode())


def test_a_csv_that_is_not_utf8_is_refused_naming_the_line() -> None:
    with pytest.raises(StatementRefused, match=r"^line 2: the file is not UTF-8 text$"):
        read_statement(b"Date,Narration\n\xff\xfe,x\n")


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(StatementRefused, match=r"^line 1: the file is empty$"):
        read_statement(b" \n ")


def _with_sheet_prolog(workbook: bytes, prolog: bytes) -> bytes:
    rewritten = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(workbook)) as source, zipfile.ZipFile(rewritten, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = content.replace(b"<worksheet", prolog + b"<worksheet", 1)
            target.writestr(item, content)
    return rewritten.getvalue()


def test_an_xml_entity_inside_an_xlsx_sheet_is_refused() -> None:
    plain = _icici_xlsx(ICICI_ROWS)
    (unchanged,) = read_statement(_with_sheet_prolog(plain, b""))
    assert len(unchanged.lines) == 3
    evil = b'<!DOCTYPE worksheet [<!ENTITY x SYSTEM "file:///etc/hostname">]>'
    with pytest.raises(StatementRefused, match=r"^row 1: not a readable XLSX workbook"):
        read_statement(_with_sheet_prolog(plain, evil))


def test_a_sheet_broken_past_its_first_rows_is_refused_not_an_error() -> None:
    plain = _icici_xlsx(ICICI_ROWS)
    broken = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(plain)) as source, zipfile.ZipFile(broken, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = content.replace(b"</sheetData>", b"<row><c></sheetData>")
            target.writestr(item, content)
    with pytest.raises(
        StatementRefused, match=r"^row 1: not a readable XLSX workbook \(mismatched"
    ):
        read_statement(broken.getvalue())
