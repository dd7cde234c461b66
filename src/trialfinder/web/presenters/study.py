"""A Study (plus its stored sites) as the trial page shows it: every label, count and sentence decided here."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from markupsafe import Markup

from trialfinder.eligibility.criteria import Criterion, parse_criteria
from trialfinder.model import Study, describe_age_range
from trialfinder.model.labels import (
    ALLOCATION, ARM_TYPE, CONTACT_ROLE, DATE_TYPE, FUNDER_TYPE, INTERVENTION_MODEL, INTERVENTION_TYPE, MASKING,
    OBSERVATIONAL_MODEL, PRIMARY_PURPOSE, REFERENCE_TYPE, SEX, STANDARD_AGE, STUDY_TYPE, TIME_PERSPECTIVE,
    WHO_MASKED, funder_type, label,
)
from trialfinder.model.study import Contact, DateStruct, Location, Outcome
from trialfinder.web.formatting import human_date, phases_label, status_label, status_tone
from trialfinder.web.markdown import render_inline, render_markdown
from trialfinder.web.slugs import city_slug, slugify

CTGOV_STUDY_URL = "https://clinicaltrials.gov/study/{nct_id}"
PUBMED_URL = "https://pubmed.ncbi.nlm.nih.gov/{pmid}/"
_PHONE_CHARS = re.compile(r"[^\d+]")
_EMAIL = re.compile(r"^[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+$")


@dataclass(frozen=True)
class Fact:
    """A labelled value in a definition list ("Allocation" -> "N/A")."""

    label: str
    value: str | Markup


@dataclass(frozen=True)
class ContactView:
    """A person or desk to call or write to; tel/mailto hrefs only when the value looks like one."""

    name: str
    role: str
    phone: str
    phone_href: str
    email: str
    email_href: str


@dataclass(frozen=True)
class SiteView:
    """One study location with its recruitment status and contacts."""

    facility: str
    city: str
    state: str
    zip: str
    country: str
    status: str
    status_label: str
    status_tone: str
    contacts: list[ContactView]
    location_href: str  # the trials-by-location page of its city, "" when the site has no city

    @property
    def place(self) -> str:
        return ", ".join(part for part in (self.city, self.state, self.zip, self.country) if part)


@dataclass(frozen=True)
class CountrySites:
    """The sites of one country, in record order."""

    country: str
    sites: list[SiteView]


@dataclass(frozen=True)
class CriterionView:
    """One eligibility criterion and its nested sub-criteria."""

    text: str
    children: list[CriterionView]


@dataclass(frozen=True)
class CriteriaGroup:
    """Consecutive criteria under one sub-heading of the record ("DISEASE CHARACTERISTICS")."""

    heading: str
    items: list[CriterionView]


@dataclass(frozen=True)
class Eligibility:
    """Who can take part: facts, the parsed criteria lists, and the original text when parsing found no list."""

    facts: list[Fact]
    inclusion: list[CriteriaGroup]
    exclusion: list[CriteriaGroup]
    notes: list[str]
    unparsed: Markup  # the criteria as rendered markdown, when no inclusion/exclusion items were found
    study_population: Markup


@dataclass(frozen=True)
class ArmView:
    """A patient group ("Experimental: hBMMSC") with its type, description and treatments."""

    title: str
    kind: str
    description: Markup
    treatments: list[str]


@dataclass(frozen=True)
class OutcomeView:
    """One outcome measure with its time frame."""

    measure: str
    description: Markup
    time_frame: str


@dataclass(frozen=True)
class OutcomeGroup:
    """Primary, secondary or other outcomes."""

    title: str
    outcomes: list[OutcomeView]


@dataclass(frozen=True)
class ReferenceView:
    """A publication or link cited by the record (hrefs only for http(s) and PubMed ids)."""

    text: str
    href: str
    kind: str


@dataclass(frozen=True)
class MapSite:
    """A site with coordinates, as the map script reads it from the page's JSON block."""

    lat: float
    lon: float
    title: str
    detail: str
    approximate: bool


@dataclass
class StudyPage:
    """Everything the trial page shows, in page order."""

    nct_id: str
    title: str
    official_title: str
    acronym: str
    sponsor: str
    status: str
    status_label: str
    status_tone: str
    why_stopped: str
    phases: str
    conditions: list[str]
    keywords: list[str]
    treatments: list[str]
    study_type: str
    funder_types: list[str]
    identifiers: list[Fact]
    summary: Markup
    description: Markup
    eligibility: Eligibility
    design: list[Fact]
    groups_sentence: str
    arms: list[ArmView]
    outcomes: list[OutcomeGroup]
    collaborators: list[str]
    officials: list[Fact]
    dates: list[Fact]
    has_results: bool
    results_href: str
    site_count: int
    central_contacts: list[ContactView]
    sites_by_country: list[CountrySites]
    map_sites: list[MapSite]
    references: list[ReferenceView]
    source_href: str
    last_updated: str
    meta_description: str = ""
    badges: list[str] = field(default_factory=list)

    @property
    def has_design(self) -> bool:
        return bool(self.design or self.arms)

    @property
    def map_data(self) -> list[dict]:
        return [vars(site) for site in self.map_sites]

    @property
    def has_contacts_or_sites(self) -> bool:
        return bool(self.central_contacts or self.sites_by_country)


