"""Each test starts without the figures and pages an earlier test's data left in memory."""

import pytest

from consult.oversight import stats, views


@pytest.fixture(autouse=True)
def _forget_snapshots():
    stats._contents.clear()
    views._pages.clear()
    yield
    stats._contents.clear()
    views._pages.clear()
