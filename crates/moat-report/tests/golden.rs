//! Golden files: the four outputs of the fixture inventory, byte for byte.
//!
//! After an intended change of an output, regenerate and review the diff:
//! `MOAT_UPDATE_GOLDEN=1 cargo test -p moat-report`

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::check;

#[test]
fn golden_inventory_json() {
    check("inventory.json", &moat_report::json(&common::debian()));
}

#[test]
fn golden_cyclonedx() {
    check(
        "cyclonedx.json",
        &moat_report::cyclonedx(&common::debian(), &common::options()),
    );
}

#[test]
fn golden_spdx() {
    check(
        "spdx.json",
        &moat_report::spdx(&common::debian(), &common::options()),
    );
}

#[test]
fn golden_table() {
    check(
        "table.txt",
        moat_report::table(&common::debian(), &common::options()).as_bytes(),
    );
}

#[test]
fn json_round_trips() {
    let inv = common::debian();
    let back: moat_model::Inventory =
        serde_json::from_slice(&moat_report::json(&inv)).expect("parses");
    assert_eq!(back, inv);
}

#[test]
fn output_does_not_depend_on_package_order() {
    let inv = common::debian();
    let mut reversed = inv.clone();
    reversed.packages.reverse();
    reversed.relationships.reverse();
    let o = common::options();
    assert_eq!(
        moat_report::cyclonedx(&inv, &o),
        moat_report::cyclonedx(&reversed, &o)
    );
    assert_eq!(
        moat_report::spdx(&inv, &o),
        moat_report::spdx(&reversed, &o)
    );
    assert_eq!(
        moat_report::table(&inv, &o),
        moat_report::table(&reversed, &o)
    );
}

#[test]
fn timestamp_is_normalised_and_identity_follows_it() {
    let inv = common::debian();
    let o = common::options();
    let same_instant = moat_report::RenderOptions {
        timestamp: "2026-11-29T02:02:03.5+01:00".into(),
        color: false,
    };
    assert_eq!(
        moat_report::cyclonedx(&inv, &o),
        moat_report::cyclonedx(&inv, &same_instant)
    );
    let later = moat_report::RenderOptions {
        timestamp: "2026-11-29T01:02:04Z".into(),
        color: false,
    };
    let serial = |bytes: Vec<u8>| {
        let v: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
        (
            v["serialNumber"].clone(),
            v["metadata"]["timestamp"].clone(),
        )
    };
    let (s1, t1) = serial(moat_report::cyclonedx(&inv, &o));
    let (s2, t2) = serial(moat_report::cyclonedx(&inv, &later));
    assert_ne!(s1, s2);
    assert_eq!(t1, common::TIMESTAMP);
    assert_eq!(t2, "2026-11-29T01:02:04Z");
    let spdx: serde_json::Value =
        serde_json::from_slice(&moat_report::spdx(&inv, &o)).expect("json");
    let ns = spdx["documentNamespace"].as_str().expect("namespace");
    let uuid = s1
        .as_str()
        .and_then(|s| s.strip_prefix("urn:uuid:"))
        .expect("urn");
    assert!(ns.starts_with("https://") && ns.ends_with(uuid), "{ns}");
}

#[test]
fn color_only_adds_bold_around_headers() {
    let inv = common::debian();
    let plain = moat_report::table(&inv, &common::options());
    let colored = moat_report::table(
        &inv,
        &moat_report::RenderOptions {
            color: true,
            ..common::options()
        },
    );
    assert!(!plain.contains('\x1b'));
    assert_eq!(colored.matches("\x1b[1m").count(), 2);
    assert_eq!(colored.replace("\x1b[1m", "").replace("\x1b[0m", ""), plain);
}

#[test]
fn hostile_table_is_clean_and_aligned() {
    let t = moat_report::table(&common::hostile(), &common::options());
    assert!(!t.contains('\x1b'), "{t}");
    assert!(
        t.lines().all(|l| l == l.trim_end()),
        "trailing whitespace:\n{t}"
    );
    assert!(t.contains("No packages found.") == common::hostile().packages.is_empty());
}

#[test]
fn empty_table() {
    let t = moat_report::table(&common::empty(), &common::options());
    assert_eq!(
        t,
        "scratch:latest  OS: unknown  0 layers  0 packages\n\nNo packages found.\n\n0 warnings\n"
    );
}

#[test]
fn cyclonedx_structure() {
    let v: serde_json::Value = serde_json::from_slice(&moat_report::cyclonedx(
        &common::hostile(),
        &common::options(),
    ))
    .expect("json");
    let mut refs: Vec<&str> = v["components"]
        .as_array()
        .expect("components")
        .iter()
        .filter_map(|c| c["bom-ref"].as_str())
        .collect();
    refs.push(
        v["metadata"]["component"]["bom-ref"]
            .as_str()
            .expect("root ref"),
    );
    let n = refs.len();
    refs.sort();
    refs.dedup();
    assert_eq!(refs.len(), n, "bom-refs are unique");
    let deps = v["dependencies"].as_array().expect("deps");
    assert_eq!(
        deps.len(),
        n,
        "every component appears once in dependencies"
    );
    for d in deps {
        for to in d["dependsOn"].as_array().expect("dependsOn") {
            assert!(
                refs.contains(&to.as_str().expect("ref")),
                "{to} is a known ref"
            );
            assert_ne!(to, &d["ref"], "no self edges");
        }
    }
}
