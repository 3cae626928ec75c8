# Helpers the Kubernetes checks import: no deny rule, so not a check itself.
package user.lib.k8s

workload_kinds := {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}

pod_spec = input.spec {
	input.kind == "Pod"
}

pod_spec = input.spec.template.spec {
	workload_kinds[input.kind]
}

pod_spec = input.spec.jobTemplate.spec.template.spec {
	input.kind == "CronJob"
}

containers[c] {
	c := pod_spec.containers[_]
}

containers[c] {
	c := pod_spec.initContainers[_]
}
