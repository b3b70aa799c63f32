"""Petition packets: recipients, building, rendering to PDF, hand-over and answers."""
