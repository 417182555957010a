"""The test bed's keys and certificates, made with openssl: a CA, a serving certificate for
127.0.0.1, and the service-account key pair."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Pki:
    ca_cert: Path
    ca_key: Path
    serving_cert: Path
    serving_key: Path
    sa_key: Path  # private: the controller manager and the API server sign tokens with it
    sa_pub: Path


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_pki(directory: Path) -> Pki:
    directory.mkdir(parents=True, exist_ok=True)
    pki = Pki(
        ca_cert=directory / "ca.crt",
        ca_key=directory / "ca.key",
        serving_cert=directory / "apiserver.crt",
        serving_key=directory / "apiserver.key",
        sa_key=directory / "sa.key",
        sa_pub=directory / "sa.pub",
    )
    _openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
        "-subj", "/CN=gitflink-testbed-ca",
        "-keyout", str(pki.ca_key), "-out", str(pki.ca_cert),
        cwd=directory,
    )  # fmt: skip
    # kubernetes.default.svc is what in-cluster clients (a Flink JobManager pod) dial.
    sans = "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default.svc"
    _openssl(
        "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=kube-apiserver",
        "-keyout", str(pki.serving_key), "-out", str(directory / "apiserver.csr"),
        cwd=directory,
    )  # fmt: skip
    (directory / "san.ext").write_text(sans + "\n")
    _openssl(
        "x509", "-req", "-in", str(directory / "apiserver.csr"), "-days", "30",
        "-CA", str(pki.ca_cert), "-CAkey", str(pki.ca_key), "-CAcreateserial",
        "-extfile", str(directory / "san.ext"), "-out", str(pki.serving_cert),
        cwd=directory,
    )  # fmt: skip
    _openssl("genrsa", "-out", str(pki.sa_key), "2048", cwd=directory)
    _openssl("rsa", "-in", str(pki.sa_key), "-pubout", "-out", str(pki.sa_pub), cwd=directory)
    return pki
