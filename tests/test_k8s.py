"""`sandbox k8s`: manifests valid against the Kubernetes schemas, and the policies that contain a class.

kubernetes-validate carries the Kubernetes API's JSON schemas (no network); each document
is checked strictly (no field the API does not know) against an old and a recent release.
"""

from __future__ import annotations

import kubernetes_validate
import pytest
import yaml

from sandbox.kubernetes import ROLE, UPLOAD, k8s_name, manifests, namespace
from sandbox.world.read import world_info

VERSIONS = ("1.28", "1.33")


def _problems(documents: list[dict]) -> list[str]:
    """Every way the documents break the Kubernetes schemas of VERSIONS."""
    problems = []
    for doc in documents:
        for version in VERSIONS:
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.ValidationError as e:
                where = "/".join(map(str, e.path))
                problems.append(
                    f"{version} {doc['kind']} {doc['metadata']['name']} {where}: {e.message}"
                )
    return problems


@pytest.fixture(scope="module")
def classes(tiny_world) -> dict[str, list[dict]]:
    """The manifests of the tiny world for three classes."""
    return manifests(str(tiny_world), classes=3)


def test_manifests_match_the_kubernetes_schemas(classes, tiny_path, tmp_path, sandbox):
    """A world file's, a scenario file's and a built-in scenario's manifests, as written."""
    out = tmp_path / "k8s"
    result = sandbox("k8s", "default", "--out", out)
    assert result.exit_code == 0, result.output
    written = [
        doc for path in sorted(out.glob("*.yaml")) for doc in yaml.safe_load_all(path.read_text())
    ]
    scenario = manifests(str(tiny_path), seed=3)["class-1.yaml"]
    for what, documents in {
        "world file": [d for docs in classes.values() for d in docs],
        "scenario file": scenario,
        "built-in, written by the CLI": written,
    }.items():
        assert _problems(documents) == [], what
    # The schemas do reject what the API would reject.
    broken = [dict(d) for d in scenario if d["kind"] in ("Service", "Namespace")][:2]
    broken[0] = {**broken[0], "spec": {"ports": 80}}
    broken[1] = {**broken[1], "metadatas": {}}
    assert len(_problems(broken)) == 2 * len(VERSIONS)


