"""The `koers` command.

koers run [--demo]     migrate, then serve Koers (gunicorn) and run its background worker
                       until Ctrl-C; with --demo, first load the demo data into an
                       empty database (what `make run` does)
koers demo             load the demo data (users, ~300 companies, ~1,200 contacts)
koers worker           run the background worker (Huey consumer)
koers import FILE --into contacts --user NAME [--match email] [--dry-run]
                       import a CSV or XLSX file as that user; --resume JOB continues
                       an import that was stopped
koers manage <cmd> …   any Django management command
"""

import os
import signal
import socket
import subprocess
import sys
import time

USAGE = __doc__.split("\n", 2)[2]


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "koers.settings")
    import django

    django.setup()


def _wait_for_port(host: str, port: int, process: subprocess.Popen, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with socket.create_connection((host, port), timeout=1):
                return True
        except OSError:
            time.sleep(0.2)
    return False


def _stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + 10
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run(*, demo_data: bool = False) -> int:
    """Prepare the database, then run the web server and the worker until interrupted."""
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "8000"))
    _setup_django()
    from django.conf import settings
    from django.core.management import call_command

    from koers import demo

    print("Koers: preparing the database …", flush=True)
    call_command("migrate", interactive=False, verbosity=0)
    if not settings.DEBUG:
        call_command("collectstatic", interactive=False, verbosity=0)
    # Only when asked: the demo users' password is public.
    if demo_data and demo.is_empty():
        print("Koers: loading demo data (Stroomlijn Software B.V.) …", flush=True)
        counts = demo.load()
        print(
            f"Koers: {counts['companies']} companies, {counts['contacts']} contacts, "
            f"{counts['deals']} deals, {counts['users']} users",
            flush=True,
        )

    web_command = [
        sys.executable, "-m", "gunicorn", "koers.wsgi",
        "--bind", f"{host}:{port}",
        "--workers", os.environ.get("KOERS_WEB_WORKERS", "2"),
        # A list export streams for as long as it has rows; gunicorn's 30 s would cut a
        # large one off.
        "--timeout", "300",
        "--log-level", "warning",
    ]  # fmt: skip
    if settings.DEBUG:
        web_command.append("--reload")
    processes = [
        subprocess.Popen(web_command),
        subprocess.Popen([sys.executable, "-m", "koers", "worker"]),
    ]

    def stop_on_signal(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop_on_signal)
    try:
        if not _wait_for_port(host, port, processes[0]):
            print(f"Koers: the web server did not start on {host}:{port}.", file=sys.stderr)
            return 1
        print(f"\nKoers runs at http://{host}:{port}/", flush=True)
        if demo.has_demo_login():
            others = ", ".join(user[0] for user in demo.USERS if user[0] != demo.LOGIN_USERNAME)
            print(
                f"Log in as {demo.LOGIN_USERNAME} / {demo.LOGIN_PASSWORD} (sales, team Noord); "
                f"other demo users: {others}, with the same password.",
                flush=True,
            )
        print("Ctrl-C stops Koers.\n", flush=True)
        while all(process.poll() is None for process in processes):
            time.sleep(0.5)
        print("Koers: a process stopped; stopping the others.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nKoers: stopping …", flush=True)
        return 0
    finally:
        _stop(processes)


def worker() -> int:
    _setup_django()
    from django.core.management import call_command

    call_command("run_huey")
    return 0


def demo_load() -> int:
    _setup_django()
    from django.core.management import call_command

    from koers import demo

    call_command("migrate", interactive=False, verbosity=0)
    if not demo.is_empty():
        print("Koers: the database already has users; demo data is loaded only into an empty one.")
        return 1
    counts = demo.load()
    print(
        f"Koers: demo data loaded: {counts['companies']} companies, {counts['contacts']} contacts, "
        f"{counts['deals']} deals, {counts['users']} users. "
        f"Log in as {demo.LOGIN_USERNAME} / {demo.LOGIN_PASSWORD}."
    )
    return 0


def manage(args: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "koers.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["koers manage", *args])
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    command, rest = (args[0], args[1:]) if args else ("help", [])
    if command == "run":
        return run(demo_data="--demo" in rest)
    if command == "demo":
        return demo_load()
    if command == "worker":
        return worker()
    if command == "manage":
        return manage(rest)
    if command == "import":
        return manage(["import_file", *rest])
    print(USAGE)
    return 0 if command in {"help", "--help", "-h"} else 2


if __name__ == "__main__":
    sys.exit(main())
