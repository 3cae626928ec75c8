# METADATA
# title: Image from an untrusted registry
# description: Containers may only run images from the organisation's registry.
# scope: package
# schemas:
# - input: schema["kubernetes"]
# custom:
#   id: USR-K8S-001
#   avd_id: AVD-USR-K8S-001
#   severity: HIGH
#   recommended_actions: Mirror the image into registry.example.com and use it from there.
#   input:
#     selector:
#     - type: kubernetes
package user.kubernetes.trusted_registry

import data.user.lib.k8s

deny[res] {
	c := k8s.containers[_]
	not startswith(c.image, "registry.example.com/")
	res := result.new(sprintf("container %q runs %q, not from registry.example.com", [c.name, c.image]), c)
}
