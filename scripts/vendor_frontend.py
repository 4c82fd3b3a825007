"""Copy the studio's front-end libraries, at pinned versions, from the npm registry into the package.

    python scripts/vendor_frontend.py        (or: make vendor)

Each library is fetched with `npm pack NAME@VERSION` (npm checks the registry's integrity hash),
and only the files the studio serves are copied, with the package's licence files, into
`src/mlyard/server/studio/static/vendor/<name>/` (axe-core, for the browser tests only, into
`tests/server/studio/vendor/`). The result is committed: installing mlyard needs
no build step and the studio fetches nothing at run time (users run it offline). To upgrade a
library, change its version below, run this script and commit the result.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "src/mlyard/server/studio/static/vendor"
# Test-only libraries stay out of the package (and so out of the wheel).
TEST_VENDOR = ROOT / "tests/server/studio/vendor"


@dataclass(frozen=True)
class Library:
    """One npm package: the files to serve (path in the tarball → name under vendor/<folder>/)."""

    package: str
    version: str
    folder: str
    files: dict[str, str]
    licences: tuple[str, ...] = ("LICENSE",)
    root: Path = VENDOR


LIBRARIES = (
    Library("htmx.org", "2.0.4", "htmx", {"dist/htmx.min.js": "htmx.min.js"}),
    Library(
        "uplot",
        "1.6.32",
        "uplot",
        {"dist/uPlot.iife.min.js": "uPlot.iife.min.js", "dist/uPlot.min.css": "uPlot.min.css"},
    ),  # fmt: skip
    Library("@dagrejs/dagre", "1.1.4", "dagre", {"dist/dagre.min.js": "dagre.min.js"}),
    # Injected by the browser tests only (accessibility checks); never served by the studio.
    Library(
        "axe-core",
        "4.14.1",
        "axe-core",
        {"axe.min.js": "axe.min.js"},
        ("LICENSE", "LICENSE-3RD-PARTY.txt"),
        TEST_VENDOR,
    ),  # fmt: skip
)


def vendor(library: Library, scratch: Path) -> None:
    """Fetch one pinned package and copy its served files and licences into vendor/."""
    spec = f"{library.package}@{library.version}"
    packed = subprocess.run(
        ["npm", "pack", spec, "--silent", "--pack-destination", str(scratch)],
        check=True, capture_output=True, text=True,
    ).stdout.strip().splitlines()[-1]  # fmt: skip
    target = library.root / library.folder
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    with tarfile.open(scratch / packed) as archive:
        wanted = {**library.files, **{name: name for name in library.licences}}
        for inner, name in wanted.items():
            member = archive.extractfile(f"package/{inner}")
            if member is None:
                raise SystemExit(f"{spec} has no file {inner}")
            (target / name).write_bytes(member.read())
    (target / "VERSION").write_text(f"{spec}\n")
    print(f"vendored {spec} → {target.relative_to(ROOT)}")


def main() -> int:
    if shutil.which("npm") is None:
        print("npm is needed to vendor the studio's libraries (apt-get install npm)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="mlyard-vendor-") as scratch:
        for library in LIBRARIES:
            vendor(library, Path(scratch))
    return 0


if __name__ == "__main__":
    sys.exit(main())
