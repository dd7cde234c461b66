"""Small hand-written lexicons: conditions, therapies, lab analytes and their common abbreviations."""

from __future__ import annotations

import re
from functools import lru_cache

# the endings of words that qualify a noun ("meningeal", "hepatic", "recurrent", "refractory")
ADJECTIVE_SHAPE = re.compile(r"(?:al|ic|ous|ive|ary|ar|ed|ent|ant|ile|oid|ine|ian|ory|able|ible)$", re.IGNORECASE)

# concept -> surface forms (lower case). Abbreviations are matched case-sensitively elsewhere only when listed
# in CASE_SENSITIVE_ABBREVIATIONS, because "MI" or "ALL" are ordinary words in lower case.
CONDITIONS: dict[str, tuple[str, ...]] = {
    "type 2 diabetes": ("type 2 diabetes", "type ii diabetes", "type 2 diabetes mellitus", "type ii diabetes mellitus", "t2dm", "t2d",
                        "non-insulin-dependent diabetes", "niddm", "diabetes mellitus type 2", "diabetes mellitus type ii", "adult-onset diabetes"),
    "type 1 diabetes": ("type 1 diabetes", "type i diabetes", "type 1 diabetes mellitus", "type i diabetes mellitus", "t1dm", "t1d",
                        "insulin-dependent diabetes", "iddm", "diabetes mellitus type 1", "diabetes mellitus type i", "juvenile diabetes"),
    # "Type 1 or type 2 diabetes" names both types: as one name it is the parent, not type 2 alone
    "diabetes": ("diabetes", "diabetes mellitus", "diabetic", "dm", "type 1 or type 2 diabetes",
                 "type 1 or 2 diabetes", "type i or type ii diabetes", "type i or ii diabetes",
                 "type 1 or type 2 diabetes mellitus", "type 1 or 2 diabetes mellitus"),
    "hypertension": ("hypertension", "high blood pressure", "htn", "hypertensive"),
    "pulmonary hypertension": ("pulmonary hypertension", "pulmonary arterial hypertension", "pah"),
    # raised pressure in the eye, the portal vein or the skull: other diseases than high blood pressure
    "ocular hypertension": ("ocular hypertension", "intraocular hypertension"),
    "portal hypertension": ("portal hypertension",),
    "intracranial hypertension": ("intracranial hypertension", "idiopathic intracranial hypertension",
                                  "pseudotumor cerebri"),
    "myocardial infarction": ("myocardial infarction", "heart attack", "mi", "ami", "stemi", "nstemi"),
    "heart failure": ("heart failure", "congestive heart failure", "chf", "cardiac failure", "hfref", "hfpef"),
    "coronary artery disease": ("coronary artery disease", "coronary heart disease", "cad", "ischemic heart disease",
                                "ischaemic heart disease"),
    "angina": ("angina", "unstable angina", "angina pectoris"),
    "atrial fibrillation": ("atrial fibrillation", "afib", "af", "a-fib"),
    "arrhythmia": ("arrhythmia", "cardiac arrhythmia", "arrhythmias"),
    "cardiovascular disease": ("cardiovascular disease", "cardiac disease", "heart disease", "cvd"),
    "stroke": ("stroke", "cerebrovascular accident", "cva", "cerebral infarction"),
    # a TIA is not a stroke: "TIA as the qualifying event" does not describe a stroke patient, nor the reverse
    "transient ischemic attack": ("transient ischemic attack", "transient ischaemic attack", "tia"),
    "deep vein thrombosis": ("deep vein thrombosis", "deep venous thrombosis", "dvt"),
    "pulmonary embolism": ("pulmonary embolism", "pe"),
    "copd": ("chronic obstructive pulmonary disease", "copd", "emphysema", "chronic bronchitis"),
    "asthma": ("asthma", "asthmatic"),
    "interstitial lung disease": ("interstitial lung disease", "ild", "pneumonitis", "pulmonary fibrosis"),
    "chronic kidney disease": ("chronic kidney disease", "ckd", "renal insufficiency", "renal failure",
                               "kidney failure", "renal impairment", "kidney disease", "end-stage renal disease", "esrd"),
    "liver disease": ("liver disease", "hepatic disease", "hepatic impairment", "liver failure", "hepatic insufficiency"),
    "cirrhosis": ("cirrhosis", "liver cirrhosis"),
    "hepatitis b": ("hepatitis b", "hbv", "hepatitis b virus"),
    "hepatitis c": ("hepatitis c", "hcv", "hepatitis c virus"),
    "hiv": ("hiv", "human immunodeficiency virus", "aids", "hiv infection"),
    "tuberculosis": ("tuberculosis", "tb"),
    "covid-19": ("covid-19", "covid", "sars-cov-2", "coronavirus disease 2019"),
    "infection": ("infection", "active infection", "infections", "sepsis"),
    "cancer": ("cancer", "malignancy", "malignancies", "malignant disease", "carcinoma", "tumor", "tumour", "neoplasm"),
    # the usual kinds of NSCLC by their own names
    "non-small cell lung cancer": ("non-small cell lung cancer", "non small cell lung cancer", "nsclc",
                                   "non-small-cell lung cancer", "non-small cell lung carcinoma",
                                   "non-small-cell lung carcinoma", "non small cell lung carcinoma",
                                   "lung adenocarcinoma", "adenocarcinoma of the lung", "pulmonary adenocarcinoma",
                                   "squamous cell lung cancer", "squamous cell carcinoma of the lung",
                                   "lung squamous cell carcinoma", "squamous non-small cell lung cancer"),
    "small cell lung cancer": ("small cell lung cancer", "sclc", "small-cell lung cancer", "small cell lung carcinoma",
                               "small-cell lung carcinoma", "small cell carcinoma of the lung"),
    "lung cancer": ("lung cancer", "lung carcinoma"),
    "breast cancer": ("breast cancer", "breast carcinoma"),
    "prostate cancer": ("prostate cancer", "prostate carcinoma", "prostatic adenocarcinoma"),
    "colorectal cancer": ("colorectal cancer", "colorectal carcinoma", "colon cancer", "rectal cancer", "crc"),
    "melanoma": ("melanoma",),
    "ovarian cancer": ("ovarian cancer", "ovarian carcinoma", "epithelial ovarian cancer", "cancer of the ovary"),
    "pancreatic cancer": ("pancreatic cancer", "pancreatic adenocarcinoma", "pancreatic ductal adenocarcinoma",
                          "pancreatic carcinoma", "pdac"),
    "gastric cancer": ("gastric cancer", "stomach cancer", "gastric adenocarcinoma", "gastric carcinoma"),
    "esophageal cancer": ("esophageal cancer", "oesophageal cancer", "esophageal carcinoma", "oesophageal carcinoma",
                          "esophageal adenocarcinoma", "esophageal squamous cell carcinoma"),
    "bladder cancer": ("bladder cancer", "bladder carcinoma", "urothelial carcinoma", "urothelial cancer"),
    "renal cell carcinoma": ("renal cell carcinoma", "renal cell cancer", "kidney cancer", "renal cancer", "rcc"),
    "hepatocellular carcinoma": ("hepatocellular carcinoma", "liver cancer", "hepatoma", "hcc"),
    "cervical cancer": ("cervical cancer", "cervical carcinoma", "cancer of the cervix"),
    "endometrial cancer": ("endometrial cancer", "endometrial carcinoma", "uterine cancer"),
    "head and neck cancer": ("head and neck cancer", "head and neck squamous cell carcinoma", "hnscc", "scchn"),
    "thyroid cancer": ("thyroid cancer", "thyroid carcinoma"),
    "sarcoma": ("sarcoma", "soft tissue sarcoma", "osteosarcoma", "ewing sarcoma"),
    "mesothelioma": ("mesothelioma", "malignant pleural mesothelioma"),
    "myelodysplastic syndrome": ("myelodysplastic syndrome", "myelodysplastic syndromes", "mds"),
    "lymphoma": ("lymphoma", "non-hodgkin lymphoma", "hodgkin lymphoma", "nhl"),
    "leukemia": ("leukemia", "leukaemia", "aml", "cll", "acute myeloid leukemia", "chronic lymphocytic leukemia"),
    "multiple myeloma": ("multiple myeloma", "myeloma"),
    "glioma": ("glioma", "glioblastoma", "gbm"),
    "brain metastases": ("brain metastases", "brain metastasis", "cns metastases", "central nervous system metastases"),
    "metastatic disease": ("metastatic disease", "metastases", "metastasis"),
    "epilepsy": ("epilepsy", "seizure disorder", "seizure disorders"),
    # one seizure (after a bleed, with a fever) is not epilepsy; epilepsy implies seizures (PARENT_CONCEPTS)
    "seizure": ("seizures", "seizure", "convulsions", "convulsion"),
    "dementia": ("dementia", "alzheimer's disease", "alzheimer disease"),
    "parkinson's disease": ("parkinson's disease", "parkinson disease", "parkinsons disease", "parkinson's",
                            "parkinsons", "pd"),
    "multiple sclerosis": ("multiple sclerosis", "ms"),
    "depression": ("depression", "major depressive disorder", "mdd", "depressive disorder"),
    "bipolar disorder": ("bipolar disorder", "bipolar"),
    "suicidality": ("suicidal ideation", "suicidal ideations", "suicidal thoughts", "suicidal behavior",
                    "suicidal behaviour", "suicidality", "suicide attempt", "suicide attempts", "risk of suicide",
                    "suicide risk", "suicidal risk"),
    "schizophrenia": ("schizophrenia", "psychosis", "psychotic disorder"),
    "psychiatric disorder": ("psychiatric disorder", "psychiatric illness", "mental illness", "psychiatric disease"),
    "substance abuse": ("substance abuse", "drug abuse", "alcohol abuse", "alcoholism", "substance use disorder",
                        "alcohol dependence", "drug addiction"),
    "autoimmune disease": ("autoimmune disease", "autoimmune disorder"),
    "rheumatoid arthritis": ("rheumatoid arthritis", "ra"),
    "lupus": ("systemic lupus erythematosus", "lupus", "sle"),
    "inflammatory bowel disease": ("inflammatory bowel disease", "ibd", "crohn's disease", "crohn disease",
                                   "ulcerative colitis"),
    "psoriasis": ("psoriasis",),
    "hypothyroidism": ("hypothyroidism",),
    "hyperthyroidism": ("hyperthyroidism",),
    "anemia": ("anemia", "anaemia"),
    "sickle cell disease": ("sickle cell disease", "sickle cell anemia", "scd"),
    "bleeding disorder": ("bleeding disorder", "bleeding disorders", "coagulopathy", "bleeding diathesis",
                          "hemophilia", "haemophilia"),
    "peripheral neuropathy": ("peripheral neuropathy", "neuropathy"),
    "obesity": ("obesity", "obese"),
    "osteoporosis": ("osteoporosis",),
    "osteoarthritis": ("osteoarthritis", "oa"),
    "pancreatitis": ("pancreatitis",),
    "allergy": ("allergy", "hypersensitivity", "allergic"),
    "immunodeficiency": ("immunodeficiency", "immunocompromised", "immunosuppressed"),
    "organ transplant": ("organ transplant", "organ transplantation", "solid organ transplant"),
    "sleep apnea": ("sleep apnea", "obstructive sleep apnea", "osa", "sleep apnoea"),
    "gestational diabetes": ("gestational diabetes", "gdm"),
    "hyperlipidemia": ("hyperlipidemia", "dyslipidemia", "hypercholesterolemia"),
    "chest pain": ("chest pain",),
    "herniated disc": ("herniated disc", "disc herniation", "herniated disk", "disc prolapse"),
    "low back pain": ("low back pain", "back pain", "lbp"),
    "glaucoma": ("glaucoma", "open-angle glaucoma", "primary open-angle glaucoma", "poag"),
    "macular degeneration": ("macular degeneration", "age-related macular degeneration", "amd"),
    "anxiety disorder": ("anxiety disorder", "generalized anxiety disorder", "anxiety disorders"),
    "post-traumatic stress disorder": ("post-traumatic stress disorder", "posttraumatic stress disorder", "ptsd"),
    "adhd": ("attention deficit hyperactivity disorder", "attention-deficit/hyperactivity disorder", "adhd"),
    "autism": ("autism", "autism spectrum disorder"),
    "migraine": ("migraine", "migraines"),
    "insomnia": ("insomnia",),
    "fibromyalgia": ("fibromyalgia",),
    "gout": ("gout",),
    "nonalcoholic steatohepatitis": ("nonalcoholic steatohepatitis", "non-alcoholic steatohepatitis", "nash"),
    "atopic dermatitis": ("atopic dermatitis", "eczema"),
    "cystic fibrosis": ("cystic fibrosis",),
    "amyotrophic lateral sclerosis": ("amyotrophic lateral sclerosis", "als", "motor neuron disease"),
    "peripheral artery disease": ("peripheral artery disease", "peripheral arterial disease", "pad"),
    "aortic stenosis": ("aortic stenosis", "aortic valve stenosis"),
    "endometriosis": ("endometriosis",),
    "polycystic ovary syndrome": ("polycystic ovary syndrome", "polycystic ovarian syndrome", "pcos"),
    "celiac disease": ("celiac disease", "coeliac disease"),
    "irritable bowel syndrome": ("irritable bowel syndrome", "ibs"),
    "pneumonia": ("pneumonia",),
    "acute respiratory distress syndrome": ("acute respiratory distress syndrome", "ards"),
    "influenza": ("influenza", "flu"),
    "traumatic brain injury": ("traumatic brain injury", "tbi"),
}

