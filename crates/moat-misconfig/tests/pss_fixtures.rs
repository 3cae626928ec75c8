//! Every fixture of the reference implementation's test data evaluates as labelled:
//! `testdata/{baseline,restricted}/v1.N/{pass,fail}/<control><n>.yaml`, 4,537 pods; a
//! failing fixture fails (at least) the control its name starts with.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::*;
use moat_misconfig::k8s::pss::{Level, Version, controls, evaluate};

#[test]
fn pss_fixtures() {
    let Some(root) = shared_or_skip("corpus/pss/pod-security-admission/test/testdata") else {
        return;
    };
    let (mut n, mut wrong) = (0, Vec::new());
    for level in [Level::Baseline, Level::Restricted] {
        for v in std::fs::read_dir(root.join(level.as_str())).unwrap() {
            let v = v.unwrap();
            let version = Version::parse(&v.file_name().to_string_lossy()).unwrap();
            for verdict in ["pass", "fail"] {
                let Ok(dir) = std::fs::read_dir(v.path().join(verdict)) else {
                    continue;
                };
                for f in dir {
                    let f = f.unwrap().path();
                    let text = std::fs::read_to_string(&f).unwrap();
                    let pod: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
                    let got = evaluate(level, version, &pod["metadata"], &pod["spec"]);
                    n += 1;
                    let stem = f
                        .file_stem()
                        .unwrap()
                        .to_string_lossy()
                        .trim_end_matches(|c: char| c.is_ascii_digit())
                        .to_string();
                    let ok = if verdict == "pass" {
                        got.is_empty()
                    } else {
                        // The control the fixture is named after, or (when a restricted
                        // control replaces it at this level) any.
                        let named_applies = controls(level, version)
                            .iter()
                            .any(|c| c.id.eq_ignore_ascii_case(&stem));
                        got.iter().any(|g| g.control.eq_ignore_ascii_case(&stem))
                            || (!named_applies && !got.is_empty())
                    };
                    if !ok {
                        wrong.push(format!(
                            "{}: {:?}",
                            f.display(),
                            got.iter()
                                .map(|g| (g.control, g.detail.clone()))
                                .collect::<Vec<_>>()
                        ));
                    }
                }
            }
        }
    }
    assert_eq!(n, 4537);
    assert!(
        wrong.is_empty(),
        "{} of {n} wrong:\n{}",
        wrong.len(),
        wrong
            .iter()
            .take(30)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
