"""Stand in for a container engine: build the Dockerfile on a Debian root and run the compose services.

Used by scripts/prove_bare_setup.sh, inside its namespaces; standard library only. `build` runs the
Dockerfile's steps in a plain shell under chroot; `run` starts the migrate, web, worker and beat
commands from a resolved compose file (`docker-compose config`) in that root and waits until each
service's own healthcheck command passes, then shows that the web check fails once Redis is gone.
"""

# It runs fixed commands of its own (chroot, runuser, the compose file's), as root, by design.
# ruff: noqa: S603, S607

from __future__ import annotations

import argparse
import fnmatch
import json
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# What python:3.11-slim has on its PATH; the root's venv is made at /usr/local to match.
IMAGE_PATH = "/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin"
CONTEXT_IN_ROOT = "/.build-context"


@dataclass
class Image:
    env: dict[str, str] = field(default_factory=dict)
    workdir: str = "/"
    user: str = "root"
    cmd: list[str] = field(default_factory=list)


def _instructions(text: str) -> list[tuple[str, str]]:
    """The Dockerfile's instructions, continuation lines joined and comment lines dropped."""
    result: list[tuple[str, str]] = []
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        keyword, _, rest = current.partition(" ")
        result.append((keyword.upper(), rest.strip()))
        current = ""
    return result


def _prune_context(context: Path, dockerignore: Path) -> None:
    """Remove what .dockerignore keeps out of the build context (patterns in order, `!` re-includes)."""
    files = sorted(str(p.relative_to(context)) for p in context.rglob("*") if p.is_file() or p.is_symlink())
    keep = dict.fromkeys(files, True)
    for raw in dockerignore.read_text(encoding="utf-8").splitlines():
        pattern = raw.strip()
        if not pattern or pattern.startswith("#"):
            continue
        include = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        bare = pattern.removeprefix("**/")
        for path in files:
            parts = path.split("/")
            prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
            if pattern.startswith("**/"):
                hit = any(fnmatch.fnmatch(part, bare) for part in parts)
            else:
                hit = any(fnmatch.fnmatch(prefix, pattern) for prefix in prefixes)
            if hit:
                keep[path] = include
    for path, kept in keep.items():
        if not kept:
            (context / path).unlink()


def build(root: Path, dockerfile: Path, context: Path, build_env: dict[str, str], log: Path) -> Image:
    image = Image()
    shutil.copytree(context, root / CONTEXT_IN_ROOT.lstrip("/"), symlinks=True)
    _prune_context(root / CONTEXT_IN_ROOT.lstrip("/"), context / ".dockerignore")
    args: dict[str, str] = dict(build_env)
    for number, (keyword, rest) in enumerate(_instructions(dockerfile.read_text(encoding="utf-8")), 1):
        started = time.monotonic()
        shown = rest if len(rest) < 100 else rest[:97] + "..."
        if keyword == "FROM":
            print(f"step {number}: FROM {rest}: stood in for by Debian 12's python3 in a venv at /usr/local")
            continue
        if keyword in ("ENV", "ARG"):
            for pair in shlex.split(rest):
                key, _, value = pair.partition("=")
                (image.env if keyword == "ENV" else args)[key] = value
        elif keyword == "WORKDIR":
            image.workdir = rest
            (root / rest.lstrip("/")).mkdir(parents=True, exist_ok=True)
        elif keyword == "USER":
            image.user = rest
        elif keyword == "CMD":
            image.cmd = json.loads(rest)
        elif keyword == "COPY":
            *sources, target = shlex.split(rest)
            script = " && ".join(
                f"cp -a {shlex.quote(CONTEXT_IN_ROOT + '/' + s)}{'/.' if s == '.' else ''} "
                f"{shlex.quote(target)}"
                for s in sources
            )
            _run_in(root, image, args, script, log)
        elif keyword == "RUN":
            _run_in(root, image, args, rest, log)
        elif keyword != "EXPOSE":
            raise SystemExit(f"step {number}: {keyword} is not handled here")
        print(f"step {number}: {keyword} {shown}  ({time.monotonic() - started:.0f} s)", flush=True)
    shutil.rmtree(root / CONTEXT_IN_ROOT.lstrip("/"))
    return image


