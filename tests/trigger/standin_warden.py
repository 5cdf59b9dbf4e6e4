"""A stand-in for ``warden worker run --once [--dry-run | --execute]`` that honours
ops-warden's contract (../shared/contracts/ops-warden.md), with knobs for the tests.

Contract: it "plans" a small inbox, prints human lines and then, as its last stdout line,
the JSON audit summary; exits 0 when the pass completed, 2 for a refusal or usage error
(both modes at once, an unknown flag: argparse's own exit 2), anything else on failure.

Knobs: ``--starts-file F`` appends one JSON line per start (pid, process group, mode), which
is how the tests count passes; ``--pid-file F`` writes its pid; ``--exit N`` ends with N;
``--hang S`` sleeps S seconds before finishing; ``--ignore-sigterm`` makes SIGTERM useless;
``--spawn-helper F`` forks a helper in its process group that ignores SIGTERM, sleeps, and
writes its pid to F; ``--print-secret VAR`` prints the value of VAR on both streams (and
JSON-escaped, and scattered through any flood); ``--flood N`` prints N more bytes on each
stream; ``--no-audit`` leaves the audit line out; ``--failed-actions N`` counts N failures.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time

AUDIT_MESSAGES = 4


def main() -> int:
    parser = argparse.ArgumentParser(prog="warden")
    commands = parser.add_subparsers(dest="command", required=True)
    worker = commands.add_parser("worker").add_subparsers(dest="action", required=True)
    run = worker.add_parser("run")
    run.add_argument("--once", action="store_true", required=True)
    mode = run.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true")
    mode.add_argument("--execute", action="store_true")
    run.add_argument("--brain", choices=["rule", "llm"], default="rule")
    run.add_argument("--starts-file")
    run.add_argument("--pid-file")
    run.add_argument("--exit", type=int, default=0)
    run.add_argument("--hang", type=float, default=0.0)
    run.add_argument("--ignore-sigterm", action="store_true")
    run.add_argument("--spawn-helper")
    run.add_argument("--print-secret")
    run.add_argument("--flood", type=int, default=0)
    run.add_argument("--no-audit", action="store_true")
    run.add_argument("--failed-actions", type=int, default=0)
    args = parser.parse_args()  # a usage error exits 2, as the contract says

    executing = args.execute
    if args.starts_file:
        with open(args.starts_file, "a", encoding="utf-8") as starts:
            record = {"pid": os.getpid(), "pgid": os.getpgid(0), "mode": "execute" if executing else "dry_run"}
            starts.write(json.dumps(record) + "\n")
    if args.pid_file:
        with open(args.pid_file, "w", encoding="utf-8") as pid_file:
            pid_file.write(str(os.getpid()))
    if args.ignore_sigterm:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if args.spawn_helper:
        _spawn_helper(args.spawn_helper)

    print(f"warden worker: {AUDIT_MESSAGES} unread message(s) for ops-warden", flush=True)
    secret = os.environ[args.print_secret] if args.print_secret else None
    if secret:
        print(f"debug: token={secret}", flush=True)
        print(f"debug: echoed {json.dumps({'token': secret})}", file=sys.stderr, flush=True)
    if args.flood:
        _flood(args.flood, secret)
    if args.hang:
        time.sleep(args.hang)

    if args.exit == 2:
        print("warden worker: refusing: the inbox lock is held by another session", file=sys.stderr)
    elif args.exit:
        print("warden worker: State Hub answered 503 while marking a message read", file=sys.stderr)
    executed = AUDIT_MESSAGES - 2 if executing else 0
    if not args.no_audit:
        audit = {
            "messages": AUDIT_MESSAGES,
            "planned": AUDIT_MESSAGES,
            "executed": executed,
            "escalated": 2,
            "failed": args.failed_actions,
        }
        print(json.dumps(audit), flush=True)
    return args.exit


def _spawn_helper(pid_path: str) -> None:
    if os.fork() == 0:  # stays in our process group
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        with open(pid_path, "w", encoding="utf-8") as pid_file:
            pid_file.write(str(os.getpid()))
        time.sleep(600)
        os._exit(0)


def _flood(size: int, secret: str | None) -> None:
    """``size`` bytes on each stream in odd-sized writes, the secret planted every ~10 KB."""
    written = 0
    line = "plan: message 0000 -> reply (route answer), mark read; " * 3
    while written < size:
        chunk = line[: min(len(line), size - written)]
        if secret and written // 10_000 != (written + len(chunk)) // 10_000:
            chunk = chunk[: len(chunk) // 2] + secret + chunk[len(chunk) // 2 :]
        sys.stdout.write(chunk + "\n")
        sys.stderr.write(chunk + "\n")
        written += len(chunk) + 1
    sys.stdout.flush()
    sys.stderr.flush()


if __name__ == "__main__":
    sys.exit(main())
