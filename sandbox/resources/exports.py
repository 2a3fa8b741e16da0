"""Exports: the customers export job life cycle, the job list, and signed download links.

A customers export answers "pending" for `knobs.export_pending_polls` status polls, then settles
to `knobs.export_final_status`. Its download link points at a public route of this server (no
bearer; a request that carries one is refused, as signed storage links refuse a second
credential) and expires after `knobs.export_link_seconds` of wall time. The file is CSV, gzip
unless `knobs.export_compression` is "none", generated and streamed in chunks: flat memory at
any number of people.
"""

import csv
import hashlib
import hmac
import io
import threading
import time
import weakref
import zlib
from typing import Any, Dict, Iterator, List, Mapping, Sequence

from sandbox.api import ApiError, Request, Response, int_path, route
from sandbox.people import ATTRIBUTE_NAMES, IDENTIFIERS
from sandbox.resources.customers import EVERYONE, check_filter, matching_people
from sandbox.workspace import DAY, Workspace

SIGNING_KEY = b"sandbox-export-signing-key"  # fake; signs download links like a storage bucket would
ROWS_PER_CHUNK = 2000
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>'
EXPIRED_BODY = XML_DECLARATION + b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"
BAD_SIGNATURE_BODY = XML_DECLARATION + b"<Error><Code>SignatureDoesNotMatch</Code></Error>"
TWO_CREDENTIALS_BODY = (
    XML_DECLARATION + b"<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed</Message></Error>"
)


class ExportJobs:
    """One workspace's export jobs: a few finished ones from before, then those the API creates."""

    def __init__(self, ws: Workspace):
        self._lock = threading.Lock()
        self.jobs: Dict[int, Dict[str, Any]] = {}
        for number, (kind, status) in enumerate(
            (("customers", "done"), ("deliveries", "done"), ("customers", "failed")), start=1
        ):
            created = ws.now - (10 - number) * DAY
            self._add(
                {
                    "id": number,
                    "type": kind,
                    "status": status,
                    "created_at": created,
                    "updated_at": created + 600,
                    "filters": EVERYONE,
                    "attributes": [],
                    "polls": 0,
                    "total": ws.knobs.people if status == "done" else 0,
                }
            )

    def _add(self, job: Dict[str, Any]) -> Dict[str, Any]:
        job["downloads"] = 0
        job["description"] = f"{job['type'].title()} export {job['id']}"
        self.jobs[job["id"]] = job
        return job

    def create(self, ws: Workspace, filters: Mapping[str, Any], attribute_names: Sequence[str]) -> Dict[str, Any]:
        with self._lock:
            job = {
                "id": max(self.jobs) + 1,
                "type": "customers",
                "status": "pending",
                "created_at": ws.now,
                "updated_at": ws.now,
                "filters": filters,
                "attributes": list(attribute_names),
                "polls": 0,
                "total": 0,
            }
            return self._add(job)

    def find(self, export_id: int) -> Dict[str, Any]:
        job = self.jobs.get(export_id)
        if job is None:
            raise ApiError(404, "export not found")
        return job

    def poll(self, ws: Workspace, export_id: int) -> Dict[str, Any]:
        """A status read: pending ones move one poll closer to settling."""
        with self._lock:
            job = self.find(export_id)
            if job["status"] == "pending":
                job["polls"] += 1
                if job["polls"] > ws.knobs.export_pending_polls:
                    job["status"] = ws.knobs.export_final_status
                    job["updated_at"] = ws.now
                    if job["status"] == "done":
                        job["total"] = sum(1 for _ in matching_people(ws, job["filters"]))
            return job

    def count_download(self, job: Dict[str, Any]) -> None:
        with self._lock:
            job["downloads"] += 1


_JOBS: "weakref.WeakKeyDictionary[Workspace, ExportJobs]" = weakref.WeakKeyDictionary()
_JOBS_LOCK = threading.Lock()


def export_jobs(ws: Workspace) -> ExportJobs:
    with _JOBS_LOCK:
        if ws not in _JOBS:
            _JOBS[ws] = ExportJobs(ws)
        return _JOBS[ws]


def public_export(job: Mapping[str, Any]) -> Dict[str, Any]:
    """An export as the API shows it."""
    return {
        "id": job["id"],
        "user_id": 0,
        "user_email": "owner@example.com",
        "total": job["total"] if job["status"] == "done" else 0,
        "deduplicate_id": f"{job['id']}:{job['updated_at']}",
        "type": job["type"],
        "failed": job["status"] == "failed",
        "status": job["status"],
        "description": job["description"],
        "downloads": job["downloads"],
        "created_at": job["created_at"],
        "updated_at": job["updated_at"],
    }


