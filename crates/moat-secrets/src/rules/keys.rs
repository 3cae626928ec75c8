//! Private keys: PEM blocks (RSA, EC, DSA, PKCS#8 of any algorithm, OpenSSH, PGP, SSH2), PuTTY
//! key files, age identities. The checks look inside: a PEM body must decode to what its header says
//! (a DER sequence, an `openssh-key-v1` blob), which rejects truncated examples in documentation;
//! PKCS#8 keys are named by their algorithm, and encrypted keys are noted and reported one level
//! lower.
//!
//! Every rule carries its documentation (what / why / example / fix) and its own test: the
//! example is a true positive and each near miss must not be reported (`rules::tests`).

use super::checks;
use crate::rule::Rule;
use moat_model::Severity;

const WHY_KEY: &str = "A private key is an identity: with it anyone can log in where the public key is trusted, decrypt what was encrypted to it, or sign as you (TLS, SSH, code and package signing). Deleting the file in a later layer does not remove it from the image.";
const FIX_KEY: &str = "Treat the key as compromised: remove its public key wherever it is trusted (authorized_keys, certificates, signing keyrings) and make a new pair. Mount keys at run time (an orchestrator secret, an SSH agent, `RUN --mount=type=ssh` at build time), never copy them into a layer, and rebuild the image.";

