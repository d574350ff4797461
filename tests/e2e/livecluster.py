"""The live server fixture: one real Warehouse for the whole run (see `support.livecluster`)."""

from collections.abc import Iterator

import pytest

from support.livecluster import LiveCluster, running_cluster


@pytest.fixture(scope="session")
def live_cluster(tmp_path_factory, request) -> Iterator[LiveCluster]:
    """One server for the whole run; its log is printed when any test failed."""
    failed_before = request.session.testsfailed
    # Every end-to-end test works in learner alice's namespace: a room of one, whose
    # ResourceQuota shares the nodes with nobody.
    share = {"WAREHOUSE_EXPECTED_LEARNERS": "1"}
    with running_cluster(tmp_path_factory.mktemp("livecluster"), extra_env=share) as cluster:
        yield cluster
        if request.session.testsfailed > failed_before or not cluster.alive():
            reporter = request.config.pluginmanager.get_plugin("terminalreporter")
            if reporter is not None:
                reporter.write_sep("-", f"live server log ({cluster.log_file})")
                reporter.write_line(cluster.log_tail(200))
