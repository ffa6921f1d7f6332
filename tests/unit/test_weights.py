"""Weights table, verify and resumable fetch, against a loopback HTTP server and file:// (no network)."""

from __future__ import annotations

import dataclasses
import hashlib
import http.server
import io
import tarfile
import threading
from typing import ClassVar

import pytest

from ram_core.commands import weights as weights_command
from ram_core.weights import (
    VARIANTS,
    DownloadError,
    MissingWeightsError,
    check,
    download,
    fetch,
    require,
    variant,
)

PAYLOAD = bytes(range(256)) * 4000  # about 1 MB


class _RangeHandler(http.server.BaseHTTPRequestHandler):
    """Serves ``PAYLOAD`` at /file, honouring ``Range: bytes=N-``; records the ranges asked for."""

    ranges: ClassVar[list[str | None]] = []
    body = PAYLOAD

    def do_GET(self):
        type(self).ranges.append(self.headers.get("Range"))
        start = 0
        if self.headers.get("Range"):
            start = int(self.headers["Range"].split("=")[1].rstrip("-"))
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(self.body) - 1}/{len(self.body)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(self.body) - start))
        self.end_headers()
        self.wfile.write(self.body[start:])

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    _RangeHandler.ranges = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RangeHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_the_table_names_files_licences_and_sources():
    names = [v.name for v in VARIANTS]
    assert len(names) == len(set(names))
    assert {"hmr2", "sam2.1-tiny", "sam2.1-small", "sam2.1-base-plus", "sam2.1-large", "smpl"} <= set(names)
    for v in VARIANTS:
        assert v.file_name and v.licence and v.source
        assert v.sha256 is None or len(v.sha256) == 64
        assert v.url is None or v.url.startswith("https://")
    assert variant("smpl").url is None
    with pytest.raises(KeyError, match="known: hmr2"):
        variant("nope")


def test_missing_weights_error_names_file_size_checksum_and_source(tmp_path):
    v = dataclasses.replace(variant("hmr2"), size=123, sha256="ab" * 32)
    with pytest.raises(MissingWeightsError) as e:
        require(v, tmp_path)
    msg = str(e.value)
    assert "hmr2_epoch35.ckpt" in msg and "123 bytes" in msg and "ab" * 32 in msg and "4dhumans" in msg


def test_a_manual_only_source_reads_as_an_instruction():
    from ram_core.weights.store import describe

    for name in ("ram", "smpl"):
        text = describe(variant(name))
        assert "get it from" not in text and "weights fetch" not in text, text
    assert "; no public RAM weights exist; train them with `ram-core train`" in describe(variant("ram"))
    assert "; get it from https://" in describe(variant("hmr2"))


def test_download_resumes_with_range_and_checks_sha256(tmp_path, server):
    digest = hashlib.sha256(PAYLOAD).hexdigest()
    dest = tmp_path / "w.bin"
    (tmp_path / "w.bin.partial").write_bytes(PAYLOAD[:300_000])  # an interrupted earlier download
    seen = []
    download(f"{server}/file", dest, sha256=digest, size=len(PAYLOAD), progress=lambda d, t: seen.append((d, t)))
    assert dest.read_bytes() == PAYLOAD and not (tmp_path / "w.bin.partial").exists()
    assert _RangeHandler.ranges == ["bytes=300000-"]
    assert seen[0][0] > 300_000 and seen[-1] == (len(PAYLOAD), len(PAYLOAD))

    bad = tmp_path / "bad.bin"
    with pytest.raises(DownloadError, match="sha256"):
        download(f"{server}/file", bad, sha256="0" * 64)
    assert not bad.exists() and not (tmp_path / "bad.bin.partial").exists()


def test_file_url_restarts_a_partial_download_and_verify_reports(tmp_path):
    source = tmp_path / "src.pt"
    source.write_bytes(PAYLOAD)
    out = tmp_path / "weights"
    out.mkdir()
    (out / "sam2.1_hiera_tiny.pt.partial").write_bytes(b"garbage that must not survive")
    v = dataclasses.replace(
        variant("sam2.1-tiny"), url=source.as_uri(), size=len(PAYLOAD), sha256=hashlib.sha256(PAYLOAD).hexdigest()
    )
    path = fetch(v, out)
    assert path.read_bytes() == PAYLOAD
    assert check(v, out).ok and "matches" in check(v, out).message
    path.write_bytes(PAYLOAD[:-1] + b"\0")
    assert not check(v, out).ok
    with pytest.raises(MissingWeightsError, match="smpl.is.tue.mpg.de"):
        fetch(variant("smpl"), out)


