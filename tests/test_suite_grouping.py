"""The suite's own set-up: the timing tests' group reaches pytest-xdist."""

from __future__ import annotations

import os

import pytest


@pytest.mark.xdist_group("serial")
def test_the_serial_group_keeps_its_tests_on_one_worker(request):
    """Tests that compare times are marked xdist_group("serial") so that `--dist loadgroup` (make test) runs them
    on one worker, one after the other. pytest-xdist does that by adding the group to the node id; when a pytest
    release stops it from doing so, the group is silently ignored and those tests run beside each other."""
    if not os.environ.get("PYTEST_XDIST_WORKER") or not request.config.getvalue("loadgroup"):
        pytest.skip("runs under pytest-xdist with --dist loadgroup only (make test)")
    assert request.node.nodeid.endswith("@serial")
