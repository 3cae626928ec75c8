//! The runtime rule loader: arbitrary bytes as a Falco rule file (YAML documents, items,
//! append/override, exceptions), then compiled against the Kubernetes audit source (list
//! and macro expansion, the condition parser, field resolution, output formats), then the
//! compiled rules run over one audit event.
#![no_main]
use libfuzzer_sys::fuzz_target;
use moat_runtime::k8s::{AuditEvent, K8sAudit};
use moat_runtime::{RuleSet, compile};

const EVENT: &str = r#"{"kind":"Event","auditID":"a","stage":"ResponseComplete","verb":"create","user":{"username":"u"},"objectRef":{"resource":"pods","namespace":"ns","name":"p"},"requestObject":{"spec":{"containers":[{"image":"nginx:1","securityContext":{"privileged":true}}],"volumes":[{"hostPath":{"path":"/etc"}}]}},"stageTimestamp":"2024-01-01T00:00:00Z"}"#;

fuzz_target!(|data: &[u8]| {
    let mut rs = RuleSet::default();
    rs.load_bytes("fuzz.yaml", data);
    let c = compile(&rs, K8sAudit, &["syscall"]);
    for d in &c.diagnostics {
        let _ = d.to_string();
    }
    let doc = moat_runtime::json::Doc::parse(EVENT.as_bytes().to_vec()).unwrap();
    let ev = AuditEvent::from_doc(doc).unwrap();
    let mut hits = Vec::new();
    c.engine.process(&ev, |i| hits.push(i));
    for i in hits {
        let _ = c.engine.render(i, &ev);
    }
});