THERAPIES: dict[str, tuple[str, ...]] = {
    "chemotherapy": ("chemotherapy", "chemo", "cytotoxic therapy", "cytotoxic chemotherapy",
                     "systemic chemotherapy", "cytotoxic agents"),
    "radiotherapy": ("radiotherapy", "radiation therapy", "radiation", "irradiation", "rt", "radiosurgery",
                     "stereotactic radiosurgery", "srs", "stereotactic body radiation therapy", "sbrt", "gamma knife",
                     "whole brain radiotherapy", "whole brain radiation therapy", "wbrt", "xrt"),
    "immunotherapy": ("immunotherapy", "immune checkpoint inhibitor", "checkpoint inhibitor", "checkpoint inhibitors",
                      "anti-pd-1", "anti-pd-l1", "pd-1 inhibitor", "pd-l1 inhibitor", "anti-ctla-4",
                      "biologic response modifiers", "biologic therapy"),
    "targeted therapy": ("targeted therapy", "tyrosine kinase inhibitor", "tki", "egfr-tki", "egfr tki"),
    "hormone therapy": ("hormone therapy", "hormonal therapy", "endocrine therapy", "androgen deprivation therapy",
                        "hormone replacement therapy", "hrt"),
    "surgery": ("surgery", "surgical procedure", "operation", "resection", "major surgery"),
    "organ transplantation": ("transplant", "transplantation", "stem cell transplant", "bone marrow transplant"),
    "corticosteroids": ("corticosteroids", "corticosteroid", "steroids", "steroid", "prednisone", "prednisolone",
                        "dexamethasone", "glucocorticoids", "glucocorticoid"),
    "immunosuppressants": ("immunosuppressive therapy", "immunosuppressants", "immunosuppressive agents",
                           "immunosuppressive drugs", "immunosuppressive medication"),
    "anticoagulants": ("anticoagulants", "anticoagulant", "anticoagulation", "anticoagulant therapy", "warfarin",
                       "heparin", "low molecular weight heparin", "doac", "noac", "apixaban", "rivaroxaban"),
    "antiplatelet agents": ("antiplatelet", "antiplatelet therapy", "aspirin", "clopidogrel"),
    "insulin": ("insulin", "insulin therapy"),
    "metformin": ("metformin",),
    "glp-1 receptor agonists": ("glp-1 receptor agonist", "glp-1 ra", "glp-1 agonist", "semaglutide", "liraglutide",
                                "dulaglutide", "exenatide"),
    "sglt2 inhibitors": ("sglt2 inhibitor", "sglt-2 inhibitor", "sglt2 inhibitors", "empagliflozin", "dapagliflozin",
                         "canagliflozin"),
    "statins": ("statin", "statins", "atorvastatin", "rosuvastatin", "simvastatin"),
    "nsaids": ("nsaid", "nsaids", "nonsteroidal anti-inflammatory", "non-steroidal anti-inflammatory", "ibuprofen"),
    "opioids": ("opioid", "opioids", "morphine", "oxycodone"),
    "antibiotics": ("antibiotic", "antibiotics", "antimicrobial therapy"),
    "antidepressants": ("antidepressant", "antidepressants", "ssri", "ssris"),
    "investigational agent": ("investigational drug", "investigational agent", "investigational product",
                              "experimental drug", "investigational agents", "investigational drugs",
                              "investigational medicinal product", "study drug", "investigational therapy"),
    "blood transfusion": ("blood transfusion", "transfusion", "transfusions"),
    "antiretroviral therapy": ("antiretroviral therapy", "antiretroviral treatment", "antiretrovirals", "art",
                               "haart", "highly active antiretroviral therapy", "antiretroviral drugs"),
    "dialysis": ("dialysis", "hemodialysis", "haemodialysis", "peritoneal dialysis"),
    # the two ways to open a coronary artery; each is surgery or an intervention on the heart
    "coronary artery bypass graft": ("coronary artery bypass graft", "coronary artery bypass grafting",
                                     "coronary artery bypass graft surgery", "coronary artery bypass surgery",
                                     "coronary bypass", "cabg"),
    "percutaneous coronary intervention": ("percutaneous coronary intervention", "pci", "coronary angioplasty",
                                           "coronary stent", "coronary stenting", "ptca"),
    "mechanical ventilation": ("mechanical ventilation",),
    "oral contraceptives": ("oral contraceptives", "oral contraceptive"),
    "vaccination": ("vaccine", "vaccination", "vaccinated"),
    "epidural steroid injection": ("epidural steroid injection", "epidural injection", "epidural steroid injections"),
    "cisplatin": ("cisplatin", "cisplatinum"),
    "carboplatin": ("carboplatin",),
    "platinum-based chemotherapy": ("platinum-based chemotherapy", "platinum-based", "platinum doublet",
                                    "platinum compound"),
    "pemetrexed": ("pemetrexed",),
    "docetaxel": ("docetaxel",),
    "paclitaxel": ("paclitaxel",),
    "pembrolizumab": ("pembrolizumab",),
    "nivolumab": ("nivolumab",),
    "atezolizumab": ("atezolizumab",),
    "osimertinib": ("osimertinib",),
    "bevacizumab": ("bevacizumab",),
    "temozolomide": ("temozolomide",),
}