def present_study(study: Study, stored_sites: list[dict]) -> StudyPage:
    """Build the trial page's view data from the typed study and the store's geocoded sites."""
    nct_id = study.nct_id
    ident = study.identification
    status = study.status
    design = study.design
    lead = study.sponsors.lead_sponsor
    source_href = CTGOV_STUDY_URL.format(nct_id=nct_id)
    locations = study.contacts_locations.locations
    summary_text = (study.description.brief_summary or "").strip()
    return StudyPage(
        nct_id=nct_id,
        title=study.title,
        official_title=ident.official_title if ident.official_title and ident.official_title != study.title else "",
        acronym=ident.acronym or "",
        sponsor=(lead.name if lead and lead.name else "") or (ident.organization.full_name if ident.organization else "") or "",
        status=status.overall_status or "",
        status_label=status_label(status.overall_status),
        status_tone=status_tone(status.overall_status),
        why_stopped=status.why_stopped or "",
        phases=phases_label(design.phases),
        conditions=list(study.conditions.conditions),
        keywords=list(study.conditions.keywords),
        treatments=_treatments(study),
        study_type=label(STUDY_TYPE, design.study_type),
        funder_types=_funder_types(study),
        identifiers=_identifiers(study),
        summary=render_markdown(summary_text),
        description=render_markdown(study.description.detailed_description),
        eligibility=_eligibility(study),
        design=_design_facts(study),
        groups_sentence=_groups_sentence(study),
        arms=_arms(study),
        outcomes=_outcomes(study),
        collaborators=[c.name for c in study.sponsors.collaborators if c.name],
        officials=[Fact(label(CONTACT_ROLE, o.role, "Investigator"),
                        ", ".join(p for p in (o.name, o.affiliation) if p)) for o in study.contacts_locations.overall_officials
                   if o.name or o.affiliation],
        dates=_dates(study),
        has_results=bool(study.has_results),
        results_href=f"{source_href}?tab=results",
        site_count=len(locations),
        central_contacts=[_contact(c) for c in study.contacts_locations.central_contacts],
        sites_by_country=_sites_by_country(locations),
        map_sites=_map_sites(locations, stored_sites),
        references=_references(study),
        source_href=source_href,
        last_updated=human_date(study.last_update_posted),
        meta_description=_meta_description(summary_text),
    )


def _treatments(study: Study) -> list[str]:
    return [
        f"{label(INTERVENTION_TYPE, item.type)}: {item.name}" if item.type else item.name
        for item in study.arms_interventions.interventions
        if item.name
    ]


def _funder_types(study: Study) -> list[str]:
    classes = [study.lead_sponsor_class] if study.sponsors.lead_sponsor else []
    classes += [c.class_ for c in study.sponsors.collaborators]
    labels = [label(FUNDER_TYPE, funder_type(c)) for c in classes if c]
    return list(dict.fromkeys(labels))


def _identifiers(study: Study) -> list[Fact]:
    ident = study.identification
    facts = [Fact("NCT ID", study.nct_id)]
    if ident.org_study_id_info and ident.org_study_id_info.id:
        facts.append(Fact("Organization study ID", ident.org_study_id_info.id))
    for secondary in ident.secondary_id_infos:
        if secondary.id:
            kind = " ".join(p for p in (_secondary_type(secondary.type), secondary.domain) if p)
            facts.append(Fact(f"Secondary ID{' (' + kind + ')' if kind else ''}", secondary.id))
    for alias in ident.nct_id_aliases:
        facts.append(Fact("Former NCT ID", alias))
    return facts


def _secondary_type(kind: str | None) -> str:
    names = {"NIH": "NIH grant", "FDA": "FDA", "VA": "VA", "CDC": "CDC", "AHRQ": "AHRQ", "SAMHSA": "SAMHSA",
             "OTHER_GRANT": "Other grant", "EUDRACT_NUMBER": "EudraCT", "CTIS": "CTIS", "REGISTRY": "Registry",
             "OTHER": ""}
    return names.get(kind or "", (kind or "").replace("_", " ").capitalize())


def _enrollment(study: Study) -> str:
    info = study.design.enrollment_info
    if not info or info.count is None:
        return ""
    kind = label(DATE_TYPE, info.type).lower()
    noun = "patient" if info.count == 1 else "patients"
    return f"{info.count:,} {kind} {noun}" if kind else f"{info.count:,} {noun}"


