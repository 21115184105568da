"""MaintenanceConfig: defaults, and errors that name the offending key."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from actions.maintenance.config import MaintenanceConfig


def test_defaults() -> None:
    config = MaintenanceConfig()
    assert config.time_zone == "UTC" and config.window_hours == 3
    assert len(config.preferred_days) == 7 and config.preferred_hours == tuple(range(24))
    assert config.duration_for(None) == 3 and config.duration_for("dependency-update") == 2
    assert config.holidays.calendar(range(2024, 2025)) is None


def test_full_config_normalised() -> None:
    config = MaintenanceConfig.model_validate(
        {
            "time_zone": "Europe/Berlin",
            "preferred_days": ["sunday", "saturday"],
            "preferred_hours": [5, 1, 1, 0],
            "avoided_dates": ["2024-12-24"],
            "holidays": {"country": "DE", "subdivision": "BY"},
            "tasks": {"cleanup": {"duration_hours": 0.5, "enabled": False}},
        }
    )
    assert config.preferred_days == ("saturday", "sunday")
    assert config.preferred_hours == (0, 1, 5)
    assert config.avoided_dates == (date(2024, 12, 24),)
    calendar = config.holidays.calendar(range(2024, 2025))
    assert calendar is not None and date(2024, 12, 25) in calendar
    assert config.duration_for("cleanup") == 0.5
    with pytest.raises(ValueError, match="not configured"):
        config.duration_for("dependency-update")


@pytest.mark.parametrize(
    ("raw", "key", "message"),
    [
        ({"preferd_days": ["monday"]}, "preferd_days", "Extra inputs"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "unknown time zone"),
        ({"preferred_days": ["funday"]}, "preferred_days", "monday"),
        ({"preferred_hours": [24]}, "preferred_hours", "between 0 and 23"),
        ({"preferred_hours": []}, "preferred_hours", "at least 1"),
        ({"avoided_dates": ["2024-13-01"]}, "avoided_dates", "date"),
        ({"holidays": {"country": "XX"}}, "holidays", "country 'XX'"),
        ({"holidays": {"country": "US", "subdivision": "ZZ"}}, "holidays", "subdivision 'ZZ'"),
        ({"holidays": {"subdivision": "BY"}}, "holidays", "needs holidays.country"),
        ({"window_hours": 0}, "window_hours", "greater than 0"),
        ({"horizon_days": 60}, "horizon_days", "less than or equal"),
        ({"tasks": {"rebuild": {}}}, "tasks", "dependency-update"),
        ({"tasks": {"cleanup": {"duration": 1}}}, "tasks.cleanup.duration", "Extra inputs"),
    ],
)
def test_invalid_configs_name_the_key(raw: dict[str, object], key: str, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        MaintenanceConfig.model_validate(raw)
    text = str(info.value)
    assert key in text and message in text
