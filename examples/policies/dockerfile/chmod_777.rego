# METADATA
# title: World-writable permissions set in RUN
# description: chmod 777 (or a+w) lets any process in the container rewrite the files.
# scope: package
# custom:
#   id: USR-DF-003
#   avd_id: AVD-USR-DF-003
#   severity: HIGH
#   recommended_actions: Give the files to the user that needs them (chown) and keep the mode narrow.
#   input:
#     selector:
#     - type: dockerfile
package user.dockerfile.chmod_777

deny[res] {
	cmd := input.Stages[_].Commands[_]
	cmd.Cmd == "run"
	script := concat(" ", cmd.Value)
	regex.match(`chmod\s+(-[a-zA-Z]+\s+)*(0?777|a\+w|o\+w)\b`, script)
	res := result.new("RUN makes files world-writable", cmd)
}
