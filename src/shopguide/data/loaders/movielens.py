"""MovieLens 100K (the original GroupLens ``ml-100k`` folder).

* ``u.data``: ``user<TAB>item<TAB>rating<TAB>unix_ts`` -> RATING events with the rating as value.
* ``u.item``: ``id|title|release date|video release date|IMDb URL|19 genre flags`` (Latin-1 text).
* ``u.genre``: ``name|index``; ``u.user``: ``id|age|gender|occupation|zip``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from shopguide.data.loaders.base import (
    LoadedData,
    PathLike,
    as_directory,
    existing_file,
    paused_gc,
    trusted_event,
)
from shopguide.data.schema import STORED_TS_RANGE, Event, EventType, Item, User, validate_record
from shopguide.errors import DataError

ENCODING = "latin-1"
NOTES = (
    "MovieLens 100K: each rating is a RATING event with the rating (1-5) as value and its Unix timestamp. "
    "Items are movies: category is the first listed genre, tags are all genres. "
    "User and item ids are the MovieLens numbers as strings."
)


@paused_gc()
def load_movielens(data_dir: PathLike) -> LoadedData:
    """Load ML-100K: ratings, movies (with genres and release year) and user demographics."""
    directory = as_directory(data_dir)
    data_path = existing_file(directory, "u.data")
    item_path = existing_file(directory, "u.item")
    genre_path = directory / "u.genre"
    user_path = directory / "u.user"

    genres = _read_genres(genre_path) if genre_path.is_file() else []
    items = _read_items(item_path, genres)
    users = _read_users(user_path) if user_path.is_file() else []
    events = _read_ratings(data_path)

    known_users = {u.id for u in users}
    users.extend(User(id=u) for u in dict.fromkeys(e.user for e in events) if u not in known_users)
    known_items = {it.id for it in items}
    items.extend(Item(id=i, title=f"movie {i}") for i in dict.fromkeys(e.item for e in events) if i not in known_items)
    files = [str(p) for p in (data_path, item_path, genre_path, user_path) if p.is_file()]
    return LoadedData(items, users, events, name="movielens-100k", notes=NOTES, files=files)


def _lines(path: Path) -> list[tuple[int, str]]:
    with path.open(encoding=ENCODING) as handle:
        return [(n, text.rstrip("\r\n")) for n, text in enumerate(handle, 1) if text.strip()]


def _read_ratings(path: Path) -> list[Event]:
    rating = EventType.RATING
    events: list[Event] = []
    for line, text in _lines(path):
        parts = text.split("\t")
        if len(parts) != 4:
            raise DataError(f"expected 4 tab-separated fields, found {len(parts)}", file=str(path), line=line)
        user, item, value, ts = (p.strip() for p in parts)
        for name, raw in (("user_id", user), ("item_id", item), ("rating", value), ("timestamp", ts)):
            if not (raw.isascii() and raw.isdigit() and len(raw) <= 128):
                raise DataError(f"expected a whole number, got {raw[:40]!r}", file=str(path), line=line, field=name)
        stars, when = int(value), int(ts)
        if not 1 <= stars <= 5:
            raise DataError(f"a rating must be 1 to 5, got {stars}", file=str(path), line=line, field="rating")
        if not STORED_TS_RANGE[0] <= when < STORED_TS_RANGE[1]:
            raise DataError(
                f"timestamp {when} is not a time between 1970 and 2100", file=str(path), line=line, field="timestamp"
            )
        events.append(trusted_event(user, item, rating, float(stars), float(when)))
    return events


def _read_genres(path: Path) -> list[str]:
    genres: dict[int, str] = {}
    for line, text in _lines(path):
        name, _, index = text.rpartition("|")
        if not name or not (index.strip().isascii() and index.strip().isdigit()):
            raise DataError("expected 'name|index'", file=str(path), line=line)
        genres[int(index)] = name
    return [genres[i] for i in sorted(genres)]


def _release(date: str) -> tuple[float | None, str | None]:
    """``01-Jan-1995`` -> (Unix seconds at UTC midnight, "1995")."""
    try:
        when = datetime.strptime(date, "%d-%b-%Y").replace(tzinfo=UTC)
    except ValueError:
        return None, None
    return when.timestamp(), str(when.year)


def _read_items(path: Path, genres: list[str]) -> list[Item]:
    items: list[Item] = []
    for line, text in _lines(path):
        parts = text.split("|")
        if len(parts) < 5:
            raise DataError(f"expected at least 5 '|'-separated fields, found {len(parts)}", file=str(path), line=line)
        movie_id, title, release, video_release, url = (p.strip() for p in parts[:5])
        flags = parts[5:]
        names = genres or [f"genre {i}" for i in range(len(flags))]
        if len(flags) != len(names):
            raise DataError(
                f"expected {len(names)} genre flags, found {len(flags)}",
                file=str(path),
                line=line,
                field="genres",
            )
        movie_genres = [g for g, flag in zip(names, flags, strict=True) if flag.strip() == "1"]
        created, year = _release(release)
        record = {
            "id": movie_id,
            "title": title or f"movie {movie_id}",
            "category": movie_genres[:1],
            "tags": movie_genres,
            "created_at": created,
            "attributes": {
                "release_date": release,
                "year": year,
                "video_release_date": video_release,
                "imdb_url": url,
            },
        }
        items.append(validate_record(Item, record, file=str(path), line=line))
    return items


def _read_users(path: Path) -> list[User]:
    users: list[User] = []
    for line, text in _lines(path):
        parts = [p.strip() for p in text.split("|")]
        if len(parts) != 5:
            raise DataError(f"expected 5 '|'-separated fields, found {len(parts)}", file=str(path), line=line)
        user_id, age, gender, occupation, zip_code = parts
        record = {
            "id": user_id,
            "attributes": {"age": age, "gender": gender, "occupation": occupation, "zip": zip_code},
        }
        users.append(validate_record(User, record, file=str(path), line=line))
    return users
