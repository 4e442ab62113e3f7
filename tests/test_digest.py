"""The article digest (seeds/korea-herald-2024-06-23.yaml) and the named references.

Plain pyyaml + stdlib: these tests check the data files themselves, not the `sim` package.
Every quote must be an exact substring of the article (only runs of whitespace are
collapsed); the article lives outside the project, in the workplace's shared folder.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"
DIGEST_PATH = SEEDS / "korea-herald-2024-06-23.yaml"
REFERENCES_PATH = SEEDS / "references.yaml"
ARTICLE_DIR = REPO / ".." / "shared" / "seeds"
SHARED_ARTICLE = ARTICLE_DIR / "korea-herald-2024-06-23.txt"  # where `local_copy` points
# a checkout elsewhere (CI's clean clone) is told where the workplace's copy is (.ci/run)
ARTICLE_PATH = Path(os.environ.get("SIM_ARTICLE", SHARED_ARTICLE))

PUBLISHED = dt.date(2024, 6, 23)
CLAIM_FIELDS = ("id", "speaker", "role", "date", "quote", "paraphrase", "informs")
SOURCE_FIELDS = ("id", "title", "subtitle", "publisher", "author", "published", "local_copy")
KEBAB = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# A dotted model element id: kind.name[.more], e.g. red_lines.south_korea.precision_weapons
# or scenarios.lethal-aid.
ELEMENT = re.compile(r"^[a-z_]+(?:\.[a-z0-9_-]+)+$")
# A sentence end inside the quote: ".", "!" or "?" (optionally followed by closing quotes
# or brackets), whitespace, then (optionally opening quotes or brackets and) a capital.
SENTENCE_BREAK = re.compile(r"[.!?][\"')\]]*\s+[\"'(\[]*[A-Z]")

REQUIRED_CLAIMS = {
    "chang-precision-red-line",
    "chang-no-lines-left",
    "chang-gradually-approaching",
    "putin-countermeasure",
    "chang-public-opinion",
    "chang-aid-composition",
    "chang-leverage-ambiguity",
    "seoul-reconsider-weapons-support",
    "seoul-no-lethal-aid-policy",
    "putin-grave-mistake",
    "putin-necessary-decisions",
    "seoul-condemns-treaty",
    "summit-mutual-defense",
    "treaty-clause-4",
    "inss-render-invalid",
    "inss-nullification-conditions",
    "inss-not-implemented",
    "chang-certain-point",
    "jeh-alliance-level",
    "jeh-troops-front",
    "jeh-arms-peninsula",
    "kim-ambiguity-caution",
    "kim-emboldened-provocations",
    "kim-attention-europe",
    "chang-corresponding-efforts",
    "chang-restore-relations",
    "seoul-moscow-exchange-warnings",
}

REQUIRED_REFERENCES = {
    "kahn1965",
    "mid-codebook",
    "goldstein1992",
    "cameo",
    "rivera2024",
    "fearon1994",
    "schelling1966",
    "schelling1960",
    "jervis1976",
    "richardson1960",
    "weisiger-yarhi-milo2015",
    "us-rok-mdt1953",
    "treaty-1961",
    "judgement",
}


def _load(path: Path) -> dict:
    with path.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    assert isinstance(data, dict), f"{path.name}: top level must be a mapping"
    return data


DIGEST = _load(DIGEST_PATH)
CLAIMS = DIGEST.get("claims") or []
REFERENCES = (_load(REFERENCES_PATH).get("references")) or []


def _claim_id(claim) -> str:
    return str(claim.get("id")) if isinstance(claim, dict) else repr(claim)


def _as_date(value) -> dt.date:
    """YAML gives an unquoted 2024-06-23 as a date; a quoted one as a string."""
    if isinstance(value, dt.datetime):
        raise AssertionError(f"expected a date, got a timestamp: {value!r}")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return dt.date.fromisoformat(value)  # raises ValueError if not an ISO date
    raise AssertionError(f"expected an ISO date, got {value!r}")


def _collapse(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@pytest.fixture(scope="module")
def article_text() -> str:
    if not ARTICLE_PATH.is_file():
        pytest.skip(
            f"the article copy is not in this checkout (expected {ARTICLE_PATH.resolve()}), "
            "so quotes cannot be checked against it"
        )
    return _collapse(ARTICLE_PATH.read_text(encoding="utf-8"))


# --- source metadata -----------------------------------------------------------------


def test_source_metadata_complete():
    source = DIGEST.get("source")
    assert isinstance(source, dict), "digest needs a `source` mapping"
    for field in SOURCE_FIELDS:
        value = source.get(field)
        assert value not in (None, ""), f"source.{field} is missing or empty"
    assert source["id"] == DIGEST_PATH.stem
    assert source["publisher"] == "The Korea Herald"
    assert source["author"] == "Ji Da-gyum"
    assert _as_date(source["published"]) == PUBLISHED


def test_source_local_copy_points_at_the_shared_article():
    local = Path(DIGEST["source"]["local_copy"])
    assert not local.is_absolute(), "local_copy is relative to the repository root"
    assert (REPO / local).resolve() == SHARED_ARTICLE.resolve()


def test_source_title_and_subtitle_are_verbatim(article_text):
    source = DIGEST["source"]
    for field in ("title", "subtitle"):
        assert _collapse(source[field]) in article_text, f"source.{field} not in the article"


# --- claims as a set -------------------------------------------------------------------


def test_at_least_twelve_claims():
    assert isinstance(CLAIMS, list)
    assert len(CLAIMS) >= 12, f"only {len(CLAIMS)} claims"


def test_claim_ids_unique():
    ids = [_claim_id(c) for c in CLAIMS]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates, f"duplicate claim ids: {duplicates}"


def test_required_claims_present():
    missing = sorted(REQUIRED_CLAIMS - {_claim_id(c) for c in CLAIMS})
    assert not missing, f"required claim ids missing: {missing}"


# --- each claim --------------------------------------------------------------------------

claim_params = pytest.mark.parametrize("claim", CLAIMS, ids=[_claim_id(c) for c in CLAIMS])


@claim_params
def test_claim_fields_complete(claim):
    assert isinstance(claim, dict)
    assert set(claim) == set(CLAIM_FIELDS), (
        f"fields differ: missing {sorted(set(CLAIM_FIELDS) - set(claim))}, "
        f"unexpected {sorted(set(claim) - set(CLAIM_FIELDS))}"
    )
    for field in CLAIM_FIELDS:
        value = claim[field]
        assert value is not None, f"{field} is empty"
        if isinstance(value, str):
            assert value.strip(), f"{field} is empty"
    for field in ("id", "speaker", "role", "quote", "paraphrase"):
        assert isinstance(claim[field], str), f"{field} must be a string"


@claim_params
def test_claim_id_is_kebab_case(claim):
    assert KEBAB.match(str(claim["id"])), f"not kebab-case: {claim['id']!r}"


@claim_params
def test_claim_date_valid_and_not_after_publication(claim):
    when = _as_date(claim["date"])
    assert when <= PUBLISHED, f"{when} is after the article's publication ({PUBLISHED})"


@claim_params
def test_claim_informs_model_elements(claim):
    informs = claim["informs"]
    assert isinstance(informs, list) and informs, "informs must be a non-empty list"
    for element in informs:
        assert isinstance(element, str) and ELEMENT.match(element), (
            f"not a dotted model element id: {element!r}"
        )
    assert len(informs) == len(set(informs)), "informs lists an element twice"


@claim_params
def test_claim_quote_is_verbatim(claim, article_text):
    quote = claim["quote"]
    assert quote == quote.strip(), "quote has leading or trailing whitespace"
    assert _collapse(quote) in article_text, f"quote not found verbatim in the article: {quote!r}"


@claim_params
def test_claim_quote_is_at_most_one_sentence(claim):
    match = SENTENCE_BREAK.search(claim["quote"])
    assert match is None, f"quote runs past a sentence end at {match.group(0)!r}"


@claim_params
def test_claim_paraphrase_is_not_the_quote(claim):
    assert _collapse(claim["paraphrase"]).strip() != _collapse(claim["quote"]).strip()


# --- references ------------------------------------------------------------------------


def test_references_well_formed():
    assert isinstance(REFERENCES, list) and REFERENCES
    for ref in REFERENCES:
        assert isinstance(ref, dict)
        for field in ("id", "citation", "informs"):
            value = ref.get(field)
            assert isinstance(value, str) and value.strip(), (
                f"reference {ref.get('id')!r}: {field} missing or empty"
            )
        assert KEBAB.match(ref["id"]), f"reference id not kebab-case: {ref['id']!r}"


def test_reference_ids_unique():
    ids = [r.get("id") for r in REFERENCES]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates, f"duplicate reference ids: {duplicates}"


def test_required_references_present():
    missing = sorted(REQUIRED_REFERENCES - {r.get("id") for r in REFERENCES})
    assert not missing, f"required reference ids missing: {missing}"


def test_reference_and_claim_ids_do_not_collide():
    shared = {r.get("id") for r in REFERENCES} & {_claim_id(c) for c in CLAIMS}
    assert not shared, f"ids used both as claim and reference: {sorted(shared)}"
