mod common;
#[test]
fn dump() {
    let o = moat_report::RenderOptions { timestamp: "x".into(), color: false };
    std::fs::write("/tmp/hd/h.cdx.json", moat_report::cyclonedx(&common::hostile(), &o)).unwrap();
    std::fs::write("/tmp/hd/h.spdx.json", moat_report::spdx(&common::hostile(), &o)).unwrap();
    std::fs::write("/tmp/hd/r.spdx.json", moat_report::spdx(&common::rootfs(), &o)).unwrap();
    std::fs::write("/tmp/hd/h.txt", moat_report::table(&common::hostile(), &o)).unwrap();
}
