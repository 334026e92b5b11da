"""Local content to upload: bytes, a path or a stream, read by offset from several threads.

A part is streamed from the file in small reads (:class:`PartBody`), so uploading holds no
part in memory whole; the sha256 is one streaming pass, done once.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import shutil
import tempfile
import threading
import zlib
from concurrent.futures import Future, ThreadPoolExecutor
from typing import BinaryIO

MiB = 1024 * 1024
CHUNK = MiB


class LocalContent:
    """A seekable local source read by offset from several threads: bytes, a path or a stream."""

    def __init__(self, source: bytes | bytearray | memoryview | str | os.PathLike[str] | BinaryIO):
        self._lock = threading.Lock()
        self._buffer: memoryview | None = None
        self._file: BinaryIO | None = None
        self._owned = False
        self._sha256: str | None = None
        self._part_crcs: tuple[int, list[int]] | None = None
        if isinstance(source, (bytes, bytearray, memoryview)):
            self._buffer = memoryview(bytes(source))
            self.size = len(self._buffer)
        elif isinstance(source, (str, os.PathLike)):
            self._file = open(source, "rb")  # noqa: SIM115 - closed by close()
            self._owned = True
            self.size = os.fstat(self._file.fileno()).st_size
        else:
            self._file, self._owned = self._seekable(source)
            self._file.seek(0, io.SEEK_END)
            self.size = self._file.tell()

    @staticmethod
    def _seekable(stream: BinaryIO) -> tuple[BinaryIO, bool]:
        try:
            if stream.seekable():
                return stream, False
        except (AttributeError, ValueError):
            pass
        spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed by LocalContent.close()
        shutil.copyfileobj(stream, spool, CHUNK)
        return spool, True

    def read(self, offset: int, length: int) -> bytes:
        """``length`` bytes from ``offset`` (fewer at the end); safe from several threads."""
        if self._buffer is not None:
            return bytes(self._buffer[offset : offset + length])
        assert self._file is not None
        try:
            return os.pread(self._file.fileno(), length, offset)
        except (AttributeError, OSError, io.UnsupportedOperation):
            with self._lock:
                self._file.seek(offset)
                return self._file.read(length)

    @property
    def sha256(self) -> str:
        """Hex sha256 of the whole content, computed once in a single streaming pass."""
        if self._sha256 is None:
            digest = hashlib.sha256()
            for offset in range(0, self.size, CHUNK):
                digest.update(self.read(offset, CHUNK))
            self._sha256 = digest.hexdigest()
        return self._sha256

    def hash_for_upload(self, part_size: int) -> None:
        """The sha256 and, on a second thread in the same pass, each ``part_size`` part's
        CRC32: for content known to be new, so that uploading reads no part twice."""
        if self._sha256 is not None or part_size % CHUNK:
            return
        digest = hashlib.sha256()
        crcs: list[int] = []
        with ThreadPoolExecutor(max_workers=1) as side:
            pending: list[Future[None]] = []
            for offset in range(0, self.size, CHUNK):
                chunk = self.read(offset, CHUNK)
                pending.append(side.submit(_crc_step, crcs, chunk, offset % part_size == 0))
                digest.update(chunk)
                if len(pending) > 2:  # bounded: at most a few chunks wait for their CRC
                    pending.pop(0).result()
            for future in pending:
                future.result()
        self._sha256 = digest.hexdigest()
        self._part_crcs = (part_size, crcs)

    def part_crc32(self, offset: int, length: int) -> str:
        """The CRC32 of one part, ready for ``ChecksumCRC32``: from :meth:`hash_for_upload`
        when it computed this part, else read now."""
        if self._part_crcs is not None:
            part_size, crcs = self._part_crcs
            if offset % part_size == 0 and length == min(part_size, self.size - offset):
                return crc32_header(crcs[offset // part_size])
        value = 0
        for start in range(offset, offset + length, CHUNK):
            value = zlib.crc32(self.read(start, min(CHUNK, offset + length - start)), value)
        return crc32_header(value)

    def close(self) -> None:
        """Close the file this content opened or spooled (a caller's stream stays open)."""
        if self._owned and self._file is not None:
            self._file.close()

    def __enter__(self) -> LocalContent:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class PartBody(io.RawIOBase):
    """``length`` bytes of a LocalContent from ``offset``, as a seekable stream: a part is sent
    from the file in small reads, never held in memory whole."""

    def __init__(self, content: LocalContent, offset: int, length: int):
        super().__init__()
        self._content, self._offset, self._length = content, offset, length
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        remaining = self._length - self._position
        if size is None or size < 0 or size > remaining:
            size = remaining
        data = self._content.read(self._offset + self._position, size)
        self._position += len(data)
        return data

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._length}[whence]
        self._position = min(max(base + offset, 0), self._length)
        return self._position

    def tell(self) -> int:
        return self._position

    def __len__(self) -> int:
        return self._length


def _crc_step(crcs: list[int], chunk: bytes, starts_part: bool) -> None:
    if starts_part:
        crcs.append(zlib.crc32(chunk))
    else:
        crcs[-1] = zlib.crc32(chunk, crcs[-1])


def crc32_header(value: int) -> str:
    """A CRC32 as S3's ``x-amz-checksum-crc32`` carries it: base64 of 4 big-endian bytes."""
    return base64.b64encode(value.to_bytes(4, "big")).decode()