def _eligibility(study: Study) -> Eligibility:
    elig = study.eligibility
    facts: list[Fact] = []
    if enrollment := _enrollment(study):
        facts.append(Fact("Enrollment", enrollment))
    if elig.sex:
        facts.append(Fact("Sex", label(SEX, elig.sex)))
    if elig.gender_description:
        facts.append(Fact("Sex/gender details", elig.gender_description))
    if elig.minimum_age or elig.maximum_age or elig.std_ages:
        ages = describe_age_range(elig.minimum_age, elig.maximum_age)
        groups = ", ".join(label(STANDARD_AGE, a) for a in elig.std_ages)
        facts.append(Fact("Ages", f"{ages} ({groups})" if groups and ages == "Any age" else ages))
    if elig.healthy_volunteers is not None:
        facts.append(Fact("Volunteers",
                          "Accepts Healthy Volunteers" if elig.healthy_volunteers else "No Healthy Volunteers"))
    if elig.sampling_method:
        facts.append(Fact("Sampling method", elig.sampling_method.replace("_", " ").capitalize()))
    sections = parse_criteria(elig.eligibility_criteria)
    inclusion, exclusion = _groups(sections.inclusion), _groups(sections.exclusion)
    found_items = bool(inclusion or exclusion)
    return Eligibility(
        facts=facts,
        inclusion=inclusion,
        exclusion=exclusion,
        notes=([sections.preamble] if sections.preamble else []) + sections.notes if found_items else [],
        unparsed=Markup("") if found_items else render_markdown(elig.eligibility_criteria),
        study_population=render_markdown(elig.study_population),
    )


def _groups(criteria: list[Criterion]) -> list[CriteriaGroup]:
    groups: list[CriteriaGroup] = []
    for criterion in criteria:
        heading = criterion.heading or ""
        if not groups or groups[-1].heading != heading:
            groups.append(CriteriaGroup(heading, []))
        groups[-1].items.append(_criterion(criterion))
    return groups


def _criterion(criterion: Criterion) -> CriterionView:
    return CriterionView(criterion.text, [_criterion(child) for child in criterion.children])


def _design_facts(study: Study) -> list[Fact]:
    design = study.design
    info = design.design_info
    facts: list[Fact] = []
    if info:
        if info.primary_purpose:
            facts.append(Fact("Primary purpose", label(PRIMARY_PURPOSE, info.primary_purpose)))
        if info.allocation:
            facts.append(Fact("Allocation", label(ALLOCATION, info.allocation)))
        if info.intervention_model:
            facts.append(Fact("Interventional model", label(INTERVENTION_MODEL, info.intervention_model)))
        if info.intervention_model_description:
            facts.append(Fact("Model details", render_inline(info.intervention_model_description)))
        if info.observational_model:
            facts.append(Fact("Observational model", label(OBSERVATIONAL_MODEL, info.observational_model)))
        if info.time_perspective:
            facts.append(Fact("Time perspective", label(TIME_PERSPECTIVE, info.time_perspective)))
        masking = info.masking_info
        if masking and masking.masking:
            value = label(MASKING, masking.masking)
            if masking.who_masked:
                value += " (" + ", ".join(label(WHO_MASKED, w) for w in masking.who_masked) + ")"
            facts.append(Fact("Masking", value))
        if masking and masking.masking_description:
            facts.append(Fact("Masking details", render_inline(masking.masking_description)))
    if design.target_duration:
        facts.append(Fact("Target follow-up", design.target_duration))
    if design.patient_registry:
        facts.append(Fact("Patient registry", "Yes"))
    if design.bio_spec and (design.bio_spec.retention or design.bio_spec.description):
        retention = (design.bio_spec.retention or "").replace("_", " ").capitalize()
        text = ": ".join(p for p in (retention, design.bio_spec.description) if p)
        facts.append(Fact("Biospecimens", render_inline(text)))
    return facts


def _groups_sentence(study: Study) -> str:
    arms = study.arms_interventions.arm_groups
    if not arms:
        return ""
    noun = "patient group" if len(arms) == 1 else "patient groups"
    info = study.design.enrollment_info
    if info and info.count is not None:
        people = "participant" if info.count == 1 else "participants"
        return f"{info.count:,} {people} in {len(arms)} {noun}"
    return f"{len(arms)} {noun}"


def _arms(study: Study) -> list[ArmView]:
    views = []
    for arm in study.arms_interventions.arm_groups:
        kind = label(ARM_TYPE, arm.type)
        title = f"{kind}: {arm.label}" if kind and arm.label else (arm.label or kind or "Group")
        views.append(ArmView(
            title=title,
            kind=f"{kind} group" if kind else "",
            description=render_markdown(arm.description),
            treatments=list(arm.intervention_names),
        ))
    return views


