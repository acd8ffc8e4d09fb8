"""Event contracts: YAML load/save, the saved versions in the store, and stored events checked against one.

Where a pixel's current contract comes from, first that exists: the YAML file ``<pixel_id>.yaml`` in the
contracts folder (what people edit and keep in version control), the latest version saved in the store,
the default contract ``default.yaml`` (Meta's required and recommended parameters, reference §2.9). The
folder is ``$CAPI_DESK_CONTRACTS``, else the project's ``data/contracts``. Saving writes the file and a
new version row (``contracts`` table) in one go, so the store keeps the history.

The checks of stored copies are SQL (``queries/contract_violations.sql``); this module turns a contract
into the rule list that query takes and folds its rows into ``Violation`` results. It must not decide a
parameter's validity itself: the stored format checks do.
"""

from __future__ import annotations

import datetime as dt
import difflib
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from capi_core.config import DeskConfig
from capi_core.contracts.models import Contract, EventContract, field_errors, is_pixel_id
from capi_core.errors import InputError, StoreError
from capi_core.models import Scope
from capi_core.queries import load_query
from capi_core.store import PROJECT_ROOT, Store

DEFAULT_DIR = PROJECT_ROOT / "data" / "contracts"
DEFAULT_NAME = "default"
Severity = Literal["critical", "high", "medium", "low"]
Origin = Literal["file", "store", "default"]
_SEP = "\x1f"  # separates the fields of one rule item (contract_violations.sql splits on chr(31))

#: rule -> (severity, what it means); the order is the order violations are listed in.
RULES: dict[str, tuple[Severity, str]] = {
    "missing_required": ("high", "a parameter the contract requires is missing"),
    "invalid_parameter": ("high", "a parameter the contract names is present but invalid"),
    "event_name_variant": ("high", "sent under a case or spacing variant of the event's name"),
    "event_id_rule": ("high", "event_id does not follow the contract's dedup key rule"),
    "currency_not_allowed": ("high", "a currency the contract does not allow"),
    "consent": ("high", "sent against the contract's consent requirement"),
    "value_policy": ("medium", "value differs from the linked backend record under the value policy"),
    "missing_match_key": ("medium", "a match key the contract expects is missing or invalid"),
    "missing_recommended": ("low", "a parameter the contract recommends is missing"),
}
NO_EVENTS = "events: a contract names at least one event"
SEVERITY_ORDER: tuple[Severity, ...] = ("critical", "high", "medium", "low")


class ContractError(InputError):
    """A contract that does not validate; ``errors`` names every field at fault."""

    def __init__(
        self, source: str, errors: list[str], *, hint: str = "fix the named fields and try again"
    ) -> None:
        self.source = source
        self.errors = errors
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(f"{source}: {errors[0]}{more}", hint=hint)


class CopyRef(BaseModel):
    """An example copy: enough to find it in the store and in the inspector."""

    model_config = ConfigDict(frozen=True)

    channel: str
    fingerprint: str
    occurrence: int
    event_id: str | None


class Violation(BaseModel):
    """Copies of one event x channel breaking one rule of the contract (per parameter and detail)."""

    model_config = ConfigDict(frozen=True)

    pixel_id: str | None
    event_name: str
    channel: str
    rule: str
    parameter: str
    detail: str
    severity: Severity
    copies: int
    of_copies: int
    share: float
    message: str
    examples: list[CopyRef]


class ContractVersion(BaseModel):
    """One saved version of a pixel's contract."""

    model_config = ConfigDict(frozen=True)

    pixel_id: str
    version: int
    saved_at: dt.datetime
    body: str


class CurrentContract(BaseModel):
    """A pixel's contract in force and where it came from."""

    model_config = ConfigDict(frozen=True)

    contract: Contract
    origin: Origin
    path: str | None  # the YAML file read, when it came from one
    version: int | None  # the latest saved version in the store, if any


# --- YAML -----------------------------------------------------------------------------------------


def contracts_dir() -> Path:
    """The folder of contract files: ``$CAPI_DESK_CONTRACTS``, else the project's ``data/contracts``."""
    return DeskConfig.load().contracts_dir or DEFAULT_DIR


def _header(text: str) -> str:
    lines = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        lines.append(line)
    return "\n".join(lines)


def parse_contract(text: str, *, source: str = "contract") -> Contract:
    """A contract from YAML text (``safe_load`` only); comment lines at the top are kept as its header.

    Raises:
        ContractError: the YAML does not parse, or a field breaks a rule (every field named).
    """
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "YAML"
        raise ContractError(
            source, [f"{where}: not valid YAML ({getattr(err, 'problem', None) or err})"]
        ) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ContractError(source, ["(contract): expected a mapping with pixel_id and events"])
    data = {**data, "header": _header(text)}
    if data.get("pixel_id") is not None:
        data["pixel_id"] = str(data["pixel_id"])  # an unquoted pixel id is read as a number
    try:
        return Contract.model_validate(data)
    except ValidationError as err:
        raise ContractError(source, field_errors(err)) from None


