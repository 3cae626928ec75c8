# METADATA
# title: No source label
# description: Images must say where their source lives (org.opencontainers.image.source).
# scope: package
# custom:
#   id: USR-DF-004
#   severity: LOW
#   recommended_actions: Add LABEL org.opencontainers.image.source=https://... to the final stage.
#   input:
#     selector:
#     - type: dockerfile
package user.dockerfile.source_label

has_source {
	cmd := input.Stages[_].Commands[_]
	cmd.Cmd == "label"
	cmd.Value[_] == "org.opencontainers.image.source"
}

deny[msg] {
	not has_source
	msg := "no LABEL org.opencontainers.image.source"
}
