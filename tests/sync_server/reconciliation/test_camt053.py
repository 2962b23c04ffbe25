from datetime import date

import pytest

from sync_server.reconciliation.statements import StatementLine, StatementRefused, read_statement
from tests.sync_server.reconciliation.shared_fixtures import shared_file, shared_names

REFUSED = {
    "camt053.v2.five.decimals.xml": (
        "statement 1 (253EURNL26VAYB8060476890): opening balance 18.15 plus the lines gives "
        "27.00, but the closing balance is 27.05"
    ),
    "camt053.v2.minimal.xml": (
        "statement 1 (253EURNL26VAYB8060476890): closing balance in SEK, statement in EUR"
    ),
    "camt053.v4.xml": (
        "statement 1 (253EURNL26VAYB8060476890): closing balance in SEK, statement in EUR"
    ),
    "camt053.v8.xml": (
        "statement 1 (253EURNL26VAYB8060476890): closing balance in SEK, statement in EUR"
    ),
}


def test_every_shared_camt053_file_is_either_read_or_refused_here() -> None:
    assert shared_names("camt053", ".xml") == {"camt053.v2.multi.statement.xml"} | set(REFUSED)


def test_the_shared_two_statement_camt053_reads_with_exact_values() -> None:
    first, second = read_statement(shared_file("camt053/camt053.v2.multi.statement.xml"))
    assert (first.statement_id, first.account, first.currency) == (
        "253EURNL26VAYB8060476890",
        "NL26VAYB8060476890",
        "EUR",
    )
    assert (first.opening_balance, first.closing_balance) == (1815, 2700)
    assert (second.opening_balance, second.closing_balance) == (2700, 2000)
    assert first.lines == (
        StatementLine(
            position="statement 1 (253EURNL26VAYB8060476890), entry 1",
            booked_on=date(2014, 12, 31),
            value_date=date(2015, 1, 2),
            amount=885,
            narration="Transaction Description 1",
            reference="000000001",
        ),
    )
    assert second.lines[0].amount == -700


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_a_shared_camt053_that_cannot_be_trusted_is_refused_with_the_reason(name: str) -> None:
    with pytest.raises(StatementRefused) as refused:
        read_statement(shared_file(f"camt053/{name}"))
    assert refused.value.message == REFUSED[name]


INDIAN = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
 <BkToCstmrStmt>
  <Stmt>
   <Id>PNC-20261130</Id>
   <Acct><Id><Othr><Id>50200012345678</Id></Othr></Id><Ccy>INR</Ccy></Acct>
   <Bal><Tp><CdOrPrtry><Cd>PRCD</Cd></CdOrPrtry></Tp><Amt Ccy="INR">10000.00</Amt>
    <CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-27</Dt></Dt></Bal>
   <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="INR">12000.50</Amt>
    <CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-30</Dt></Dt></Bal>
   <Ntry>
    <Amt Ccy="INR">2500.50</Amt><CdtDbtInd>CRDT</CdtDbtInd>
    <BookgDt><DtTm>2026-11-28T10:15:00+05:30</DtTm></BookgDt><ValDt><Dt>2026-11-28</Dt></ValDt>
    <AcctSvcrRef>NOTPROVIDED</AcctSvcrRef>
    <NtryDtls><TxDtls>
     <Refs><EndToEndId>HDFCN52026112812345678</EndToEndId></Refs>
     <RltdPties><Dbtr><Pty><Nm>RAMESH KUMAR</Nm></Pty></Dbtr></RltdPties>
     <RmtInf><Ustrd>NEFT-HDFCN52026112812345678-LDPNC000001</Ustrd></RmtInf>
    </TxDtls></NtryDtls>
   </Ntry>
   <Ntry>
    <Amt Ccy="INR">500.00</Amt><CdtDbtInd>DBIT</CdtDbtInd>
    <BookgDt><Dt>2026-11-29</Dt></BookgDt>
    <AddtlNtryInf>CHQ RETURN CHARGES</AddtlNtryInf>
   </Ntry>
  </Stmt>
 </BkToCstmrStmt>
