//! Property tests for `moat_model::version::compare`, with a small deterministic
//! generator (xorshift) instead of a property-testing crate: moat-model stays free of
//! heavy dev-dependencies, and every run checks the same cases.
//!
//! For every scheme, over strings assembled from version-like tokens of that scheme
//! (valid and invalid ones, with many near-collisions):
//!
//! * reflexivity: `compare(a, a) == Equal`;
//! * antisymmetry: `compare(a, b) == compare(b, a).reverse()`;
//! * transitivity on random triples (`<=`, `<` and `==` chains);
//! * a sort of the whole pool is consistent: every earlier element is `<=` every later
//!   one, and equal elements are contiguous.
//!
//! And for every scheme, no panic on arbitrary strings: random bytes and code points,
//! separators only, and digit runs thousands of digits long.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use moat_model::version::{Scheme, compare, parse_ok};
use std::cmp::Ordering;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn tokens(scheme: Scheme) -> &'static [&'static str] {
    match scheme {
        Scheme::Dpkg => &[
            "1", "0", "10", "01", "2", ".", ".", "~", "~rc", "+", "-", "-1", "a", "b", "+deb",
            "ubuntu", ":", "1:", "0:",
        ],
        Scheme::Rpm => &[
            "1", "0", "10", "01", ".", ".", "~", "^", "-", "-1", "_", "a", "el", "git", "1:", "0:",
            ":", "+",
        ],
        Scheme::Apk => &[
            "1", "0", "01", "10", ".", ".", "..", "a", "z", "p1", "_alpha", "_beta", "_pre", "_rc",
            "_p", "_p1", "_cvs", "_git2", "~ab1", "-r", "-r1", "-r0", "-", "_x", "A",
        ],
        Scheme::Semver | Scheme::Go | Scheme::Hex | Scheme::NuGet | Scheme::Pub => &[
            "1", "0", "01", "10", "2", ".", ".", ".", "-", "+", "v", "=", "alpha", "beta", "rc",
            "a", "A", "1a", "x", "-0", "--",
        ],
        Scheme::Pep440 => &[
            "1", "0", "00", "10", ".", ".", "a", "b", "rc", "c", "alpha", "pre", "post", "r",
            "rev", "dev", "-", "_", "+", "local", "!", "1!", "v", "x", "-1",
        ],
        Scheme::Maven => &[
            "1", "0", "00", "10", ".", ".", "-", "-", "alpha", "a", "b", "m", "ga", "final",
            "release", "sp", "snapshot", "SNAPSHOT", "rc", "cr", "RC", "x", "foo",
        ],
        Scheme::RubyGems => &[
            "1", "0", "00", "10", ".", ".", "-", "a", "b", "pre", "beta", "A", " ", "_",
        ],
        // '#' is left out on purpose: PHP weighs a '#' part like every number, which no
        // transitive order can reproduce (see the packagist module documentation).
        Scheme::Packagist => &[
            "1", "0", "00", "10", ".", ".", "-", "_", "+", "dev", "alpha", "a", "b", "beta", "RC",
            "rc", "pl", "p", "patch", "v", "V", "x",
        ],
        Scheme::Conan => &[
            "1", "0", "00", "10", "2", ".", ".", ".", "-", "+", "a", "b", "pre", "cci", "1a", "k",
            "_", "*", "A", "-1",
        ],
        Scheme::Cran | Scheme::Hackage => &[
            "1", "0", "01", "10", "2", ".", ".", ".", "-", "-", "rc", "rc1", "alpha", "a", "x", " ",
        ],
        Scheme::CocoaPods => &[
            "1", "0", "00", "10", ".", ".", "-", "+", "a", "b", "beta", "rc", "A", " ", "_", "x",
        ],
        Scheme::Conda => &[
            "1", "0", "00", "10", ".", ".", "_", "-", "+", "!", "a", "b", "rc", "dev", "post", "*",
            "A",
        ],
    }
}

fn gen_version(rng: &mut Rng, scheme: Scheme) -> String {
    let toks = tokens(scheme);
    let n = 1 + rng.below(7);
    (0..n).map(|_| toks[rng.below(toks.len())]).collect()
}

fn pool(scheme: Scheme, seed: u64, n: usize) -> Vec<String> {
    let mut rng = Rng(seed);
    let mut v: Vec<String> = (0..n).map(|_| gen_version(&mut rng, scheme)).collect();
    v.extend(["", "0", "1", "1.0", "1.0.0"].map(String::from));
    v
}