pub const RULES: &[Rule] = &[
    // rsa-private-key
    Rule {
        id: "rsa-private-key",
        title: "RSA private key (PKCS#1)",
        category: "PrivateKey",
        severity: Severity::High,
        keywords: &["-----begin rsa private key"],
        regex: r#"-----BEGIN RSA PRIVATE KEY-----\r?\n(?:[A-Za-z\-]+:[^\r\n]*\r?\n)*\s*[A-Za-z0-9+/=\s]{40,}-----END RSA PRIVATE KEY-----"#,
        entropy: 0.0,
        generic: false,
        check: Some(checks::private_key),
        what: "Finds PEM-encoded RSA private keys in PKCS#1 form (`-----BEGIN RSA PRIVATE KEY-----`); legacy OpenSSL encryption (`Proc-Type: 4,ENCRYPTED`) is noted.",
        why: WHY_KEY,
        fix: FIX_KEY,
        example: "-----BEGIN RSA PRIVATE KEY-----\nMIGHAgEAAkEAg2MmECA+NqdTdFZracaA6vpB484O0GdZP+6bjVpIwiDhMLPbBVR2\nqKJZluQMrlvB2eondnJ68w/sNlIPJjkIiAIDAQABzjoglpzaBQtuz/Oob7+unCP9\nmyrYbY4K0dF2MD/F99XYvgWaVtphxZh/4+30ByAjDPyQb9zRMBI/BaQd\n-----END RSA PRIVATE KEY-----",
        near_misses: &[
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA...\n-----END RSA PRIVATE KEY-----",
            "-----BEGIN RSA PRIVATE KEY-----\nQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJD\n-----END RSA PRIVATE KEY-----",
        ],
    },
    // ec-private-key
    Rule {
        id: "ec-private-key",
        title: "EC private key (SEC 1)",
        category: "PrivateKey",
        severity: Severity::High,
        keywords: &["-----begin ec private key"],
        regex: r#"-----BEGIN EC PRIVATE KEY-----\r?\n(?:[A-Za-z\-]+:[^\r\n]*\r?\n)*\s*[A-Za-z0-9+/=\s]{40,}-----END EC PRIVATE KEY-----"#,
        entropy: 0.0,
        generic: false,
        check: Some(checks::private_key),
        what: "Finds PEM-encoded elliptic-curve private keys in SEC 1 form (`-----BEGIN EC PRIVATE KEY-----`).",
        why: WHY_KEY,
        fix: FIX_KEY,
        example: "-----BEGIN EC PRIVATE KEY-----\nMIGHAgEAAkEAQxn4VLy5SXPCmOzAEE8J3wyOeT3fLDF0UV8ZsgvdvOWXOi0MecaN\nXhOSwzUgB2hg/Bs7jF4ibxmWCiONYcp2rAIDAQABEJUk81sJN4yJkMCPlU2XOrwo\ncknEsJ8YsL1PFM2n06jMIizqX3IaTlEIZJWFF/p/71DLmMJ5HwwWNd68\n-----END EC PRIVATE KEY-----",
        near_misses: &[
            "-----BEGIN EC PRIVATE KEY-----\n<your key here>\n-----END EC PRIVATE KEY-----",
        ],
    },
    // dsa-private-key
    Rule {
        id: "dsa-private-key",
        title: "DSA private key",
        category: "PrivateKey",
        severity: Severity::High,
        keywords: &["-----begin dsa private key"],
        regex: r#"-----BEGIN DSA PRIVATE KEY-----\r?\n(?:[A-Za-z\-]+:[^\r\n]*\r?\n)*\s*[A-Za-z0-9+/=\s]{40,}-----END DSA PRIVATE KEY-----"#,
        entropy: 0.0,
        generic: false,
        check: Some(checks::private_key),
        what: "Finds PEM-encoded DSA private keys (`-----BEGIN DSA PRIVATE KEY-----`).",
        why: WHY_KEY,
        fix: FIX_KEY,
        example: "-----BEGIN DSA PRIVATE KEY-----\nMIGHAgEAAkEAoUiPQ2ZBV9GGgbedZ7J6Tl9pJ+fyaKFHCqdqOHhfjwbCZKHBhzfR\nDX6k8iVhKRL9cGtTbXHyeeVp+CO3h3PX/wIDAQAB2kwK45IU5WKMOuGhjh3jrsKe\nCL5Xvw9w2gvp9FPTAXzztT0JN41wiBG5hCR/n27EdVM0oRf1kLWinPqv\n-----END DSA PRIVATE KEY-----",
        near_misses: &["-----BEGIN DSA PRIVATE KEY-----\n...\n-----END DSA PRIVATE KEY-----"],
    },
    // pkcs8-private-key
    Rule {
        id: "pkcs8-private-key",
        title: "Private key (PKCS#8)",
        category: "PrivateKey",
        severity: Severity::High,
        keywords: &["-----begin private key"],
        regex: r#"-----BEGIN PRIVATE KEY-----\r?\n(?:[A-Za-z\-]+:[^\r\n]*\r?\n)*\s*[A-Za-z0-9+/=\s]{40,}-----END PRIVATE KEY-----"#,
        entropy: 0.0,
        generic: false,
        check: Some(checks::private_key),
        what: "Finds unencrypted PKCS#8 private keys (`-----BEGIN PRIVATE KEY-----`) of any algorithm; the finding names it (RSA, EC, Ed25519, X25519, Ed448, DSA) from the key's algorithm identifier.",
        why: WHY_KEY,
        fix: FIX_KEY,
        example: "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEICexer/+7Wu3KPx8I1E2FfE4zV3K1zn/RPohg3y++b2k\n-----END PRIVATE KEY-----",
        near_misses: &[
            "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC...\n-----END PRIVATE KEY-----",
            "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----",
        ],
    },
    // pkcs8-encrypted-private-key
    Rule {
        id: "pkcs8-encrypted-private-key",
        title: "Encrypted private key (PKCS#8)",
        category: "PrivateKey",
        severity: Severity::Medium,
        keywords: &["-----begin encrypted private key"],
        regex: r#"-----BEGIN ENCRYPTED PRIVATE KEY-----\r?\n(?:[A-Za-z\-]+:[^\r\n]*\r?\n)*\s*[A-Za-z0-9+/=\s]{40,}-----END ENCRYPTED PRIVATE KEY-----"#,
        entropy: 0.0,
        generic: false,
        check: Some(checks::private_key),
        what: "Finds passphrase-encrypted PKCS#8 private keys (`-----BEGIN ENCRYPTED PRIVATE KEY-----`). Safer than a plain key, but the passphrase is often in the same image and an offline guessing attack needs only the file.",
        why: WHY_KEY,
        fix: FIX_KEY,
        example: "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIGWM9GVWWU32uNyx225+xb40PRezb4qYasSzThDn7sej2wK23JhPr4Ce+sGpNjZ\nzrrkTpd6GN/MI7iv8s9sU0cOqob/SVQMPZdSpSGXBE+geg/IxGr0VgGy46zEJO84\nAg4VTS1jSvTEjrLswbOazK8jA/fo8V4SC6PyboW22brnRpfmDekU2uUWqSqcoRj5\nysseV++r74lZ\n-----END ENCRYPTED PRIVATE KEY-----",
        near_misses: &[
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\n...\n-----END ENCRYPTED PRIVATE KEY-----",
        ],
    },
    // openssh-private-key
    Rule {
        id: "openssh-private-key",
        title: "OpenSSH private key",
        category: "PrivateKey",
        severity: Severity::High,
        keywords: &["-----begin openssh private key"],
        regex: r#"-----BEGIN OPENSSH PRIVATE KEY-----\r?\n(?:[A-Za-z\-]+:[^\r\n]*\r?\n)*\s*[A-Za-z0-9+/=\s]{40,}-----END OPENSSH PRIVATE KEY-----"#,
        entropy: 0.0,
        generic: false,
        check: Some(checks::private_key),
        what: "Finds OpenSSH private keys (`-----BEGIN OPENSSH PRIVATE KEY-----`); the finding names the key type, and a key protected by a passphrase is noted.",
        why: WHY_KEY,
        fix: FIX_KEY,
        example: "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\nQyNTUxOQAAACBbZFYLpSSMb8G+mPtHInsxL5jYmL8CbUeOB4vCAvF29gAAAIgBMngzGKkQ\n8XnlFyvNMtNjBq7lvOTdHSlsrCnRy5tMHRUrIRA80tm4RchkteXW+u7G6hjSK3Hr1vnKQt\nW5zjY8xVbVUJJKfmr+m9QB3eXEKLjcV5Kj5JLytQfFQTuIHIjIgwH8vbqN0CMa0UTjZ5Qb\nIeNcIVl+xSZ+N2VbQzcmi278lmEl8vtB\n-----END OPENSSH PRIVATE KEY-----",
        near_misses: &[
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA...\n-----END OPENSSH PRIVATE KEY-----",
            "-----BEGIN OPENSSH PRIVATE KEY-----\nQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJD\n-----END OPENSSH PRIVATE KEY-----",
        ],
    },
    // pgp-private-key
    Rule {
        id: "pgp-private-key",
        title: "PGP private key block",
        category: "PrivateKey",
        severity: Severity::High,
        keywords: &["-----begin pgp private key block"],
        regex: r#"-----BEGIN PGP PRIVATE KEY BLOCK-----[A-Za-z0-9+/=\s:.,()<>@\-]{64,}?-----END PGP PRIVATE KEY BLOCK-----"#,
        entropy: 0.0,
        generic: false,
        check: Some(checks::no_ellipsis),
        what: "Finds ASCII-armoured OpenPGP secret keys (`-----BEGIN PGP PRIVATE KEY BLOCK-----`).",
        why: WHY_KEY,
        fix: FIX_KEY,
        example: "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nJsTPJhYRV/zA7H+i1QqAmpSFoTeOmYmww1P724Eh/htv1HSqazRpqx21hs6e1GwJ\nD419jRAl2pXyRfjAOgrbjTK/oZs6ZeqeGl2vJYaD0X6IAMnWQpzTqwXwl53x7Jvp\nvS9XyrTpa5zNRHZYvOD4BJURlgk4VbBCI5HYyq8GMwvki0E07rCGQ55IMPRaobJC\nENkLwpJTkt4yg4tTMRAX/KdIXWEsdJ51zys9mD7v2PUp+Cye\n=5f9P\n-----END PGP PRIVATE KEY BLOCK-----",
        near_misses: &[
            "-----BEGIN PGP PRIVATE KEY BLOCK-----\n...\n-----END PGP PRIVATE KEY BLOCK-----",
            "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJD\n-----END PGP PUBLIC KEY BLOCK-----",
        ],
    },
    // ssh2-encrypted-private-key
    Rule {
        id: "ssh2-encrypted-private-key",
        title: "SSH2 encrypted private key",
        category: "PrivateKey",
        severity: Severity::Medium,
        keywords: &["-----begin ssh2 encrypted private key"],
        regex: r#"-----BEGIN SSH2 ENCRYPTED PRIVATE KEY-----[A-Za-z0-9+/=\s:"\-]{64,}?-----END SSH2 ENCRYPTED PRIVATE KEY-----"#,
        entropy: 0.0,
        generic: false,
        check: Some(checks::no_ellipsis),
        what: "Finds private keys in the SSH.com / Tectia format (`-----BEGIN SSH2 ENCRYPTED PRIVATE KEY-----`), encrypted or not despite the name.",
        why: WHY_KEY,
        fix: FIX_KEY,
        example: "-----BEGIN SSH2 ENCRYPTED PRIVATE KEY-----\nComment: \"rsa-key-20240101\"\n0mYKNBb+/FlRZb2Rnu0UG9+/3elkxwYi7LJyAucjT/AxaB2sM8JFWpHv0Wk3xP8j\nlChSpI+4XohGVjElz4728UqJMWoypevarUmvFy2xr9c1zGdEfxlzKpJgrzOsQg0q\nYlSyhNE6q4OQGbZur1DpKBZUWGPKCxOv5xyHTHe0U3YdHmZchvOa8yHpbyPH+ttI\n2YmdF2rC\n-----END SSH2 ENCRYPTED PRIVATE KEY-----",
        near_misses: &[
            "-----BEGIN SSH2 ENCRYPTED PRIVATE KEY-----\n...\n-----END SSH2 ENCRYPTED PRIVATE KEY-----",
        ],
    },
    // putty-private-key
    Rule {
        id: "putty-private-key",
        title: "PuTTY private key",
        category: "PrivateKey",
        severity: Severity::High,
        keywords: &["putty-user-key-file-"],
        regex: r#"PuTTY-User-Key-File-[23]: [a-z0-9\-]+\r?\nEncryption: [a-z0-9\-]+\r?\n(?:[A-Za-z\-]+: [^\r\n]*\r?\n|[A-Za-z0-9+/=]+\r?\n){2,}?Private-Lines: [0-9]+\r?\n[A-Za-z0-9+/=\r\n]{20,}"#,
        entropy: 0.0,
        generic: false,
        check: Some(checks::putty),
        what: "Finds PuTTY private key files (`PuTTY-User-Key-File-2`/`-3`); a key encrypted with a passphrase is noted.",
        why: WHY_KEY,
        fix: FIX_KEY,
        example: "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: eddsa-key-20240101\nPublic-Lines: 2\nf025pIY8CYEPHMF0UZC26uFkP76qktoCQ2tJKgbSRj3ZPnJ4o8Sxx8sPkHMRy+76\nwTy4\nPrivate-Lines: 1\nNbS9wMRoeOkJTU8b+BJF/RTJVtJWj3FjpiVW6zWdWSELsf91\nPrivate-MAC: 133eb000cd8891e2b03a53104d3dea7e5ad126e1d0333dc056e4b7574dc68f38",
        near_misses: &["PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: ..."],
    },
    // age-secret-key
    Rule {
        id: "age-secret-key",
        title: "age secret key",
        category: "PrivateKey",
        severity: Severity::High,
        keywords: &["age-secret-key-1"],
        regex: r#"\bAGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}\b"#,
        entropy: 3.0,
        generic: false,
        check: None,
        what: "Finds age (file encryption) identities (`AGE-SECRET-KEY-1` and 58 bech32 characters), which decrypt every file encrypted to them.",
        why: WHY_KEY,
        fix: FIX_KEY,
        example: "# created: 2026-01-01\nAGE-SECRET-KEY-1VPUAMTJGGYK7RMWSVX2L3SLK2DU8LJD6YXDVQ4J4P2RC7DS92XFXH35YJP",
        near_misses: &[
            "AGE-SECRET-KEY-1<key>",
            "age1faegqhp60o16xmmqme9330x1oj0wdlcdwagvwhe9aufczq5i3id2m43l1j",
        ],
    },
];
