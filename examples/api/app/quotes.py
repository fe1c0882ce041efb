"""A small, static market-data snapshot (the example has no data source of its own)."""

from __future__ import annotations

from pydantic import BaseModel


class Quote(BaseModel):
    symbol: str
    name: str
    currency: str
    last: float
    change: float

    @property
    def change_pct(self) -> float:
        previous = self.last - self.change
        return round(self.change / previous * 100, 2) if previous else 0.0


class QuoteOut(Quote):
    change_pct: float  # type: ignore[assignment]


QUOTES: tuple[Quote, ...] = (
    Quote(symbol="AAPL", name="Apple Inc.", currency="USD", last=227.48, change=1.92),
    Quote(symbol="MSFT", name="Microsoft Corp.", currency="USD", last=415.10, change=-2.35),
    Quote(symbol="AMZN", name="Amazon.com Inc.", currency="USD", last=186.51, change=0.44),
    Quote(symbol="7203.T", name="Toyota Motor Corp.", currency="JPY", last=2874.0, change=-31.5),
    Quote(symbol="SAP.DE", name="SAP SE", currency="EUR", last=201.36, change=3.08),
    Quote(symbol="NESN.SW", name="Nestle SA", currency="CHF", last=86.12, change=-0.27),
)


def snapshot() -> list[QuoteOut]:
    return [QuoteOut(**q.model_dump(), change_pct=q.change_pct) for q in QUOTES]
