"""The Pixi build API a backend speaks: the version of the `pixi-build-api-version` package it
depends on, checked against the constraints on that package in setting `constraints`.

Imported by doctor's checks as well as by the installer, so py-rattler is imported only by the
function that needs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from conda_pixi_backends.errors import OperationError, UserInputError
from conda_pixi_backends.model import normalize_spec

if TYPE_CHECKING:
    from collections.abc import Sequence

    from rattler import RepoDataRecord

    from conda_pixi_backends.model import Request

#: The package whose version is the Pixi build API (JSON-RPC protocol) a backend speaks.
API_PACKAGE = "pixi-build-api-version"


def api_constraints(constraints: Sequence[str]) -> list[str]:
    """The constraints on `pixi-build-api-version`: the Pixi build API a backend must speak.
    None configured (an admin removed the default from `constraints`): no API check at all."""
    return [c for c in constraints if _spec_name(c) == API_PACKAGE]


def _spec_name(spec: str) -> str:
    try:
        return normalize_spec(spec, "constraints")[0]
    except UserInputError:
        return ""


def api_problem(
    request: Request,
    records: Sequence[RepoDataRecord],
    wanted: Sequence[str],
    subject: str | None,
    advice: str,
) -> str | None:
    """Why `records` do not speak the Pixi build API that `wanted` asks for, or None when they
    do. `subject` names the backend (default: its solved name and version)."""
    import rattler

    asks = "; ".join(wanted)
    api = next((r for r in records if r.name.normalized == API_PACKAGE), None)
    backend = next((r for r in records if r.name.normalized == request.name), None)
    who = f"{request.name} {backend.version}" if backend is not None else request.spec
    if api is None:
        return (
            f"{who} does not depend on {API_PACKAGE}: it speaks no Pixi build API that Pixi "
            f"knows (setting 'constraints' asks for {asks})"
        )
    if all(rattler.MatchSpec(c).matches(api) for c in wanted):
        return None
    major = str(api.version).split(".")[0]
    return (
        f"{subject or who} speaks Pixi build API {major} ({API_PACKAGE} {api.version}), "
        f"but setting 'constraints' asks for {asks}: {advice}"
    )


def why_unsolvable(
    request: Request, relaxed: Sequence[RepoDataRecord], wanted: Sequence[str], subject: str
) -> str | None:
    """Why a request is unsolvable when `relaxed`, its solution without the constraints
    `wanted`, speaks another Pixi build API (None when that is not why)."""
    advice = (
        "pin a newer backend version"
        if request.spec != request.name
        else f"its channels have no {request.name} version that speaks it; "
        "use a channel with a newer one"
    )
    return api_problem(request, relaxed, wanted, subject, advice)


def check_api(request: Request, records: Sequence[RepoDataRecord], advice: str) -> None:
    """Refuse `records` (a solution, a lock file's) that do not speak the Pixi build API the
    request's constraints ask for; `advice` says what to do then."""
    wanted = api_constraints(request.constraints)
    problem = api_problem(request, records, wanted, None, advice) if wanted else None
    if problem:
        raise OperationError(problem)
