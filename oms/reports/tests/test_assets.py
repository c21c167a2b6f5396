"""ECharts is installed with the project from the npm registry, pinned by version and sha512, and served by the
application itself: a tarball that is not the pinned one is refused, only the named files are written."""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders

from oms.reports.assets import ECHARTS, AssetError, NpmAsset, asset_installed, integrity_check, tarball_extract


def _tarball(members: dict[str, bytes], link: str = "") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        if link:
            info = tarfile.TarInfo(link)
            info.type = tarfile.SYMTYPE
            info.linkname = "/etc/passwd"
            archive.addfile(info)
    return buf.getvalue()


def _pinned(data: bytes, files: dict[str, str]) -> NpmAsset:
    digest = base64.b64encode(hashlib.sha512(data).digest()).decode()
    return NpmAsset(name="demo", version="1.0.0", integrity=f"sha512-{digest}", files=files)


def test_a_tarball_that_is_not_the_pinned_one_is_refused(tmp_path: Path) -> None:
    data = _tarball({"package/dist/demo.min.js": b"var demo = 1;"})
    asset = _pinned(data, {"package/dist/demo.min.js": "demo.min.js"})
    tampered = _tarball({"package/dist/demo.min.js": b"var demo = 2; steal();"})
    with pytest.raises(AssetError, match="not the pinned"):
        integrity_check(asset, tampered)
    with pytest.raises(AssetError):
        tarball_extract(asset, tampered, tmp_path)
    assert not (tmp_path / "demo.min.js").exists()


def test_only_the_named_regular_files_are_written(tmp_path: Path) -> None:
    data = _tarball({"package/dist/demo.min.js": b"var demo = 1;", "package/other.js": b"x"}, link="package/LICENSE")
    asset = _pinned(data, {"package/dist/demo.min.js": "demo.min.js"})
    tarball_extract(asset, data, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.min.js"]
    assert (tmp_path / "demo.min.js").read_bytes() == b"var demo = 1;"
    linked = _pinned(data, {"package/LICENSE": "LICENSE"})
    with pytest.raises(AssetError, match="not a regular file"):
        tarball_extract(linked, data, tmp_path)


def test_echarts_is_installed_pinned_where_the_static_finders_serve_it() -> None:
    # `make install` (and `oms setup`) installed it: the stamp names the pinned integrity.
    assert asset_installed(ECHARTS)
    found = finders.find("reports/vendor/echarts.min.js")
    assert found is not None and Path(str(found)).stat().st_size > 500_000
    assert "Apache" in Path(str(finders.find("reports/vendor/echarts.LICENSE.txt"))).read_text()
