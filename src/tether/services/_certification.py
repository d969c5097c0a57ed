"""Certification: a maker submits a connector revision, automatic checks run, a certifier reviews.

A submission names one revision (the current one when submitted) and a connection of the
submitter's to that connector: the checks of ``_certification_checks`` run, then the connection
is tested; any blocking finding refuses the submission with every rule and location listed.
A passing one waits, ``pending``, for a *certifier* (``users.is_certifier``, granted by platform
admins; platform admins review too) who comments, approves or rejects. Nobody reviews their own
submission. Approval publishes the revision to the catalog (``_catalog``); a later revision of a
certified connector goes through the same path while the entry already published stays as it is.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy.orm import Session

from tether.definition import package_from_files
from tether.definition.lint import Finding
from tether.errors import Conflict, InputError, NotFound, PermissionDenied, TetherError, ValidationFailed
from tether.runtime import Runtime
from tether.secrets import KeyRing
from tether.services._access import Principal, Standing, check, standing
from tether.services._catalog import publish
from tether.services._certification_checks import blocking, run_checks
from tether.services._connection_check import test_connection
from tether.services._events import Subject, record_event
from tether.store import (
    REQUEST_STATES,
    AuditLog,
    Catalog,
    CertificationRequest,
    Certifications,
    Connections,
    Connector,
    Connectors,
    Database,
    Environment,
    Users,
    utcnow,
)

__all__ = [
    "VERDICTS",
    "CertificationFailed",
    "CertificationInfo",
    "CommentInfo",
    "certification_states",
    "certification_status",
    "get_certification_request",
    "list_certification_requests",
    "review_certification",
    "set_certifier",
    "submit_certification",
]

# What a reviewer may say: a comment only, or a decision with its comment.
VERDICTS: Final = ("comment", "approve", "reject")


class CertificationFailed(ValidationFailed):
    """The automatic checks refused a submission; ``issues`` holds every finding (rule, file, pointer)."""

    code = "certification-failed"


@dataclass(frozen=True, slots=True)
class CommentInfo:
    """One comment of a review (``verdict``: approve, reject, or None for a plain comment)."""

    author: str
    body: str
    verdict: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class CertificationInfo:
    """A certification request as its owner and the certifiers see it."""

    id: str
    connector_id: str
    connector: str
    environment: str
    revision: int
    state: str
    submitted_by: str | None
    submitted_at: datetime
    reviewed_by: str | None
    reviewed_at: datetime | None
    checks: tuple[dict[str, Any], ...]
    comments: tuple[CommentInfo, ...]
    catalog_entry: str | None
    catalog_version: int | None


@dataclass(frozen=True, slots=True)
class _Submission:
    connector_id: str
    environment_id: str
    revision: int
    files: dict[str, bytes]


def _info(session: Session, request: CertificationRequest) -> CertificationInfo:
    connector = session.get(Connector, request.connector_id)
    submitter = Users(session).get(request.submitted_by) if request.submitted_by else None
    entry = Catalog(session).by_source(request.connector_id)
    comments = tuple(
        CommentInfo(author=row.author, body=row.body, verdict=row.verdict, at=row.at)
        for row in Certifications(session).comments(request.id)
    )
    environment = session.get(Environment, request.environment_id)
    return CertificationInfo(
        id=request.id,
        connector_id=request.connector_id,
        connector=connector.name if connector else "",
        environment=environment.name if environment else "",
        revision=request.revision,
        state=request.state,
        submitted_by=submitter.username if submitter else None,
        submitted_at=request.submitted_at,
        reviewed_by=request.reviewed_by,
        reviewed_at=request.reviewed_at,
        checks=tuple(dict(item) for item in request.checks),
        comments=comments,
        catalog_entry=entry.name if entry else None,
        catalog_version=entry.version if entry else None,
    )


def _checked_connector(session: Session, who: Standing, connector: str, operation: str) -> Connector:
    found = Connectors(session).find(who.environment.id, connector)
    if found is None:
        raise NotFound(f"Connector {connector!r} not found in environment {who.environment.name!r}.")
    check(
        session,
        who,
        "connector",
        operation,
        resource_id=found.id,
        owner_id=found.created_by,
        label=f"Connector {connector!r}",
    )
    return found


def _prepare(
    db: Database, principal: Principal, environment: str, connector: str, connection: str
) -> _Submission:
    """Permission, the current revision's files, and the connection's fit (one read transaction)."""
    with db.session() as session:
        who = standing(session, principal, environment)
        found = _checked_connector(session, who, connector, "certify")
        if found.current_revision < 1:
            raise InputError(f"Connector {found.name!r} has no revision to submit.")
        if any(r.state == "pending" for r in Certifications(session).for_connector(found.id)):
            raise Conflict(
                f"Connector {found.name!r} already has a submission waiting for review; see "
                f"'tether certify status {found.name}', or wait for the certifier's decision."
            )
        row = Connections(session).find(who.environment.id, connection)
        if row is None or row.connector_id != found.id:
            raise InputError(
                f"connection {connection!r} is not a connection to connector {found.name!r} in "
                f"environment {who.environment.name!r}; create one ('tether connection create') and "
                "name it: certification tests that the connector answers with real credentials"
            )
        connectors = Connectors(session)
        revision = connectors.revision(found.id, found.current_revision)
        files = connectors.files(revision) if revision is not None else {}
        return _Submission(found.id, who.environment.id, found.current_revision, files)


async def submit_certification(
    db: Database,
    principal: Principal,
    environment: str,
    connector: str,
    *,
    readme: str | None,
    connection: str,
    keyring: KeyRing,
    operation: str | None = None,
    runtime: Runtime | None = None,
) -> CertificationInfo:
    """Submit the connector's current revision for certification (its owners and co-owners, makers).

    Raises :class:`CertificationFailed` naming every failing rule and where it is; the test call
    uses ``connection`` (the submitter's own) and the connector's test operation or ``operation``.
    """
    submission = await asyncio.to_thread(_prepare, db, principal, environment, connector, connection)
    package = package_from_files(submission.files, source=connector)
    findings = run_checks(package, readme)
    findings += await _connection_findings(
        db, principal, environment, connection, keyring, operation, runtime
    )
    failing = blocking(findings)
    if failing:
        listed = "; ".join(f"[{f.rule}] {f.file}{'#' + f.pointer if f.pointer else ''}" for f in failing)
        raise CertificationFailed(
            f"Connector {connector!r} revision {submission.revision} cannot be submitted: "
            f"{len(failing)} rule(s) fail: {listed}. Fix them and submit again.",
            issues=[finding.to_dict() for finding in failing],
        )
    return await asyncio.to_thread(_record_submission, db, principal, submission, readme or "", findings)


async def _connection_findings(
    db: Database,
    principal: Principal,
    environment: str,
    connection: str,
    keyring: KeyRing,
    operation: str | None,
    runtime: Runtime | None,
) -> list[Finding]:
    where = f"connection:{connection}"
    try:
        outcome = await test_connection(
            db, principal, environment, connection, keyring=keyring, operation=operation, runtime=runtime
        )
    except TetherError as exc:
        return [Finding("packaging/test-connection-failed", "error", exc.message, where)]
    if outcome.ok:
        return []
    return [
        Finding(
            "packaging/test-connection-failed",
            "error",
            f"the test call {outcome.method} {outcome.url} failed: {outcome.message}",
            where,
        )
    ]


def _record_submission(
    db: Database, principal: Principal, submission: _Submission, readme: str, findings: list[Finding]
) -> CertificationInfo:
    with db.session() as session:
        request = Certifications(session).add(
            CertificationRequest(
                connector_id=submission.connector_id,
                environment_id=submission.environment_id,
                revision=submission.revision,
                state="pending",
                readme=readme,
                checks=[finding.to_dict() for finding in findings],
                submitted_by=principal.user_id,
            )
        )
        AuditLog(session).record(
            "certification.submit",
            actor=principal.username,
            environment=submission.environment_id,
            target=f"connector:{submission.connector_id}",
            detail={"request": request.id, "revision": submission.revision},
            via=principal.via,
        )
        return _info(session, request)


def certification_status(
    db: Database, principal: Principal, environment: str, connector: str
) -> list[CertificationInfo]:
    """The connector's submissions, newest first, with the reviewers' comments (whoever may read it)."""
    with db.session() as session:
        who = standing(session, principal, environment)
        found = _checked_connector(session, who, connector, "read")
        return [_info(session, request) for request in Certifications(session).for_connector(found.id)]


def certification_states(session: Session, connector_ids: list[str]) -> dict[str, str]:
    """Each connector's certification state for listings (the admin inventory): ``certified``
    (in the catalog), ``pending``, ``rejected`` (its latest request) or ``none``; a certified
    connector with a newer request waiting reads ``certified, update pending``."""
    states = {connector_id: "none" for connector_id in connector_ids}
    catalog = Catalog(session)
    for connector_id in connector_ids:
        requests = Certifications(session).for_connector(connector_id)
        latest = requests[0].state if requests else "none"
        if catalog.by_source(connector_id) is not None:
            states[connector_id] = "certified, update pending" if latest == "pending" else "certified"
        else:
            states[connector_id] = latest
    return states


def _require_certifier(session: Session, principal: Principal) -> None:
    user = Users(session).get(principal.user_id)
    if not (principal.is_admin or (user is not None and user.is_certifier)):
        raise PermissionDenied(
            "You need the certifier role to review certification requests; a platform admin grants "
            "it (PUT /api/v1/certifiers/{user})."
        )


def list_certification_requests(
    db: Database, principal: Principal, *, state: str | None = "pending"
) -> list[CertificationInfo]:
    """The review queue (certifiers): requests in ``state`` (all when None), oldest first."""
    if state is not None and state not in REQUEST_STATES:
        raise InputError(f"Unknown state {state!r}: use one of {', '.join(REQUEST_STATES)}, or all.")
    with db.session() as session:
        _require_certifier(session, principal)
        rows = Certifications(session).in_state(state)
        return [_info(session, request) for request in rows]


def get_certification_request(db: Database, principal: Principal, request_id: str) -> CertificationInfo:
    """One request (certifiers): what the checks found, the readme's verdicts, the comments."""
    with db.session() as session:
        _require_certifier(session, principal)
        request = Certifications(session).get(request_id)
        if request is None:
            raise NotFound(f"Certification request {request_id!r} not found.")
        return _info(session, request)


def review_certification(
    db: Database, principal: Principal, request_id: str, *, verdict: str, comment: str | None
) -> CertificationInfo:
    """Comment on, approve or reject a pending request (certifiers, not on their own submission).

    Approving publishes the revision to the catalog; rejecting needs a comment saying why, which
    the connector's owners then read with ``certification_status``.
    """
    if verdict not in VERDICTS:
        raise InputError(f"Unknown verdict {verdict!r}: use one of {', '.join(VERDICTS)}.")
    text = (comment or "").strip()
    if verdict != "approve" and not text:
        raise InputError(f"A {verdict} needs a comment saying what the owner should change or know.")
    with db.session() as session:
        _require_certifier(session, principal)
        request = Certifications(session).get(request_id)
        if request is None:
            raise NotFound(f"Certification request {request_id!r} not found.")
        if request.submitted_by == principal.user_id:
            raise PermissionDenied("You cannot review your own submission; another certifier must.")
        if request.state != "pending":
            raise Conflict(
                f"Request {request_id!r} was already {request.state}; a new revision needs a new one."
            )
        Certifications(session).comment(
            request.id, principal.username, text or "Approved.", _decision(verdict)
        )
        if verdict != "comment":
            request.state = "approved" if verdict == "approve" else "rejected"
            request.reviewed_by = principal.username
            request.reviewed_at = utcnow()
        if verdict == "approve":
            _publish_request(session, request)
        AuditLog(session).record(
            f"certification.{verdict}",
            actor=principal.username,
            environment=request.environment_id,
            target=f"connector:{request.connector_id}",
            detail={"request": request.id, "revision": request.revision},
            via=principal.via,
        )
        if verdict != "comment":
            connector = session.get(Connector, request.connector_id)
            name = connector.name if connector is not None else None
            owner = connector.created_by if connector is not None else request.submitted_by
            record_event(
                session,
                "certification.decided",
                request.environment_id,
                Subject("connector", request.connector_id, name, owner),
                actor=principal.username,
                data={"request": request.id, "revision": request.revision, "decision": request.state},
            )
        return _info(session, request)


def _decision(verdict: str) -> str | None:
    return None if verdict == "comment" else verdict


def _publish_request(session: Session, request: CertificationRequest) -> None:
    connector = session.get(Connector, request.connector_id)
    revision = Connectors(session).revision(request.connector_id, request.revision)
    if connector is None or revision is None:
        raise Conflict("The submitted connector or revision no longer exists; it cannot be published.")
    files = Connectors(session).files(revision)
    publish(session, connector, request, files)


def set_certifier(db: Database, principal: Principal, username: str, enabled: bool) -> bool:
    """Grant or withdraw the certifier role (platform admins); returns the user's new state."""
    if not principal.is_admin:
        raise PermissionDenied("Only platform admins grant or withdraw the certifier role.")
    with db.session() as session:
        user = Users(session).by_username(username)
        if user is None:
            raise NotFound(f"User {username!r} not found.")
        user.is_certifier = enabled
        AuditLog(session).record(
            "certifier.grant" if enabled else "certifier.revoke",
            actor=principal.username,
            target=f"user:{user.id}",
            detail={"username": username},
            via=principal.via,
        )
        return enabled
