//! The runtime condition parser and the audit-event reader: arbitrary bytes as a rule
//! condition (parsed, and when it parses, compiled into a k8s_audit rule and evaluated on
//! one event) and as an audit log (JSON lines, arrays, EventLists, values over lines).
#![no_main]
use libfuzzer_sys::fuzz_target;
use moat_runtime::k8s::{AuditEvent, AuditReader, K8sAudit};
use moat_runtime::{RuleSet, compile};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if moat_runtime::cond::parse(text).is_ok() {
            let yaml = format!(
                "- rule: r\n  desc: d\n  condition: {}\n  output: o %ka.verb\n  priority: info\n  source: k8s_audit\n",
                serde_json::to_string(text).unwrap()
            );
            let mut rs = RuleSet::default();
            rs.load_bytes("fuzz.yaml", yaml.as_bytes());
            let c = compile(&rs, K8sAudit, &[]);
            let doc = moat_runtime::json::Doc::parse(
                br#"{"kind":"Event","auditID":"a","verb":"get","stageTimestamp":"2024-01-01T00:00:00Z"}"#.to_vec(),
            )
            .unwrap();
            let ev = AuditEvent::from_doc(doc).unwrap();
            c.engine.process(&ev, |_| {});
        }
    }
    let mut r = AuditReader::new(data);
    let mut n = 0;
    while let Ok(Some(p)) = r.next_payload() {
        if let Ok(evs) = p {
            let _ = evs.len();
        }
        n += 1;
        assert!(n <= data.len() + 1);
    }
});
