//! Credentials of the web: JSON Web Tokens, URLs with a password in them (database connection
//! strings, `https://user:pass@host`), HTTP `Authorization` headers.
//!
//! Every rule carries its documentation (what / why / example / fix) and its own test: the
//! example is a true positive and each near miss must not be reported (`rules::tests`).

use super::checks;
use crate::rule::Rule;
use moat_model::Severity;

const WHY_WEB: &str = "A credential written into a URL, a header or a token travels with everything that copies it: logs, proxies, shell history, and every layer of the image. Anyone holding it can connect or call the service as its owner.";
const FIX_WEB: &str = "Change the password or revoke the token, then pass it at run time (an environment variable set by the orchestrator, a mounted file) and build the URL or header from it in the program; never write it into a layer. Rebuild the image.";

pub const RULES: &[Rule] = &[
    // jwt
    Rule {
        id: "jwt",
        title: "JSON Web Token",
        category: "JWT",
        severity: Severity::Medium,
        keywords: &["eyj"],
        regex: r#"\beyJ[A-Za-z0-9_\-]{10,}\.eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}"#,
        entropy: 0.0,
        generic: false,
        check: Some(checks::jwt),
        what: "Finds signed JSON Web Tokens (three base64url parts, header and payload JSON). The header must name an algorithm; an unsigned token (`alg: none`) is reported lower; the jwt.io sample token is not reported.",
        why: WHY_WEB,
        fix: FIX_WEB,
        example: "Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJzdmMtYmlsbGluZyIsImlzcyI6ImF1dGguaW50ZXJuYWwiLCJpYXQiOjE3NjQ2MzM2MDAsInNjb3BlIjoiYWRtaW4ifQ.BBtjlkCtJBD3bgkNi1OyI8ifX3-HD3O9D1yAn9a4E7A",
        near_misses: &[
            "Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.D9mQx32GsRLmrEQ22nLhjgx3od3hEnm7GHsNwC7peMS",
            "eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl",
        ],
    },
    // database-url-password
    Rule {
        id: "database-url-password",
        title: "Database URL with a password",
        category: "Database",
        severity: Severity::High,
        keywords: &[
            "postgres",
            "mysql",
            "mariadb",
            "mongodb",
            "redis",
            "amqp",
            "mssql",
            "sqlserver",
            "oracle",
            "jdbc",
            "cockroach",
            "couchdb",
            "clickhouse",
            "neo4j",
        ],
        regex: r#"(?i)\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|mssql|sqlserver|oracle|cockroachdb|couchdb|clickhouse|neo4j(?:\+s)?|jdbc:[a-z0-9]+)://(?P<key>[^:@/\s"'<>]{0,64}):(?P<secret>[^@/\s"'<>]{3,128})@[A-Za-z0-9.\-_\[\]:]+"#,
        entropy: 0.0,
        generic: false,
        check: Some(checks::url_password),
        what: "Finds database connection URLs with a password (`postgres://user:password@host/db`, MySQL, MongoDB, Redis, AMQP, SQL Server, JDBC ...). Placeholder passwords (`password`, `${DB_PASS}`, `<password>`) and a password equal to the user name are not reported.",
        why: WHY_WEB,
        fix: FIX_WEB,
        example: "DATABASE_URL=postgres://billing:5iYtBtfHVAN37UbMAyUb@db.internal:5432/billing",
        near_misses: &[
            "DATABASE_URL=postgres://user:password@localhost:5432/app",
            "DATABASE_URL=postgres://postgres:postgres@db:5432/app",
            "DATABASE_URL=postgres://app:${DB_PASSWORD}@db/app",
        ],
    },
    // url-credentials
    Rule {
        id: "url-credentials",
        title: "URL with a password",
        category: "URL",
        severity: Severity::High,
        keywords: &["://"],
        regex: r#"(?i)\b(?:https?|ftps?|sftp|ssh|git|smtps?|imaps?|ldaps?|svn)://(?P<key>[^:@/\s"'<>]{0,64}):(?P<secret>[^@/\s"'<>]{3,128})@[A-Za-z0-9.\-_\[\]:]+"#,
        entropy: 0.0,
        generic: false,
        check: Some(checks::url_password),
        what: "Finds HTTP, FTP, Git, SMTP and LDAP URLs with a password in them (`https://user:password@host/`): Git remotes with a token, proxy settings, package indexes.",
        why: WHY_WEB,
        fix: FIX_WEB,
        example: "git clone https://deploy:zHi3aY2vj46FZe3zVvPxg8JL@git.internal.example.net/app.git",
        near_misses: &[
            "https://user:pass@example.com/",
            "https://user:${TOKEN}@example.com/",
            "http://localhost:8080/",
        ],
    },
    // http-basic-auth
    Rule {
        id: "http-basic-auth",
        title: "HTTP basic authentication header",
        category: "HTTP",
        severity: Severity::Medium,
        keywords: &["basic "],
        regex: r#"(?i)\bAuthorization["']?\s*[:=]\s*["']?Basic\s+(?P<secret>[A-Za-z0-9+/]{8,}={0,2})"#,
        entropy: 0.0,
        generic: false,
        check: Some(checks::basic_auth),
        what: "Finds HTTP `Authorization: Basic` headers, whose value is only base64 of `user:password`.",
        why: WHY_WEB,
        fix: FIX_WEB,
        example: "curl -H \"Authorization: Basic YmlsbGluZzpLNy1xdWF5LXZpb2xldC0yMg==\" https://api.internal/",
        near_misses: &[
            "curl -H \"Authorization: Basic dXNlcjpwYXNzd29yZA==\" https://api.example.com/",
            "Authorization: Basic <credentials>",
        ],
    },
    // http-bearer-token
    Rule {
        id: "http-bearer-token",
        title: "HTTP bearer token",
        category: "HTTP",
        severity: Severity::Medium,
        keywords: &["bearer"],
        regex: r#"(?i)\bAuthorization["']?\s*[:=]\s*["']?Bearer\s+(?P<secret>[A-Za-z0-9_\-.=+/~]{20,})"#,
        entropy: 3.5,
        generic: false,
        check: Some(checks::bearer),
        what: "Finds long random tokens in HTTP `Authorization: Bearer` headers (scripts, shell history, saved requests).",
        why: WHY_WEB,
        fix: FIX_WEB,
        example: "curl -H \"Authorization: Bearer NFDckF5hG97fqlvEQhoKJWwy1uJsuFvM7vSTmnRL\" https://api.internal/",
        near_misses: &[
            "curl -H \"Authorization: Bearer $TOKEN\" https://api.example.com/",
            "Authorization: Bearer YOUR_ACCESS_TOKEN_HERE",
            "Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
        ],
    },
];
