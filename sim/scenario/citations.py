"""A scenario's own sources: references and claims declared in a world or scenario file.

A new crisis cites its own documents instead of borrowing the Korean article's digest. The
shapes mirror `seeds/references.yaml` and the digest's claims, keyed by id as every other
scenario section is, so a file that extends another inherits, adds to and overrides them.
`sources:` lists anywhere in the resolved scenario may cite these ids beside the seeds' own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .sources import load_digest

_Id = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_.-]*$", max_length=64)]
_Url = Annotated[str, Field(pattern=r"^(https?://\S+)?$", max_length=2000)]


class _Block(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class DeclaredReference(_Block):
    """A published work a number rests on: a book, an article, a treaty, a dataset."""

    title: str = ""
    citation: str = ""
    authors: str = ""
    year: Annotated[int, Field(ge=1000, le=2100)] | None = None
    url: _Url = ""
    informs: str = ""
    note: str = ""

    @model_validator(mode="after")
    def _named(self) -> DeclaredReference:
        if not (self.title.strip() or self.citation.strip()):
            raise ValueError("a reference needs a title or a citation (expected one, got neither)")
        return self


class DeclaredClaim(_Block):
    """One statement by a named speaker on a date, quoted exactly (one sentence at most)."""

    speaker: Annotated[str, Field(min_length=1)]
    role: str = ""
    date: dt.date
    quote: Annotated[str, Field(min_length=1, max_length=500)]
    paraphrase: str = ""
    informs: list[str] = []
    source: _Id | None = None
    url: _Url = ""
    note: str = ""


@dataclass(frozen=True)
class Citation:
    """What `sim explain` prints for one source id, wherever it was declared."""

    id: str
    kind: str  # "claim" or "reference"
    text: str
    declared_in: str  # "seeds" or "scenario"


def declared_ids(data: Any) -> set[str]:
    """The reference and claim ids a scenario's raw data declares (nothing if the shape is wrong)."""
    ids: set[str] = set()
    if isinstance(data, Mapping):
        for section in ("references", "claims"):
            if isinstance(data.get(section), Mapping):
                ids.update(str(k) for k in data[section])
    return ids


def source_ids(data: Any) -> set[str]:
    """Every id a `sources:` list in this scenario may cite: the seeds' and the scenario's own."""
    return load_digest().ids | declared_ids(data)


def _reference_text(ref: DeclaredReference) -> str:
    parts = [ref.citation or ref.title]
    if ref.citation and ref.title and ref.title not in ref.citation:
        parts.insert(0, f"{ref.title}.")
    if ref.year is not None and str(ref.year) not in parts[-1]:
        parts.append(f"({ref.year})")
    if ref.url:
        parts.append(ref.url)
    return " ".join(parts)


def _claim_text(speaker: str, role: str, date: dt.date, quote: str) -> str:
    who = f"{speaker} ({role})" if role else speaker
    return f'{who}, {date}: "{quote}"'


def citations(references: Mapping[str, DeclaredReference], claims: Mapping[str, DeclaredClaim]) -> dict[str, Citation]:
    """Every citable id, the scenario's own taking precedence in print (they cannot clash, see references.py)."""
    digest = load_digest()
    found: dict[str, Citation] = {}
    for cid, c in digest.claims.items():
        found[cid] = Citation(cid, "claim", _claim_text(c.speaker, c.role, c.date, c.quote), "seeds")
    for rid, r in digest.references.items():
        found[rid] = Citation(rid, "reference", r.citation, "seeds")
    for rid, ref in references.items():
        found[rid] = Citation(rid, "reference", _reference_text(ref), "scenario")
    for cid, claim in claims.items():
        text = _claim_text(claim.speaker, claim.role, claim.date, claim.quote)
        if claim.source:
            text += f" [from {claim.source}]"
        found[cid] = Citation(cid, "claim", text, "scenario")
    return found
