"""Legal cases over the server's API: pages, detail with notes, forward-only moves and the
server's words when it refuses, overdue hearings."""

from __future__ import annotations

from datetime import date

import pytest

from desktop.sync.api import ApiError, TransportError
from desktop.viewmodels.legal_cases import LegalCasesViewModel, next_statuses
from tests.desktop.viewmodels.cached import BUSINESS_DATE
from tests.desktop.viewmodels.legal_api import LegalApi, legal_case


@pytest.fixture
def api() -> LegalApi:
    return LegalApi(
        [
            legal_case(1),
            legal_case(2, "hearing", court="Civil Court, Pune", next_hearing="2026-03-02"),
            legal_case(3, "settled", next_hearing="2026-03-01"),
        ],
        BUSINESS_DATE,
    )


@pytest.fixture
def vm(api: LegalApi) -> LegalCasesViewModel:
    return LegalCasesViewModel(api, business_date=BUSINESS_DATE)


def test_only_later_statuses_are_offered() -> None:
    assert next_statuses("filed") == ("hearing", "settled", "closed")
    assert next_statuses("closed") == ()
    assert next_statuses("unknown") == ()


def test_a_page_reads_the_cases_and_marks_a_missed_hearing_on_a_live_case(
    vm: LegalCasesViewModel, api: LegalApi
) -> None:
    page = vm.page(status=None)
    assert [row.status_label for row in page.rows] == ["Open", "Hearing", "Settled"]
    assert [row.hearing_overdue(BUSINESS_DATE) for row in page.rows] == [False, True, False]
    assert page.next_cursor is None
    vm.page(status="hearing")
    assert api.calls[-1] == ("GET", "/legal-cases", {"limit": 100, "status": "hearing"})


def test_moving_a_case_forward_and_adding_a_note_answer_the_fresh_case(
    vm: LegalCasesViewModel,
) -> None:
    case_id = vm.page().rows[0].case_id
    moved = vm.move(case_id, "notice_sent")
    assert moved.case.status == "notice_sent"
    noted = vm.add_note(case_id, "  Notice served by hand  ")
    assert [note.note for note in noted.notes] == ["Notice served by hand"]


def test_a_backward_move_raises_the_servers_message(vm: LegalCasesViewModel) -> None:
    case_id = vm.page().rows[1].case_id
    with pytest.raises(ApiError) as refused:
        vm.move(case_id, "filed")
    assert refused.value.detail == "A case that is hearing cannot move to filed"


def test_a_hearing_before_today_is_refused_here_without_asking_the_server(
    vm: LegalCasesViewModel, api: LegalApi
) -> None:
    case = vm.page().rows[0]
    asked = len(api.calls)
    with pytest.raises(
        ValueError,
        match=r"The next hearing \(09-03-2026\) cannot be before today's business date \(10-03-2026\)",
    ):
        vm.set_details(case, court="", case_number="", hearing_text="09-03-2026")
    assert len(api.calls) == asked


def test_only_changed_details_are_sent(vm: LegalCasesViewModel, api: LegalApi) -> None:
    case = vm.page().rows[1]
    detail = vm.set_details(
        case, court="Civil Court, Pune", case_number="SCS/12/2026", hearing_text="20-03-2026"
    )
    assert (
        "PATCH",
        f"/legal-cases/{case.case_id}",
        {"case_number": "SCS/12/2026", "next_hearing": "2026-03-20"},
    ) in api.calls
    assert detail.case.next_hearing == date(2026, 3, 20)
    with pytest.raises(ValueError, match="Nothing to save"):
        vm.set_details(
            detail.case,
            court="Civil Court, Pune",
            case_number="SCS/12/2026",
            hearing_text="20-03-2026",
        )
    vm.set_details(detail.case, court="", case_number="SCS/12/2026", hearing_text="20-03-2026")
    assert api.calls[-2][2] == {"court": None}


def test_an_empty_note_is_refused_here(vm: LegalCasesViewModel) -> None:
    with pytest.raises(ValueError, match="Write the note first"):
        vm.add_note(vm.page().rows[0].case_id, "   ")


def test_offline_the_transport_error_reaches_the_screen(
    vm: LegalCasesViewModel, api: LegalApi
) -> None:
    api.offline = True
    with pytest.raises(TransportError):
        vm.page()
