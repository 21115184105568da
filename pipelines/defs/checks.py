"""Asset checks on the core tables."""

from collections.abc import Iterator

from dagster import AssetCheckResult, AssetCheckSpec, multi_asset_check

from pipelines.defs.resources import WarehouseResource
from warehouse.db import CORE_KEYS, duplicate_keys


@multi_asset_check(
    specs=[
        AssetCheckSpec("unique_key", asset=f"core_{table}", description=f"({', '.join(key)}) is unique")
        for table, key in CORE_KEYS.items()
    ]
)
def core_keys_unique(warehouse: WarehouseResource) -> Iterator[AssetCheckResult]:
    """Each core table holds one row per object: its key has no duplicates."""
    with warehouse.connect(read_only=True) as conn:
        for table, key in CORE_KEYS.items():
            duplicates = duplicate_keys(conn, table)
            yield AssetCheckResult(
                asset_key=f"core_{table}",
                check_name="unique_key",
                passed=duplicates == 0,
                metadata={"duplicate_keys": duplicates, "key": ", ".join(key)},
            )