class _Dumper(yaml.SafeDumper):
    """Lists of names on one line (``required: [event_name, value]``): a contract reads like a table."""


def _flow_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)


_Dumper.add_representer(list, _flow_list)


def dump_contract(contract: Contract) -> str:
    """YAML text of ``contract`` in the model's field order, its header comments first."""
    body = contract.model_dump(mode="json")
    text = yaml.dump(body, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=110)
    return f"{contract.header}\n{text}" if contract.header else text


def _unreadable(path: Path, err: OSError | UnicodeDecodeError) -> str:
    """Why ``path`` cannot be read, and what to do next (the error line of a ``ContractError``)."""
    if isinstance(err, UnicodeDecodeError):
        return "(file): not UTF-8 text; save the contract as UTF-8 YAML"
    if isinstance(err, FileNotFoundError):
        return (
            f"(file): no such file; check the path (pixel contracts are <pixel_id>.yaml in {contracts_dir()})"
        )
    if isinstance(err, IsADirectoryError):
        return "(file): a folder, not a file; give the contract's YAML file inside it"
    if isinstance(err, PermissionError):
        return "(file): permission denied; make the file readable for this user"
    return f"(file): cannot read it ({err.strerror or err.__class__.__name__}); check the path"


def read_contract_file(path: Path) -> Contract:
    """The contract in the YAML file at ``path``; a file must name at least one event (an empty file is
    a mistake, not a contract that allows everything).

    Raises:
        ContractError: unreadable, empty or invalid file (fields named, with what to do next).
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ContractError(str(path), [_unreadable(Path(path), err)], hint="check the path") from None
    contract = parse_contract(text, source=Path(path).name)
    if not contract.events:
        raise ContractError(
            Path(path).name,
            [f"{NO_EVENTS} (see {DEFAULT_DIR / 'default.yaml'})"],
        )
    return contract


@lru_cache(maxsize=64)
def _cached_file(path: str, mtime_ns: int, size: int) -> Contract:
    return read_contract_file(Path(path))


def _file_contract(path: Path) -> Contract | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return _cached_file(str(path), stat.st_mtime_ns, stat.st_size)


def files_version(directory: Path | None = None) -> str:
    """A value that changes whenever a contract file in the folder is added, removed or edited (the
    name, size and modification time of each ``*.yaml``): part of the pages' cache key."""
    folder = directory or contracts_dir()
    try:
        stats = sorted((path.name, path.stat()) for path in folder.glob("*.yaml"))
    except OSError:
        return "-"
    return ",".join(f"{name}:{stat.st_size}:{stat.st_mtime_ns}" for name, stat in stats) or "-"


def default_contract(directory: Path | None = None) -> Contract:
    """The default contract (``default.yaml``): Meta's required and recommended parameters."""
    found = _file_contract((directory or contracts_dir()) / f"{DEFAULT_NAME}.yaml")
    return found or _file_contract(DEFAULT_DIR / f"{DEFAULT_NAME}.yaml") or Contract()


def _latest_versions(store: Store, pixel_ids: list[str] | None) -> dict[str, tuple[int, str]]:
    try:
        return _query_latest(store, pixel_ids)
    except StoreError:
        # a store without a contracts table (tables on Spark hold the canonical tables only): the files
        # and the default contract still apply
        return {}


def _query_latest(store: Store, pixel_ids: list[str] | None) -> dict[str, tuple[int, str]]:
    rows = store.query(
        "latest contract versions",
        """select c.pixel_id, c.version, c.body
        from contracts c
        where (cast($pixel_ids as varchar[]) is null or list_contains($pixel_ids, c.pixel_id))
          and c.version = (select max(v.version) from contracts v where v.pixel_id = c.pixel_id)""",
        {"pixel_ids": pixel_ids},
    ).rows
    return {str(pixel): (int(version), str(body)) for pixel, version, body in rows}


def _pixel_file(folder: Path, pixel_id: str) -> Path | None:
    """``<folder>/<pixel_id>.yaml``; None for a pixel id that is not all digits (ids come from logs and
    must never walk out of the folder)."""
    return folder / f"{pixel_id}.yaml" if pixel_id.isascii() and pixel_id.isdigit() else None


def _pixel_contract(folder: Path, pixel_id: str) -> Contract | None:
    path = _pixel_file(folder, pixel_id)
    return None if path is None else _file_contract(path)


