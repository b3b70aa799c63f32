"""Large uploads streamed straight into encrypted storage, for the routes that ask for it.

A route registers a sink factory and a size limit. For a user that route admits, the form
parser writes each uploaded file into a sink (the evidence store encrypts and hashes it on
the way) instead of a plaintext temporary file, and the request may be as large as the
limit. Everyone else keeps Flask's small default limit. Sinks that no view took over are
discarded when the request ends, whatever happened to it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Protocol

from flask import Flask, Request, current_app
from flask_login import current_user

from casefile import access
from casefile.extensions import db

_EXTENSION = "casefile_streamed_uploads"


class Sink(Protocol):
    def write(self, data: bytes) -> int: ...
    def discard(self) -> None: ...


@dataclass(frozen=True)
class StreamedUpload:
    max_bytes: Callable[[], int]
    open_sink: Callable[[], Sink]


def register(app: Flask, endpoint: str, upload: StreamedUpload) -> None:
    """Stream the files posted to ``endpoint`` into sinks, up to ``upload.max_bytes()``."""
    app.extensions.setdefault(_EXTENSION, {})[endpoint] = upload


class CasefileRequest(Request):
    _sinks: list[Sink]

    def _streamed_upload(self) -> StreamedUpload | None:
        if self.method != "POST" or not current_app:
            return None
        upload = current_app.extensions.get(_EXTENSION, {}).get(self.endpoint or "")
        if upload is None or not _admits(self.endpoint or ""):
            return None
        # Loading the user began a transaction; end it before reading a long body, so SQLite's
        # single writer is not held for the minutes a large upload may take. Nothing has been
        # written yet at this point; if something had, keep it and the lock.
        session = db.session()
        if not (session.new or session.dirty or session.deleted):
            session.rollback()
        return upload

    @property
    def max_content_length(self) -> int | None:
        if self._max_content_length is None:
            upload = self._streamed_upload()
            if upload is not None:
                return upload.max_bytes()
        return super().max_content_length

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value

    def _get_file_stream(self, total_content_length: int | None, content_type: str | None,
                         filename: str | None = None, content_length: int | None = None) -> IO[bytes]:
        upload = self._streamed_upload()
        if upload is None:
            return super()._get_file_stream(total_content_length, content_type, filename, content_length)
        sink = upload.open_sink()
        self.__dict__.setdefault("_sinks", []).append(sink)
        return sink  # type: ignore[return-value]

    def discard_sinks(self) -> None:
        for sink in self.__dict__.pop("_sinks", []):
            sink.discard()


def _admits(endpoint: str) -> bool:
    policy = access.declared_roles(endpoint)
    if not current_user.is_authenticated:
        return False
    return policy == access.routes.AUTHENTICATED or (isinstance(policy, frozenset) and current_user.role in policy)


def install(app: Flask) -> None:
    app.request_class = CasefileRequest

    @app.teardown_request
    def _discard_sinks(_error: BaseException | None) -> None:
        from flask import request

        if isinstance(request, CasefileRequest):
            request.discard_sinks()

