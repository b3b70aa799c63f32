"""Spreadsheet import: read CSV or XLSX safely, map columns, validate every row, review
duplicates against recorded people and the other rows, commit all rows or none."""
