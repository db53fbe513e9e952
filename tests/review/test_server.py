"""The review page's server: localhost only, one session at a time, and no request from another site."""
from __future__ import annotations

import datetime as dt
import http.client
import json
import re

import pytest
from click.testing import CliRunner
from review_site import decisions, review_settings

from plugin import review, review_files, review_queue, review_server


def _request(session, method, path, body=None, **headers):
    conn = http.client.HTTPConnection("127.0.0.1", session.port, timeout=10)
    conn.putrequest(method, path, skip_host=True)
    headers.setdefault("Host", f"127.0.0.1:{session.port}")
    data = json.dumps(body).encode() if body is not None else b""
    for key, value in {**headers, "Content-Length": str(len(data))}.items():
        conn.putheader(key, value)
    conn.endheaders(data)
    response = conn.getresponse()
    return response.status, response.read().decode("utf-8"), dict(response.getheaders())


@pytest.fixture
def session(site, seeded_sampler):
    settings = review_settings(site)
    review_queue.fill_queue(settings, ahead=1, today=dt.date(2026, 3, 14))
    with review_server.open_session(settings) as running:
        yield running


def test_only_this_page_can_decide(site, session):
    status, page, headers = _request(session, "GET", "/")
    assert status == 200 and "script-src 'nonce-" in headers["Content-Security-Policy"]
    assert session.url.startswith("http://127.0.0.1:") and session.httpd.server_address[0] == "127.0.0.1"
    token = re.search(r'name="review-token" content="([0-9a-f]+)"', page).group(1)
    good = {"Content-Type": "application/json", "X-Review-Token": token}
    approve = {"day": "2026-03-14", "action": "approve"}
    # a DNS-rebinding host, a missing or wrong token, another origin, a form post: all refused
    assert _request(session, "GET", "/", Host="evil.example:80")[0] == 403
    assert _request(session, "POST", "/api/decide", approve, **{**good, "Host": "evil.example"})[0] == 403
    assert _request(session, "POST", "/api/decide", approve, **{"Content-Type": "application/json"})[0] == 403
    assert _request(session, "POST", "/api/decide", approve, **{**good, "X-Review-Token": "0" * 64})[0] == 403
    assert _request(session, "POST", "/api/decide", approve, **{**good, "Origin": "https://evil.example"})[0] == 403
    assert _request(session, "POST", "/api/decide", approve,
                    **{**good, "Content-Type": "application/x-www-form-urlencoded"})[0] == 403
    assert "2026-03-14" not in decisions(site)["days"] or decisions(site)["days"]["2026-03-14"]["state"] == "queued"
    status, body, _ = _request(session, "POST", "/api/decide", approve, **good, Origin=session.url.rstrip("/"))
    assert status == 200 and json.loads(body)["item"]["state"] == "approved"
    assert decisions(site)["days"]["2026-03-14"]["state"] == "approved"
    status, body, _ = _request(session, "POST", "/api/decide", {"day": "2026-03-14", "action": "stars", "value": 9},
                               **good)
    assert json.loads(body) == {"ok": False, "error": "stars must be 1 to 5 (or none), got 9"}


def test_a_second_session_is_told_where_the_first_one_is(site, session):
    with pytest.raises(review_files.ReviewBusy, match=re.escape(f"another review session is open at {session.url}")):
        with review_server.open_session(review_settings(site)):
            pass
    with pytest.raises(review_files.ReviewBusy):
        review_queue.fill_queue(review_settings(site), ahead=1, today=dt.date(2026, 3, 14))


def test_a_review_without_a_queue_says_to_queue_first(site):
    conf = site / "pelicanconf.py"
    conf.write_text('SITENAME = "T"\nPATH = "content"\n', encoding="utf-8")
    result = CliRunner().invoke(review.main, ["-s", str(conf)])
    assert result.exit_code == 1
    assert result.output.strip().startswith("error: nothing to review") and "run `make queue` first" in result.output
