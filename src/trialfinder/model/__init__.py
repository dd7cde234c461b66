"""Domain model: the typed ClinicalTrials.gov study, ages, and enum labels. No I/O here."""

from trialfinder.model.ages import age_eligible, age_in_years, describe_age_range
from trialfinder.model.labels import label
from trialfinder.model.study import Study, decode_study, study_from_dict

__all__ = ["Study", "decode_study", "study_from_dict", "age_in_years", "age_eligible", "describe_age_range", "label"]
