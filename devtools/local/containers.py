"""Lambda's containers, locally: every function of the template runs in its own pool of worker
processes, so invocations run at once as on Lambda and races show (``make run``).

* A *container* is a ``python -m devtools.local.containers`` process started with exactly its
  function's environment (the template's variables over the local stack's AWS settings, no
  other function's variables), its code directory and layers first on ``sys.path``, and its
  handler imported once at start: the cold start. It runs one invocation at a time.
* A *pool* per function: an invocation takes an idle (warm) container, or starts one while the
  pool holds fewer than ``size``; at ``size`` it waits for one to be free (Lambda would throttle
  at the function's concurrency limit; locally a request waits instead of failing).
* A handler that raises answers an error and its container stays warm, as on Lambda. One that
  runs past the function's ``Timeout``, or a container that exits, is stopped; the next
  invocation starts a fresh one.
* Containers take requests on their stdin and exit when it closes: when the local stack stops
  them, or dies. They run in their own process group, so the terminal's Ctrl-C reaches only
  the local stack, which stops them itself.

The child's side needs only the standard library here (its handler imports what it uses).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import select
import struct
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from devtools.harness.lambda_context import Context

if TYPE_CHECKING:
    from devtools.harness.stack import FunctionSpec, Stack

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_POOL_SIZE = 4
# Lambda allows 10 s for a cold start; several containers starting at once on a laptop are slower.
INIT_TIMEOUT = 60.0
_HEADER = struct.Struct(">I")


class FunctionError(Exception):
    """An invocation that returned no result (Lambda's ``errorType`` and ``errorMessage``)."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type


# ------------------------------------------------------------------------------ framing


def _frame(value: Any) -> bytes:
    data = json.dumps(value).encode("utf-8")
    return _HEADER.pack(len(data)) + data


def _read_exact(fd: int, size: int, deadline: float | None) -> bytes | None:
    """``size`` bytes from ``fd``; None at end of file; TimeoutError past the deadline."""
    chunks, left = [], size
    while left:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                raise TimeoutError
        chunk = os.read(fd, left)
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _read_frame(fd: int, deadline: float | None = None) -> Any:
    header = _read_exact(fd, _HEADER.size, deadline)
    if header is None:
        return None
    body = _read_exact(fd, _HEADER.unpack(header)[0], deadline)
    return None if body is None else json.loads(body)


# ------------------------------------------------------------------------------ the container (child)


def _serve(requests: int, answers: BinaryIO, config: dict[str, Any]) -> int:
    """The container's loop: import the handler once, then one invocation per request."""
    # Lambda's sys.path: the function's code, then its layers, then the runtime (not this repository).
    sys.path[:] = [config["code_uri"], *config["layers"], *(p for p in sys.path if p not in {"", str(ROOT)})]
    module_name, _, attr = config["handler"].rpartition(".")
    try:
        handler = getattr(importlib.import_module(module_name), attr)
    except Exception as exc:
        traceback.print_exc()
        answers.write(_frame({"error": {"type": "Runtime.ImportModuleError", "message": f"{exc!r}"}}))
        return 1
    answers.write(_frame({"ready": os.getpid()}))
    while (request := _read_frame(requests)) is not None:
        context = Context(
            function_name=config["name"],
            memory_limit_in_mb=config["memory"],
            timeout=config["timeout"],
            invoked_function_arn=config["arn"],
        )
        try:
            answer = _frame({"result": handler(request["event"], context)})
        except Exception as exc:
            traceback.print_exc()  # as Lambda logs an uncaught error
            answer = _frame({"error": {"type": type(exc).__name__, "message": str(exc)}})
        sys.stdout.flush()
        answers.write(answer)
    return 0


def main(argv: list[str]) -> int:
    answers_fd, config = int(argv[0]), json.loads(argv[1])
    # Requests come on stdin; the handler gets an empty stdin instead, like Lambda's.
    requests = os.dup(0)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    with os.fdopen(answers_fd, "wb", buffering=0) as answers:
        return _serve(requests, answers, config)


# ------------------------------------------------------------------------------ the local stack's side


class Container:
    """One worker process running one function (see the module's docstring)."""

    def __init__(self, spec: FunctionSpec, env: dict[str, str], arn: str) -> None:
        self.spec = spec
        config = {
            "code_uri": str(spec.code_uri),
            "layers": [str(layer) for layer in spec.layers],
            "handler": spec.handler,
            "name": spec.name,
            "memory": spec.memory,
            "timeout": spec.timeout,
            "arn": arn,
        }
        answers, child_end = os.pipe()
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "devtools.local.containers", str(child_end), json.dumps(config)],
                cwd=ROOT,
                env=env,
                stdin=subprocess.PIPE,
                pass_fds=(child_end,),
                process_group=0,
            )
        finally:
            os.close(child_end)
        self._answers = answers
        try:
            ready = self._answer(time.monotonic() + INIT_TIMEOUT, "Runtime.InitTimeout")
        except BaseException:
            self.stop(0)
            raise
        if "error" in ready:
            self.stop(0)
            raise FunctionError(ready["error"]["type"], ready["error"]["message"])
        self.pid = self.proc.pid

    def _answer(self, deadline: float, timeout_type: str) -> dict[str, Any]:
        try:
            answer = _read_frame(self._answers, deadline)
        except TimeoutError:
            self.stop(0)
            raise FunctionError(timeout_type, f"{self.spec.logical_id} timed out") from None
        if answer is None:
            code = self.proc.wait(5)
            raise FunctionError("Runtime.ExitError", f"{self.spec.logical_id}'s container exited with {code}")
        return dict(answer)

    def invoke(self, event: Any) -> Any:
        """Run one invocation; FunctionError if it did not return (see ``alive`` after one)."""
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(_frame({"event": event}))
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            code = self.proc.wait(5)
            raise FunctionError("Runtime.ExitError", f"{self.spec.logical_id}'s container exited with {code}") from None
        answer = self._answer(time.monotonic() + self.spec.timeout, "Sandbox.Timedout")
        if "error" in answer:
            raise FunctionError(answer["error"]["type"], answer["error"]["message"])
        return answer["result"]

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def close_input(self) -> None:
        """No more requests: it exits after the invocation in hand."""
        if self.proc.stdin and not self.proc.stdin.closed:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()

    def stop(self, grace: float = 5.0, close_answers: bool = True) -> None:
        """Close its stdin, wait for it to exit, and kill it if it lingers. ``close_answers=False``
        while another thread may still read its answer."""
        self.close_input()
        try:
            self.proc.wait(grace)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        if close_answers and self._answers >= 0:
            os.close(self._answers)
            self._answers = -1


