"""Kubernetes manifests for a world (`sandbox k8s`): a namespace per class, applied by kubectl.

`manifests(source, classes)` returns {file name: [documents]}, one file per class
(`class-1.yaml`, ...), each starting with its namespace so `kubectl apply -f DIR` creates
it first; `write(files, out)` writes them as multi-document YAML.

What a class's namespace holds (the same containers as docker-compose.yml, compose.py):

- A Deployment and a Service (`site-<id>`, port 80) per site running `sandbox serve-site`,
  and the gateway's Deployment and Service (SOCKS 9050, HTTP proxy 8118, classroom 8080,
  explorer 3000, as a NodePort) running `sandbox gateway` with a route per site; the
  explorer, the issuer, the Tron node and explorer are served by the gateway as under
  Compose.
- The world on the `world` volume, made by the Job `world`: from a scenario it runs
  `sandbox build` (each class's namespace draws its own course secret, so no class can
  hand its answers to another); from a world file it waits for the file to be copied in
  (`kubectl cp`, see UPLOAD) and puts it in place, so every class runs that same world.
  Every pod waits for the world before it starts.
- Trainees' writes, the live chain and the logs on the `state` volume. Its SQLite files
  are shared by the class's pods, and SQLite's locking does not hold across machines, so
  every pod of a class is placed on the node of the class's gateway (a required pod
  affinity); classes spread over the cluster's nodes.
- NetworkPolicies that keep the class contained: nothing may go in or out of any pod
  (`default-deny`) except: a site takes connections only from its class's gateway and
  opens none but to it (`sites`); the gateway takes trainees' connections on its
  published ports, and opens connections only to its class's sites and to the cluster's
  DNS (`gateway`), and refuses every name that is not its world's. The Job needs no
  network. A cluster's network plugin must enforce NetworkPolicies (Calico, Cilium...).
"""

from __future__ import annotations

import re
from pathlib import Path

from .compose import (
    IMAGE,
    PUBLISHED,
    SITE_PORT,
    _Dumper,
    site_containers,
    source_kind,
    world_sites,
)
from .errors import WorldError

PART_OF = {"app.kubernetes.io/part-of": "darkweb-sandbox"}
ROLE = "darkweb-sandbox/role"  # site, gateway, world: what the NetworkPolicies select
SITE_LABEL = "darkweb-sandbox/site"
CLASS_LABEL = "darkweb-sandbox/class"
WORLD = "/data/world.db"
UPLOAD = (
    "/data/upload.db"  # where `kubectl cp` puts a world file; UPLOAD + ".done" says it is whole
)
DNS_NAME = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")


def namespace(number: int) -> str:
    """The namespace of class `number` (1, 2, ...)."""
    return f"sandbox-class-{number}"


def k8s_name(site_id: str) -> str:
    """A site's Deployment and Service name: `site-<id>` as a DNS label, or WorldError."""
    name = "site-" + site_id.replace("_", "-").strip("-")
    if not DNS_NAME.match(name):
        raise WorldError(f"site {site_id!r}: {name!r} is not a Kubernetes name (63 characters)")
    return name


def _world_job(source: str, seed: int | None, image: str) -> tuple[dict, list[dict]]:
    """The Job that puts the world on the `world` volume, and the ConfigMap it reads, if any."""
    seed_args = f" --seed {seed}" if seed is not None else ""
    kind = source_kind(source)
    mounts: list[dict] = [{"name": "world", "mountPath": "/data"}]
    volumes: list[dict] = [{"name": "world", "persistentVolumeClaim": {"claimName": "world"}}]
    extra: list[dict] = []
    if kind == "world":
        # Until the instructor copies the file in (kubectl cp, then touch UPLOAD.done).
        script = (
            f"until test -f {WORLD}; do "
            f"if test -f {UPLOAD}.done; then mv {UPLOAD} {WORLD}; else sleep 2; fi; done"
        )
    elif kind == "builtin":
        name = source.removesuffix(".yaml")
        script = f"test -f {WORLD} || sandbox build {name}{seed_args} --quiet --out {WORLD}"
    else:
        extra.append(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "scenario", "labels": dict(PART_OF)},
                "data": {"scenario.yaml": Path(source).read_text(encoding="utf-8")},
            }
        )
        mounts.append({"name": "scenario", "mountPath": "/import", "readOnly": True})
        volumes.append({"name": "scenario", "configMap": {"name": "scenario"}})
        script = (
            f"test -f {WORLD} || sandbox build /import/scenario.yaml{seed_args} --quiet "
            f"--out {WORLD}"
        )
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "world", "labels": {**PART_OF, ROLE: "world"}},
        "spec": {
            "backoffLimit": 3,
            "template": {
                "metadata": {"labels": {**PART_OF, ROLE: "world"}},
                "spec": {
                    "restartPolicy": "OnFailure",
                    "automountServiceAccountToken": False,
                    "affinity": _with_gateway(),
                    "containers": [
                        {
                            "name": "world",
                            "image": image,
                            "imagePullPolicy": "IfNotPresent",
                            "command": ["sh", "-c", script],
                            "volumeMounts": mounts,
                        }
                    ],
                    "volumes": volumes,
                },
            },
        },
    }
    return job, extra


