"""Browser libraries the console serves itself (no CDN, no Node, no third-party code in the repository).

Each asset is an npm package pinned by version and by the registry's ``dist.integrity`` (sha512 of the
tarball). ``assets_install()`` downloads the tarball from the npm registry (or a mirror named by
``OMS_NPM_REGISTRY``, e.g. https://registry.npmmirror.com; or a local copy named by ``OMS_ASSETS_DIR``
holding ``<name>-<version>.tgz`` for offline installs), refuses it unless its sha512 is the pinned one,
and writes only the named files into the git-ignored ``oms/reports/static/reports/vendor/``. A stamp
file records what was installed, so a second run does nothing. ``make install`` and ``oms setup`` run it.

Standard library only: it runs before Django is configured.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import sys
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

VENDOR_DIR = Path(__file__).resolve().parent / "static" / "reports" / "vendor"
DEFAULT_REGISTRY = "https://registry.npmjs.org"
MAX_TARBALL_BYTES = 64 * 1024 * 1024


class AssetError(Exception):
    """The tarball could not be fetched, or is not the pinned one."""


@dataclass(frozen=True)
class NpmAsset:
    name: str
    version: str
    integrity: str  # the registry's dist.integrity: "sha512-<base64>"
    files: dict[str, str]  # path inside the tarball -> file name under VENDOR_DIR

    @property
    def tarball_name(self) -> str:
        return f"{self.name}-{self.version}.tgz"

    def url(self, registry: str) -> str:
        return f"{registry.rstrip('/')}/{self.name}/-/{self.tarball_name}"

    @property
    def stamp(self) -> Path:
        return VENDOR_DIR / f".{self.name}.installed"


ECHARTS = NpmAsset(
    name="echarts",
    version="5.6.0",
    integrity="sha512-oTbVTsXfKuEhxftHqL5xprgLoc0k7uScAwtryCgWF6hPYFLRwOUHiFmHGCBKP5NPFNkDVopOieyUqYGH8Fa3kA==",
    files={
        "package/dist/echarts.min.js": "echarts.min.js",
        "package/LICENSE": "echarts.LICENSE.txt",
        "package/NOTICE": "echarts.NOTICE.txt",
    },
)
ASSETS: tuple[NpmAsset, ...] = (ECHARTS,)


def integrity_check(asset: NpmAsset, data: bytes) -> None:
    algorithm, _, expected = asset.integrity.partition("-")
    if algorithm != "sha512":
        raise AssetError(f"{asset.name}: unsupported integrity algorithm {algorithm!r}")
    actual = base64.b64encode(hashlib.sha512(data).digest()).decode()
    if actual != expected:
        raise AssetError(
            f"{asset.name} {asset.version}: the tarball's sha512 is {actual}, not the pinned {expected}; refusing it"
        )


def _download(url: str) -> bytes:
    if not url.startswith(("https://", "http://")):
        raise AssetError(f"not an http(s) URL: {url}")
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - scheme checked above
        data: bytes = response.read(MAX_TARBALL_BYTES + 1)
    if len(data) > MAX_TARBALL_BYTES:
        raise AssetError(f"{url} is larger than {MAX_TARBALL_BYTES} bytes")
    return data


def tarball_fetch(asset: NpmAsset) -> bytes:
    local_dir = os.environ.get("OMS_ASSETS_DIR", "")
    if local_dir:
        return (Path(local_dir) / asset.tarball_name).read_bytes()
    try:
        return _download(asset.url(os.environ.get("OMS_NPM_REGISTRY", DEFAULT_REGISTRY)))
    except OSError as exc:
        raise AssetError(
            f"could not download {asset.tarball_name} ({exc}); set OMS_NPM_REGISTRY to a mirror or OMS_ASSETS_DIR "
            "to a directory holding the tarball"
        ) from exc


def tarball_extract(asset: NpmAsset, data: bytes, target: Path) -> list[Path]:
    """Write the asset's named files (regular files only, never a path taken from the archive) to ``target``."""
    integrity_check(asset, data)
    target.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for member_name, file_name in asset.files.items():
            member = archive.getmember(member_name)
            extracted = archive.extractfile(member) if member.isfile() else None
            if extracted is None:
                raise AssetError(f"{asset.tarball_name}: {member_name} is not a regular file")
            path = target / file_name
            tmp = path.with_suffix(path.suffix + ".part")
            tmp.write_bytes(extracted.read())
            tmp.replace(path)
            written.append(path)
    return written


def asset_installed(asset: NpmAsset, target: Path = VENDOR_DIR) -> bool:
    stamp = target / asset.stamp.name
    return (
        stamp.exists()
        and stamp.read_text().strip() == asset.integrity
        and all((target / f).exists() for f in asset.files.values())
    )


def assets_install(*, target: Path = VENDOR_DIR, force: bool = False) -> list[str]:
    """Install every pinned asset not yet installed; returns what was installed ("name version")."""
    done: list[str] = []
    for asset in ASSETS:
        if not force and asset_installed(asset, target):
            continue
        tarball_extract(asset, tarball_fetch(asset), target)
        (target / asset.stamp.name).write_text(asset.integrity + "\n")
        done.append(f"{asset.name} {asset.version}")
    return done


def main() -> int:
    try:
        installed = assets_install(force="--force" in sys.argv[1:])
    except AssetError as exc:
        print(f"assets: {exc}", file=sys.stderr)
        return 1
    for line in installed:
        print(f"assets: installed {line} into {VENDOR_DIR}")
    if not installed:
        print("assets: up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
