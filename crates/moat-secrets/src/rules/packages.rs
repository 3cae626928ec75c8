//! Package registries and container registries: npm, PyPI, Docker Hub and Docker's
//! `config.json`, NuGet, crates.io, RubyGems, Clojars.
//!
//! Every rule carries its documentation (what / why / example / fix) and its own test: the
//! example is a true positive and each near miss must not be reported (`rules::tests`).

use super::checks;
use crate::rule::Rule;
use moat_model::Severity;

const WHY_PKG: &str = "A registry token publishes packages or images under your name: one stolen token is a supply-chain attack on everyone who installs them. Anyone who can pull the image can read every layer, deleted files included.";
const FIX_PKG: &str = "Revoke the token on the registry now and review what was published with it. Publish from CI with short-lived credentials (trusted publishing, OIDC) or a build secret (`RUN --mount=type=secret`), never from a file copied into a layer; rebuild the image.";

pub const RULES: &[Rule] = &[
    // npm-access-token
    Rule {
        id: "npm-access-token",
        title: "npm access token",
        category: "npm",
        severity: Severity::Critical,
        keywords: &["npm_"],
        regex: r#"\bnpm_[A-Za-z0-9]{36}\b"#,
        entropy: 3.0,
        generic: false,
        check: None,
        what: "Finds npm access tokens (`npm_` and 36 characters), in `.npmrc` files and elsewhere.",
        why: WHY_PKG,
        fix: FIX_PKG,
        example: "//registry.npmjs.org/:_authToken=npm_wNd8PZbKropacC6463Fgn50cegvyz4QCSK49",
        near_misses: &[
            "//registry.npmjs.org/:_authToken=${NPM_TOKEN}",
            "//registry.npmjs.org/:_authToken=npm_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        ],
    },
    // npmrc-auth
    Rule {
        id: "npmrc-auth",
        title: "npm registry credential",
        category: "npm",
        severity: Severity::High,
        keywords: &["_authtoken", "_auth", "_password"],
        regex: r#"(?m)(?:^|:)(?P<key>_authToken|_auth|_password)[ \t]*=[ \t]*["']?(?P<secret>[A-Za-z0-9+/=_.\-]{16,})"#,
        entropy: 3.0,
        generic: false,
        check: Some(checks::npmrc),
        what: "Finds registry credentials in `.npmrc` and `.yarnrc` files (`_authToken=`, `_auth=`, `_password=`) that are not in the `npm_` format, such as tokens of private registries.",
        why: WHY_PKG,
        fix: FIX_PKG,
        example: "//npm.internal.example.net/:_authToken=IX8mTaxkcndwGqrYfQntMA2Sy4ZS7W20vF3KSCr5",
        near_misses: &[
            "//registry.npmjs.org/:_authToken=${NPM_TOKEN}",
            "_auth=<base64 of user:password>",
            "        self._password = self.config.password_from_env",
        ],
    },
    // pypi-upload-token
    Rule {
        id: "pypi-upload-token",
        title: "PyPI upload token",
        category: "PyPI",
        severity: Severity::Critical,
        keywords: &["pypi-ageichlwas5vcmc"],
        regex: r#"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,}"#,
        entropy: 3.5,
        generic: false,
        check: None,
        what: "Finds PyPI API tokens (`pypi-AgEIcHlwaS5vcmc...`, a macaroon issued by pypi.org), which upload releases.",
        why: WHY_PKG,
        fix: FIX_PKG,
        example: "[pypi]\nusername = __token__\npassword = pypi-AgEIcHlwaS5vcmcok_6uNTzxceZn17sKe1CV7ffFNsWYpGIuFtz--ImKrcegQ2Ypl87ZmUVK-GF5dI-TWnP2fV66qz5Xgv4Y66d2t-LRQAUY7Zl8beAVXQzFMgU9qbVUy7Rh5N9oU6Y2xUaMeJuCNrqjdoo_d9YgIYr9Z",
        near_misses: &[
            "password = pypi-AgEIcHlwaS5vcmc<token>",
            "password = pypi-AgENdGVzdC5weXBpLm9yZwSfMpS9JJl0mOGeEEp-53SGlmM2Uea7A5Hg_o4RDTJmv5rumfh9mTdVC0zaC6B650q6ELRoWx--VeDGcpU3j1UuuMxAnOYEYF8aEN0vH5QspdIWadrEaoXS4QZjw98D8FvFqtlEsZX2Pjgi0cBMAolD",
        ],
    },
    // dockerhub-pat
    Rule {
        id: "dockerhub-pat",
        title: "Docker Hub access token",
        category: "Docker",
        severity: Severity::High,
        keywords: &["dckr_pat_", "dckr_oat_"],
        regex: r#"\bdckr_(?:pat|oat)_[A-Za-z0-9_\-]{27,}"#,
        entropy: 3.0,
        generic: false,
        check: None,
        what: "Finds Docker Hub personal (`dckr_pat_`) and organization (`dckr_oat_`) access tokens.",
        why: WHY_PKG,
        fix: FIX_PKG,
        example: "DOCKERHUB_TOKEN=dckr_pat_CjzNDLAIN2PaxENe--w5aDEgDz3",
        near_misses: &["DOCKERHUB_TOKEN=dckr_pat_<token>"],
    },
    // docker-config-auth
    Rule {
        id: "docker-config-auth",
        title: "Docker registry credential",
        category: "Docker",
        severity: Severity::High,
        keywords: &["\"auth\""],
        regex: r#""auth"\s*:\s*"(?P<secret>[A-Za-z0-9+/]{8,}={0,2})""#,
        entropy: 0.0,
        generic: false,
        check: Some(checks::docker_auth),
        what: "Finds registry credentials in Docker's `config.json` (`\"auth\"`: base64 of `user:password`).",
        why: WHY_PKG,
        fix: FIX_PKG,
        example: "{\"auths\": {\"registry.example.net\": {\"auth\": \"ZGVwbG95OlI0bmQwbS1QQHNzLTgyNzE=\"}}}",
        near_misses: &[
            "{\"auths\": {\"registry.example.net\": {\"auth\": \"dXNlcjpwYXNzd29yZA==\"}}}",
            "{\"auths\": {\"ghcr.io\": {\"auth\": \"\"}}}",
        ],
    },
    // nuget-api-key
    Rule {
        id: "nuget-api-key",
        title: "NuGet API key",
        category: "NuGet",
        severity: Severity::High,
        keywords: &["oy2"],
        regex: r#"\boy2[a-z0-9]{43}\b"#,
        entropy: 3.0,
        generic: false,
        check: None,
        what: "Finds nuget.org API keys (`oy2` and 43 characters).",
        why: WHY_PKG,
        fix: FIX_PKG,
        example: "NUGET_API_KEY=oy2c0rqresp24i7c6n6k3h57qwy9i3c0fqmwp7fydqtvi6",
        near_misses: &["NUGET_API_KEY=oy2<key>"],
    },
    // crates-io-token
    Rule {
        id: "crates-io-token",
        title: "crates.io API token",
        category: "crates.io",
        severity: Severity::High,
        keywords: &["cio"],
        regex: r#"\bcio[A-Za-z0-9]{32}\b"#,
        entropy: 3.5,
        generic: false,
        check: None,
        what: "Finds crates.io API tokens (`cio` and 32 characters), in `~/.cargo/credentials.toml` and elsewhere.",
        why: WHY_PKG,
        fix: FIX_PKG,
        example: "[registry]\ntoken = \"cioAH5y3pWRnUXkBazlkPsXAayfjdUMQuO4\"",
        near_misses: &[
            "[registry]\ntoken = \"cio<token>\"",
            "token = \"cioxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"",
        ],
    },
    // rubygems-api-key
    Rule {
        id: "rubygems-api-key",
        title: "RubyGems API key",
        category: "RubyGems",
        severity: Severity::High,
        keywords: &["rubygems_"],
        regex: r#"\brubygems_[a-f0-9]{48}\b"#,
        entropy: 3.0,
        generic: false,
        check: None,
        what: "Finds RubyGems.org API keys (`rubygems_`), in `~/.gem/credentials` and elsewhere.",
        why: WHY_PKG,
        fix: FIX_PKG,
        example: ":rubygems_api_key: rubygems_3dfb4fc0f6f8edc727b260ec79bb219c08d8f9ad9e48268d",
        near_misses: &[":rubygems_api_key: rubygems_<key>"],
    },
    // clojars-token
    Rule {
        id: "clojars-token",
        title: "Clojars deploy token",
        category: "Clojars",
        severity: Severity::High,
        keywords: &["clojars_"],
        regex: r#"\bCLOJARS_[a-z0-9]{60}\b"#,
        entropy: 3.0,
        generic: false,
        check: None,
        what: "Finds Clojars deploy tokens (`CLOJARS_`).",
        why: WHY_PKG,
        fix: FIX_PKG,
        example: "CLOJARS_PASSWORD=CLOJARS_glrtqie40yg132cobe110vfu2ttrmk4zro20ufr4cf3fxbxyctij4xxuvbya",
        near_misses: &["CLOJARS_PASSWORD=CLOJARS_<token>"],
    },
];
