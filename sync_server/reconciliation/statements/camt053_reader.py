"""ISO 20022 camt.053 (bank-to-customer statement), any schema version, read with defusedxml.

defusedxml refuses a DTD, entity declarations and external references outright, so a file
cannot make the server read a local file or reach the network (XXE) or expand a billion laughs.
Elements are found by local name, so versions 001.02 to 001.08 read alike.
"""

from __future__ import annotations

from datetime import date
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from sync_server.reconciliation.statements.model import (
    Statement,
    StatementLine,
    StatementRefused,
    checked,
    to_minor_units,
)

_OPENING = ("OPBD", "PRCD")
_CLOSING = ("CLBD",)
_NO_REFERENCE = {"", "NOTPROVIDED", "NONREF"}


def read_camt053(data: bytes) -> tuple[Statement, ...]:
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except ParseError as error:
        line, column = error.position
        raise StatementRefused(f"line {line}, column {column}: not well-formed XML") from None
    except DefusedXmlException:
        line = _line_of(data, (b"<!DOCTYPE", b"<!ENTITY"))
        raise StatementRefused(
            f"line {line}: the file declares a DTD or an entity (an XML external entity can "
            "read the server's files); a bank statement needs neither, so it is refused"
        ) from None
    if _local(root.tag) != "Document":
        raise StatementRefused(f"line 1: the root element is {_local(root.tag)}, not Document")
    statements = _all(root, "BkToCstmrStmt", "Stmt")
    if not statements:
        raise StatementRefused("line 1: no camt.053 statement (BkToCstmrStmt/Stmt) in the file")
    return tuple(_statement(element, index) for index, element in enumerate(statements, 1))


def _line_of(data: bytes, markers: tuple[bytes, ...]) -> int:
    found = [index for index in (data.find(marker) for marker in markers) if index >= 0]
    return data[: min(found)].count(b"\n") + 1 if found else 1


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _all(element: Element, *path: str) -> list[Element]:
    found = [element]
    for name in path:
        found = [child for parent in found for child in parent if _local(child.tag) == name]
    return found


def _text(element: Element, *path: str) -> str | None:
    found = _all(element, *path)
    if not found or found[0].text is None:
        return None
    return found[0].text.strip()


def _statement(element: Element, index: int) -> Statement:
    statement_id = _text(element, "Id")
    where = f"statement {index} ({statement_id or 'no Id'})"
    account = _text(element, "Acct", "Id", "IBAN") or _text(element, "Acct", "Id", "Othr", "Id")
    opening = _balance(element, _OPENING, where)
    closing = _balance(element, _CLOSING, where)
    currency = _text(element, "Acct", "Ccy") or opening[1]
    for name, (_, balance_currency) in (("opening", opening), ("closing", closing)):
        if balance_currency != currency:
            raise StatementRefused(
                f"{where}: {name} balance in {balance_currency}, statement in {currency}"
            )
    lines = tuple(
        _line(entry, f"{where}, entry {number}", currency)
        for number, entry in enumerate(_all(element, "Ntry"), 1)
    )
    return checked(Statement(account, currency, statement_id, opening[0], closing[0], lines), where)


def _balance(element: Element, codes: tuple[str, ...], where: str) -> tuple[int, str]:
    for balance in _all(element, "Bal"):
        if _text(balance, "Tp", "CdOrPrtry", "Cd") in codes:
            return _amount(balance, f"{where}, balance {codes[0]}")
    raise StatementRefused(f"{where}: no {' or '.join(codes)} balance")


def _amount(element: Element, where: str) -> tuple[int, str]:
    found = _all(element, "Amt")
    if not found or found[0].text is None:
        raise StatementRefused(f"{where}: no amount")
    currency = found[0].get("Ccy")
    if not currency:
        raise StatementRefused(f"{where}: the amount carries no currency")
    amount = to_minor_units(found[0].text, where)
    sign = _text(element, "CdtDbtInd")
    if sign not in ("CRDT", "DBIT"):
        raise StatementRefused(f"{where}: credit/debit mark {sign!r} is neither CRDT nor DBIT")
    return (amount if sign == "CRDT" else -amount), currency


def _date(element: Element, name: str, where: str) -> date | None:
    text = _text(element, name, "Dt") or _text(element, name, "DtTm")
    if text is None:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise StatementRefused(f"{where}: {name} {text!r} is not a date") from None


def _line(entry: Element, where: str, currency: str) -> StatementLine:
    amount, entry_currency = _amount(entry, where)
    if entry_currency != currency:
        raise StatementRefused(f"{where}: amount in {entry_currency}, statement in {currency}")
    if _text(entry, "RvslInd") == "true":
        amount = -amount
    booked = _date(entry, "BookgDt", where)
    value = _date(entry, "ValDt", where) or booked
    if booked is None or value is None:
        raise StatementRefused(f"{where}: no booking date")
    details = _all(entry, "NtryDtls", "TxDtls")
    narration_parts = [_text(entry, "AddtlNtryInf")]
    references: list[str | None] = [_text(entry, "AcctSvcrRef")]
    for detail in details:
        narration_parts += [_text(detail, "RmtInf", "Ustrd"), _text(detail, "AddtlTxInf")]
        narration_parts += [_text(detail, "RltdPties", "Dbtr", "Nm")]
        narration_parts += [_text(detail, "RltdPties", "Dbtr", "Pty", "Nm")]
        references += [
            _text(detail, "Refs", "EndToEndId"),
            _text(detail, "RmtInf", "Strd", "CdtrRefInf", "Ref"),
            _text(detail, "Refs", "AcctSvcrRef"),
        ]
    reference = next((r for r in references if r and r.upper() not in _NO_REFERENCE), None)
    return StatementLine(
        position=where,
        booked_on=booked,
        value_date=value,
        amount=amount,
        narration=" ".join(part for part in narration_parts if part),
        reference=reference,
    )