fn check_order(scheme: Scheme, pool: &[String], rng: &mut Rng) {
    let name = scheme.as_str();
    for a in pool {
        assert_eq!(
            compare(scheme, a, a),
            Ordering::Equal,
            "{name}: {a:?} != itself"
        );
    }
    for a in pool.iter().step_by(3) {
        for b in pool {
            assert_eq!(
                compare(scheme, a, b),
                compare(scheme, b, a).reverse(),
                "{name}: not antisymmetric on {a:?}, {b:?}"
            );
        }
    }
    for _ in 0..40_000 {
        let a = &pool[rng.below(pool.len())];
        let b = &pool[rng.below(pool.len())];
        let c = &pool[rng.below(pool.len())];
        let (ab, bc, ac) = (
            compare(scheme, a, b),
            compare(scheme, b, c),
            compare(scheme, a, c),
        );
        if ab != Ordering::Greater && bc != Ordering::Greater {
            let want = if ab == Ordering::Equal && bc == Ordering::Equal {
                Ordering::Equal
            } else {
                Ordering::Less
            };
            assert_eq!(
                ac, want,
                "{name}: not transitive: {a:?} {ab:?} {b:?} {bc:?} {c:?} but {ac:?}"
            );
        }
    }
    // Sorting needs a total order; then check it pairwise.
    let mut sorted = pool.to_vec();
    sorted.sort_by(|a, b| compare(scheme, a, b));
    for i in 0..sorted.len() {
        for j in i + 1..sorted.len() {
            let d = compare(scheme, &sorted[i], &sorted[j]);
            assert_ne!(
                d,
                Ordering::Greater,
                "{name}: sort inconsistent: {:?} > {:?}",
                sorted[i],
                sorted[j]
            );
            if d == Ordering::Equal {
                for k in i + 1..j {
                    assert_eq!(
                        compare(scheme, &sorted[i], &sorted[k]),
                        Ordering::Equal,
                        "{name}: equal elements {:?}, {:?} not contiguous (around {:?})",
                        sorted[i],
                        sorted[j],
                        sorted[k]
                    );
                }
            }
        }
    }
}

#[test]
fn orders_are_total_preorders() {
    for (i, scheme) in Scheme::ALL.into_iter().enumerate() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (i as u64 + 1));
        for round in 0..2u64 {
            let p = pool(
                scheme,
                0xD1B5_4A32_D192_ED03 ^ (round * 7919 + i as u64 + 1),
                300,
            );
            check_order(scheme, &p, &mut rng);
        }
    }
}

fn arbitrary(rng: &mut Rng) -> String {
    const CHARS: &[char] = &[
        '0', '1', '9', '.', '-', '+', '_', '~', '^', ':', '!', '#', '=', 'v', 'V', 'a', 'z', 'A',
        'Z', 'r', 'p', ' ', '\t', '\n', '\0', '/', '*', 'é', 'α', '٣', '😀', '\u{FEFF}', 'ǅ', 'İ',
    ];
    let n = rng.below(24);
    (0..n).map(|_| CHARS[rng.below(CHARS.len())]).collect()
}

#[test]
fn no_panic_on_arbitrary_strings() {
    let mut rng = Rng(0x1234_5678_9ABC_DEF1);
    let mut strings: Vec<String> = (0..300).map(|_| arbitrary(&mut rng)).collect();
    let huge = "9".repeat(5000);
    let huge2 = format!("1{}", "0".repeat(5000));
    strings.extend([
        String::new(),
        " ".into(),
        ".".into(),
        "-".into(),
        "+".into(),
        ":".into(),
        "~".into(),
        "^".into(),
        "v".into(),
        "!".into(),
        "..-..".into(),
        huge.clone(),
        huge2.clone(),
        format!("{huge}.{huge2}"),
        format!("{huge}:{huge2}-{huge}"),
        format!("1.0-{huge}"),
        format!("1.0+{huge}"),
        format!("{huge}!{huge}.post{huge}.dev{huge}+{huge}"),
        format!("0.0.0-{huge}-abc"),
        format!("1.0_p{huge}-r{huge}"),
        format!("1.0.a{huge}"),
        "0".repeat(3000),
        "-".repeat(20_000),
        "1-".repeat(5_000),
        "a1".repeat(5_000),
        "0.".repeat(5_000),
        "~".repeat(5_000),
        "_p".repeat(5_000),
    ]);
    for scheme in Scheme::ALL {
        for a in &strings {
            let _ = parse_ok(scheme, a);
            assert_eq!(compare(scheme, a, a), Ordering::Equal, "{scheme:?}: {a:?}");
            for b in strings.iter().step_by(11) {
                assert_eq!(
                    compare(scheme, a, b),
                    compare(scheme, b, a).reverse(),
                    "{scheme:?}: {a:?} {b:?}"
                );
            }
        }
        // Huge numbers are compared by value, not by parsing into machine integers.
        let (big, bigger) = (format!("{huge}.0.0"), format!("{huge2}.0.0"));
        assert!(
            parse_ok(scheme, &big) && parse_ok(scheme, &bigger),
            "{scheme:?}"
        );
        assert_eq!(
            compare(scheme, &bigger, &big),
            Ordering::Greater,
            "{scheme:?}"
        );
        assert_eq!(
            compare(scheme, &format!("0.{huge}.1"), &format!("0.{huge2}.0")),
            Ordering::Less,
            "{scheme:?}"
        );
    }
}
