# A test file: skipped by --policy (moat and Trivy both skip *_test.rego).
package user.dockerfile.no_add_test

deny[msg] {
	msg := "a _test.rego file must never run"
}
