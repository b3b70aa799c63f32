"""Spreadsheet import: read CSV or XLSX safely, map columns, validate every row, review
duplicates against recorded people and the other rows, commit all rows or none."""

from pathlib import Path

SAMPLE_PATH = Path(__file__).with_name("sample_import.csv")  # every canonical column, five fictional rows
