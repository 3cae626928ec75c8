//! moat-sign's parsers of untrusted input: PEM, SPKI and PKCS#8 DER, cosign's encrypted-key
//! JSON (parsed, never decrypted: scrypt is slow by design), simple-signing payloads and DSSE
//! envelopes. None may panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use moat_sign::payload::SimpleSigning;
use moat_sign::{PublicKey, SignError, SigningKey, encrypted, image, pem};

const KEY: &[u8] = b"-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAENptdY/l3nB0yqkXLBWkZWQwo6+cu\nOSWS1X9vPavpiQOoTTGC0xX57OojUadxF1cdQmrsiReWg2Wn4FneJfa8xw==\n-----END PUBLIC KEY-----\n";
const DIGEST: &str = "sha256:f3cfc9d0dbf931d3db4685ec659b7ac68e2a578219da4aae65427886e649b06b";

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = pem::parse(data, "fuzz") {
        let _ = PublicKey::from_spki_der(&p.der, "fuzz");
        let _ = SigningKey::from_pkcs8(&p.der, "fuzz");
        let _ = encrypted::parse(&p.der, "fuzz");
    }
    let _ = PublicKey::from_pem(data, "fuzz");
    let _ = SigningKey::from_pem(data, "fuzz", &mut || Err(SignError::Password("fuzz".into())));
    let _ = PublicKey::from_spki_der(data, "fuzz");
    let _ = SigningKey::from_pkcs8(data, "fuzz");
    let _ = encrypted::parse(data, "fuzz");
    let _ = SimpleSigning::parse_for(data, DIGEST);
    if let Ok(key) = PublicKey::from_pem(KEY, "key") {
        let _ = image::check_envelope(data, &key, DIGEST);
        let _ = moat_sign::verify_blob(&key, data, &String::from_utf8_lossy(data), "fuzz");
    }
});
