//! The rules of last resort: a literal assigned to a variable named like a password, a secret,
//! a token or an API key, in any syntax (`.env`, shell, YAML, JSON, XML, INI, code, Dockerfile
//! `ENV`/`ARG`), in Kubernetes `env` entries, and on command lines (`--password`, `mysql -p`,
//! `sshpass -p`, `curl -u`). They are gated by the variable's name (`password_hash`,
//! `PASSWORD_FILE`, `token_type` are not secrets) and by the value's shape: long enough, varied
//! enough, and not a reference, expression, path, URL, number, UUID, placeholder or test value.
//! A specific rule's hit on the same bytes replaces theirs.
//!
//! Every rule carries its documentation (what / why / example / fix) and its own test: the
//! example is a true positive and each near miss must not be reported (`rules::tests`).

use super::checks;
use crate::rule::Rule;
use moat_model::Severity;

const WHY_GEN: &str = "A password or key written into a file of the image is readable by anyone who can pull it, from every layer it was ever in, deleted or not; and a password is rarely used in one place only.";
const FIX_GEN: &str = "Change the password or key. Read it at run time from the environment or a mounted secret file (Kubernetes Secrets, Docker secrets, a vault agent), and keep only a reference (`${DB_PASSWORD}`) in files that go into the image; rebuild it. If the value is not a secret, add `# moat:ignore` to the line or an allowlist entry to `moat-secrets.toml`.";

