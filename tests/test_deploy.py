"""deploy/: the compose file and the proxy config are what `make cluster` runs."""

import re
import shlex
import subprocess
from pathlib import Path

import yaml

from tests.cluster import NODES, PROXY_TEMPLATE, proxy_settings, write_proxy_config
from tests.conftest import require_tool, which
from tests.processes import ROOT, Gunicorn

COMPOSE = yaml.safe_load((ROOT / "deploy" / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
PLACEHOLDERS = set(re.findall(r"\$\{(DATELINE_\w+)\}", PROXY_TEMPLATE.read_text()))


def test_compose_runs_the_clusters_services():
    """Database, cache, storage, three app nodes, a worker and the proxy."""
    apps = {name for name in SERVICES if re.fullmatch(r"app\d", name)}
    assert len(apps) == NODES
    assert {"postgres", "redis", "s3", "worker", "proxy"} <= set(SERVICES)


def test_compose_and_the_cluster_fill_the_same_proxy_template():
    """The proxy mounts deploy/nginx's template, and compose and the cluster
    give a value to every name it uses, and to nothing else."""
    proxy = SERVICES["proxy"]
    mounted = proxy["volumes"][0].split(":")[0]
    assert (ROOT / "deploy" / mounted).resolve() == PROXY_TEMPLATE
    assert set(proxy["environment"]) == PLACEHOLDERS
    apps = [f"127.0.0.1:{n}" for n in range(NODES)]
    assert set(proxy_settings(Path("/x"), "1", apps, "http://s3/")) == PLACEHOLDERS


def test_nodes_and_worker_start_as_in_the_cluster():
    """Nodes use config/gunicorn.py (draining workers), as the cluster's do;
    the worker runs the Makefile's WORKER_CMD."""
    node_args = SERVICES["app1"]["command"]
    assert node_args[:4] == ["gunicorn", "-c", "python:config.gunicorn", "config.wsgi"]
    assert node_args[1:3] == Gunicorn.CONFIG
    makefile = (ROOT / "Makefile").read_text()
    worker_cmd = re.search(r"^WORKER_CMD \?= \$\(PY\) (.+)$", makefile, re.M).group(1)
    assert SERVICES["worker"]["command"] == ["python", *shlex.split(worker_cmd)]


def test_the_proxy_config_is_valid_nginx(tmp_path):
    """nginx itself accepts the filled-in template (nginx -t)."""
    require_tool(which("nginx") is not None, "nginx is not installed (nginx-light)")
    conf = write_proxy_config(tmp_path, "127.0.0.1:8080",
                              ["127.0.0.1:8001", "127.0.0.1:8002", "127.0.0.1:8003"],
                              "http://127.0.0.1:5000/dateline-media/")  # fmt: skip
    assert "${DATELINE" not in (tmp_path / "dateline.conf").read_text()
    result = subprocess.run(
        [which("nginx"), "-t", "-p", str(tmp_path), "-c", str(conf), "-e", str(tmp_path / "e.log")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
