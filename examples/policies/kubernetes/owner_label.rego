# METADATA
# title: Workload without an owner label
# description: Every workload says which team owns it (metadata.labels.team).
# scope: package
# custom:
#   id: USR-K8S-002
#   severity: LOW
#   recommended_actions: Add metadata.labels.team.
#   input:
#     selector:
#     - type: kubernetes
package user.kubernetes.owner_label

import data.user.lib.k8s

deny[res] {
	k8s.workload_kinds[input.kind]
	not input.metadata.labels.team
	res := result.new(sprintf("%s %s has no team label", [input.kind, input.metadata.name]), input.metadata)
}
