"""Human labels for every API v2 enum, worded as ClinicalTrials.gov's website shows them.

This is the one table of display strings: the trial page, the search facets, the CLI and the API's human-readable
output all read it.
"""

from __future__ import annotations

OVERALL_STATUS = {
    "RECRUITING": "Recruiting",
    "NOT_YET_RECRUITING": "Not yet recruiting",
    "ENROLLING_BY_INVITATION": "Enrolling by invitation",
    "ACTIVE_NOT_RECRUITING": "Active, not recruiting",
    "SUSPENDED": "Suspended",
    "TERMINATED": "Terminated",
    "COMPLETED": "Completed",
    "WITHDRAWN": "Withdrawn",
    "UNKNOWN": "Unknown status",
    "AVAILABLE": "Available",
    "NO_LONGER_AVAILABLE": "No longer available",
    "TEMPORARILY_NOT_AVAILABLE": "Temporarily not available",
    "APPROVED_FOR_MARKETING": "Approved for marketing",
    "WITHHELD": "Withheld",
}

PHASE = {
    "EARLY_PHASE1": "Early Phase 1",
    "PHASE1": "Phase 1",
    "PHASE2": "Phase 2",
    "PHASE3": "Phase 3",
    "PHASE4": "Phase 4",
    "NA": "Not Applicable",
}

STUDY_TYPE = {
    "INTERVENTIONAL": "Interventional",
    "OBSERVATIONAL": "Observational",
    "EXPANDED_ACCESS": "Expanded Access",
}

ALLOCATION = {"RANDOMIZED": "Randomized", "NON_RANDOMIZED": "Non-Randomized", "NA": "N/A"}

INTERVENTION_MODEL = {
    "SINGLE_GROUP": "Single Group Assignment",
    "PARALLEL": "Parallel Assignment",
    "CROSSOVER": "Crossover Assignment",
    "FACTORIAL": "Factorial Assignment",
    "SEQUENTIAL": "Sequential Assignment",
}

MASKING = {
    "NONE": "None (Open label)",
    "SINGLE": "Single",
    "DOUBLE": "Double",
    "TRIPLE": "Triple",
    "QUADRUPLE": "Quadruple",
}

WHO_MASKED = {
    "PARTICIPANT": "Participant",
    "CARE_PROVIDER": "Care Provider",
    "INVESTIGATOR": "Investigator",
    "OUTCOMES_ASSESSOR": "Outcomes Assessor",
}

PRIMARY_PURPOSE = {
    "TREATMENT": "Treatment",
    "PREVENTION": "Prevention",
    "DIAGNOSTIC": "Diagnostic",
    "ECT": "Educational/Counseling/Training",
    "SUPPORTIVE_CARE": "Supportive Care",
    "SCREENING": "Screening",
    "HEALTH_SERVICES_RESEARCH": "Health Services Research",
    "BASIC_SCIENCE": "Basic Science",
    "DEVICE_FEASIBILITY": "Device Feasibility",
    "OTHER": "Other",
}

OBSERVATIONAL_MODEL = {
    "COHORT": "Cohort",
    "CASE_CONTROL": "Case-Control",
    "CASE_ONLY": "Case-Only",
    "CASE_CROSSOVER": "Case-Crossover",
    "ECOLOGIC_OR_COMMUNITY": "Ecologic or Community",
    "FAMILY_BASED": "Family-Based",
    "DEFINED_POPULATION": "Defined Population",
    "NATURAL_HISTORY": "Natural History",
    "OTHER": "Other",
}

TIME_PERSPECTIVE = {
    "RETROSPECTIVE": "Retrospective",
    "PROSPECTIVE": "Prospective",
    "CROSS_SECTIONAL": "Cross-Sectional",
    "OTHER": "Other",
}

ARM_TYPE = {
    "EXPERIMENTAL": "Experimental",
    "ACTIVE_COMPARATOR": "Active Comparator",
    "PLACEBO_COMPARATOR": "Placebo Comparator",
    "SHAM_COMPARATOR": "Sham Comparator",
    "NO_INTERVENTION": "No Intervention",
    "OTHER": "Other",
}

