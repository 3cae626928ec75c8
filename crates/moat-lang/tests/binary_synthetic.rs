//! `binary::parse` on hand-made ELF files: the pre-1.18 pointer layout of Go build info and
//! hostile `.dep-v0` / `.go.buildinfo` sections.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;

use moat_lang::binary;

/// A minimal little-endian ELF64 file with the given sections (name, address, bytes).
fn elf64(sections: &[(&str, u64, Vec<u8>)]) -> Vec<u8> {
    let mut shstrtab = vec![0u8];
    let mut names = Vec::new();
    for (name, _, _) in sections {
        names.push(shstrtab.len() as u32);
        shstrtab.extend_from_slice(name.as_bytes());
        shstrtab.push(0);
    }
    let shstr_name = shstrtab.len() as u32;
    shstrtab.extend_from_slice(b".shstrtab\0");

    let mut body = vec![0u8; 64];
    let mut offsets = Vec::new();
    for (_, _, data) in sections {
        while !body.len().is_multiple_of(16) {
            body.push(0);
        }
        offsets.push(body.len() as u64);
        body.extend_from_slice(data);
    }
    let shstr_off = body.len() as u64;
    body.extend_from_slice(&shstrtab);
    while !body.len().is_multiple_of(8) {
        body.push(0);
    }
    let shoff = body.len() as u64;
    let shnum = sections.len() as u16 + 2;

    let mut sh = |name: u32, typ: u32, flags: u64, addr: u64, off: u64, size: u64| {
        body.extend_from_slice(&name.to_le_bytes());
        body.extend_from_slice(&typ.to_le_bytes());
        body.extend_from_slice(&flags.to_le_bytes());
        body.extend_from_slice(&addr.to_le_bytes());
        body.extend_from_slice(&off.to_le_bytes());
        body.extend_from_slice(&size.to_le_bytes());
        body.extend_from_slice(&0u32.to_le_bytes());
        body.extend_from_slice(&0u32.to_le_bytes());
        body.extend_from_slice(&1u64.to_le_bytes());
        body.extend_from_slice(&0u64.to_le_bytes());
    };
    sh(0, 0, 0, 0, 0, 0);
    for (i, (_, addr, data)) in sections.iter().enumerate() {
        sh(names[i], 1, 3, *addr, offsets[i], data.len() as u64);
    }
    sh(shstr_name, 3, 0, 0, shstr_off, shstrtab.len() as u64);

    let mut h = Vec::new();
    h.extend_from_slice(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0");
    h.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    h.extend_from_slice(&62u16.to_le_bytes()); // x86-64
    h.extend_from_slice(&1u32.to_le_bytes());
    h.extend_from_slice(&0u64.to_le_bytes()); // entry
    h.extend_from_slice(&0u64.to_le_bytes()); // phoff
    h.extend_from_slice(&shoff.to_le_bytes());
    h.extend_from_slice(&0u32.to_le_bytes());
    h.extend_from_slice(&64u16.to_le_bytes());
    h.extend_from_slice(&56u16.to_le_bytes());
    h.extend_from_slice(&0u16.to_le_bytes());
    h.extend_from_slice(&64u16.to_le_bytes());
    h.extend_from_slice(&shnum.to_le_bytes());
    h.extend_from_slice(&(shnum - 1).to_le_bytes());
    body[..64].copy_from_slice(&h);
    body
}

const SENTINEL_START: &[u8; 16] =
    b"\x30\x77\xaf\x0c\x92\x74\x08\x02\x41\xe1\xc1\x07\xe6\xd6\x18\xe6";
const SENTINEL_END: &[u8; 16] = b"\xf9\x32\x43\x31\x86\x18\x20\x72\x00\x82\x42\x10\x41\x16\xd8\xf2";

/// Go build info in the pre-1.18 layout: two pointers to string headers in `.data`.
fn old_style_go(version: &str, modinfo: &str) -> Vec<u8> {
    let mut framed = SENTINEL_START.to_vec();
    framed.extend_from_slice(modinfo.as_bytes());
    framed.extend_from_slice(SENTINEL_END);
    let data_addr = 0x2000u64;
    let strings_addr = data_addr + 32;
    let mut data = Vec::new();
    data.extend_from_slice(&strings_addr.to_le_bytes());
    data.extend_from_slice(&(version.len() as u64).to_le_bytes());
    data.extend_from_slice(&(strings_addr + version.len() as u64).to_le_bytes());
    data.extend_from_slice(&(framed.len() as u64).to_le_bytes());
    data.extend_from_slice(version.as_bytes());
    data.extend_from_slice(&framed);

    let mut info = b"\xff Go buildinf:".to_vec();
    info.extend([8u8, 0u8]);
    info.extend_from_slice(&data_addr.to_le_bytes());
    info.extend_from_slice(&(data_addr + 16).to_le_bytes());
    elf64(&[(".go.buildinfo", 0x1000, info), (".data", data_addr, data)])
}

#[test]
fn pre_118_pointer_layout() {
    let modinfo = "path\texample.com/old\nmod\texample.com/old\tv1.2.3\th1:abc=\ndep\tgolang.org/x/text\tv0.3.0\th1:def=\n=>\tgithub.com/fork/text\tv0.3.1\th1:ghi=\n";
    let elf = old_style_go("go1.16.15", modinfo);
    let p = binary::parse("old", &elf);
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    let got: Vec<_> = p
        .packages
        .iter()
        .map(|p| (p.name.as_str(), p.version.as_str(), p.application))
        .collect();
    assert_eq!(
        got,
        vec![
            ("example.com/old", "v1.2.3", true),
            ("github.com/fork/text", "v0.3.1", false),
            ("stdlib", "v1.16.15", false),
        ]
    );
    assert_eq!(p.packages[0].metadata["go_version"], "go1.16.15");
    assert_eq!(p.packages[1].metadata["original_name"], "golang.org/x/text");
    assert_eq!(p.packages[1].metadata["original_version"], "v0.3.0");
    assert_eq!(p.packages[1].metadata["sum"], "h1:ghi=");
}

#[test]
fn pre_118_dangling_pointers_warn() {
    let mut info = b"\xff Go buildinf:".to_vec();
    info.extend([8u8, 0u8]);
    info.extend_from_slice(&0xdead_beefu64.to_le_bytes());
    info.extend_from_slice(&u64::MAX.to_le_bytes());
    let elf = elf64(&[(".go.buildinfo", 0x1000, info)]);
    let p = binary::parse("dangling", &elf);
    assert!(p.packages.is_empty());
    assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
}

#[test]
fn go_section_without_magic_warns() {
    let elf = elf64(&[(".go.buildinfo", 0x1000, vec![0u8; 64])]);
    let p = binary::parse("nomagic", &elf);
    assert!(p.packages.is_empty());
    assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[test]
fn auditable_section_kinds_and_indices() {
    let json = br#"{"packages":[
        {"name":"app","version":"0.1.0","source":"local","dependencies":[1,2],"root":true},
        {"name":"hex","version":"0.4.3","source":"crates.io"},
        {"name":"cc","version":"1.0.0","source":"crates.io","kind":"build","dependencies":[7]}
    ],"format":1}"#;
    let elf = elf64(&[(".dep-v0", 0, zlib(json))]);
    let p = binary::parse("rust", &elf);
    assert_eq!(p.packages.len(), 3);
    assert!(p.packages[0].application);
    assert_eq!(p.packages[0].depends, vec!["hex", "cc"]);
    assert_eq!(p.packages[0].metadata["source"], "local");
    assert_eq!(p.packages[2].metadata["kind"], "build");
    assert!(!p.packages[1].metadata.contains_key("kind"));
    assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings); // index 7
}

#[test]
fn auditable_hostile_sections_warn() {
    // A zlib bomb: 64 MiB of spaces inside a JSON string.
    let mut bomb = b"{\"packages\":[],\"x\":\"".to_vec();
    bomb.resize(64 << 20, b' ');
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("bomb", zlib(&bomb)),
        ("not zlib", b"definitely not zlib".to_vec()),
        ("truncated zlib", zlib(b"{\"packages\":[]}")[..6].to_vec()),
        ("not json", zlib(b"[1,2")),
        ("deep json", zlib(&b"[".repeat(100_000))),
        ("wrong shape", zlib(br#"{"packages":[{"name":1}]}"#)),
    ];
    for (what, section) in cases {
        let elf = elf64(&[(".dep-v0", 0, section)]);
        let p = binary::parse(what, &elf);
        assert!(p.packages.is_empty(), "{what}");
        assert_eq!(p.warnings.len(), 1, "{what}: {:?}", p.warnings);
    }
}

#[test]
fn plain_elf_is_quiet() {
    let elf = elf64(&[(".text", 0x1000, vec![0x90; 64])]);
    assert_eq!(binary::parse("plain", &elf), Default::default());
}
