from __future__ import annotations

import pytest

from shopguide.data.dataset import Dataset
from shopguide.recommend import checks


@pytest.fixture(scope="session")
def checkerboard() -> Dataset:
    return checks.checkerboard()