def test_archive_variant_extracts_only_its_member(tmp_path, server):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in (("data/ckpt/model.ckpt", PAYLOAD[:5000]), ("../evil", b"x")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    _RangeHandler.body = buf.getvalue()
    try:
        v = dataclasses.replace(
            variant("hmr2"), url=f"{server}/hmr2_data.tar.gz", archive_member="data/ckpt/model.ckpt"
        )
        path = fetch(v, tmp_path / "w")
    finally:
        _RangeHandler.body = PAYLOAD
    assert path.name == "hmr2_epoch35.ckpt" and path.read_bytes() == PAYLOAD[:5000]
    assert sorted(p.name for p in (tmp_path / "w").iterdir()) == ["hmr2_epoch35.ckpt"]
    assert not (tmp_path / "evil").exists()


def test_weights_command(tmp_path, capsys):
    import argparse

    parser = argparse.ArgumentParser()
    weights_command.add_arguments(parser)
    assert weights_command.run(parser.parse_args(["--dir", str(tmp_path), "list"])) == 0
    assert "sam2.1_hiera_large.pt" in capsys.readouterr().out
    assert weights_command.run(parser.parse_args(["--dir", str(tmp_path), "path", "hmr2"])) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "hmr2_epoch35.ckpt")
    assert weights_command.run(parser.parse_args(["--dir", str(tmp_path), "verify", "hmr2"])) == 1
    assert "missing" in capsys.readouterr().out
    # The detector's file names carry the first digits of its sha256: a file matching them is verified.
    data = b"detector weights"
    v = dataclasses.replace(
        variant("ssdlite320_mobilenet_v3_large"), sha256_prefix=hashlib.sha256(data).hexdigest()[:8]
    )
    (tmp_path / v.file_name).write_bytes(data)
    assert check(v, tmp_path).verified and check(v, tmp_path).message.startswith("ok:")


def test_verify_never_says_ok_for_a_file_nothing_published_vouches_for(tmp_path, capsys):
    """HMR2.0's release publishes no size or checksum: "unverified" and exit 1, unless --allow-unverified."""
    import argparse

    torch = pytest.importorskip("torch")
    parser = argparse.ArgumentParser()
    weights_command.add_arguments(parser)
    verify = ["--dir", str(tmp_path), "verify", "hmr2"]
    path = tmp_path / "hmr2_epoch35.ckpt"
    torch.save({"state_dict": {"w": torch.zeros(2)}, "hyper_parameters": {"lr": 1e-5}}, path)
    result = check(variant("hmr2"), tmp_path)
    assert result.ok and not result.verified
    assert weights_command.run(parser.parse_args(verify)) == 1
    out = capsys.readouterr().out
    assert "unverified:" in out and "ok:" not in out and hashlib.sha256(path.read_bytes()).hexdigest() in out
    assert weights_command.run(parser.parse_args([*verify, "--allow-unverified"])) == 0
    assert require(variant("hmr2"), tmp_path) == path  # a capture still uses it

    # A file the safe loader would refuse fails verify even when unverified files are allowed.
    path.write_bytes(b"abc")
    assert weights_command.run(parser.parse_args([*verify, "--allow-unverified"])) == 1
    assert "refused by the loader" in capsys.readouterr().out


def test_weights_list_fits_100_columns_and_keeps_every_fact(capsys):
    import argparse

    parser = argparse.ArgumentParser()
    weights_command.add_arguments(parser)
    assert weights_command.run(parser.parse_args(["list"])) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 100
    blocks = {b.split("\n", 1)[0]: " ".join(b.split()) for b in out.strip().split("\n\n")}
    assert list(blocks) == [v.name for v in VARIANTS]
    for v in VARIANTS:
        text = blocks[v.name]
        for fact in (v.kind, v.file_name, v.licence, " ".join(v.source.split()), v.url or "", v.approx_size or ""):
            assert fact in text, (v.name, fact)
        assert ("ram-core weights fetch " + v.name in text) == bool(v.url)
    assert "sha256 a79551df... (only its first 8 hex digits are published)" in blocks["ssdlite320_mobilenet_v3_large"]
