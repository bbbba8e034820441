"""The local "Lambda" runner's /tmp: a scratch directory of its own, as big as the cloud's runner gets.

On Lambda the runner's workdirs live in the function's ephemeral storage (RunnerEphemeralStorage, 2048 MB
unless the deploy says otherwise): an operation whose inputs do not fit fails before it runs, and APPROVE
sends one whose inputs it knows are too big to Fargate. The local stack gives its warm runners the same
limit (PLYNX_RUNNER_STORAGE_MB, which runners/handler.Room reads; PLYNX_LAMBDA_RUNNER_STORAGE_MB, which
APPROVE plans with), so what fails in the cloud for its size fails, or moves to the local Fargate, here too.

The directory is on a memory file system (/dev/shm) when the machine has one with room for a whole runner's
storage: an operation's workdir holds a handful of small files (the script, its logs, inputs, outputs), and
creating a file on a disk's file system cost each operation milliseconds on the machines we measured. It is
on the system's temp dir otherwise, or where PLYNX_LOCAL_RUNNER_TMP says. Fargate tasks (whose 40 GB are
disk) keep the system's temp dir.
"""
from __future__ import annotations

import os
import shutil
import tempfile

DIRECTORY_VARIABLE = "PLYNX_LOCAL_RUNNER_TMP"
MEMORY_FILE_SYSTEM = "/dev/shm"
# The names chalicelib/engine/placement.py reads (not imported: the stack imports the project's modules only
# once its environment is set), and the template's RunnerEphemeralStorage default (infra/cloudformation).
RUNNER_STORAGE_VARIABLE = "PLYNX_RUNNER_STORAGE_MB"
LAMBDA_STORAGE_VARIABLE = "PLYNX_LAMBDA_RUNNER_STORAGE_MB"
DEFAULT_STORAGE_MB = 2048
MIB = 1024 * 1024


def storage_mb() -> int:
    """The runner's storage in MB: PLYNX_RUNNER_STORAGE_MB when set, else the template's default."""
    configured = os.environ.get(RUNNER_STORAGE_VARIABLE, "").strip()
    return int(configured) if configured.isdigit() else DEFAULT_STORAGE_MB


def base_directory(megabytes: int, memory: str = MEMORY_FILE_SYSTEM) -> str:
    """Where the scratch directory goes: PLYNX_LOCAL_RUNNER_TMP, else `memory` when `megabytes` are free
    there, else the system's temp dir."""
    configured = os.environ.get(DIRECTORY_VARIABLE, "").strip()
    if configured:
        return configured
    try:
        if os.path.isdir(memory) and os.access(memory, os.W_OK | os.X_OK) \
                and shutil.disk_usage(memory).free >= megabytes * MIB:
            return memory
    except OSError:
        pass
    return tempfile.gettempdir()


def make(megabytes: int) -> str:
    """A new scratch directory: the stack's user's, which the operations (their own uids, under a root
    runner) may pass through to their workdirs but not list."""
    directory = tempfile.mkdtemp(prefix="plynx-lambda-tmp-", dir=base_directory(megabytes))
    os.chmod(directory, 0o711)
    return directory


def environment(directory: str, megabytes: int) -> dict[str, str]:
    """The warm runner's variables: its temp dir, and its storage as the template sets it on Lambda."""
    return {"TMPDIR": directory, RUNNER_STORAGE_VARIABLE: str(megabytes)}
