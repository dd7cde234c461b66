"""The tantivy schema of the search index: text fields with their weights, filter fields, sort keys, analyzers."""

from __future__ import annotations

import tantivy

# Bump when fields or their encoding change: an index built by an older version is then rebuilt, not patched.
SCHEMA_VERSION = 4

# A big index is dealt into this many tantivy indexes (shards), searched side by side on threads: tantivy releases
# the GIL and its Python binding runs one search on one core, so two shards answer a broad query over the whole
# registry in about half the time on two cores (bench/results/search.md). Each shard scores with its own word
# statistics, which differ little between halves of a big index but more between halves of a small one, where
# queries are fast anyway: an index of fewer studies than SHARDED_FROM_STUDIES stays one shard, scored exactly.
INDEX_SHARDS = 2
SHARDED_FROM_STUDIES = 150_000

TEXT_ANALYZER = "tf_text"  # words: lower-cased, ASCII-folded, English-stemmed
ID_ANALYZER = "tf_id"  # identifiers: the whole value, lower-cased

# Text field -> boost. Title and condition matches outrank passing mentions in long free text.
TEXT_FIELD_WEIGHTS: dict[str, float] = {
    "title": 4.0,  # acronym, brief and official titles
    "condition": 4.0,  # conditions and keywords
    "mesh": 2.0,  # condition MeSH terms (derivedSection)
    "mesh_ancestor": 0.8,  # their MeSH ancestors
    "intervention": 2.5,  # intervention names and other names
    "intervention_mesh": 1.0,  # intervention MeSH terms and ancestors
    "sponsor": 1.0,  # lead sponsor and collaborators
    "lead_sponsor": 1.0,
    "summary": 1.0,
    "description": 0.4,
    "outcome": 0.5,
    "eligibility": 0.3,
    "location": 0.3,  # facility, city, state, country
    "body": 0.8,  # every field of BODY_FIELDS again, for the everything scope
}

# Fields that the everything scope ("all") searches through the one catch-all "body" field instead of one by one:
# a word then costs five posting lists instead of twelve, which is most of a broad query's time (docs/search.md).
BODY_FIELDS = ("mesh_ancestor", "intervention_mesh", "sponsor", "summary", "description", "outcome", "eligibility",
               "location")
ID_FIELD_WEIGHT = 10.0

# Query scopes (request fields and `field:` prefixes) -> the text fields they search.
SCOPES: dict[str, tuple[str, ...]] = {
    "all": ("title", "condition", "mesh", "intervention", "body"),
    "condition": ("condition", "mesh", "mesh_ancestor"),
    "intervention": ("intervention", "intervention_mesh"),
    "title": ("title",),
    "outcome": ("outcome",),
    "sponsor": ("sponsor",),
    "lead_sponsor": ("lead_sponsor",),
    "location": ("location",),
    "summary": ("summary", "description"),
    "eligibility": ("eligibility",),
    "id": (),
}

# Keyword fields (raw, fast): one or several exact values per study, used by filters and facets.
KEYWORD_FIELDS = ("nct_id", "status", "phase", "study_type", "funder_type", "sponsor_class", "has_results", "sex",
                  "healthy_volunteers", "country", "age_group")

# Fields that only facet counting reads, each single-valued wherever it can be: tantivy counts a multi-valued
# column at about twice the cost of a single-valued one, and phase, sex, age group and country are multi-valued.
# "<facet>_set" holds a study's whole set of values as one term (values joined by VALUE_SET_SEPARATOR); the sets
# are few, so counting them and splitting the keys gives each value's count exactly. Countries have too many
# combinations for that: "country_first" holds a study's first country (single-valued) and "country_rest" the
# others, which most studies do not have.
VALUE_SET_FACETS = ("phase", "sex", "age_group")
VALUE_SET_SEPARATOR = "|"
FACET_COUNT_FIELDS = tuple(f"{name}_set" for name in VALUE_SET_FACETS) + ("country_first", "country_rest")

# Integer date fields (YYYYMMDD), absent when the record has no such date.
DATE_FIELDS = ("start_date", "primary_completion_date", "completion_date", "first_posted", "last_update")

# Sort keys: each stored as one integer whose ascending order is (value, NCT number), see documents.sort_keys.
SORT_FIELDS = ("k_last_updated", "k_last_updated_desc", "k_start_date", "k_start_date_desc", "k_enrollment",
               "k_enrollment_desc", "k_first_posted", "k_first_posted_desc", "k_open_first")

# Open bounds of the age range: a missing minimum is 0, a missing maximum is beyond any age.
OPEN_MIN_AGE = 0.0
OPEN_MAX_AGE = 10_000.0


def build_schema() -> tantivy.Schema:
    """The index schema."""
    builder = tantivy.SchemaBuilder()
    for name in TEXT_FIELD_WEIGHTS:
        builder.add_text_field(name, tokenizer_name=TEXT_ANALYZER)
    builder.add_text_field("ids", tokenizer_name=ID_ANALYZER, index_option="basic")
    for name in KEYWORD_FIELDS:
        builder.add_text_field(name, tokenizer_name="raw", fast=True, index_option="basic")
    for name in FACET_COUNT_FIELDS:
        builder.add_text_field(name, tokenizer_name="raw", fast=True, index_option="basic")
    builder.add_unsigned_field("nct_num", indexed=True, fast=True)
    builder.add_float_field("min_age", indexed=True, fast=True)
    builder.add_float_field("max_age", indexed=True, fast=True)
    builder.add_integer_field("enrollment", indexed=True, fast=True)
    for name in DATE_FIELDS:
        builder.add_integer_field(name, indexed=True, fast=True)
    for name in SORT_FIELDS:
        builder.add_integer_field(name, fast=True)
    builder.add_float_field("status_weight", fast=True)
    # grid cells of the study's sites and its own NCT number, for distance filters (see sites.py)
    builder.add_unsigned_field("geo", indexed=True)
    builder.add_text_field("card", stored=True, tokenizer_name="raw", index_option="basic")
    return builder.build()


def register_analyzers(index: tantivy.Index) -> None:
    """Attach the analyzers the schema names; tantivy does not persist them, so every opened index needs this."""
    identifiers = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.raw()).filter(tantivy.Filter.lowercase()).build()
    index.register_tokenizer(TEXT_ANALYZER, _word_analyzer())
    index.register_tokenizer(ID_ANALYZER, identifiers)


def _word_analyzer() -> tantivy.TextAnalyzer:
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(60))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .filter(tantivy.Filter.stemmer("english"))
        .build()
    )


_WORD_ANALYZER: tantivy.TextAnalyzer | None = None


def analyze(text: str) -> list[str]:
    """The index terms of text, exactly as the text fields are tokenized."""
    global _WORD_ANALYZER
    if _WORD_ANALYZER is None:
        _WORD_ANALYZER = _word_analyzer()
    return _WORD_ANALYZER.analyze(text)
