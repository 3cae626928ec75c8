# METADATA
# title: Base image not pinned by digest
# description: A tag can be moved to another image; a digest cannot.
# scope: package
# schemas:
# - input: schema["dockerfile"]
# custom:
#   id: USR-DF-002
#   avd_id: AVD-USR-DF-002
#   severity: LOW
#   recommended_actions: Write FROM image:tag@sha256:... (and let a bot update it).
#   input:
#     selector:
#     - type: dockerfile
package user.dockerfile.pinned_base

import future.keywords.in

# The names the stages give themselves (FROM image AS name).
stage_names[lower(cmd.Value[2])] {
	cmd := input.Stages[_].Commands[_]
	cmd.Cmd == "from"
	count(cmd.Value) == 3
}

deny[res] {
	cmd := input.Stages[_].Commands[_]
	cmd.Cmd == "from"
	image := cmd.Value[0]
	image != "scratch"
	not lower(image) in stage_names
	not contains(image, "@sha256:")
	res := result.new(sprintf("base image %q is not pinned by digest", [image]), cmd)
}