def _run_in(root: Path, image: Image, args: dict[str, str], script: str, log: Path) -> None:
    """One RUN: /bin/sh -c, as Docker runs it, with the image's ENV and ARGs, in WORKDIR, as USER."""
    env = {"PATH": IMAGE_PATH, "HOME": "/root", **args, **image.env}
    command = ["/bin/sh", "-c", f"cd {shlex.quote(image.workdir)} && {script}"]
    if image.user != "root":
        command = ["runuser", "-u", image.user, "--", *command]
    _logged(root, env, command, log)


def _logged(root: Path, env: dict[str, str], command: list[str], log: Path) -> None:
    """Run to completion with the output in `log`, shown only when the command fails."""
    with log.open("ab") as out:
        status = subprocess.run(
            _chroot_argv(root, env, command), stdout=out, stderr=subprocess.STDOUT
        ).returncode
    if status != 0:
        print(log.read_text(errors="replace")[-4000:], file=sys.stderr)
        raise SystemExit(f"{shlex.join(command)[:200]} exited {status}")


def _chroot_argv(root: Path, env: dict[str, str], command: list[str]) -> list[str]:
    return ["chroot", str(root), "/usr/bin/env", "-i", *(f"{k}={v}" for k, v in env.items()), *command]


def _chroot(
    root: Path, env: dict[str, str], command: list[str], *, timeout: float | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _chroot_argv(root, env, command), check=False, text=True, capture_output=True, timeout=timeout
    )


def _container_command(image: Image, name: str, argv: list[str]) -> list[str]:
    """A service's process as its container would run it: own hostname, the image's user and WORKDIR."""
    inner = (
        shlex.join(["cd", image.workdir])
        + " && exec "
        + shlex.join(["runuser", "-u", image.user, "--", *argv] if image.user != "root" else argv)
    )
    return ["unshare", "--uts", "sh", "-c", f"hostname {shlex.quote(name)} && {inner}"]


def _service_env(image: Image, service: dict[str, Any], name: str) -> dict[str, str]:
    env = {"PATH": IMAGE_PATH, "HOME": image.workdir, **image.env}
    env |= {str(k): "" if v is None else str(v) for k, v in (service.get("environment") or {}).items()}
    env["HOSTNAME"] = name  # Docker sets it to the container's host name.
    return env


def _healthcheck(root: Path, env: dict[str, str], workdir: str, user: str, check: dict[str, Any]) -> bool:
    test = check["test"]
    argv = test[1:] if test[0] == "CMD" else ["/bin/sh", "-c", test[1]]
    if user != "root":
        argv = ["runuser", "-u", user, "--", *argv]
    seconds = float(str(check.get("timeout", "30s")).rstrip("s"))
    try:
        result = _chroot(
            root, env, ["sh", "-c", f'cd {shlex.quote(workdir)} && exec "$@"', "sh", *argv], timeout=seconds
        )
    except subprocess.TimeoutExpired:
        return False
    return result.returncode == 0


def _wait_healthy(label: str, probe: Any, limit: float = 120.0) -> float:
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if probe():
            elapsed = time.monotonic() - started
            print(f"  {label}: healthy after {elapsed:.1f} s", flush=True)
            return elapsed
        time.sleep(2)
    raise SystemExit(f"{label}: its healthcheck did not pass within {limit:.0f} s")