INTERVENTION_TYPE = {
    "BEHAVIORAL": "Behavioral",
    "BIOLOGICAL": "Biological",
    "COMBINATION_PRODUCT": "Combination Product",
    "DEVICE": "Device",
    "DIAGNOSTIC_TEST": "Diagnostic Test",
    "DIETARY_SUPPLEMENT": "Dietary Supplement",
    "DRUG": "Drug",
    "GENETIC": "Genetic",
    "PROCEDURE": "Procedure",
    "RADIATION": "Radiation",
    "OTHER": "Other",
}

SEX = {"ALL": "All", "FEMALE": "Female", "MALE": "Male"}

STANDARD_AGE = {"CHILD": "Child", "ADULT": "Adult", "OLDER_ADULT": "Older Adult"}

# Sponsor class -> the website's "funder type": NIH, other U.S. federal agency, industry, and all the rest.
FUNDER_TYPE_OF_SPONSOR_CLASS = {
    "NIH": "NIH",
    "FED": "FED",
    "OTHER_GOV": "OTHER",
    "INDIV": "OTHER",
    "INDUSTRY": "INDUSTRY",
    "NETWORK": "OTHER",
    "AMBIG": "OTHER",
    "OTHER": "OTHER",
    "UNKNOWN": "OTHER",
}

FUNDER_TYPE = {"NIH": "NIH", "FED": "Other U.S. federal agency", "INDUSTRY": "Industry", "OTHER": "Other"}

SITE_STATUS = OVERALL_STATUS

CONTACT_ROLE = {
    "STUDY_CHAIR": "Study Chair",
    "STUDY_DIRECTOR": "Study Director",
    "PRINCIPAL_INVESTIGATOR": "Principal Investigator",
    "SUB_INVESTIGATOR": "Sub-Investigator",
    "CONTACT": "Contact",
}

DATE_TYPE = {"ACTUAL": "Actual", "ESTIMATED": "Estimated"}

REFERENCE_TYPE = {"BACKGROUND": "Background", "RESULT": "Result", "DERIVED": "Derived"}

# Every table by the API v2 enum type name it labels (the names of /api/v2/studies/enums).
ENUMS: dict[str, dict[str, str]] = {
    "Status": OVERALL_STATUS,
    "Phase": PHASE,
    "StudyType": STUDY_TYPE,
    "DesignAllocation": ALLOCATION,
    "InterventionalAssignment": INTERVENTION_MODEL,
    "DesignMasking": MASKING,
    "WhoMasked": WHO_MASKED,
    "PrimaryPurpose": PRIMARY_PURPOSE,
    "ObservationalModel": OBSERVATIONAL_MODEL,
    "DesignTimePerspective": TIME_PERSPECTIVE,
    "ArmGroupType": ARM_TYPE,
    "InterventionType": INTERVENTION_TYPE,
    "Sex": SEX,
    "StandardAge": STANDARD_AGE,
    "AgencyClass": {
        "NIH": "NIH",
        "FED": "U.S. Fed",
        "OTHER_GOV": "Other government",
        "INDIV": "Individual",
        "INDUSTRY": "Industry",
        "NETWORK": "Network",
        "AMBIG": "Ambiguous",
        "OTHER": "Other",
        "UNKNOWN": "Unknown",
    },
    "ContactRole": CONTACT_ROLE,
    "DateType": DATE_TYPE,
    "ReferenceType": REFERENCE_TYPE,
}


def label(table: dict[str, str], value: str | None, default: str = "") -> str:
    """The human label of an enum value; unknown values are shown readably rather than dropped."""
    if value is None:
        return default
    return table.get(value) or value.replace("_", " ").capitalize()


def funder_type(sponsor_class: str | None) -> str:
    """The website's funder type (NIH, FED, INDUSTRY, OTHER) for a lead sponsor class."""
    return FUNDER_TYPE_OF_SPONSOR_CLASS.get(sponsor_class or "", "OTHER")
