# Trivy's older metadata style: __rego_metadata__ and __rego_input__ rules.
package user.kubernetes.no_nodeport

__rego_metadata__ := {
	"id": "USR-K8S-003",
	"avd_id": "AVD-USR-K8S-003",
	"title": "NodePort Service",
	"severity": "MEDIUM",
	"description": "NodePort opens the port on every node; use a LoadBalancer or an Ingress.",
	"recommended_actions": "Use type ClusterIP behind an Ingress.",
}

__rego_input__ := {"selector": [{"type": "kubernetes"}]}

deny[res] {
	input.kind == "Service"
	input.spec.type == "NodePort"
	res := result.new(sprintf("Service %s is of type NodePort", [input.metadata.name]), input.spec)
}