class Pool:
    """The containers of one function: at most ``size``, started when needed, reused warm."""

    def __init__(self, spec: FunctionSpec, env: dict[str, str], arn: str, size: int) -> None:
        self.spec, self.env, self.arn, self.size = spec, env, arn, size
        self.idle: list[Container] = []
        self.live: list[Container] = []
        self.slots = 0  # live containers plus those starting
        self.cold_starts = 0
        self.closed = False
        self._cond = threading.Condition()

    def prewarm(self) -> None:
        """Start one container now if the pool has none (the local stack's start-up)."""
        with self._cond:
            if self.slots:
                return
        self._give_back(self._take())

    def _take(self) -> Container:
        with self._cond:
            while True:
                if self.closed:
                    raise FunctionError("Runtime.Stopped", "the local stack is stopping")
                if self.idle:
                    return self.idle.pop()
                if self.slots < self.size:
                    self.slots += 1
                    break
                self._cond.wait()
        try:
            container = Container(self.spec, self.env, self.arn)  # a cold start
        except BaseException:
            with self._cond:
                self.slots -= 1
                self._cond.notify()
            raise
        with self._cond:
            self.live.append(container)
            self.cold_starts += 1
        return container

    def _give_back(self, container: Container) -> None:
        with self._cond:
            if container.alive and not self.closed:
                self.idle.append(container)
            else:
                self.live.remove(container)
                self.slots -= 1
            self._cond.notify()
        if not container.alive or self.closed:
            container.stop(0)

    def invoke(self, event: Any) -> Any:
        container = self._take()
        try:
            return container.invoke(event)
        finally:
            self._give_back(container)

    def status(self) -> dict[str, Any]:
        with self._cond:
            return {
                "size": self.size,
                "pids": [c.pid for c in self.live],
                "busy": len(self.live) - len(self.idle),
                "cold_starts": self.cold_starts,
            }

    def stop(self, grace: float) -> None:
        with self._cond:
            self.closed = True
            idle, busy = list(self.idle), [c for c in self.live if c not in self.idle]
            self._cond.notify_all()
        for container in idle + busy:  # all told first: they exit together
            container.close_input()
        for container in idle:
            container.stop(grace)
        for container in busy:  # its invoking thread reads the answer, then closes it (_give_back)
            container.stop(grace, close_answers=False)


class Pools:
    """A pool per function of the stack, made on its first invocation."""

    def __init__(self, stack: Stack, size: int = DEFAULT_POOL_SIZE) -> None:
        self.stack = stack
        self.size = size
        self.pools: dict[str, Pool] = {}
        self._lock = threading.Lock()

    def pool(self, logical_id: str) -> Pool:
        with self._lock:
            if logical_id not in self.pools:
                spec = self.stack.function(logical_id)
                env = self.stack.environment(spec, os.environ)
                arn = self.stack.attrs.get((logical_id, "Arn"), "")
                self.pools[logical_id] = Pool(spec, env, arn, self.size)
            return self.pools[logical_id]

    def invoke(self, logical_id: str, event: Any) -> Any:
        return self.pool(logical_id).invoke(event)

    def prewarm(self, logical_ids: list[str]) -> None:
        """Cold-start one container of each of these functions, at once (errors show on use)."""
        threads = [threading.Thread(target=self._prewarm, args=(i,), name=f"prewarm-{i}") for i in logical_ids]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def _prewarm(self, logical_id: str) -> None:
        with contextlib.suppress(FunctionError):
            self.pool(logical_id).prewarm()

    def status(self) -> dict[str, Any]:
        with self._lock:
            pools = dict(self.pools)
        return {name: pool.status() for name, pool in pools.items()}

    def stop(self, grace: float = 5.0) -> None:
        with self._lock:
            pools = list(self.pools.values())
        for pool in pools:  # every container told first: they exit together
            with pool._cond:
                containers = list(pool.live)
            for container in containers:
                container.close_input()
        for pool in pools:
            pool.stop(grace)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
