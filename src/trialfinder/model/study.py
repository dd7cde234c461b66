"""Typed model of a ClinicalTrials.gov API v2 study record.

Only the modules that the trial page, search and matching read are typed; the original record is kept verbatim
by the store, so fields not typed here are never lost.
"""

from __future__ import annotations

import msgspec


class _Module(msgspec.Struct, rename="camel", omit_defaults=True, gc=False):
    """Base for every API v2 object: camelCase on the wire, unknown fields ignored.

    gc=False: decoded studies are trees (no object refers back to a parent), so the cyclic collector never needs
    to scan them; an ingest holds thousands at once and the scans were a large part of its CPU.
    """


# identification -----------------------------------------------------------------------------------------------


class Organization(_Module):
    full_name: str | None = None
    class_: str | None = msgspec.field(default=None, name="class")


class OrgStudyIdInfo(_Module):
    id: str | None = None
    type: str | None = None
    link: str | None = None


class SecondaryIdInfo(_Module):
    id: str | None = None
    type: str | None = None
    domain: str | None = None
    link: str | None = None


class IdentificationModule(_Module):
    nct_id: str | None = None
    nct_id_aliases: list[str] = []
    org_study_id_info: OrgStudyIdInfo | None = None
    secondary_id_infos: list[SecondaryIdInfo] = []
    organization: Organization | None = None
    brief_title: str | None = None
    official_title: str | None = None
    acronym: str | None = None


# status -------------------------------------------------------------------------------------------------------


class DateStruct(_Module):
    date: str | None = None
    type: str | None = None


class ExpandedAccessInfo(_Module):
    has_expanded_access: bool | None = None
    nct_id: str | None = None
    status_for_nct_id: str | None = None


class StatusModule(_Module):
    status_verified_date: str | None = None
    overall_status: str | None = None
    last_known_status: str | None = None
    why_stopped: str | None = None
    expanded_access_info: ExpandedAccessInfo | None = None
    start_date_struct: DateStruct | None = None
    primary_completion_date_struct: DateStruct | None = None
    completion_date_struct: DateStruct | None = None
    study_first_submit_date: str | None = None
    study_first_post_date_struct: DateStruct | None = None
    results_first_post_date_struct: DateStruct | None = None
    last_update_submit_date: str | None = None
    last_update_post_date_struct: DateStruct | None = None


# sponsor, oversight, description, conditions ------------------------------------------------------------------


class Sponsor(_Module):
    name: str | None = None
    class_: str | None = msgspec.field(default=None, name="class")


class ResponsibleParty(_Module):
    type: str | None = None
    investigator_full_name: str | None = None
    investigator_title: str | None = None
    investigator_affiliation: str | None = None
    old_name_title: str | None = None
    old_organization: str | None = None


class SponsorCollaboratorsModule(_Module):
    responsible_party: ResponsibleParty | None = None
    lead_sponsor: Sponsor | None = None
    collaborators: list[Sponsor] = []


class OversightModule(_Module):
    oversight_has_dmc: bool | None = None
    is_fda_regulated_drug: bool | None = None
    is_fda_regulated_device: bool | None = None
    is_unapproved_device: bool | None = None
    is_us_export: bool | None = None


class DescriptionModule(_Module):
    brief_summary: str | None = None
    detailed_description: str | None = None


class ConditionsModule(_Module):
    conditions: list[str] = []
    keywords: list[str] = []


# design -------------------------------------------------------------------------------------------------------


class MaskingInfo(_Module):
    masking: str | None = None
    masking_description: str | None = None
    who_masked: list[str] = []


class DesignInfo(_Module):
    allocation: str | None = None
    intervention_model: str | None = None
    intervention_model_description: str | None = None
    primary_purpose: str | None = None
    observational_model: str | None = None
    time_perspective: str | None = None
    masking_info: MaskingInfo | None = None


class EnrollmentInfo(_Module):
    count: int | None = None
    type: str | None = None


class BioSpec(_Module):
    retention: str | None = None
    description: str | None = None


class DesignModule(_Module):
    study_type: str | None = None
    patient_registry: bool | None = None
    target_duration: str | None = None
    phases: list[str] = []
    design_info: DesignInfo | None = None
    bio_spec: BioSpec | None = None
    enrollment_info: EnrollmentInfo | None = None


# arms, interventions, outcomes --------------------------------------------------------------------------------


class ArmGroup(_Module):
    label: str | None = None
    type: str | None = None
    description: str | None = None
    intervention_names: list[str] = []


class Intervention(_Module):
    type: str | None = None
    name: str | None = None
    description: str | None = None
    arm_group_labels: list[str] = []
    other_names: list[str] = []


class ArmsInterventionsModule(_Module):
    arm_groups: list[ArmGroup] = []
    interventions: list[Intervention] = []


class Outcome(_Module):
    measure: str | None = None
    description: str | None = None
    time_frame: str | None = None


class OutcomesModule(_Module):
    primary_outcomes: list[Outcome] = []
    secondary_outcomes: list[Outcome] = []
    other_outcomes: list[Outcome] = []


# eligibility --------------------------------------------------------------------------------------------------


class EligibilityModule(_Module):
    eligibility_criteria: str | None = None
    healthy_volunteers: bool | None = None
    sex: str | None = None
    gender_based: bool | None = None
    gender_description: str | None = None
    minimum_age: str | None = None
    maximum_age: str | None = None
    std_ages: list[str] = []
    study_population: str | None = None
    sampling_method: str | None = None


# contacts and locations ---------------------------------------------------------------------------------------