def list_export_records(ws: Workspace) -> List[Dict[str, Any]]:
    """GET /v1/exports as records: the truth for an `exports` stream."""
    return [public_export(job) for job in export_jobs(ws).jobs.values()]


# -- signing ---------------------------------------------------------------------------------------
def signature(export_id: int, expires: int) -> str:
    return hmac.new(SIGNING_KEY, f"{export_id}:{expires}".encode(), hashlib.sha256).hexdigest()


def signed_path(export_id: int, expires: int) -> str:
    return f"/export-files/{export_id}/customers.csv?expires={expires}&signature={signature(export_id, expires)}"


# -- the file --------------------------------------------------------------------------------------
def export_columns(attribute_names: Sequence[str]) -> List[str]:
    """Identifiers first, then the asked-for attributes (all of them when none are asked for)."""
    others = [name for name in (attribute_names or ATTRIBUTE_NAMES) if name not in IDENTIFIERS]
    return list(IDENTIFIERS) + others


def csv_chunks(ws: Workspace, job: Mapping[str, Any]) -> Iterator[bytes]:
    """The export file as CSV byte chunks of ROWS_PER_CHUNK rows."""
    columns = export_columns(job["attributes"])
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(columns)
    rows = 0
    for _, attrs in matching_people(ws, job["filters"]):
        writer.writerow([attrs.get(name, "") for name in columns])
        rows += 1
        if rows % ROWS_PER_CHUNK == 0:
            yield text.getvalue().encode()
            text.seek(0)
            text.truncate()
    yield text.getvalue().encode()


def gzipped(chunks: Iterator[bytes]) -> Iterator[bytes]:
    compressor = zlib.compressobj(1, zlib.DEFLATED, 31)  # wbits 31: a gzip member
    for chunk in chunks:
        yield compressor.compress(chunk)
    yield compressor.flush()


# -- endpoints -------------------------------------------------------------------------------------
@route("POST", "exports/customers", scope="exports")
def create_customers_export(ws: Workspace, request: Request):
    body = request.json()
    if "filters" not in body:
        raise ApiError(400, "filters is required")
    check_filter(body["filters"], "filters")
    names = body.get("attributes") or []
    if not isinstance(names, list) or not all(isinstance(name, str) and name for name in names):
        raise ApiError(400, "attributes must be a list of attribute names")
    return {"export": public_export(export_jobs(ws).create(ws, body["filters"], names))}


@route("GET", "exports", scope="exports")
def list_exports(ws: Workspace, request: Request):
    return {"exports": list_export_records(ws)}


@route("GET", "exports/{export_id}", scope="exports")
def get_export(ws: Workspace, request: Request):
    return {"export": public_export(export_jobs(ws).poll(ws, int_path(request, "export_id")))}


@route("GET", "exports/{export_id}/download", scope="exports")
def export_download_link(ws: Workspace, request: Request):
    jobs = export_jobs(ws)
    job = jobs.find(int_path(request, "export_id"))
    if job["status"] != "done":
        raise ApiError(400, f"export is {job['status']}, not ready to download")
    jobs.count_download(job)
    expires = int(time.time()) + ws.knobs.export_link_seconds
    return {"url": f"http://{request.headers['Host']}{signed_path(job['id'], expires)}"}


@route("GET", "export-files/{export_id}/customers.csv", scope="exports", public=True)
def export_file(ws: Workspace, request: Request):
    xml = {"Content-Type": "application/xml"}
    if request.headers.get("Authorization"):
        return Response(400, TWO_CREDENTIALS_BODY, xml)
    export_id = int_path(request, "export_id")
    expires = request.int_arg("expires", 0)
    if not hmac.compare_digest(request.arg("signature", ""), signature(export_id, expires)):
        return Response(403, BAD_SIGNATURE_BODY, xml)
    if time.time() >= expires:
        return Response(403, EXPIRED_BODY, xml)
    job = export_jobs(ws).find(export_id)
    if job["type"] != "customers":
        raise ApiError(404, "no customers file for this export")
    if ws.knobs.export_compression == "none":
        return Response(200, csv_chunks(ws, job), {"Content-Type": "text/csv"})
    return Response(200, gzipped(csv_chunks(ws, job)), {"Content-Type": "application/gzip"})
