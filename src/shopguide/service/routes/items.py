"""Catalog routes: read one item, batch upsert, delete (a deleted item is never recommended again)."""

from __future__ import annotations

from fastapi import APIRouter

from shopguide.data.schema import Item
from shopguide.errors import DataError
from shopguide.security.auth import require
from shopguide.service.deps import StateDep
from shopguide.service.routes.recommend import IdPath
from shopguide.service.schemas import ItemBatch, UpsertResult

router = APIRouter(prefix="/v1/items", tags=["catalog"])
MAX_ITEMS = 1000


@router.get("/{item_id}", response_model=Item, dependencies=[require("read")])
def get_item(item_id: IdPath, state: StateDep) -> Item:
    return state.store.get_item(item_id)


@router.post("", response_model=UpsertResult, dependencies=[require("catalog")])
def upsert_items(batch: ItemBatch, state: StateDep) -> UpsertResult:
    """Insert or replace up to 1,000 items in one transaction."""
    if len(batch.items) > MAX_ITEMS:
        raise DataError(f"at most {MAX_ITEMS} items per request, got {len(batch.items)}", field="items")
    count = state.store.upsert_items(batch.items)
    state.mark_restored({it.id for it in batch.items})
    return UpsertResult(upserted=count)


@router.delete("/{item_id}", status_code=204, dependencies=[require("catalog")])
def delete_item(item_id: IdPath, state: StateDep) -> None:
    state.store.delete_item(item_id)
    state.mark_deleted(item_id)
