# METADATA
# title: ADD instead of COPY
# description: ADD fetches URLs and unpacks archives implicitly; COPY does only what it says.
# scope: package
# schemas:
# - input: schema["dockerfile"]
# custom:
#   id: USR-DF-001
#   avd_id: AVD-USR-DF-001
#   severity: MEDIUM
#   recommended_actions: Use COPY, and fetch or unpack in a RUN step you can read.
#   input:
#     selector:
#     - type: dockerfile
package user.dockerfile.no_add

deny[res] {
	cmd := input.Stages[_].Commands[_]
	cmd.Cmd == "add"
	res := result.new(sprintf("ADD %s: use COPY", [concat(" ", cmd.Value)]), cmd)
}