# Upper-case abbreviations that are also ordinary lower-case words; match them only in upper case.
CASE_SENSITIVE_ABBREVIATIONS = frozenset(
    {"mi", "ms", "ra", "pe", "af", "pd", "tb", "rt", "oa", "all", "dm", "ami", "cad", "scd", "osa", "hrt", "crc",
     "cva", "tia", "aids", "cvd", "lbp", "sle", "art", "als", "pad", "amd", "tbi", "flu", "ibs", "mds", "hcc", "rcc",
     "ards"}
)

# analyte -> surface forms; order matters: longer, more specific names are tried first.
LAB_ANALYTES: dict[str, tuple[str, ...]] = {
    "hba1c": ("hemoglobin a1c", "haemoglobin a1c", "glycated hemoglobin", "glycosylated hemoglobin",
              "glycated haemoglobin", "hba1c", "hba 1c", "hb a1c", "a1c", "hgba1c"),
    "anc": ("absolute neutrophil count", "absolute neutrophils count", "absolute neutrophil value",
            "neutrophil absolute value", "neutrophil absolute count", "absolute neutrophils", "neutrophil count",
            "neutrophils", "neutrophil", "anc",
            "absolute granulocyte count", "granulocyte count", "granulocytes", "agc"),
    "platelets": ("platelet count", "platelets", "platelet", "plt", "plts"),
    "wbc": ("white blood cell count", "white blood cells", "white blood cell", "wbc count", "wbc",
            "leukocyte count", "leukocytes", "leucocyte count", "leucocytes", "white count"),
    "lymphocytes": ("absolute lymphocyte count", "lymphocyte count", "lymphocytes", "alc"),
    "cd4": ("cd4+ t-cell count", "cd4 count", "cd4+ count", "cd4 cell count", "cd4"),
    "hemoglobin": ("hemoglobin", "haemoglobin", "hgb", "hb"),
    "creatinine_clearance": ("calculated creatinine clearance", "creatinine clearance", "crcl", "cr cl",
                             "clearance of creatinine"),
    "egfr": ("estimated glomerular filtration rate", "glomerular filtration rate", "egfr", "gfr"),
    "creatinine": ("serum creatinine", "creatinine", "creat", "scr"),
    "bilirubin": ("total bilirubin", "serum bilirubin", "bilirubin", "tbili", "t.bili"),
    "ast": ("aspartate aminotransferase", "aspartate transaminase", "sgot", "ast"),
    "alt": ("alanine aminotransferase", "alanine transaminase", "sgpt", "alt"),
    "transaminases": ("hepatic transaminases", "liver transaminases", "serum transaminases", "transaminases",
                      "aminotransferases", "liver enzymes"),
    "alkaline_phosphatase": ("alkaline phosphatase", "alk phos", "alp"),
    "albumin": ("serum albumin", "albumin"),
    "inr": ("international normalized ratio", "inr"),
    "aptt": ("activated partial thromboplastin time", "partial thromboplastin time", "aptt", "ptt"),
    "bmi": ("body mass index", "bmi"),
    "systolic_bp": ("systolic blood pressure", "systolic bp", "sbp", "systolic"),
    "diastolic_bp": ("diastolic blood pressure", "diastolic bp", "dbp", "diastolic"),
    "heart_rate": ("resting heart rate", "heart rate", "pulse rate"),
    "qtc": ("qtcf interval", "qtc interval", "qtcf", "qtc", "corrected qt interval", "qt interval"),
    "lvef": ("left ventricular ejection fraction", "ejection fraction", "lvef"),
    # the oxygenation ratio of ARDS criteria, not PaO2 itself (longer forms win at the same place)
    "pao2_fio2": ("pao2/fio2 ratio", "pao2/fio2", "pao2 / fio2", "pao2:fio2", "pao2 to fio2 ratio",
                  "pao2-to-fio2 ratio", "p/f ratio", "pf ratio"),
    "pao2": ("arterial oxygen partial pressure", "pao2", "pa02"),
    "spo2": ("oxygen saturation", "spo2", "sao2", "o2 saturation"),
    # the ratio, not FEV1 itself: "FEV1/FVC < 0.7" bounds the ratio (longer forms win at the same place)
    "fev1_fvc": ("fev1/fvc ratio", "fev1/fvc", "fev1 / fvc", "fev1:fvc", "fev1-to-fvc ratio",
                 "tiffeneau index"),
    "fev1": ("fev1", "fev 1", "fev(1)", "fev)_1", "forced expiratory volume in 1 second", "forced expiratory volume"),
    "glucose": ("fasting plasma glucose", "fasting blood glucose", "fasting glucose", "blood glucose", "fpg",
                "plasma glucose", "glucose", "fasting blood sugar", "blood sugar"),
    "ldl": ("ldl cholesterol", "ldl-c", "ldl", "low-density lipoprotein cholesterol"),
    "triglycerides": ("triglycerides", "triglyceride", "tg"),
    "potassium": ("serum potassium", "potassium"),
    "sodium": ("serum sodium", "sodium"),
    "ionized_calcium": ("ionized calcium", "ionised calcium", "ionized serum calcium"),
    "calcium": ("corrected serum calcium", "corrected calcium", "serum calcium", "calcium"),
    "lipase": ("serum lipase", "lipase"),
    "amylase": ("serum amylase", "amylase"),
    "creatine_kinase": ("creatine phosphokinase", "creatine kinase", "cpk", "ck"),
    "temperature": ("body temperature", "oral temperature", "rectal temperature", "axillary temperature",
                    "tympanic temperature", "temperature"),
    "tsh": ("thyroid stimulating hormone", "tsh"),
    "psa": ("prostate-specific antigen", "prostate specific antigen", "psa"),
    "testosterone": ("serum testosterone", "testosterone"),
    "weight": ("body weight", "weight"),
    "bun": ("blood urea nitrogen", "bun"),
    # PD-L1 is scored two ways that cannot be compared: the share of tumour cells (TPS, %) and the combined
    # positive score (CPS, a number); an unqualified "PD-L1 expression >= 1%" is the tumour share
    "pd_l1_cps": ("pd-l1 combined positive score", "pd-l1 cps", "combined positive score", "cps"),
    "pd_l1": ("pd-l1 tumor proportion score", "pd-l1 tumour proportion score", "pd-l1 tps", "pd-l1 expression",
              "tumor proportion score", "tumour proportion score", "tps", "pd-l1", "pdl1"),
    # clinical rating scales, read as unitless scores ("MMSE >= 20", "EDSS 0-5.5", "HAM-A total score of 20");
    # each version with its own range is its own analyte (the CDR sum of boxes is not the global CDR)
    "mmse": ("mini-mental state examination", "mini mental state examination", "mini-mental status examination",
             "mini-mental state exam", "mini mental state exam", "mini-mental status exam", "mini mental status exam",
             "folstein mini-mental state", "mini-mental", "mini mental", "mmse"),
    "moca": ("montreal cognitive assessment", "moca"),
    "cdr_sb": ("clinical dementia rating sum of boxes", "cdr sum of boxes", "cdr-sb", "cdr-sob", "cdrsb"),
    "cdr": ("clinical dementia rating global score", "clinical dementia rating", "cdr global score", "cdr-gs", "cdr"),
    "edss": ("kurtzke expanded disability status scale", "expanded disability status scale", "edss"),
    "nihss": ("national institutes of health stroke scale", "nih stroke scale", "nihss"),
    "modified_rankin": ("modified rankin scale", "modified rankin score", "modified rankin", "rankin scale"),
    "hamd": ("hamilton depression rating scale", "hamilton rating scale for depression", "hamilton depression scale",
             "ham-d17", "ham-d-17", "hamd-17", "hamd17", "hdrs-17", "hdrs17", "ham-d", "hamd", "hdrs", "hrsd"),
    # not "HAMA": in the registry that is as often the human anti-mouse antibody ("HAMA titer < 1,000 U/mL")
    "hama": ("hamilton anxiety rating scale", "hamilton anxiety scale", "hamilton rating scale for anxiety", "ham-a"),
    "madrs": ("montgomery-asberg depression rating scale", "montgomery-åsberg depression rating scale",
              "montgomery asberg depression rating scale", "madrs"),
    "phq9": ("patient health questionnaire-9", "patient health questionnaire 9", "phq-9", "phq9", "phq 9"),
    "gad7": ("generalized anxiety disorder-7", "generalized anxiety disorder 7-item", "gad-7", "gad7"),
    "bdi": ("beck depression inventory-ii", "beck depression inventory", "bdi-ii", "bdi"),
    "ymrs": ("young mania rating scale", "ymrs"),
    "panss": ("positive and negative syndrome scale", "panss total score", "panss"),
    "meld": ("model for end-stage liver disease", "model for end stage liver disease", "meld-na", "meld"),
    "das28": ("disease activity score 28", "das28-esr", "das28-crp", "das-28", "das28", "das 28"),
    "iop": ("intraocular pressure", "intra-ocular pressure", "iop"),
    # the amount is written before the name ("at least 20 pack-years"): measures.find_lab_readings reads it there
    "pack_years": ("pack-years", "pack years", "pack-year", "pack year"),
}

