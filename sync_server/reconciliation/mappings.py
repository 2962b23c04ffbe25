"""Saved CSV/XLSX column mappings: a bank layout without a preset, named once by finance.

A mapping names the header of each column (date, value date, narration, reference, debit,
credit, balance) and the date formats; saved under a name, it is chosen at import instead of
being typed again. Saving the same name again replaces it (audited, old and new).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from loancore.roles import Action
from sync_server.audit import service as audit
from sync_server.auth.access import require_permission
from sync_server.db.models import ColumnMappingPreset
from sync_server.errors import ValidationFailed
from sync_server.principal import Principal
from sync_server.reconciliation.statements import PRESETS, ColumnMapping

_FIELDS = ("date", "narration", "debit", "credit", "balance", "value_date", "reference")


def mapping_from(name: str, fields: dict[str, Any]) -> ColumnMapping:
    for needed in ("date", "narration", "debit", "credit", "balance"):
        if not str(fields.get(needed) or "").strip():
            raise ValidationFailed(f"The mapping must name the {needed.replace('_', ' ')} column")
    formats = tuple(str(f) for f in fields.get("date_formats") or ()) or ColumnMapping.date_formats
    return ColumnMapping(
        name=name,
        date=str(fields["date"]).strip(),
        narration=str(fields["narration"]).strip(),
        debit=str(fields["debit"]).strip(),
        credit=str(fields["credit"]).strip(),
        balance=str(fields["balance"]).strip(),
        value_date=str(fields.get("value_date") or "").strip() or None,
        reference=str(fields.get("reference") or "").strip() or None,
        date_formats=formats,
        currency=str(fields.get("currency") or "INR").strip().upper(),
    )


def mapping_fields(mapping: ColumnMapping) -> dict[str, Any]:
    fields: dict[str, Any] = {f: getattr(mapping, f) for f in _FIELDS}
    fields["date_formats"] = list(mapping.date_formats)
    fields["currency"] = mapping.currency
    return fields


def save_mapping(
    session: Session, actor: Principal, name: str, fields: dict[str, Any]
) -> ColumnMappingPreset:
    require_permission(actor, Action.IMPORT_BANK_STATEMENT, "save statement column mappings")
    clean = name.strip()
    if not clean or len(clean) > 64:
        raise ValidationFailed("A mapping needs a name of 1 to 64 characters")
    mapping = mapping_from(clean, fields)
    stored = session.execute(
        select(ColumnMappingPreset).where(ColumnMappingPreset.name == clean)
    ).scalar_one_or_none()
    before = stored.mapping if stored else None
    if stored is None:
        stored = ColumnMappingPreset(name=clean, mapping={}, saved_by=actor.user_id)
        session.add(stored)
    stored.mapping = mapping_fields(mapping)
    stored.saved_by = actor.user_id
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="statement.mapping_save",
        entity="statement_column_mapping",
        entity_id=stored.id,
        before=before,
        after=stored.mapping,
    )
    return stored


def saved_mappings(session: Session) -> list[ColumnMappingPreset]:
    return list(
        session.execute(select(ColumnMappingPreset).order_by(ColumnMappingPreset.name)).scalars()
    )


def mapping_named(session: Session, name: str) -> ColumnMapping:
    """A saved mapping by its name, or a preset's (HDFC Bank, ...)."""
    stored = session.execute(
        select(ColumnMappingPreset).where(ColumnMappingPreset.name == name)
    ).scalar_one_or_none()
    if stored is not None:
        return mapping_from(stored.name, stored.mapping)
    for preset in PRESETS:
        if preset.name == name:
            return preset
    raise ValidationFailed(f"There is no column mapping named {name!r}")
