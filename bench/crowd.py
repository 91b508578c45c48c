"""A crowd of citizens commenting at once, each from its own address: what was saved, refused,
broken or lost.

Used by the load tests (tests/load/) and by hand against any running site:

    python bench/crowd.py http://127.0.0.1:8000 --consultation 1 -n 2000 -c 64
    python bench/crowd.py http://127.0.0.1:8000 --consultation 1 -n 200 -c 32 --one-address

Each person opens their own connection (no keep-alive, no shared cookies) from their own
loopback address (127.x.y.z: Linux routes all of 127.0.0.0/8 to the loopback interface), or
names it in `X-Forwarded-For` for a site behind `PROXY_FIX`. Half the people use the HTML form
(GET the form for its CSRF token and cookie, POST, follow the 303 to the receipt), half the JSON
API, unless `--mode` says otherwise.

An answer is *saved* (201, or the form's 303 to a receipt), *refused* (429 or 503 carrying
`Retry-After`) or an *error* (anything else: a 500, a refusal without Retry-After, a dropped
connection, a timeout). Afterwards every saved receipt is fetched: one that does not resolve is
*lost* — a success that was not saved.
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
NONCE_RE = re.compile(r'name="nonce"[^>]*value="([^"]*)"')
RECEIPT_RE = re.compile(r"/receipts/([A-Z0-9-]+)")
TIMEOUT = 60.0

TEXTS = [
    "建议将第三条规定的公示期由七日延长至十五日，便于群众充分了解。",
    "第五条中“相关部门”表述不清，建议明确具体承办单位和办理时限。",
    "希望增加对老年人和残疾人的便利措施，线上线下都能提出意见。",
    "建议明确违反本办法的法律责任，避免规定流于形式。",
    "支持本办法出台，建议尽快实施并定期公开执行情况。",
]


def address(i: int) -> str:
    """The i-th distinct loopback address, 127.0.1.1 upwards (never 127.0.0.1 itself)."""
    n = i + 255  # skip 127.0.0.x
    return f"127.{(n // 65024) % 255}.{(n // 254) % 256}.{1 + n % 254}"


@dataclass
class Outcome:
    kind: str  # saved | refused | error
    status: int | None
    tracking_no: str | None = None
    detail: str = ""


@dataclass
class Result:
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0
    lost: int | None = None

    def count(self, kind: str) -> int:
        return sum(1 for o in self.outcomes if o.kind == kind)

    @property
    def saved(self) -> int:
        return self.count("saved")

    @property
    def refused(self) -> int:
        return self.count("refused")

    @property
    def errors(self) -> int:
        return self.count("error")

    @property
    def tracking_nos(self) -> list[str]:
        return [o.tracking_no for o in self.outcomes if o.kind == "saved" and o.tracking_no]

    def statuses(self) -> Counter:
        return Counter(o.status for o in self.outcomes)

    def error_samples(self, limit: int = 5) -> list[str]:
        return [f"{o.status}: {o.detail[:200]}" for o in self.outcomes if o.kind == "error"][:limit]

    def summary(self) -> str:
        rate = len(self.outcomes) / self.seconds if self.seconds else 0.0
        lost = "not checked" if self.lost is None else self.lost
        return (f"{len(self.outcomes)} submissions in {self.seconds:.1f} s ({rate:.0f}/s): "
                f"saved {self.saved}, refused {self.refused}, errors {self.errors}, "
                f"lost {lost}; statuses {dict(sorted(self.statuses().items(), key=str))}")


class Person:
    """One citizen: their own connection, address and cookies."""

    def __init__(self, base_url: str, source: str, *, forwarded: bool = False):
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port or 80
        self.source = source
        self.forwarded = forwarded
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None) -> tuple[int, dict, bytes]:
        source = None if self.forwarded else (self.source, 0)
        conn = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT,
                                          source_address=source)
        headers = dict(headers or {})
        headers.setdefault("Connection", "close")
        if self.forwarded:
            headers["X-Forwarded-For"] = self.source
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    cookie = value.split(";", 1)[0]
                    key, _, val = cookie.partition("=")
                    self.cookies[key.strip()] = val.strip()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, data
        finally:
            conn.close()


def _refusal_or_error(status: int, headers: dict, body: bytes) -> Outcome:
    if status in (429, 503) and headers.get("retry-after"):
        return Outcome("refused", status, detail=headers["retry-after"])
    return Outcome("error", status, detail=body.decode("utf-8", "replace")[:500])


def submit_api(person: Person, consultation_id: int, text: str) -> Outcome:
    payload = json.dumps({"body": text, "category": "individual"}).encode()
    status, headers, body = person.request(
        "POST", f"/api/v1/consultations/{consultation_id}/comments", payload,
        {"Content-Type": "application/json", "Idempotency-Key": uuid.uuid4().hex},
    )
    if status == 201:
        try:
            return Outcome("saved", status, json.loads(body)["tracking_no"])
        except (ValueError, KeyError):
            return Outcome("error", status, detail="201 without a tracking number")
    return _refusal_or_error(status, headers, body)


def submit_form(person: Person, consultation_id: int, text: str) -> Outcome:
    path = f"/consultations/{consultation_id}/comment"
    status, headers, body = person.request("GET", path)
    if status != 200:
        return _refusal_or_error(status, headers, body)
    page = body.decode("utf-8", "replace")
    csrf, nonce = CSRF_RE.search(page), NONCE_RE.search(page)
    if not csrf:
        return Outcome("error", status, detail="form without a CSRF token")
    form = {"csrf_token": csrf.group(1), "nonce": nonce.group(1) if nonce else "",
            "article": "", "body": text, "category": "individual", "remark": ""}
    status, headers, body = person.request(
        "POST", path, urlencode(form).encode(),
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    if status == 303:
        match = RECEIPT_RE.search(headers.get("location", ""))
        if match:
            return Outcome("saved", status, match.group(1))
        return Outcome("error", status, detail=f"303 to {headers.get('location')}")
    return _refusal_or_error(status, headers, body)


def run_crowd(base_url: str, consultation_id: int, n: int, concurrency: int, *,
              mode: str = "mixed", one_address: bool = False, forwarded: bool = False,
              first: int = 0) -> Result:
    """`n` people, `concurrency` at a time, each submitting one comment."""
    result = Result()
    lock = threading.Lock()

    def one(i: int) -> None:
        source = address(0 if one_address else first + i)
        person = Person(base_url, source, forwarded=forwarded)
        use_form = mode == "form" or (mode == "mixed" and i % 2 == 0)
        text = f"{TEXTS[i % len(TEXTS)]}（第 {first + i} 位）"
        try:
            outcome = (submit_form if use_form else submit_api)(person, consultation_id, text)
        except Exception as exc:  # a dropped connection or timeout is an error, not a crash
            outcome = Outcome("error", None, detail=f"{type(exc).__name__}: {exc}")
        with lock:
            result.outcomes.append(outcome)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(one, range(n)))
    result.seconds = time.perf_counter() - started
    return result


def count_lost(base_url: str, tracking_nos: list[str], concurrency: int = 16) -> int:
    """How many saved receipts do not resolve (GET /api/v1/receipts/<no> is not 200)."""
    lost = 0
    lock = threading.Lock()

    def check(no: str) -> None:
        nonlocal lost
        person = Person(base_url, "127.0.0.1")
        for _attempt in range(5):
            try:
                status, headers, _body = person.request("GET", f"/api/v1/receipts/{no}")
            except OSError:
                time.sleep(0.5)
                continue
            if status in (429, 503):
                time.sleep(float(headers.get("retry-after", "1")))
                continue
            break
        if status != 200:
            with lock:
                lost += 1

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(check, tracking_nos))
    return lost


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base_url")
    parser.add_argument("--consultation", type=int, required=True)
    parser.add_argument("-n", type=int, default=2000, help="people (one comment each)")
    parser.add_argument("-c", type=int, default=64, help="at once")
    parser.add_argument("--mode", choices=["mixed", "form", "api"], default="mixed")
    parser.add_argument("--one-address", action="store_true", help="everyone behind one NAT")
    parser.add_argument("--forwarded", action="store_true",
                        help="name the address in X-Forwarded-For (site behind PROXY_FIX)")
    parser.add_argument("--first", type=int, default=0, help="first address index")
    args = parser.parse_args()
    result = run_crowd(args.base_url, args.consultation, args.n, args.c, mode=args.mode,
                       one_address=args.one_address, forwarded=args.forwarded, first=args.first)
    result.lost = count_lost(args.base_url, result.tracking_nos)
    print(result.summary())
    for sample in result.error_samples():
        print("  error:", sample)


if __name__ == "__main__":
    main()
