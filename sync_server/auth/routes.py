"""Sign-in, sessions and the administrators' users and branches API."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status

from loancore.roles import Action, Role
from sync_server.auth import service, signin
from sync_server.auth.deps import CurrentPrincipal, require
from sync_server.auth.schemas import (
    ActiveIn,
    BranchAssignIn,
    BranchCreateIn,
    BranchOut,
    LoginIn,
    PasswordChangeIn,
    RefreshIn,
    RoleIn,
    TokenOut,
    UserCreateIn,
    UserOut,
)
from sync_server.db.models import Branch, User
from sync_server.deps import (
    ClockDep,
    DbDep,
    ReadSessionDep,
    SessionDep,
    SettingsDep,
    client_address,
)
from sync_server.principal import Principal

router = APIRouter(tags=["auth"])

Admin = Annotated[Principal, Depends(require(Action.MANAGE_USERS))]
ViewLoans = Annotated[Principal, Depends(require(Action.VIEW_LOANS))]
"""Every loan sits in a branch, so whoever reads loans reads the branch list beside them."""


def _user_out(user: User, branch_code: str | None) -> UserOut:
    return UserOut(
        id=user.id,
        username=user.username,
        full_name=user.full_name,
        role=Role(user.role),
        branch_id=user.branch_id,
        branch_code=branch_code,
        active=user.active,
    )


def _token_out(pair: signin.TokenPair) -> TokenOut:
    return TokenOut(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        expires_in=pair.expires_in,
        user=_user_out(pair.user, pair.branch_code),
    )


@router.post("/auth/login")
def login(
    body: LoginIn,
    request: Request,
    session: SessionDep,
    db: DbDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> TokenOut:
    pair = signin.login(
        session,
        db,
        settings,
        username=body.username,
        password=body.password,
        address=client_address(request),
        device_id=body.device_id,
        now=clock.now(),
    )
    return _token_out(pair)


@router.post("/auth/refresh")
def refresh(
    body: RefreshIn,
    request: Request,
    session: SessionDep,
    db: DbDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> TokenOut:
    pair = signin.refresh(
        session,
        db,
        settings,
        refresh_token=body.refresh_token,
        address=client_address(request),
        now=clock.now(),
    )
    return _token_out(pair)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(body: RefreshIn, request: Request, session: SessionDep, clock: ClockDep) -> Response:
    signin.logout(
        session,
        refresh_token=body.refresh_token,
        address=client_address(request),
        now=clock.now(),
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/auth/me")
def me(principal: CurrentPrincipal, session: ReadSessionDep) -> UserOut:
    user = service.get_user(session, principal.user_id)
    return _user_out(user, service.branch_code_of(session, user.branch_id))


@router.post("/auth/password", status_code=status.HTTP_204_NO_CONTENT)
def change_password(
    body: PasswordChangeIn,
    principal: CurrentPrincipal,
    session: SessionDep,
    db: DbDep,
    clock: ClockDep,
) -> Response:
    service.change_password(
        session,
        db,
        actor=principal,
        current_password=body.current_password,
        new_password=body.new_password,
        now=clock.now(),
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/users")
def list_users(_: Admin, session: ReadSessionDep) -> list[UserOut]:
    return [_user_out(user, code) for user, code in service.list_users(session)]


@router.post("/users", status_code=status.HTTP_201_CREATED)
def create_user(body: UserCreateIn, actor: Admin, session: SessionDep) -> UserOut:
    user = service.create_user(
        session,
        actor=actor,
        username=body.username,
        full_name=body.full_name,
        role=body.role,
        branch_id=body.branch_id,
        password=body.password,
    )
    return _user_out(user, service.branch_code_of(session, user.branch_id))


@router.put("/users/{user_id}/role")
def set_role(user_id: uuid.UUID, body: RoleIn, actor: Admin, session: SessionDep) -> UserOut:
    user = service.set_role(session, actor=actor, user_id=user_id, role=body.role)
    return _user_out(user, service.branch_code_of(session, user.branch_id))


@router.put("/users/{user_id}/active")
def set_active(
    user_id: uuid.UUID, body: ActiveIn, actor: Admin, session: SessionDep, clock: ClockDep
) -> UserOut:
    user = service.set_active(
        session, actor=actor, user_id=user_id, active=body.active, now=clock.now()
    )
    return _user_out(user, service.branch_code_of(session, user.branch_id))


@router.put("/users/{user_id}/branch")
def assign_branch(
    user_id: uuid.UUID, body: BranchAssignIn, actor: Admin, session: SessionDep
) -> UserOut:
    user = service.assign_branch(session, actor=actor, user_id=user_id, branch_id=body.branch_id)
    return _user_out(user, service.branch_code_of(session, user.branch_id))


def _branch_out(branch: Branch) -> BranchOut:
    return BranchOut(id=branch.id, code=branch.code, name=branch.name)


@router.get("/branches")
def list_branches(_: ViewLoans, session: ReadSessionDep) -> list[BranchOut]:
    return [_branch_out(b) for b in service.list_branches(session)]


@router.post("/branches", status_code=status.HTTP_201_CREATED)
def create_branch(body: BranchCreateIn, actor: Admin, session: SessionDep) -> BranchOut:
    return _branch_out(service.create_branch(session, actor=actor, code=body.code, name=body.name))
