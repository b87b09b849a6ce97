"""`koers run` as `make run` starts it: a fresh data folder, real HTTP, Ctrl-C."""

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

from koers import demo


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_line(process, text, timeout=180) -> str:
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        seen.append(line)
        if text in line:
            return "".join(seen)
    raise AssertionError(f"{text!r} not printed; output:\n{''.join(seen)}")


def test_koers_run_serves_dutch_koers_with_demo_data_and_stops_on_ctrl_c(tmp_path):
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    env.update(KOERS_VAR_DIR=str(tmp_path), PORT=str(port), DATABASE_URL="", REDIS_URL="")
    process = subprocess.Popen(
        [sys.executable, "-m", "koers", "run", "--demo"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output = wait_for_line(process, "Ctrl-C")
        assert f"http://127.0.0.1:{port}/" in output
        assert f"{demo.LOGIN_USERNAME} / {demo.LOGIN_PASSWORD}" in output
        assert (tmp_path / "koers.sqlite3").exists()

        jar = http.cookiejar.CookieJar()
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        base = f"http://127.0.0.1:{port}"
        login_page = browser.open(f"{base}/login/").read().decode()
        assert "Inloggen bij Koers" in login_page
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page).group(1)
        form = urllib.parse.urlencode(
            {
                "csrfmiddlewaretoken": token,
                "username": demo.LOGIN_USERNAME,
                "password": demo.LOGIN_PASSWORD,
            }
        ).encode()
        request = urllib.request.Request(f"{base}/login/", data=form, headers={"Referer": base})
        start_page = browser.open(request).read().decode()
        assert "Welkom, Daan" in start_page
        companies = browser.open(f"{base}/companies/").read().decode()
        assert 'data-testid="company-table"' in companies
        stylesheet = browser.open(f"{base}/static/koers/koers.css")
        assert stylesheet.status == 200
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0

    # The web server and the worker went with it.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    else:
        os.killpg(process.pid, signal.SIGKILL)
        raise AssertionError("processes of `koers run` outlived Ctrl-C")