def _with_gateway() -> dict:
    """Scheduled on the node of the class's gateway (they share SQLite files)."""
    return {
        "podAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [
                {
                    "labelSelector": {"matchLabels": {ROLE: "gateway"}},
                    "topologyKey": "kubernetes.io/hostname",
                }
            ]
        }
    }


def _pod(role: str, labels: dict, args: list[str], image: str, ports: list[dict]) -> dict:
    """A pod template running `sandbox ARGS` once the world is on its volume."""
    probe_port = ports[0]["containerPort"]
    container: dict = {
        "name": role,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "args": args,
        "ports": ports,
        "readinessProbe": {"tcpSocket": {"port": probe_port}, "periodSeconds": 5},
        "volumeMounts": [
            {"name": "world", "mountPath": "/data", "readOnly": True},
            {"name": "state", "mountPath": "/state"},
        ],
    }
    if role == "gateway":
        container["env"] = [
            {
                "name": "SANDBOX_INSTRUCTOR_PASSWORD",
                "valueFrom": {
                    "secretKeyRef": {"name": "instructor", "key": "password", "optional": True}
                },
            }
        ]
    spec: dict = {
        # Nothing in a class talks to the cluster's API: no token to steal from a pod.
        "automountServiceAccountToken": False,
        "initContainers": [
            {
                "name": "wait-for-world",
                "image": image,
                "imagePullPolicy": "IfNotPresent",
                "command": ["sh", "-c", f"until test -f {WORLD}; do sleep 2; done"],
                "volumeMounts": [{"name": "world", "mountPath": "/data", "readOnly": True}],
            }
        ],
        "containers": [container],
        "volumes": [
            {"name": "world", "persistentVolumeClaim": {"claimName": "world"}},
            {"name": "state", "persistentVolumeClaim": {"claimName": "state"}},
        ],
    }
    if role != "gateway":
        spec["affinity"] = _with_gateway()
    return {"metadata": {"labels": labels}, "spec": spec}


def _deployment(name: str, labels: dict, template: dict) -> dict:
    """One replica of a pod; Recreate, since its volumes are mounted by one node at a time."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": 1,
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": labels},
            "template": template,
        },
    }


def _service(name: str, labels: dict, ports: list[dict], kind: str = "ClusterIP") -> dict:
    """A Service selecting the pods with these labels."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "labels": labels},
        "spec": {"type": kind, "selector": labels, "ports": ports},
    }


def _policies() -> list[dict]:
    """The class's NetworkPolicies: deny all, then the gateway's and the sites' only ways."""
    gateway = {"podSelector": {"matchLabels": {ROLE: "gateway"}}}
    sites = {"podSelector": {"matchLabels": {ROLE: "site"}}}
    dns = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
        "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
    }

    def policy(name: str, selector: dict, spec: dict) -> dict:
        """A NetworkPolicy of both directions for the pods selected."""
        return {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": name, "labels": dict(PART_OF)},
            "spec": {"podSelector": selector, "policyTypes": ["Ingress", "Egress"], **spec},
        }

    return [
        policy("default-deny", {}, {}),
        policy(
            "sites",
            sites["podSelector"],
            {
                "ingress": [{"from": [gateway], "ports": [{"protocol": "TCP", "port": SITE_PORT}]}],
                "egress": [{"to": [gateway]}],
            },
        ),
        policy(
            "gateway",
            gateway["podSelector"],
            {
                # Trainees, from wherever the cluster lets them in; no port but these.
                "ingress": [{"ports": [{"protocol": "TCP", "port": p} for _, p, _ in PUBLISHED]}],
                "egress": [
                    {"to": [sites], "ports": [{"protocol": "TCP", "port": SITE_PORT}]},
                    {
                        "to": [dns],
                        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
                    },
                ],
            },
        ),
    ]


def _volume_claim(name: str, size: str) -> dict:
    """A volume of the class, mounted by one node (its pods share that node)."""
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "labels": dict(PART_OF)},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}},
    }