# Lab names that stand for several analytes: a threshold on "transaminases" bounds AST and ALT alike.
LAB_GROUPS: dict[str, tuple[str, ...]] = {"transaminases": ("ast", "alt")}

# Kinds of one disease that a patient does not have both of: a patient with one has not the other.
_EXCLUSIVE_PAIRS = (("type 1 diabetes", "type 2 diabetes"), ("small cell lung cancer", "non-small cell lung cancer"))
EXCLUSIVE_KINDS: dict[str, frozenset[str]] = {
    one: frozenset({other}) for pair in _EXCLUSIVE_PAIRS for one, other in (pair, pair[::-1])
}

# Abbreviations that map a patient's shorthand onto a concept ("T2DM" -> "type 2 diabetes").
ABBREVIATIONS: dict[str, str] = {
    form: concept
    for lexicon in (CONDITIONS, THERAPIES)
    for concept, forms in lexicon.items()
    for form in forms
    if re.fullmatch(r"[a-z0-9\-]{2,6}", form) and form not in concept.split()
}

# A broader concept a specific one implies: a patient with T2DM satisfies "history of diabetes".
PARENT_CONCEPTS: dict[str, tuple[str, ...]] = {
    "type 2 diabetes": ("diabetes",),
    "type 1 diabetes": ("diabetes",),
    "gestational diabetes": ("diabetes",),
    "non-small cell lung cancer": ("lung cancer", "cancer"),
    "small cell lung cancer": ("lung cancer", "cancer"),
    "lung cancer": ("cancer",),
    "breast cancer": ("cancer",),
    "prostate cancer": ("cancer",),
    "colorectal cancer": ("cancer",),
    "melanoma": ("cancer",),
    "lymphoma": ("cancer",),
    "leukemia": ("cancer",),
    "multiple myeloma": ("cancer",),
    "glioma": ("cancer",),
    **{cancer: ("cancer",) for cancer in (
        "ovarian cancer", "pancreatic cancer", "gastric cancer", "esophageal cancer", "bladder cancer",
        "renal cell carcinoma", "hepatocellular carcinoma", "cervical cancer", "endometrial cancer",
        "head and neck cancer", "thyroid cancer", "sarcoma", "mesothelioma", "myelodysplastic syndrome")},
    "anxiety disorder": ("psychiatric disorder",),
    "post-traumatic stress disorder": ("psychiatric disorder",),
    "nonalcoholic steatohepatitis": ("liver disease",),
    "peripheral artery disease": ("cardiovascular disease",),
    "aortic stenosis": ("cardiovascular disease",),
    "celiac disease": ("autoimmune disease",),
    "pneumonia": ("infection",),
    "influenza": ("infection",),
    "myocardial infarction": ("coronary artery disease", "cardiovascular disease"),
    "coronary artery disease": ("cardiovascular disease",),
    "heart failure": ("cardiovascular disease",),
    "angina": ("coronary artery disease", "cardiovascular disease"),
    "atrial fibrillation": ("arrhythmia", "cardiovascular disease"),
    "arrhythmia": ("cardiovascular disease",),
    "pulmonary hypertension": ("cardiovascular disease",),
    "cirrhosis": ("liver disease",),
    "hepatitis b": ("liver disease", "infection"),
    "hepatitis c": ("liver disease", "infection"),
    "hiv": ("infection", "immunodeficiency"),
    "tuberculosis": ("infection",),
    "covid-19": ("infection",),
    "rheumatoid arthritis": ("autoimmune disease",),
    "epilepsy": ("seizure",),
    "lupus": ("autoimmune disease",),
    "inflammatory bowel disease": ("autoimmune disease",),
    "depression": ("psychiatric disorder",),
    "bipolar disorder": ("psychiatric disorder",),
    "schizophrenia": ("psychiatric disorder",),
    "cisplatin": ("platinum-based chemotherapy", "chemotherapy"),
    "carboplatin": ("platinum-based chemotherapy", "chemotherapy"),
    "platinum-based chemotherapy": ("chemotherapy",),
    "pemetrexed": ("chemotherapy",),
    "docetaxel": ("chemotherapy",),
    "paclitaxel": ("chemotherapy",),
    "temozolomide": ("chemotherapy",),
    "pembrolizumab": ("immunotherapy",),
    "nivolumab": ("immunotherapy",),
    "atezolizumab": ("immunotherapy",),
    "osimertinib": ("targeted therapy",),
    "bevacizumab": ("targeted therapy",),
    "metformin": (),
    "glp-1 receptor agonists": (),
}


