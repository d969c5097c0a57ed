"""Re-create the portal's vendored browser assets from their npm registry tarballs.

The portal serves every asset itself (no CDN, nothing fetched at run time). This script is the
one way those files get into ``src/tether/portal/static/vendor/``: each package is pinned by
version and by the registry's sha512 integrity, and its licence travels with it.

    python scripts/vendor_portal_assets.py
"""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

VENDOR = Path(__file__).resolve().parents[1] / "src" / "tether" / "portal" / "static" / "vendor"
REGISTRY = "https://registry.npmjs.org"


@dataclass(frozen=True)
class Asset:
    """One npm package and the files of it the portal serves (tarball path -> vendored name)."""

    package: str
    version: str
    integrity: str
    files: dict[str, str]

    @property
    def tarball(self) -> str:
        return f"{REGISTRY}/{self.package}/-/{self.package}-{self.version}.tgz"


ASSETS = [
    Asset(
        package="htmx.org",
        version="2.0.4",
        integrity="sha512-HLxMCdfXDOJirs3vBZl/ZLoY+c7PfM4Ahr2Ad4YXh6d22T5ltbTXFFkpx9Tgb2vvmWFMbIc3LqN2ToNkZJvyYQ==",
        files={"package/dist/htmx.min.js": "htmx.min.js", "package/LICENSE": "LICENSE"},
    ),
]


def fetch(asset: Asset) -> bytes:
    """The tarball, refused unless it matches the pinned integrity."""
    with urllib.request.urlopen(asset.tarball, timeout=60) as response:
        data: bytes = response.read()
    algorithm, expected = asset.integrity.split("-", 1)
    actual = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    if actual != expected:
        raise SystemExit(f"{asset.tarball}: integrity mismatch ({actual} != {expected})")
    return data


def vendor(asset: Asset) -> None:
    """Write the asset's files under ``vendor/<package>-<version>/``."""
    target = VENDOR / asset.package.removesuffix(".org")
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(fetch(asset)), mode="r:gz") as archive:
        for member, name in asset.files.items():
            extracted = archive.extractfile(member)
            if extracted is None:
                raise SystemExit(f"{asset.tarball}: {member} is not a file")
            (target / name).write_bytes(extracted.read())
    (target / "VERSION").write_text(f"{asset.package}@{asset.version} {asset.integrity}\n")
    print(f"vendored {asset.package}@{asset.version} into {target}")


if __name__ == "__main__":
    for each in ASSETS:
        vendor(each)