pub const RULES: &[Rule] = &[
    // generic-password
    Rule {
        id: "generic-password",
        title: "Password in a file",
        category: "Generic",
        severity: Severity::Medium,
        keywords: &["pass", "pwd", "pw"],
        regex: r#"(?im)(?:^|[^a-z0-9_.\-])(?P<key>[a-z0-9_.\-]*(?:passw(?:or)?d|passphrase|pass|pwd|pw)[a-z0-9_.\-]*)["']?[ \t]*(?::=|=>|=|:)[ \t]*["'`]?(?P<secret>[^\s"'`;,&]{8,200})|<(?P<key2>[a-z0-9_.\-]*passw(?:or)?d[a-z0-9_.\-]*)>(?P<secret2>[^<\s]{8,200})</|^[ \t]*(?:ENV|ARG)[ \t]+(?P<key3>[a-z0-9_]*(?:passw(?:or)?d|passphrase|pass|pwd|pw)[a-z0-9_]*)[ \t]+["']?(?P<secret3>[^\s"'`;,&]{8,200})"#,
        entropy: 0.0,
        generic: true,
        check: Some(checks::generic_password),
        what: "Finds literal passwords assigned to variables named like a password (`DB_PASSWORD=...`, `password: ...`, `\"passwd\": \"...\"`, `<password>...</password>`, `ENV MYSQL_PASSWORD ...`).",
        why: WHY_GEN,
        fix: FIX_GEN,
        example: "DB_PASSWORD=Sup3rS3cretPassw0rd!",
        near_misses: &[
            "DB_PASSWORD=${DB_PASSWORD}",
            "password_hash = \"5f4dcc3b5aa765d61d8327deb882cf99\"",
            "password: changeme",
            "PASSWORD_FILE=/run/secrets/db_password",
            "self.password = settings.DB_PASSWORD",
            "password = os.environ[\"DB_PASSWORD\"]",
            "password: test1234!",
            "bypass = 9f8e7d6c5b4a",
        ],
    },
    // generic-secret
    Rule {
        id: "generic-secret",
        title: "Secret, token or API key in a file",
        category: "Generic",
        severity: Severity::Medium,
        keywords: &["secret", "token", "key", "credential"],
        regex: r#"(?im)(?:^|[^a-z0-9_.\-])(?P<key>[a-z0-9_.\-]*(?:secret|token|api[_.\-]?key|apikey|access[_.\-]?key|auth[_.\-]?key|private[_.\-]?key|credential|signing[_.\-]?key|encryption[_.\-]?key|master[_.\-]?key|license[_.\-]?key)[a-z0-9_.\-]*)["']?[ \t]*(?::=|=>|=|:)[ \t]*["'`]?(?P<secret>[^\s"'`;,&]{8,200})|<(?P<key2>[a-z0-9_.\-]*(?:secret|token|api[_\-]?key)[a-z0-9_.\-]*)>(?P<secret2>[^<\s]{8,200})</|^[ \t]*(?:ENV|ARG)[ \t]+(?P<key3>[a-z0-9_]*(?:secret|token|api[_.\-]?key|apikey|access[_.\-]?key|auth[_.\-]?key|private[_.\-]?key|credential|signing[_.\-]?key|encryption[_.\-]?key|master[_.\-]?key|license[_.\-]?key)[a-z0-9_]*)[ \t]+["']?(?P<secret3>[^\s"'`;,&]{8,200})"#,
        entropy: 0.0,
        generic: true,
        check: Some(checks::generic_secret),
        what: "Finds literal secrets, tokens and API keys assigned to variables named like one (`SECRET_KEY=...`, `apiKey: ...`, `\"client_secret\": \"...\"`), at least 12 characters of varied, high-entropy text.",
        why: WHY_GEN,
        fix: FIX_GEN,
        example: "SECRET_KEY = \"mnRM0PjyP5dsJ210DqtZFEy2c2O6_52aUHDKb24vgVpTsMl3Dt\"",
        near_misses: &[
            "SECRET_KEY = \"${SECRET_KEY}\"",
            "token_type = \"bearer_token_v2\"",
            "api_key: <your-api-key>",
            "access_key_id: 717682d8-e91b-e4f4-4ad5-9d22898aafc1",
            "secret_name: db-credentials-prod-2",
            "integrity: sha512-43hDnJcww8rTCQUtTGoSgR/TO+79hMdyKAGk/CK4",
            "sessionToken = generateToken(user)",
        ],
    },
    // kubernetes-env-secret
    Rule {
        id: "kubernetes-env-secret",
        title: "Secret in a Kubernetes env value",
        category: "Kubernetes",
        severity: Severity::Medium,
        keywords: &["value:"],
        regex: r#"(?im)^[ \t]*-?[ \t]*name:[ \t]*["']?(?P<key>[a-z0-9_]*(?:passw(?:or)?d|passphrase|secret|token|api_?key|access_?key|private_?key|credentials?)[a-z0-9_]*)["']?[ \t]*\r?\n[ \t]*value:[ \t]*["']?(?P<secret>[^\s"'`]{8,200})"#,
        entropy: 0.0,
        generic: true,
        check: Some(checks::kube_env),
        what: "Finds literal secrets in Kubernetes container `env` entries, where the name and the value are on two lines (`- name: DB_PASSWORD` / `value: ...`).",
        why: WHY_GEN,
        fix: FIX_GEN,
        example: "        - name: DB_PASSWORD\n          value: \"Wq7-corvid-Lattice-93\"",
        near_misses: &[
            "        - name: DB_PASSWORD\n          valueFrom:\n            secretKeyRef: {name: db, key: password}",
            "        - name: DB_PASSWORD\n          value: \"$(DB_PASSWORD)\"",
        ],
    },
    // cli-password-argument
    Rule {
        id: "cli-password-argument",
        title: "Password on a command line",
        category: "Generic",
        severity: Severity::Medium,
        keywords: &[
            "--pass",
            "--token",
            "--api-key",
            "--apikey",
            "--secret",
            "--auth-token",
            "--access-token",
            "sshpass",
            "mysql",
            "curl",
            "docker login",
        ],
        regex: r#"(?:^|\s)(?P<key>--(?:password|passwd|pass|token|api-key|apikey|secret|auth-token|access-token))(?:=|[ \t]+)["']?(?P<secret>[^\s"'`;&|]{8,200})|\bsshpass[ \t]+-p[ \t]*["']?(?P<secret2>[^\s"'`;&|]{8,200})|\bmysql(?:dump|admin)?\b[^\n]*?[ \t]-p(?P<secret3>[^\s"'`;&|\-][^\s"'`;&|]{7,199})|\bcurl\b[^\n]*?[ \t](?:-u|--user)[ \t]+["']?(?P<key4>[^\s:"']+):(?P<secret4>[^\s"'`;&|@]{8,200})|\bdocker[ \t]+login\b[^\n]*?[ \t]-p[ \t]+["']?(?P<secret5>[^\s"'`;&|]{8,200})"#,
        entropy: 0.0,
        generic: true,
        check: Some(checks::cli_password),
        what: "Finds passwords and tokens passed on command lines (scripts, Dockerfile `RUN`, shell history): `--password=...`, `--token ...`, `sshpass -p ...`, `mysql -p...`, `curl -u user:...`, `docker login -p ...`.",
        why: WHY_GEN,
        fix: FIX_GEN,
        example: "mysqldump -u backup -pVq3#lark-Ember51 billing > /tmp/db.sql",
        near_misses: &[
            "mysql -u root -p billing",
            "docker login --password-stdin < token.txt",
            "sshpass -p \"$SSH_PASS\" ssh host",
            "curl -u \"$USER:$PASS\" https://api.example.com/",
        ],
    },
];
