"""casefile: case records, evidence and petition packets for families of people detained in Xinjiang."""

from casefile.app import create_app

__all__ = ["create_app"]
