"""Starts moto server with sseguard's fidelity patches applied (see emulator/README.md).

Usage: python emulator/server.py [--host 127.0.0.1] [--port 4566]
"""

import argparse
import ipaddress
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from patches import apply_all  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description="moto server with AWS-faithful S3/KMS encryption behaviour")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=4566, help="port (default 4566, as LocalStack)")
    args = parser.parse_args()
    # The emulator holds no auth: never expose it beyond this machine.
    if args.host != "localhost" and not ipaddress.ip_address(args.host).is_loopback:
        parser.error(f"--host must be a loopback address, got {args.host}")

    apply_all()

    from moto.server import main as moto_main

    moto_main(["--host", args.host, "--port", str(args.port)])


if __name__ == "__main__":
    main()
