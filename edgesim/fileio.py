"""Output files: checked writable before any work, then written atomically (a temporary sibling
and a rename, so no reader sees half a file)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from edgesim.errors import EdgesimError


def _umask() -> int:
    """The process's umask: read from /proc where Linux shows it (no change to the process),
    else by setting it and putting it back."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` on a temporary sibling of ``path``, then rename it to ``path``; on any
    failure the temporary file is removed and ``path`` is left as it was. The file ends up with
    the permissions a plain ``open`` would give it (``0o666`` less the umask), not the private
    ``0o600`` of a temporary file."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or Path("."))
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def check_output_file(path: Path, flag: str) -> None:
    """``path`` must name a file, not a directory, in an existing directory this process can
    write in (probed with a temporary file, so a read-only or virtual file system is caught even
    for root); otherwise one error naming ``flag``."""
    if path.is_dir():
        raise EdgesimError(f"{str(path)!r} is a directory; give a file", field=flag)
    if not path.parent.exists():
        raise EdgesimError(f"directory {str(path.parent)!r} does not exist", field=flag)
    _probe_writable(path.parent, flag)


def _probe_writable(directory: Path, flag: str) -> None:
    try:
        fd, tmp = tempfile.mkstemp(prefix=".edgesim-probe.", dir=directory)
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        raise EdgesimError(f"cannot write in {str(directory)!r}: {exc.strerror or exc}",
                           field=flag) from None


def check_output_dir(out: Path, flag: str) -> None:
    """``out`` can be a directory this process writes in: made (with its missing parents) and
    probed, then what was made is removed again (a command makes it once its work starts)."""
    for path in (out, *out.parents):
        if path.exists() and not path.is_dir():
            raise EdgesimError(f"{str(path)!r} is not a directory", field=flag)
    missing = [q for q in (out, *out.parents) if not q.exists()]  # deepest first
    try:
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise EdgesimError(f"cannot create directory {str(out)!r}: {exc.strerror or exc}",
                               field=flag) from None
        _probe_writable(out, flag)
    finally:  # whatever the probe made, even part of the way
        for q in missing:
            if q.is_dir():
                with contextlib.suppress(OSError):
                    q.rmdir()


__all__ = ["check_output_dir", "check_output_file", "write_atomic"]