def require_pixel_id(pixel_id: str) -> None:
    """Raise InputError for a pixel id that is not digits (a placeholder left in a sender's config)."""
    if not is_pixel_id(pixel_id):
        raise InputError(
            f"pixel id {pixel_id[:40]!r} is not a Meta pixel id (digits only), so no contract applies to it",
            hint="Meta refuses its events: fix the pixel id the sender uses (e.g. /v21.0/<pixel id>/events)",
        )


def current_contract(store: Store, pixel_id: str, directory: Path | None = None) -> CurrentContract:
    """The contract in force for ``pixel_id`` (file, else latest saved version, else the default).

    Raises:
        InputError: ``pixel_id`` is not a pixel id (digits only): no contract can apply to it.
    """
    require_pixel_id(pixel_id)
    folder = directory or contracts_dir()
    path = _pixel_file(folder, pixel_id)
    latest = _latest_versions(store, [pixel_id]).get(pixel_id)
    version = latest[0] if latest else None
    found = _pixel_contract(folder, pixel_id)
    if found is not None:
        return CurrentContract(
            contract=found.for_pixel(pixel_id), origin="file", path=str(path), version=version
        )
    if latest is not None:
        stored = parse_contract(latest[1], source=f"stored contract v{latest[0]}")
        return CurrentContract(
            contract=stored.for_pixel(pixel_id), origin="store", path=None, version=version
        )
    return CurrentContract(
        contract=default_contract(folder).for_pixel(pixel_id), origin="default", path=None, version=None
    )


def contracts_for(store: Store, pixel_ids: list[str], directory: Path | None = None) -> dict[str, Contract]:
    """The contract in force for each pixel (one store query for all of them)."""
    folder = directory or contracts_dir()
    latest = _latest_versions(store, pixel_ids) if pixel_ids else {}
    found: dict[str, Contract] = {}
    for pixel in pixel_ids:
        contract = _pixel_contract(folder, pixel)
        if contract is None and pixel in latest:
            contract = parse_contract(latest[pixel][1], source=f"stored contract of {pixel}")
        found[pixel] = (contract or default_contract(folder)).for_pixel(pixel)
    return found


def save_contract(store: Store, contract: Contract, directory: Path | None = None) -> ContractVersion:
    """Validate ``contract``, write ``<pixel_id>.yaml`` and record it as the pixel's next version.

    Raises:
        ContractError: the contract has no pixel_id, no event, or does not validate.
    """
    if contract.pixel_id is None:
        raise ContractError("contract", ["pixel_id: a saved contract belongs to one pixel"])
    if not contract.events:
        raise ContractError("contract", [NO_EVENTS])  # the file would not read back
    text = dump_contract(contract)
    parse_contract(text, source="contract")  # what is written must read back
    folder = directory or contracts_dir()
    saved_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with store.transaction() as tx:
        version = int(
            tx.execute(
                "next contract version",
                "select coalesce(max(version), 0) + 1 from contracts where pixel_id = $pixel_id",
                {"pixel_id": contract.pixel_id},
            ).scalar()
        )
        tx.execute(
            "save contract version",
            """insert into contracts (pixel_id, version, body, saved_at)
            values ($pixel_id, $version, $body, $at)""",
            {"pixel_id": contract.pixel_id, "version": version, "body": text, "at": saved_at},
        )
        # written inside the transaction: a file that cannot be written rolls the version back
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{contract.pixel_id}.yaml"
        partial = target.with_name(target.name + ".saving")
        partial.write_text(text, encoding="utf-8")
        partial.replace(target)
    return ContractVersion(pixel_id=contract.pixel_id, version=version, saved_at=saved_at, body=text)


def contract_history(store: Store, pixel_id: str) -> list[ContractVersion]:
    """Saved versions of ``pixel_id``'s contract, newest first."""
    rows = store.query(
        "contract history",
        """select pixel_id, version, saved_at, body
        from contracts
        where pixel_id = $pixel_id
        order by version desc""",
        {"pixel_id": pixel_id},
    ).dicts()
    return [ContractVersion(**row) for row in rows]


def diff_bodies(old: str, new: str, *, old_name: str = "saved", new_name: str = "current") -> list[str]:
    """Unified diff lines between two contract texts (empty when they are equal)."""
    return list(
        difflib.unified_diff(
            old.splitlines(), new.splitlines(), fromfile=old_name, tofile=new_name, lineterm=""
        )
    )


# --- contract -> requirements (parameter completeness) ---------------------------------------------


