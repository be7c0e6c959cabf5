"""A bundle served from S3: a real S3 server on 127.0.0.1 (moto's server mode), a bucket filled
with boto3 from `bundle`'s folder, and installs from it into a fresh store with the `s3`
setting, credentials from the standard AWS variables."""

# ruff: noqa: F811  (fixtures imported from test_bundle, then named as parameters)

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import BACKEND, CMAKE, Run, as_json, negotiate
from test_bundle import bundle, served_workspace, upstream  # noqa: F401

boto3 = pytest.importorskip("boto3")
moto_server = pytest.importorskip("moto.server")

BUCKET = "site-bundles"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@pytest.fixture
def s3(tmp_path: Path) -> Iterator[str]:
    """moto's S3 server on 127.0.0.1, with an empty bucket; its endpoint URL."""
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        client(endpoint).create_bucket(Bucket=BUCKET)
        yield endpoint
    finally:
        server.stop()


def client(endpoint: str) -> Any:
    """A boto3 S3 client of the server, with the test's credentials."""
    credentials = {k.lower(): v for k, v in CREDENTIALS.items()}
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **credentials)


def upload(endpoint: str, folder: Path, prefix: str) -> None:
    """What `aws s3 sync FOLDER s3://BUCKET/PREFIX` does."""
    bucket = client(endpoint)
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            bucket.upload_file(str(path), BUCKET, f"{prefix}/{path.relative_to(folder)}")


def site(tmp_path: Path, endpoint: str, extra: str = "") -> dict[str, str]:
    """A fresh store, the `s3` setting for the bucket, AWS credentials and nothing else."""
    config = tmp_path / "site.yml"
    config.write_text(
        f"s3:\n  {BUCKET}:\n    endpoint_url: {endpoint}\n    region: us-east-1\n"
        f"    force_path_style: true\n{extra}"
    )
    return {
        **CREDENTIALS,
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        "CONDA_PIXI_BACKENDS_CONFIG": str(config),
        "CONDA_PIXI_BACKENDS_ROOT": str(tmp_path / "site-store"),
    }


def test_install_from_a_bundle_in_s3_as_the_channel(
    cli: Run,
    served_workspace: Path,
    tmp_path: Path,
    s3: str,
) -> None:
    outdir = tmp_path / "bundle"
    bundle(cli, served_workspace, outdir)
    upload(s3, outdir, "pixi/bundle")
    channel = f"s3://{BUCKET}/pixi/bundle"
    proc = cli("install", "-c", channel, "--override-channels", "--json", cwd=served_workspace,
               extra_env=site(tmp_path, s3))  # fmt: skip
    installed = {b["name"]: b for b in as_json(proc)["backends"]}
    assert {n: b["status"] for n, b in installed.items()} == {
        BACKEND: "installed", CMAKE: "installed"
    }  # fmt: skip
    assert installed[BACKEND]["channels"] == [channel]
    for name in (BACKEND, CMAKE):
        reply = negotiate(tmp_path / "site-store" / "bin" / name, env={"PATH": "/usr/bin:/bin"})
        assert "capabilities" in reply["result"]


def test_a_bundle_in_s3_as_a_mirror(
    cli: Run,
    served_workspace: Path,
    tmp_path: Path,
    upstream: str,
    s3: str,
) -> None:
    """The workspace's own lock (upstream URLs) installs unchanged; `mirrors` sends every
    download to the bucket. The upstream holds no package any more."""
    outdir = tmp_path / "bundle"
    bundle(cli, served_workspace, outdir)
    upload(s3, outdir, "pixi/bundle")
    for package in (tmp_path / "upstream" / "noarch").glob("*.tar.bz2"):
        package.unlink()
    mirrors = f"mirrors:\n  {upstream}: ['s3://{BUCKET}/pixi/bundle']\n"
    proc = cli("install", "--locked", "--json", cwd=served_workspace,
               extra_env=site(tmp_path, s3, mirrors))  # fmt: skip
    installed = {b["name"]: b for b in as_json(proc)["backends"]}
    assert {b["status"] for b in installed.values()} == {"installed"}
    assert installed[BACKEND]["channels"] == [upstream], "the request and its key unchanged"
    negotiate(tmp_path / "site-store" / "bin" / BACKEND, env={"PATH": "/usr/bin:/bin"})