class Contact(_Module):
    name: str | None = None
    role: str | None = None
    phone: str | None = None
    phone_ext: str | None = None
    email: str | None = None


class Official(_Module):
    name: str | None = None
    affiliation: str | None = None
    role: str | None = None


class GeoPoint(_Module):
    lat: float
    lon: float


class Location(_Module):
    facility: str | None = None
    status: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None
    contacts: list[Contact] = []
    geo_point: GeoPoint | None = None


class ContactsLocationsModule(_Module):
    central_contacts: list[Contact] = []
    overall_officials: list[Official] = []
    locations: list[Location] = []


class Reference(_Module):
    pmid: str | None = None
    type: str | None = None
    citation: str | None = None


class SeeAlsoLink(_Module):
    label: str | None = None
    url: str | None = None


class ReferencesModule(_Module):
    references: list[Reference] = []
    see_also_links: list[SeeAlsoLink] = []


class ProtocolSection(_Module):
    identification_module: IdentificationModule | None = None
    status_module: StatusModule | None = None
    sponsor_collaborators_module: SponsorCollaboratorsModule | None = None
    oversight_module: OversightModule | None = None
    description_module: DescriptionModule | None = None
    conditions_module: ConditionsModule | None = None
    design_module: DesignModule | None = None
    arms_interventions_module: ArmsInterventionsModule | None = None
    outcomes_module: OutcomesModule | None = None
    eligibility_module: EligibilityModule | None = None
    contacts_locations_module: ContactsLocationsModule | None = None
    references_module: ReferencesModule | None = None


# derived ------------------------------------------------------------------------------------------------------


class MeshTerm(_Module):
    id: str | None = None
    term: str | None = None


class BrowseModule(_Module):
    meshes: list[MeshTerm] = []
    ancestors: list[MeshTerm] = []


class MiscInfoModule(_Module):
    version_holder: str | None = None


class DerivedSection(_Module):
    misc_info_module: MiscInfoModule | None = None
    condition_browse_module: BrowseModule | None = None
    intervention_browse_module: BrowseModule | None = None


class Study(_Module):
    """One ClinicalTrials.gov study as API v2 returns it."""

    protocol_section: ProtocolSection = msgspec.field(default_factory=ProtocolSection)
    derived_section: DerivedSection | None = None
    has_results: bool = False

    # Convenience accessors: every layer reads these instead of walking the optional modules itself.

    @property
    def nct_id(self) -> str:
        """The study's NCT id ('' when the record has none)."""
        ident = self.protocol_section.identification_module
        return (ident.nct_id or "") if ident else ""

    @property
    def identification(self) -> IdentificationModule:
        return self.protocol_section.identification_module or IdentificationModule()

    @property
    def status(self) -> StatusModule:
        return self.protocol_section.status_module or StatusModule()

    @property
    def sponsors(self) -> SponsorCollaboratorsModule:
        return self.protocol_section.sponsor_collaborators_module or SponsorCollaboratorsModule()

    @property
    def description(self) -> DescriptionModule:
        return self.protocol_section.description_module or DescriptionModule()

    @property
    def conditions(self) -> ConditionsModule:
        return self.protocol_section.conditions_module or ConditionsModule()

    @property
    def design(self) -> DesignModule:
        return self.protocol_section.design_module or DesignModule()

    @property
    def arms_interventions(self) -> ArmsInterventionsModule:
        return self.protocol_section.arms_interventions_module or ArmsInterventionsModule()

    @property
    def outcomes(self) -> OutcomesModule:
        return self.protocol_section.outcomes_module or OutcomesModule()

    @property
    def eligibility(self) -> EligibilityModule:
        return self.protocol_section.eligibility_module or EligibilityModule()

    @property
    def contacts_locations(self) -> ContactsLocationsModule:
        return self.protocol_section.contacts_locations_module or ContactsLocationsModule()

    @property
    def references(self) -> ReferencesModule:
        return self.protocol_section.references_module or ReferencesModule()

    @property
    def derived(self) -> DerivedSection:
        return self.derived_section or DerivedSection()

    @property
    def title(self) -> str:
        """Brief title, falling back to the official title, then the NCT id."""
        ident = self.identification
        return ident.brief_title or ident.official_title or self.nct_id

    @property
    def overall_status(self) -> str | None:
        return self.status.overall_status

    @property
    def last_update_posted(self) -> str | None:
        """Last update posted date (YYYY-MM or YYYY-MM-DD), the version key for upserts."""
        struct = self.status.last_update_post_date_struct
        return struct.date if struct else None

    @property
    def lead_sponsor_name(self) -> str | None:
        lead = self.sponsors.lead_sponsor
        return lead.name if lead else None

    @property
    def lead_sponsor_class(self) -> str | None:
        lead = self.sponsors.lead_sponsor
        return lead.class_ if lead else None

    def mesh_terms(self, kind: str = "condition", *, ancestors: bool = False) -> list[str]:
        """MeSH terms of the derived condition or intervention browse module."""
        derived = self.derived
        module = derived.condition_browse_module if kind == "condition" else derived.intervention_browse_module
        if module is None:
            return []
        terms = module.ancestors if ancestors else module.meshes
        return [t.term for t in terms if t.term]


_study_decoder = msgspec.json.Decoder(Study)


def decode_study(raw: bytes | str) -> Study:
    """Decode one API v2 study from JSON text; raises msgspec.ValidationError naming the bad field."""
    return _study_decoder.decode(raw)


def study_from_dict(record: dict) -> Study:
    """Convert an already-parsed API v2 study object into the typed model."""
    return msgspec.convert(record, Study)
