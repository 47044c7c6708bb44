#!/usr/bin/env python3
"""Push invoices and payments from two CSV files into Dunmore through its API.

An example for a nightly or hourly job in the accounting system; the standard library only.

    DUNMORE_TOKEN=dnm_... python3 sync_example.py --url https://dunmore.example \\
        invoices.csv payments.csv

The files have the columns of Dunmore's CSV import (see the README):
  invoices: number, customer_external_id, issue_date, due_date, amount [, currency]
  payments: invoice_number, date, amount [, reference, customer_external_id]

Invoices and payments go in bulk calls of up to --chunk rows (all or nothing per call) when
the server has /invoices/bulk/ and /payments/bulk/; otherwise one PUT per invoice (an upsert
by number) and one POST per payment (keyed by an external_key made from the row). Running it
again with the same files changes nothing. Every call is retried on a network error, 409, 429
or 5xx with the same Idempotency-Key, so a retry never records twice. Exits 1 if any row was
refused, listing each with its line in the file."""

import argparse
import csv
import hashlib
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

INVOICE_COLUMNS = ("number", "customer_external_id", "issue_date", "due_date", "amount", "currency")
PAYMENT_COLUMNS = ("invoice_number", "date", "amount", "reference", "customer_external_id")
RETRY_STATUSES = {409, 429, 500, 502, 503, 504}


class Api:
    def __init__(self, base_url, token, attempts=4, timeout=60):
        self.base = base_url.rstrip("/") + "/api/v1/"
        self.token = token
        self.attempts = attempts
        self.timeout = timeout

    def call(self, method, path, body=None):
        """(status, parsed JSON body); retries with one Idempotency-Key for the whole call."""
        headers = {
            "Authorization": f"Bearer {self.token}",
            "Accept": "application/json",
            "Idempotency-Key": str(uuid.uuid4()),
        }
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in range(1, self.attempts + 1):
            request = urllib.request.Request(
                self.base + path, data=data, headers=headers, method=method
            )
            wait = 2 ** (attempt - 1)
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return response.status, _json(response.read())
            except urllib.error.HTTPError as error:
                if error.code not in RETRY_STATUSES or attempt == self.attempts:
                    return error.code, _json(error.read())
                wait = int(error.headers.get("Retry-After") or wait)
            except (urllib.error.URLError, TimeoutError, ConnectionError):
                if attempt == self.attempts:
                    raise
            time.sleep(wait)
        raise AssertionError("unreachable")


def _json(raw):
    try:
        return json.loads(raw or b"null")
    except ValueError:
        return None


def read_rows(path, columns):
    """The file's rows as {column: value}, blanks left out, numbered by their line (header = 1)."""
    with open(path, newline="", encoding="utf-8-sig") as file:
        return [
            (line, {name: row[name].strip() for name in columns if (row.get(name) or "").strip()})
            for line, row in enumerate(csv.DictReader(file), start=2)
        ]


def error_lines(body, first_line=2):
    """The API's error shape as printable lines; a bulk row's `line` (1 = the first row sent)
    is turned back into the file's line."""
    error = (body or {}).get("error") or {"message": str(body), "details": []}
    out = []
    for detail in error.get("details") or []:
        where = f"line {first_line + detail['line'] - 1}: " if "line" in detail else ""
        out.append(f"{where}{detail.get('field', '')}: {detail.get('message', detail)}")
    return out or [error.get("message", "refused")]


class Summary:
    def __init__(self, noun):
        self.noun, self.counts, self.errors = noun, {}, []

    def add(self, outcome, count=1):
        self.counts[outcome] = self.counts.get(outcome, 0) + count

    def __str__(self):
        parts = [f"{count} {outcome}" for outcome, count in self.counts.items() if count]
        if self.errors:
            parts.append(f"{len(self.errors)} refused")
        return f"{self.noun}: " + (", ".join(parts) or "nothing to send")


def push_bulk(api, kind, rows, summary, chunk):
    """True if the server has the bulk endpoint (and the rows went through it)."""
    for first in range(0, len(rows), chunk):
        part = rows[first : first + chunk]
        status, body = api.call("POST", f"{kind}/bulk/", [values for _line, values in part])
        if status == 404 and first == 0:
            return False
        if status == 200:
            for outcome in ("created", "updated", "unchanged"):
                summary.add(outcome, body.get(outcome, 0))
        else:  # all or nothing: this chunk wrote nothing
            summary.errors += error_lines(body, first_line=part[0][0])
    return True


def push_invoices_one_by_one(api, rows, summary):
    for line, row in rows:
        body = {
            "customer": row.get("customer_external_id", ""),
            "issue_date": row.get("issue_date", ""),
            "due_date": row.get("due_date", ""),
            "amount": row.get("amount", ""),
        }
        if row.get("currency"):
            body["currency"] = row["currency"]
        number = urllib.parse.quote(row.get("number", ""), safe="")
        status, answer = api.call("PUT", f"invoices/{number}/", body)
        if status in (200, 201):
            summary.add("created" if status == 201 else "upserted")
        else:
            summary.errors += [f"line {line}: {text}" for text in error_lines(answer)]


def payment_key(row):
    """The same row gives the same key, so Dunmore records it once however often it is sent."""
    fields = [row.get(name, "") for name in PAYMENT_COLUMNS]
    return "csv-" + hashlib.sha256("|".join(fields).encode()).hexdigest()[:40]


def push_payments_one_by_one(api, rows, summary):
    for line, row in rows:
        if not row.get("customer_external_id"):
            summary.errors.append(f"line {line}: customer_external_id: needed without bulk")
            continue
        body = {
            "customer": row["customer_external_id"],
            "received_on": row.get("date", ""),
            "amount": row.get("amount", ""),
            "reference": row.get("reference", ""),
            "external_key": payment_key(row),
        }
        if row.get("invoice_number"):
            body["allocations"] = {row["invoice_number"]: row.get("amount", "")}
        status, answer = api.call("POST", "payments/", body)
        if status in (200, 201):
            summary.add("created" if status == 201 else "unchanged")
        else:
            summary.errors += [f"line {line}: {text}" for text in error_lines(answer)]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("invoices", help="invoices CSV file")
    parser.add_argument("payments", help="payments CSV file")
    parser.add_argument(
        "--url", required=True, help="Dunmore's address, e.g. https://dunmore.example"
    )
    parser.add_argument("--token-env", default="DUNMORE_TOKEN", help="variable holding the token")
    parser.add_argument("--chunk", type=int, default=1000, help="rows per bulk call")
    parser.add_argument("--no-bulk", action="store_true", help="one call per row")
    args = parser.parse_args(argv)
    token = os.environ.get(args.token_env)
    if not token:
        parser.error(f"set {args.token_env} to an API token with the write_ledger scope")

    api = Api(args.url, token)
    invoices, payments = Summary("invoices"), Summary("payments")
    # Invoices first: a payment names the invoice it pays.
    rows = read_rows(args.invoices, INVOICE_COLUMNS)
    if args.no_bulk or not push_bulk(api, "invoices", rows, invoices, args.chunk):
        push_invoices_one_by_one(api, rows, invoices)
    rows = read_rows(args.payments, PAYMENT_COLUMNS)
    if args.no_bulk or not push_bulk(api, "payments", rows, payments, args.chunk):
        push_payments_one_by_one(api, rows, payments)

    for summary in (invoices, payments):
        print(summary)
        for error in summary.errors:
            print(f"  {error}")
    return 1 if invoices.errors or payments.errors else 0


if __name__ == "__main__":
    sys.exit(main())
