"""The data version the memo and the pages' cache key on: it follows what people change without a batch
(settings, annotations, saved contracts, contract files), so no page has to clear a cache by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from capi_core import annotations, dashboard_api, settings
from capi_core.contracts import library as contracts
from capi_core.contracts.models import Contract
from capi_core.metrics import memo
from capi_core.store import Store

PIXEL = "123456789012345"


def _contract() -> Contract:
    return contracts.default_contract().model_copy(update={"pixel_id": PIXEL})


def test_each_change_without_a_batch_gives_a_new_version(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "contracts"
    folder.mkdir()
    seen = [memo.data_version(store)]

    settings.set_lead_event(store, "CompleteRegistration")
    seen.append(memo.data_version(store))
    settings.set_report_currency(store, "USD", {"CAD": 0.73})
    seen.append(memo.data_version(store))
    note = annotations.add(store, "2026-11-02", "checkout redeployed")
    seen.append(memo.data_version(store))
    contracts.save_contract(store, _contract(), folder)
    seen.append(memo.data_version(store))
    assert len(set(seen)) == len(seen)
    assert memo.data_version(store) == seen[-1]  # nothing changed: the same version

    annotations.delete(store, note.annotation_id)
    assert memo.data_version(store) not in seen[-2:]


def test_the_pages_version_also_follows_the_contract_files(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "contracts"
    folder.mkdir()
    monkeypatch.setenv("CAPI_DESK_CONTRACTS", str(folder))
    empty = dashboard_api.data_version(store)
    assert dashboard_api.data_version(store) == empty
    (folder / f"{PIXEL}.yaml").write_text(contracts.dump_contract(_contract()), encoding="utf-8")
    edited = dashboard_api.data_version(store)
    assert edited != empty
    (folder / f"{PIXEL}.yaml").unlink()
    assert dashboard_api.data_version(store) == empty


def test_a_memoized_result_is_recomputed_after_a_setting_changes(store: Store) -> None:
    calls: list[int] = []

    def compute() -> list[dict[str, int]]:
        calls.append(1)
        return [{"n": len(calls)}]

    assert memo.memoized(store, "figure", compute) == [{"n": 1}]
    assert memo.memoized(store, "figure", compute) == [{"n": 1}]
    settings.set_lead_event(store, "CompleteRegistration")
    assert memo.memoized(store, "figure", compute) == [{"n": 2}]