def run(image_root: Path, services_root: Path, compose: dict[str, Any], image: Image, logs: Path) -> None:
    services = compose["services"]
    pg_env = {"PATH": IMAGE_PATH, **{str(k): str(v) for k, v in services["postgres"]["environment"].items()}}
    _wait_healthy(
        "postgres (its pg_isready check)",
        lambda: _healthcheck(services_root, pg_env, "/", "root", services["postgres"]["healthcheck"]),
    )
    _wait_healthy(
        "redis (its redis-cli ping check)",
        lambda: _healthcheck(
            services_root, {"PATH": IMAGE_PATH}, "/", "root", services["redis"]["healthcheck"]
        ),
    )

    migrate = services["migrate"]
    started = time.monotonic()
    _logged(
        image_root,
        _service_env(image, migrate, "migrate"),
        _container_command(image, "migrate", migrate["command"]),
        logs / "migrate.log",
    )
    print(f"  migrate: {' '.join(migrate['command'])} exited 0 in {time.monotonic() - started:.0f} s")

    processes: list[subprocess.Popen[bytes]] = []
    for name in ("web", "worker", "beat"):
        service = services[name]
        env = _service_env(image, service, name)
        log = (logs / f"{name}.log").open("wb")
        processes.append(
            subprocess.Popen(
                [
                    "chroot",
                    str(image_root),
                    "/usr/bin/env",
                    "-i",
                    *(f"{k}={v}" for k, v in env.items()),
                    *_container_command(image, name, service["command"]),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
    try:
        for name in ("web", "worker", "beat"):
            service = services[name]
            env = _service_env(image, service, name)
            _wait_healthy(
                f"{name} ({' '.join(service['healthcheck']['test'][1:])[:70]}...)",
                lambda env=env, service=service: _healthcheck(
                    image_root, env, image.workdir, image.user, service["healthcheck"]
                ),
            )
        # A check that cannot fail proves nothing: without the broker, /healthz must answer 503.
        _chroot(services_root, {"PATH": IMAGE_PATH}, ["redis-cli", "shutdown", "nosave"])
        web_env = _service_env(image, services["web"], "web")
        if _healthcheck(image_root, web_env, image.workdir, image.user, services["web"]["healthcheck"]):
            raise SystemExit("web stayed healthy with Redis stopped")
        print("  web: unhealthy once Redis was stopped, as it must be")
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def _load_compose(path: Path) -> dict[str, Any]:
    """The resolved compose file, with `$$` unescaped as the engine does before a shell sees it."""
    compose: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    for service in compose["services"].values():
        for key in ("command",):
            if isinstance(service.get(key), list):
                service[key] = [part.replace("$$", "$") for part in service[key]]
        if "healthcheck" in service:
            check = service["healthcheck"]
            check["test"] = [part.replace("$$", "$") for part in check["test"]]
    return compose


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="action", required=True)
    build_parser = sub.add_parser("build", help="run the Dockerfile's steps in a root")
    build_parser.add_argument("--root", type=Path, required=True)
    build_parser.add_argument("--context", type=Path, required=True)
    build_parser.add_argument("--image-json", type=Path, required=True, help="where to write ENV, USER...")
    build_parser.add_argument("--log", type=Path, required=True, help="the steps' output")
    build_parser.add_argument(
        "--build-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="set for every RUN, as a build host's proxy settings are (not kept in the image)",
    )
    run_parser = sub.add_parser("run", help="run the compose services in the built root")
    run_parser.add_argument("--root", type=Path, required=True)
    run_parser.add_argument("--services-root", type=Path, required=True, help="root with PostgreSQL, Redis")
    run_parser.add_argument("--image-json", type=Path, required=True)
    run_parser.add_argument("--compose", type=Path, required=True, help="`docker-compose config`, as JSON")
    run_parser.add_argument("--logs", type=Path, required=True)
    options = parser.parse_args()
    if options.action == "build":
        build_env = dict(pair.split("=", 1) for pair in options.build_env)
        image = build(options.root, options.context / "Dockerfile", options.context, build_env, options.log)
        options.image_json.write_text(json.dumps(asdict(image)), encoding="utf-8")
        print(f"image: user {image.user}, WORKDIR {image.workdir}, CMD {' '.join(image.cmd)}")
    else:
        image = Image(**json.loads(options.image_json.read_text(encoding="utf-8")))
        run(options.root, options.services_root, _load_compose(options.compose), image, options.logs)


if __name__ == "__main__":
    main()