def requirements(contract: Contract) -> dict[str, dict[str, str]]:
    """event_name -> parameter -> ``required`` | ``recommended`` as the contract names them."""
    found: dict[str, dict[str, str]] = {}
    for name, event in contract.events.items():
        levels = {p: "recommended" for p in event.recommended}
        levels.update({p: "required" for p in event.required})
        found[name] = levels
    return found


# --- violations -----------------------------------------------------------------------------------


def _rule_items(contract: Contract) -> list[str]:
    items: list[tuple[str, str, str, str]] = []
    for name, event in contract.events.items():
        items.append((name, "event", "", ""))
        items += [(name, "required", p, "") for p in event.required]
        items += [(name, "recommended", p, "") for p in event.recommended]
        items += [(name, "match_key", k, "") for k in event.match_keys]
        if event.event_id_rule != "none":
            items.append((name, "event_id_rule", "event_id", event.event_id_rule))
        if event.allowed_currencies:
            items.append((name, "currencies", "currency", ",".join(event.allowed_currencies)))
        if event.consent != "none":
            items.append((name, "consent", "consent", event.consent))
        if event.value_policy is not None and event.truth != "none":
            items.append((name, "value_policy", "value", event.value_policy))
    return [_SEP.join(item) for item in items]


def _message(
    rule: str, parameter: str, detail: str, event: EventContract, n: int, of: int, channel: str
) -> str:
    what = f"{n} of {of} {channel} copies"
    if rule == "missing_required":
        return f"{what} lack {parameter}, which the contract requires"
    if rule == "missing_recommended":
        return f"{what} lack {parameter}, which the contract recommends"
    if rule == "invalid_parameter":
        return f"{what} carry an invalid {parameter} ({detail.replace('_', ' ')})"
    if rule == "missing_match_key":
        return f"{what} carry no valid {parameter} ({detail.replace('_', ' ')})"
    if rule == "event_name_variant":
        return f"{what} are named {detail!r}"
    if rule == "event_id_rule":
        return f"{what}: event_id {detail} (rule: {event.event_id_rule})"
    if rule == "currency_not_allowed":
        return f"{what} carry currency {detail!r}; allowed: {', '.join(event.allowed_currencies)}"
    if rule == "consent":
        return f"{what} were sent with consent {detail} (contract: {event.consent})"
    return f"{what} carry a value that differs from the backend {detail}"


def contract_violations(store: Store, scope: Scope, contract: Contract) -> list[Violation]:
    """Copies in ``scope`` breaking ``contract`` (of its pixel, or of the scope's pixels when it has none).

    Ordered by severity, then event, channel and the rule order of ``RULES``.
    """
    if not contract.events:
        return []
    params: dict[str, Any] = {
        **scope.params(),
        "pixel_id": contract.pixel_id or scope.pixel_id,
        "rules": _rule_items(contract),
    }
    rows = store.query("contract violations", load_query("contract_violations"), params).dicts()
    grouped: dict[tuple[str, str, str, str, str], list[dict[str, Any]]] = {}
    for row in rows:
        key = (row["event_name"], row["channel"], row["rule"], row["parameter"], row["detail"] or "")
        grouped.setdefault(key, []).append(row)
    found = []
    for (event_name, channel, rule, parameter, detail), group in grouped.items():
        first = group[0]
        n, of = int(first["copies"]), int(first["of_copies"])
        found.append(
            Violation(
                pixel_id=contract.pixel_id or scope.pixel_id,
                event_name=event_name,
                channel=channel,
                rule=rule,
                parameter=parameter,
                detail=detail,
                severity=RULES[rule][0],
                copies=n,
                of_copies=of,
                share=n / of,
                message=_message(rule, parameter, detail, contract.events[event_name], n, of, channel),
                examples=[
                    CopyRef(
                        channel=r["channel"],
                        fingerprint=r["fingerprint"],
                        occurrence=int(r["occurrence"]),
                        event_id=r["event_id"],
                    )
                    for r in group
                ],
            )
        )
    order = list(RULES)
    found.sort(
        key=lambda v: (
            SEVERITY_ORDER.index(v.severity),
            v.event_name,
            v.channel,
            order.index(v.rule),
            v.parameter,
            v.detail,
        )
    )
    return found


def violations_preview(store: Store, scope: Scope, draft: Contract) -> list[Violation]:
    """The violations an unsaved draft contract implies on the store (the editor's preview)."""
    return contract_violations(store, scope, draft)


def at_or_above(violations: list[Violation], severity: Severity) -> list[Violation]:
    """The violations whose severity is ``severity`` or worse."""
    limit = SEVERITY_ORDER.index(severity)
    return [v for v in violations if SEVERITY_ORDER.index(v.severity) <= limit]