# A short gloss between the words of a name still names it: "Type 1 (insulin-dependent) diabetes mellitus".
_GLOSS_BETWEEN_WORDS = r"(?:[\s\-]+\([^()]{1,30}\))?[\s\-]+"


def _form_pattern(form: str) -> str:
    escaped = re.escape(form).replace(r"\ ", _GLOSS_BETWEEN_WORDS)
    # Forgive plural and possessive endings on multi-letter words.
    return escaped + (r"(?:s|es|'s)?" if form[-1].isalpha() and len(form) > 3 else "")


@lru_cache(maxsize=4)
def lexicon_regex(kind: str) -> re.Pattern[str]:
    """One alternation over every surface form of "condition", "therapy" or "lab", longest first."""
    lexicon = {"condition": CONDITIONS, "therapy": THERAPIES, "lab": LAB_ANALYTES}[kind]
    forms = sorted({form for forms in lexicon.values() for form in forms}, key=len, reverse=True)
    parts = []
    for form in forms:
        pattern = _form_pattern(form)
        if form in CASE_SENSITIVE_ABBREVIATIONS:
            # "PD-L1", "PD-1", "MS-275": a marker or compound named with the letters, not the disease
            pattern = "(?-i:" + re.escape(form.upper()) + r")(?!-(?:\d|[A-Z]\d))"
        parts.append(pattern)
    return re.compile(r"(?<![\w\-])(?:" + "|".join(parts) + r")(?![\w])", re.IGNORECASE)


