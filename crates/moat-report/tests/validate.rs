//! The SBOMs against the formats' reference validators (`validate-cyclonedx`,
//! `validate-spdx` in `$MOAT_PEERS/bin`, default `/var/tmp/moat-peers`). Without them the
//! test prints a skip notice, or fails when `CI=true`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

#[test]
fn sboms_validate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let o = common::options();
    let odd_time = moat_report::RenderOptions {
        timestamp: "not a time".into(),
        color: false,
    };
    let cases = [
        ("debian", common::debian(), &o),
        ("empty", common::empty(), &o),
        ("rootfs", common::rootfs(), &o),
        ("hostile", common::hostile(), &odd_time),
    ];
    let (mut cdx, mut spdx) = (Vec::new(), Vec::new());
    for (name, inv, o) in &cases {
        let c = dir.path().join(format!("{name}.cdx.json"));
        std::fs::write(&c, moat_report::cyclonedx(inv, o)).expect("write");
        cdx.push(c);
        let s = dir.path().join(format!("{name}.spdx.json"));
        std::fs::write(&s, moat_report::spdx(inv, o)).expect("write");
        spdx.push(s);
    }
    common::validate("validate-cyclonedx", &cdx);
    common::validate("validate-spdx", &spdx);
}
