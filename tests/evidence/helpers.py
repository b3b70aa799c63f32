"""Sample evidence files and a helper that uploads them through the real form."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from tests.helpers import WebSession


def jpeg_with_metadata(width: int = 1200, height: int = 900, color: str = "navy") -> bytes:
    """A JPEG carrying EXIF (camera, GPS-like comment) that a preview must not keep."""
    image = Image.new("RGB", (width, height), color)
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x9286] = "taken at 43.2389 N 76.8897 E"  # UserComment
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), comment=b"village Shagantogay")
    return out.getvalue()


def png(color: str = "red", size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def upload(web: WebSession, reference: str, files: list[tuple[bytes, str]] | None = None,
           follow_redirects: bool = False, **fields: Any) -> Any:
    """Post the add-evidence form with files (content, filename) and form fields."""
    data: dict[str, Any] = {"kind": "other", **fields}
    if files is not None:
        data["files"] = [(io.BytesIO(content), name) for content, name in files]
    return web.post(f"/cases/{reference}/evidence/new", data, content_type="multipart/form-data",
                    follow_redirects=follow_redirects)
