//! CVSS base scores against published values (NVD and the CVSS v4.0 calculator).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use moat_vuln::score::base_score;

#[test]
fn v31_log4shell_is_10() {
    // CVE-2021-44228 (Log4Shell), NVD CVSS v3.1 base 10.0.
    assert_eq!(
        base_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"),
        Some(("CVSS_V3", 10.0))
    );
}

#[test]
fn v31_heartbleed_is_7_5() {
    // CVE-2014-0160 (Heartbleed), NVD CVSS v3.1 base 7.5.
    assert_eq!(
        base_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"),
        Some(("CVSS_V3", 7.5))
    );
}

#[test]
fn v30_is_scored() {
    // The classic 9.8 "network, no privileges, high impact" vector, written as v3.0.
    assert_eq!(
        base_score("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
        Some(("CVSS_V3", 9.8))
    );
}

#[test]
fn v2_has_no_prefix() {
    // CVE-2014-0160, NVD CVSS v2 base 5.0.
    assert_eq!(
        base_score("AV:N/AC:L/Au:N/C:P/I:N/A:N"),
        Some(("CVSS_V2", 5.0))
    );
    // CVE-2021-44228, NVD CVSS v2 base 9.3.
    assert_eq!(
        base_score("AV:N/AC:M/Au:N/C:C/I:C/A:C"),
        Some(("CVSS_V2", 9.3))
    );
    // NVD sometimes writes v2 vectors in parentheses.
    assert_eq!(
        base_score("(AV:N/AC:L/Au:N/C:P/I:P/A:P)"),
        Some(("CVSS_V2", 7.5))
    );
}

#[test]
fn v4_base() {
    // CVSS v4.0: network, low complexity, no privileges or interaction, high impact on the
    // vulnerable system, none on subsequent systems: 9.3 in FIRST's v4.0 calculator.
    assert_eq!(
        base_score("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"),
        Some(("CVSS_V4", 9.3))
    );
}

#[test]
fn v4_threat_metrics_do_not_change_the_base_score() {
    let base = base_score("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N");
    let with_threat =
        base_score("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U");
    assert_eq!(base, with_threat);
}

#[test]
fn malformed_vectors_are_none() {
    for v in [
        "",
        "garbage",
        "CVSS:3.1/",
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H", // missing A
        "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", // bad value
        "CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", // repeated metric
        "CVSS:5.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "CVSS:4.0/AV:N/AC:L",
        "AV:N/AC:L/Au:N/C:P/I:N",
        "AV:Q/AC:L/Au:N/C:P/I:N/A:N",
    ] {
        assert_eq!(base_score(v), None, "{v}");
    }
}

#[test]
fn v2_temporal_metrics_do_not_change_the_base_score() {
    assert_eq!(
        base_score("AV:N/AC:L/Au:N/C:P/I:P/A:P/E:F/RL:OF/RC:C"),
        Some(("CVSS_V2", 7.5))
    );
}