def _outcomes(study: Study) -> list[OutcomeGroup]:
    module = study.outcomes
    groups = [("Primary outcomes", module.primary_outcomes), ("Secondary outcomes", module.secondary_outcomes),
              ("Other outcomes", module.other_outcomes)]
    return [OutcomeGroup(title, [_outcome(o) for o in items]) for title, items in groups if items]


def _outcome(outcome: Outcome) -> OutcomeView:
    return OutcomeView(outcome.measure or "", render_markdown(outcome.description), outcome.time_frame or "")


def _date_fact(name: str, struct: DateStruct | None) -> Fact | None:
    if not struct or not struct.date:
        return None
    kind = label(DATE_TYPE, struct.type)
    return Fact(name, f"{human_date(struct.date)} ({kind.lower()})" if kind else human_date(struct.date))


def _dates(study: Study) -> list[Fact]:
    status = study.status
    facts = [
        _date_fact("Study start", status.start_date_struct),
        _date_fact("Primary completion", status.primary_completion_date_struct),
        _date_fact("Study completion", status.completion_date_struct),
        _date_fact("First posted", status.study_first_post_date_struct),
        _date_fact("Results first posted", status.results_first_post_date_struct),
        _date_fact("Last updated", status.last_update_post_date_struct),
    ]
    if status.status_verified_date:
        facts.append(Fact("Record verified", human_date(status.status_verified_date)))
    return [fact for fact in facts if fact]


def _contact(contact: Contact) -> ContactView:
    phone = (contact.phone or "").strip()
    digits = _PHONE_CHARS.sub("", phone)
    phone_href = f"tel:{digits}" if len(digits.lstrip("+")) >= 5 else ""
    if phone_href and contact.phone_ext and contact.phone_ext.strip().isdigit():
        phone_href += f";ext={contact.phone_ext.strip()}"
        phone = f"{phone} ext. {contact.phone_ext.strip()}"
    email = (contact.email or "").strip()
    return ContactView(
        name=contact.name or "",
        role=label(CONTACT_ROLE, contact.role) if contact.role and contact.role != "CONTACT" else "",
        phone=phone,
        phone_href=phone_href,
        email=email,
        email_href=f"mailto:{email}" if _EMAIL.match(email) else "",
    )


def _site(location: Location) -> SiteView:
    country_slug = slugify(location.country) if location.country else ""
    href = (f"/locations/{country_slug}/{slugify(location.state)}/{city_slug(location.city)}"
            if location.country and location.city else "")
    return SiteView(
        facility=location.facility or "",
        city=location.city or "",
        state=location.state or "",
        zip=location.zip or "",
        country=location.country or "",
        status=location.status or "",
        status_label=status_label(location.status),
        status_tone=status_tone(location.status),
        contacts=[_contact(c) for c in location.contacts],
        location_href=href,
    )


def _sites_by_country(locations: list[Location]) -> list[CountrySites]:
    grouped: dict[str, list[SiteView]] = {}
    for location in locations:
        grouped.setdefault(location.country or "Country not given", []).append(_site(location))
    return [CountrySites(country, sites) for country, sites in grouped.items()]


def _map_sites(locations: list[Location], stored_sites: list[dict]) -> list[MapSite]:
    """Coordinates from the store (which geocoded sites without a geoPoint), labels from the record."""
    points = []
    for site in stored_sites:
        if site.get("lat") is None or site.get("lon") is None:
            continue
        position = site.get("position", -1)
        location = locations[position] if 0 <= position < len(locations) else None
        facility = (location.facility if location else site.get("facility")) or "Study site"
        place = ", ".join(p for p in (site.get("city"), site.get("state"), site.get("country")) if p)
        detail = " · ".join(p for p in (place, status_label(site.get("status"))) if p)
        points.append(MapSite(site["lat"], site["lon"], facility, detail, bool(site.get("approximate"))))
    return points


def _references(study: Study) -> list[ReferenceView]:
    views = []
    for ref in study.references.references:
        if not ref.citation and not ref.pmid:
            continue
        href = PUBMED_URL.format(pmid=ref.pmid) if ref.pmid and ref.pmid.isdigit() else ""
        views.append(ReferenceView(ref.citation or f"PubMed {ref.pmid}", href, label(REFERENCE_TYPE, ref.type)))
    for link in study.references.see_also_links:
        url = (link.url or "").strip()
        if url.lower().startswith(("http://", "https://")):
            views.append(ReferenceView(link.label or url, url, "Link"))
    return views


def _meta_description(summary: str) -> str:
    text = " ".join(re.sub(r"\\(.)", r"\1", summary).split())
    return text if len(text) <= 200 else text[:197].rsplit(" ", 1)[0] + "…"

