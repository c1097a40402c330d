"""Plan exports: DICOM SEG and SR (highdicom), FHIR R4 transaction bundle, HTML and PDF report."""
