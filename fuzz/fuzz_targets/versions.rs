//! Version ordering: every scheme on two strings cut from the input; compare must be
//! antisymmetric and reflexive and never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use moat_model::version::{Scheme, compare, parse_ok};

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    let (a, b) = match s.split_once('\n') {
        Some((a, b)) => (a, b),
        None => (s.as_ref(), ""),
    };
    for scheme in Scheme::ALL {
        let _ = parse_ok(scheme, a);
        assert_eq!(compare(scheme, a, b), compare(scheme, b, a).reverse());
        assert_eq!(compare(scheme, a, a), std::cmp::Ordering::Equal);
    }
});