def manifests(
    source: str | None = None, classes: int = 1, seed: int | None = None, image: str = IMAGE
) -> dict[str, list[dict]]:
    """{file name: documents} for each class's namespace, of a world file or a scenario."""
    if classes < 1:
        raise WorldError(f"--classes {classes}: a deployment has at least one class")
    source = source or "default"
    sites = world_sites(source, seed)
    own, routed = site_containers(sites)
    names = {s["id"]: k8s_name(s["id"]) for s in own}
    clash = sorted({n for n in names.values() if list(names.values()).count(n) > 1})
    if clash:
        raise WorldError(f"{source}: sites share the Kubernetes name {', '.join(clash)}")
    job, extra = _world_job(source, seed, image)
    documents: list[dict] = [
        _volume_claim("world", "2Gi"),
        _volume_claim("state", "2Gi"),
        *extra,
        job,
    ]
    for site in own:
        name = names[site["id"]]
        labels = {**PART_OF, ROLE: "site", SITE_LABEL: name}
        args = ["serve-site", WORLD, site["id"], "--port", str(SITE_PORT), "--state", "/state"]
        ports = [{"name": "http", "containerPort": SITE_PORT}]
        documents.append(_deployment(name, labels, _pod("site", labels, args, image, ports)))
        documents.append(
            _service(name, labels, [{"name": "http", "port": SITE_PORT, "targetPort": SITE_PORT}])
        )
    routes = [
        f"--route={site}={k8s_name(service.removeprefix('site-'))}:{SITE_PORT}"
        for site, service in routed.items()
    ]
    labels = {**PART_OF, ROLE: "gateway"}
    args = ["gateway", WORLD, "--state", "/state", "--host", "0.0.0.0", *routes]
    port_names = ("socks", "http-proxy", "classroom", "explorer")
    container_ports = [
        {"name": n, "containerPort": p} for n, (_, p, _) in zip(port_names, PUBLISHED, strict=True)
    ]
    documents.append(
        _deployment("gateway", labels, _pod("gateway", labels, args, image, container_ports))
    )
    service_ports = [
        {"name": n, "port": p, "targetPort": p}
        for n, (_, p, _) in zip(port_names, PUBLISHED, strict=True)
    ]
    documents.append(_service("gateway", labels, service_ports, "NodePort"))
    documents.extend(_policies())
    files = {}
    for number in range(1, classes + 1):
        ns = namespace(number)
        head = {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": ns,
                # Pod Security's baseline: no privileged pod, host path or host network.
                "labels": {
                    **PART_OF,
                    CLASS_LABEL: str(number),
                    "pod-security.kubernetes.io/enforce": "baseline",
                },
            },
        }
        files[f"class-{number}.yaml"] = [head] + [
            {
                **doc,
                "metadata": {"name": doc["metadata"]["name"], "namespace": ns, **doc["metadata"]},
            }
            for doc in documents
        ]
    return files


HEADER = """\
# Kubernetes manifests of class {number}: namespace {namespace}. Generated by
# `sandbox k8s {source}`; sandbox/kubernetes.py says why they are laid out so.
#   kubectl apply -f {out}    # every class
#   kubectl -n {namespace} get svc gateway      # NodePorts: SOCKS, HTTP proxy, classroom, explorer
#   kubectl -n {namespace} logs deploy/gateway  # the instructor password and the entry points
"""
UPLOAD_HOWTO = """\
# The world file goes in once the Job's pod runs:
#   POD=$(kubectl -n {namespace} get pod -l job-name=world -o name | cut -d/ -f2)
#   kubectl -n {namespace} cp {world} $POD:{upload}
#   kubectl -n {namespace} exec $POD -- touch {upload}.done
"""


def write(files: dict[str, list[dict]], out: Path, source: str) -> list[Path]:
    """Write each class's documents to OUT/<file> as multi-document YAML, with a header."""
    import yaml

    out.mkdir(parents=True, exist_ok=True)
    written = []
    for number, (name, documents) in enumerate(files.items(), start=1):
        ns = documents[0]["metadata"]["name"]
        header = HEADER.format(number=number, namespace=ns, source=source, out=out)
        if source_kind(source) == "world":
            header += UPLOAD_HOWTO.format(namespace=ns, world=source, upload=UPLOAD)
        body = yaml.dump_all(
            documents, Dumper=_Dumper, sort_keys=False, width=100, default_flow_style=False
        )
        path = out / name
        path.write_text(header + body, encoding="utf-8")
        written.append(path)
    return written