def test_a_namespace_per_class(classes, sandbox, tiny_world, tmp_path):
    """--classes 3: three namespaces, every object of a class in its own."""
    assert list(classes) == ["class-1.yaml", "class-2.yaml", "class-3.yaml"]
    for number, documents in enumerate(classes.values(), start=1):
        head, *rest = documents
        assert head["kind"] == "Namespace" and head["metadata"]["name"] == namespace(number)
        assert {d["metadata"]["namespace"] for d in rest} == {namespace(number)}
    result = sandbox("k8s", tiny_world, "--classes", "3", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["class-1.yaml", "class-2.yaml", "class-3.yaml"]
    # A world file goes in by `kubectl cp`; the file says how.
    text = (tmp_path / "class-2.yaml").read_text()
    assert f"kubectl -n {namespace(2)} cp {tiny_world} $POD:{UPLOAD}" in text


def test_every_site_behind_the_gateway(classes, tiny_world):
    """A Deployment and Service per site (but those the gateway serves), each routed to."""
    documents = classes["class-1.yaml"]
    by_kind: dict[str, dict[str, dict]] = {}
    for doc in documents:
        by_kind.setdefault(doc["kind"], {})[doc["metadata"]["name"]] = doc
    gateway = by_kind["Deployment"]["gateway"]["spec"]["template"]["spec"]["containers"][0]
    for site in world_info(tiny_world)["sites"]:
        if site["kind"] == "explorer":
            assert f"--route={site['id']}=" not in " ".join(gateway["args"])
            continue
        name = k8s_name(site["id"])
        pod = by_kind["Deployment"][name]["spec"]["template"]
        assert pod["metadata"]["labels"][ROLE] == "site"
        assert pod["spec"]["containers"][0]["args"][:3] == [
            "serve-site",
            "/data/world.db",
            site["id"],
        ]
        assert by_kind["Service"][name]["spec"]["selector"] == pod["metadata"]["labels"]
        assert f"--route={site['id']}={name}:80" in gateway["args"]
    assert by_kind["Service"]["gateway"]["spec"]["type"] == "NodePort"
    assert [p["port"] for p in by_kind["Service"]["gateway"]["spec"]["ports"]] == [
        9050,
        8118,
        8080,
        3000,
    ]
    # The world comes in through the Job, which waits for the instructor's copy.
    job = by_kind["Job"]["world"]["spec"]["template"]["spec"]["containers"][0]
    assert f"mv {UPLOAD} /data/world.db" in job["command"][-1]


def test_network_policies_contain_each_class(classes):
    """Sites: in only from the gateway, out only to it; all else denied; the gateway to its sites and DNS."""
    for documents in classes.values():
        policies = {
            d["metadata"]["name"]: d["spec"] for d in documents if d["kind"] == "NetworkPolicy"
        }
        pods = [
            d["spec"]["template"]["metadata"]["labels"]
            for d in documents
            if d["kind"] in ("Deployment", "Job")
        ]
        gateway_selector = {"podSelector": {"matchLabels": {ROLE: "gateway"}}}
        # Deny everything to every pod of the namespace, both ways, unless allowed below.
        deny = policies["default-deny"]
        assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
        sites = policies["sites"]
        assert sites["podSelector"] == {"matchLabels": {ROLE: "site"}}
        assert sites["policyTypes"] == ["Ingress", "Egress"]
        # No namespaceSelector: the gateway of this namespace, not another class's.
        assert [rule["from"] for rule in sites["ingress"]] == [[gateway_selector]]
        assert [rule["to"] for rule in sites["egress"]] == [[gateway_selector]]
        # Every site's pod is one the policy selects.
        site_pods = [labels for labels in pods if labels.get(ROLE) == "site"]
        assert site_pods and all(labels[ROLE] == "site" for labels in site_pods)
        assert all(labels.get(ROLE) in ("site", "gateway", "world") for labels in pods)
        gateway = policies["gateway"]
        assert gateway["podSelector"] == gateway_selector["podSelector"]
        assert [p["port"] for p in gateway["ingress"][0]["ports"]] == [9050, 8118, 8080, 3000]
        sites_selector = {"podSelector": {"matchLabels": {ROLE: "site"}}}
        to = [rule["to"] for rule in gateway["egress"]]
        assert to[0] == [sites_selector]
        assert to[1][0]["podSelector"] == {"matchLabels": {"k8s-app": "kube-dns"}}
        assert {p["port"] for p in gateway["egress"][1]["ports"]} == {53}


def test_a_scenario_is_built_by_each_class_job(tiny_path):
    """From a scenario file, each class's Job builds the world from a ConfigMap of the file."""
    files = manifests(str(tiny_path), classes=2, seed=3)
    for documents in files.values():
        by_kind = {d["kind"]: d for d in documents}
        assert by_kind["ConfigMap"]["data"]["scenario.yaml"] == tiny_path.read_text()
        job = by_kind["Job"]["spec"]["template"]["spec"]
        script = job["containers"][0]["command"][-1]
        assert "sandbox build /import/scenario.yaml --seed 3 --quiet --out /data/world.db" in script
        assert job["volumes"][1] == {"name": "scenario", "configMap": {"name": "scenario"}}


def test_bad_input_is_one_clear_error(sandbox, tmp_path):
    """No such world, or no class: one error naming it, a non-zero exit, nothing written."""
    missing = sandbox("k8s", tmp_path / "missing.db", "--out", tmp_path / "k8s")
    assert missing.exit_code == 1 and "missing.db" in missing.output
    assert len(missing.output.strip().splitlines()) == 1
    none = sandbox("k8s", "default", "--classes", "0", "--out", tmp_path / "k8s")
    assert none.exit_code == 2 and "'--classes': 0 is not in the range x>=1" in none.output
    assert not (tmp_path / "k8s").exists()


def test_k8s_has_help_with_example(sandbox):
    """`sandbox k8s --help` shows an example, as every command does."""
    result = sandbox("k8s", "--help")
    assert result.exit_code == 0 and "Example:" in result.output and "sandbox k8s" in result.output