@lru_cache(maxsize=4)
def _form_index(kind: str) -> dict[str, str]:
    lexicon = {"condition": CONDITIONS, "therapy": THERAPIES, "lab": LAB_ANALYTES}[kind]
    return {form: concept for concept, forms in lexicon.items() for form in forms}


@lru_cache(maxsize=65536)
def normalize_term(surface: str) -> str:
    """Lower-case a mention, unify dashes and spaces, and strip plural/possessive endings."""
    # a gloss in parentheses inside a name ("type 1 (insulin-dependent) diabetes") is not part of the name
    text = re.sub(r"\s+\([^()]{1,30}\)(?=\s)", " ", surface.lower().replace("’", "'"))
    text = re.sub(r"[\s\-]+", " ", text).strip(" .,;:")
    text = re.sub(r"'s\b", "", text)
    words = []
    for word in text.split():
        if len(word) > 4 and word.endswith("ies"):
            word = word[:-3] + "y"
        elif len(word) > 4 and word.endswith(("ses", "xes")):
            word = word[:-2]
        elif len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
            word = word[:-1]
        words.append(word)
    return " ".join(words)


def concept_of(surface: str, kind: str) -> str | None:
    """Map a surface mention to its lexicon concept, forgiving case, plurals and spacing."""
    index = _form_index(kind)
    lowered = surface.lower().strip()
    if lowered in index:
        return index[lowered]
    return _normalized_form_index(kind).get(normalize_term(surface))


