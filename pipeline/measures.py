"""The contract's clinical measures (``clinical_measurements.measure``): their allowed ranges
and units, as plain data. :mod:`pipeline.contract` checks extracts against them; the settings
check target definitions against them without importing the contract's pandas schemas."""

from __future__ import annotations

#: measure -> (lowest, highest) allowed value, inclusive.
CLINICAL_MEASURE_RANGES: dict[str, tuple[float, float]] = {
    "hba1c": (20, 200),  # mmol/mol
    "total_cholesterol": (1, 20),  # mmol/L
    "systolic_bp": (60, 260),  # mmHg
    "diastolic_bp": (30, 160),  # mmHg
    "bmi": (10, 80),  # kg/m2
    "smoking_status": (0, 1),  # 1 current smoker, 0 not (only 0 or 1)
    "alcohol_units_week": (0, 300),
}
CLINICAL_MEASURE_UNITS: dict[str, str] = {
    "hba1c": "mmol/mol",
    "total_cholesterol": "mmol/L",
    "systolic_bp": "mmHg",
    "diastolic_bp": "mmHg",
    "bmi": "kg/m2",
    "smoking_status": "1 = current smoker, 0 = not",
    "alcohol_units_week": "units per week",
}
#: measures whose values must be whole numbers
CLINICAL_WHOLE_MEASURES = ("smoking_status",)
