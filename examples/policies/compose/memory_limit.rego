# METADATA
# title: Compose service without a memory limit
# description: A service without a memory limit can take the host's memory.
# scope: package
# custom:
#   id: USR-COMPOSE-001
#   severity: MEDIUM
#   recommended_actions: Set deploy.resources.limits.memory (or mem_limit).
#   input:
#     selector:
#     - type: compose
package user.compose.memory_limit

deny[res] {
	some name
	svc := input.services[name]
	not svc.mem_limit
	not svc.deploy.resources.limits.memory
	res := result.new(sprintf("service %s has no memory limit", [name]), svc)
}