@lru_cache(maxsize=4)
def _normalized_form_index(kind: str) -> dict[str, str]:
    normalized: dict[str, str] = {}
    for form, concept in _form_index(kind).items():
        normalized.setdefault(normalize_term(form), concept)
    return normalized


def implied_concepts(concept: str) -> set[str]:
    """The concept itself plus every broader concept it implies, transitively."""
    seen = {concept}
    frontier = [concept]
    while frontier:
        for parent in PARENT_CONCEPTS.get(frontier.pop(), ()):
            if parent not in seen:
                seen.add(parent)
                frontier.append(parent)
    return seen


# "hepatitis B or C", "hepatitis B/C", "hepatitis B and C negative": the second letter names the other hepatitis.
_HEPATITIS_LETTER_AFTER = re.compile(r"\s*(?:,|/|\band/or\b|\bor\b|\band\b)\s*(?:hepatitis\s+)?(?P<letter>[BC])\b(?!-)",
                                     re.IGNORECASE)


def hepatitis_sibling(text: str, end: int, concept: str | None) -> tuple[int, int, str] | None:
    """After a hepatitis B or C mention ending at text[end], the other one named by its letter: (start, end, concept)."""
    if concept not in {"hepatitis b", "hepatitis c"}:
        return None
    match = _HEPATITIS_LETTER_AFTER.match(text, end)
    if not match:
        return None
    other = f"hepatitis {match.group('letter').lower()}"
    return (match.start("letter"), match.end("letter"), other) if other != concept else None
