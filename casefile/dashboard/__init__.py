"""The dashboard: counts of the cases a user may see, drawn as SVG, each linked to its case list."""
