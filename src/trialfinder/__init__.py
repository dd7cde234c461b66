"""trialfinder: a self-hostable clinical trial finder over a local mirror of ClinicalTrials.gov."""

__version__ = "0.1.0"
