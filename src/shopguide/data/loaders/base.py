"""What every loader returns, and the small helpers the format loaders share."""

from __future__ import annotations

import csv
import gc
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from shopguide.data.dataset import Dataset
from shopguide.data.schema import Event, EventType, Item, User
from shopguide.errors import DataError

#: A file or directory given by the caller.
PathLike = str | os.PathLike[str]


@dataclass(eq=False)
class LoadedData:
    """Items, users and events read from one source, plus a name and notes on how the source was mapped."""

    items: list[Item]
    users: list[User]
    events: list[Event]
    name: str
    notes: str = ""
    files: list[str] = field(default_factory=list)

    def to_dataset(self, event_weights: Mapping[str, float] | None = None) -> Dataset:
        """Build a :class:`Dataset`; catalog items and users come first, in the order loaded."""
        return Dataset.from_events(self.events, self.items, self.users, event_weights=event_weights, name=self.name)

    def __repr__(self) -> str:
        return f"LoadedData({self.name!r}: {len(self.users)} users, {len(self.items)} items, {len(self.events)} events)"


_new = object.__new__
_set = object.__setattr__


def trusted_event(user: str, item: str, type: EventType, value: float, ts: float) -> Event:
    """An Event built without validation, for fixed formats whose values the loader has already checked.

    Sets the instance state the way ``Event.model_construct`` does, without its per-field overhead
    (3x faster than ``model_construct``, 2x faster than validation; a test checks that the result equals
    a validated Event).
    """
    event = _new(Event)
    _set(
        event,
        "__dict__",
        {
            "id": None,
            "user": user,
            "item": item,
            "type": type,
            "value": value,
            "ts": ts,
            "session": None,
            "context": {},
        },
    )
    _set(event, "__pydantic_fields_set__", {"user", "item", "type", "value", "ts"})
    _set(event, "__pydantic_extra__", None)
    _set(event, "__pydantic_private__", None)
    return event


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a loader builds many small objects (2x faster on Beauty).

    The objects built hold no reference cycles, so nothing is left for the collector to find.
    Usable as a decorator: ``@paused_gc()``.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def existing_file(directory: Path, name: str) -> Path:
    """``directory / name``, or a DataError naming the missing file."""
    path = directory / name
    if not path.is_file():
        raise DataError("file not found", file=str(path))
    return path


def as_directory(path: PathLike) -> Path:
    """``path`` as a directory, or a DataError when it is not one."""
    directory = Path(path)
    if not directory.is_dir():
        raise DataError("not a directory", file=str(directory))
    return directory


def iter_delimited(path: Path, *, delimiter: str = ",", encoding: str = "utf-8-sig") -> Iterator[tuple[int, list[str]]]:
    """Rows of a delimited text file with the 1-based line each row starts on; blank lines are skipped.

    Quoting is strict: a quote that is never closed, or text right after a closing quote, is a DataError naming
    the line where the row starts (a lenient reader would silently swallow the rest of the file into one field).
    """
    try:
        with path.open(encoding=encoding, newline="") as handle:
            reader = csv.reader(handle, delimiter=delimiter, strict=True)
            while True:
                start = reader.line_num + 1
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    raise DataError(_csv_problem(exc), file=str(path), line=start) from None
                if row:
                    yield start, row
    except UnicodeDecodeError as exc:
        raise DataError(f"not {encoding} text ({exc.reason}); save it as UTF-8", file=str(path)) from None
    except OSError as exc:
        raise DataError(f"cannot read file: {exc.strerror or exc}", file=str(path)) from None


def _csv_problem(exc: csv.Error) -> str:
    text = str(exc)
    if "unexpected end of data" in text:
        return "malformed row: a quoted field opened on this line is never closed"
    return f"malformed row: {text}"
