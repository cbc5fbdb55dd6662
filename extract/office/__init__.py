"""Office originals: forms filled in Excel or Word, read from their cells and merged ranges."""

from .reader import OFFICE_FORMATS, read_office

__all__ = ["OFFICE_FORMATS", "read_office"]
