"""Server-side allocation and defaults context (the defaulting stage's `DefaultsContext`): Service
cluster IPs and node ports, the default StorageClass and IngressClass.
"""

from __future__ import annotations

import ipaddress

from console.cluster.sim.kinds import CoreBase


class Allocation(CoreBase):
    def allocate_cluster_ip(self) -> str:
        net = ipaddress.ip_network("10.96.0.0/12")
        n = int(self.store.meta_get("svc_ip_next", 11))
        while True:
            ip = str(net.network_address + n)
            n += 1
            used = self.store.conn.execute(
                "SELECT 1 FROM objects WHERE grp='' AND kind='Service' AND json_extract(body,'$.spec.clusterIP')=?",
                (ip,),
            ).fetchone()
            if not used:
                break
        self.store.meta_set("svc_ip_next", n)
        return ip

    def allocate_node_port(self) -> int:
        n = int(self.store.meta_get("node_port_next", 30000))
        self.store.meta_set("node_port_next", 30000 + ((n + 1 - 30000) % 2768))
        return n

    def default_storage_class(self) -> str | None:
        for sc in self.store.list_objects("storage.k8s.io", "StorageClass", ""):
            ann = (sc.get("metadata") or {}).get("annotations") or {}
            if ann.get("storageclass.kubernetes.io/is-default-class") == "true":
                return str(sc["metadata"]["name"])
        return None

    def default_ingress_class(self) -> str | None:
        for ic in self.store.list_objects("networking.k8s.io", "IngressClass", ""):
            ann = (ic.get("metadata") or {}).get("annotations") or {}
            if ann.get("ingressclass.kubernetes.io/is-default-class") == "true":
                return str(ic["metadata"]["name"])
        return None
