"""The article digest and named references in `seeds/`: what scenarios may cite."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache

import yaml

from .paths import data_dir


@dataclass(frozen=True)
class Claim:
    """One statement from the source article, quoted exactly."""

    id: str
    speaker: str
    role: str
    date: dt.date
    quote: str
    paraphrase: str
    informs: tuple[str, ...]


@dataclass(frozen=True)
class Reference:
    """A named work outside the article that a number rests on."""

    id: str
    citation: str
    informs: str


@dataclass(frozen=True)
class Digest:
    source: dict
    claims: dict[str, Claim]
    references: dict[str, Reference]

    @property
    def ids(self) -> set[str]:
        return set(self.claims) | set(self.references)


@cache
def load_digest() -> Digest:
    """Read every digest and reference file under seeds/ (written by the project, never the article)."""
    source: dict = {}
    claims: dict[str, Claim] = {}
    references: dict[str, Reference] = {}
    for path in sorted(data_dir("seeds").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        source = data.get("source", source)
        for c in data.get("claims", []):
            claims[c["id"]] = Claim(
                c["id"], c["speaker"], c["role"], c["date"], c["quote"], c["paraphrase"], tuple(c["informs"])
            )
        for r in data.get("references", []):
            references[r["id"]] = Reference(r["id"], r["citation"], r.get("informs", ""))
    return Digest(source, claims, references)
