"""What a reader's one-line install costs: packages, disk and time (not part of the tests).

    .venv/bin/python benchmarks/reader_install.py [--record]

Installs ``linnet[book]`` from the wheel in ``_build/dist`` (``make dist``) into a fresh
virtual environment, as the line on "Run it yourself" does, twice: with the newest versions,
then with the constraints file of tested versions (``pip install -c``). pip's cache is off,
so every package is downloaded: the time includes the network of the machine it runs on.
Prints the packages installed, the environment's size on disk and the wall time of each
install; ``--record`` writes them to ``benchmarks/reader_install.json``, which the page "Run it
yourself" quotes (``{linnet-install-cost}``, book/_ext/linnet_dist.py) and which
``tests/test_dist.py`` compares with the packages ``linnet[book]`` requires in the locked
environment.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))

from linnet_dist import constraints_name, version, wheel_name  # noqa: E402
from packaging.utils import canonicalize_name  # noqa: E402

RECORD = ROOT / "benchmarks" / "reader_install.json"
#: What ``python -m venv`` puts in an environment before the install (setuptools up to 3.11).
VENV_OWN = {"pip", "setuptools"}


def size_mb(folder: Path) -> float:
    """Bytes of the regular files under ``folder``, in MB (10^6)."""
    return (
        sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink()) / 1e6
    )


def install(wheel: Path, constraints: Path | None) -> dict:
    """Install ``linnet[book]`` from ``wheel`` into a fresh venv; what it took."""
    with tempfile.TemporaryDirectory() as tmp:
        env = Path(tmp) / "env"
        subprocess.run([sys.executable, "-m", "venv", env], check=True)
        python = env / "bin" / "python"
        before = size_mb(env)
        command = [str(python), "-m", "pip", "install", "--quiet", "--no-cache-dir",
                   "--disable-pip-version-check"]  # fmt: skip
        if constraints is not None:
            command += ["-c", str(constraints)]
        command.append(f"linnet[book] @ {wheel.as_uri()}")
        started = time.monotonic()
        subprocess.run(command, check=True)
        seconds = time.monotonic() - started
        listed = subprocess.run(
            [str(python), "-m", "pip", "list", "--format=json", "--disable-pip-version-check"],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        names = sorted(
            canonicalize_name(p["name"])
            for p in json.loads(listed.stdout)
            if canonicalize_name(p["name"]) not in VENV_OWN
        )
        return {
            "packages": len(names),
            "names": names,
            "size_MB": round(size_mb(env) - before),
            "seconds": round(seconds),
        }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", action="store_true", help=f"write {RECORD.name}")
    args = parser.parse_args(argv)
    ver = version()
    dist = ROOT / "_build" / "dist"
    wheel, constraints = dist / wheel_name(ver), dist / constraints_name(ver)
    if not wheel.is_file() or not constraints.is_file():
        print(f"error: {wheel.name} or {constraints.name} missing in {dist}: run `make dist`",
              file=sys.stderr)  # fmt: skip
        return 1
    result = {
        "linnet": ver,
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.machine()}",
        "newest": install(wheel, None),
        "tested": install(wheel, constraints),
    }
    for kind in ("newest", "tested"):
        r = result[kind]
        print(f"{kind:7s} {r['packages']:4d} packages  {r['size_MB']:5d} MB  {r['seconds']:4d} s")
    if args.record:
        RECORD.write_text(json.dumps(result, indent=1) + "\n")
        print(f"written: {RECORD.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