</Document>
"""


def test_an_indian_camt053_v8_statement_reads_in_paise() -> None:
    (statement,) = read_statement(INDIAN.encode())
    assert (statement.account, statement.currency) == ("50200012345678", "INR")
    assert (statement.opening_balance, statement.closing_balance) == (1000000, 1200050)
    credit, charge = statement.lines
    assert credit.amount == 250050
    assert credit.booked_on == date(2026, 11, 28)
    assert credit.reference == "HDFCN52026112812345678"
    assert credit.narration == "NEFT-HDFCN52026112812345678-LDPNC000001 RAMESH KUMAR"
    assert (charge.amount, charge.narration, charge.reference) == (
        -50000,
        "CHQ RETURN CHARGES",
        None,
    )
    assert charge.value_date == date(2026, 11, 29)


def test_an_xml_external_entity_is_refused_naming_its_line() -> None:
    evil = INDIAN.replace(
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        '<?xml version="1.0"?>\n<!DOCTYPE Document [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n',
    ).replace("CHQ RETURN CHARGES", "&x;")
    with pytest.raises(StatementRefused) as refused:
        read_statement(evil.encode())
    assert refused.value.message.startswith("line 2: the file declares a DTD or an entity")


def test_an_entity_expansion_bomb_is_refused() -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><Document>&b;</Document>'
    )
    with pytest.raises(StatementRefused, match=r"^line 1: the file declares a DTD"):
        read_statement(bomb.encode())


def test_xml_that_is_not_well_formed_is_refused_with_line_and_column() -> None:
    broken = INDIAN.replace("</Stmt>", "")
    with pytest.raises(StatementRefused, match=r"^line 27, column 3: not well-formed XML$"):
        read_statement(broken.encode())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("2500.50", "2500.505"), "entry 1: 2500.505 has more than two decimals"),
        (("2500.50", "2500.50x"), "entry 1: '2500.50x' is not an amount"),
        (("2500.50", "NaN"), "entry 1: 'NaN' is not an amount"),
        (("<Cd>CLBD</Cd>", "<Cd>CLAV</Cd>"), ": no CLBD balance"),
        (("<Cd>PRCD</Cd>", "<Cd>OPAV</Cd>"), ": no OPBD or PRCD balance"),
        (('<Amt Ccy="INR">500.00', '<Amt Ccy="EUR">500.00'), "entry 2: amount in EUR"),
        (('<Amt Ccy="INR">500.00', "<Amt>500.00"), "entry 2: the amount carries no currency"),
        (("<CdtDbtInd>DBIT", "<CdtDbtInd>DR"), "entry 2: credit/debit mark 'DR'"),
        (("<Dt>2026-11-29</Dt>", "<Dt>2026-11-31</Dt>"), "entry 2: BookgDt '2026-11-31' is not"),
        (("<BookgDt><Dt>2026-11-29</Dt></BookgDt>", ""), "entry 2: no booking date"),
        (("10000.00", "10000.01"), "plus the lines gives 12000.51"),
    ],
)
def test_a_camt053_with_a_bad_field_is_refused_with_the_entry_and_reason(
    change: tuple[str, str], message: str
) -> None:
    with pytest.raises(StatementRefused) as refused:
        read_statement(INDIAN.replace(*change).encode())
    assert message in refused.value.message
    assert refused.value.message.startswith("statement 1 (PNC-20261130)")


def test_a_reversed_credit_counts_as_a_debit() -> None:
    reversed_credit = INDIAN.replace(
        '<Amt Ccy="INR">500.00</Amt><CdtDbtInd>DBIT</CdtDbtInd>',
        '<Amt Ccy="INR">500.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><RvslInd>true</RvslInd>',
    )
    (statement,) = read_statement(reversed_credit.encode())
    assert statement.lines[1].amount == -50000


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        ("<Report/>", "line 1: the root element is Report, not Document"),
        ("<Document><BkToCstmrStmt/></Document>", "line 1: no camt.053 statement"),
    ],
)
def test_xml_that_is_no_camt053_statement_is_refused(xml: str, message: str) -> None:
    with pytest.raises(StatementRefused, match=f"^{message}"):
        read_statement(xml.encode())
