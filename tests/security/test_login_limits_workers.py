"""Findings 2 and 3 of issue 17 under ``signpost serve --workers 2``: the sign-in limits hold across processes.

The guard's state is in the node's database (node.storage.login_attempts), not in each process's memory,
so two processes answering on one port (node.web.workers) give an attacker no more attempts than one.
"""

from __future__ import annotations

import collections
import concurrent.futures
import http.cookiejar
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from console_client import PASSWORD, console_node, csrf_of

from node.storage.login_attempts import attempt_rows, load_account
from node.storage.store import connect
from nodeutil import serve_workers


def _children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _opener() -> tuple[urllib.request.OpenerDirector, http.cookiejar.CookieJar]:
    jar = http.cookiejar.CookieJar()

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect()), jar


def _post(opener: urllib.request.OpenerDirector, url: str, csrf: str, password: str) -> int:
    body = urllib.parse.urlencode({"csrf": csrf, "password": password}).encode()
    try:
        with opener.open(urllib.request.Request(url, data=body), timeout=60) as r:
            return int(r.status)
    except urllib.error.HTTPError as e:
        e.read()
        return int(e.code)


@pytest.mark.slow
def test_thirty_parallel_wrong_passwords_across_two_workers_reach_the_check_at_most_five_times(
    tmp_path: Path,
) -> None:
    node = console_node(tmp_path / "node")
    log = tmp_path / "serve.log"
    proc = serve_workers(node, log)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()
            if _children(proc.pid) and "answers requests only" in log.read_text():
                try:
                    urllib.request.urlopen(f"{node.url}/admin/login", timeout=5).read()
                    break
                except OSError:
                    pass
            time.sleep(0.2)
        else:
            raise AssertionError(f"the workers never answered: {log.read_text()}")
        time.sleep(1.0)  # the reader has opened its socket too
        login = f"{node.url}/admin/login"

        def wrong(i: int) -> int:
            # A fresh connection (and visitor) each, so the kernel spreads them over both processes.
            opener, _ = _opener()
            with opener.open(login, timeout=30) as r:
                csrf = csrf_of(r.read().decode())
            return _post(opener, login, csrf, f"wrong password {i}")

        with concurrent.futures.ThreadPoolExecutor(30) as pool:
            answers = collections.Counter(pool.map(wrong, range(30)))
        assert answers[401] + answers[429] == 30, answers
        assert answers[401] <= 5, f"only five attempts from this address may reach the password check: {answers}"
        conn = connect(node.directory / "signpost.db")
        try:
            assert attempt_rows(conn) <= 5
            account = load_account(conn)
            assert account is not None and account.failures == answers[401], "one streak for the whole node"
        finally:
            conn.close()
        for _ in range(4):  # whichever process answers, the right password waits for the window
            opener, _ = _opener()
            with opener.open(login, timeout=30) as r:
                csrf = csrf_of(r.read().decode())
            assert _post(opener, login, csrf, PASSWORD) == 429
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
