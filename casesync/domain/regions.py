"""Regions that take part in cross-province handling, keyed by GB/T 2260 code."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Region:
    """One region: a prefecture, county, district or development zone."""

    code: str  # 6 digits; GB/T 2260 unless ``gbt2260`` is False
    name_zh: str
    name_en: str
    level: str  # prefecture / county / district / development_zone
    gbt2260: bool  # False for zones with only a statistics code (e.g. 苏州工业园区 320576)
    note: str | None = None

    @property
    def province(self) -> str:
        """The two-digit province prefix (32 江苏, 34 安徽, …); materials can vary by it."""
        return self.code[:2]
