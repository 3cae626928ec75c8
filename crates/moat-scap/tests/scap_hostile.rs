//! Truncated, corrupted and hostile captures: clear errors naming the offset, never a panic,
//! a hang or an allocation the file does not pay for.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read;
use std::path::PathBuf;

use moat_runtime::field::{FieldArg, FieldSource};
use moat_scap::{Event, ScapError, State};

fn cat_write() -> Option<Vec<u8>> {
    let p = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/"))
        .join("corpus/falco/falcosecurity-falco-legacy-tests/test/trace_files/cat_write.scap");
    if !p.exists() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{} is missing (CI=true)", p.display());
        }
        eprintln!("skipped: {} not found", p.display());
        return None;
    }
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(&p).unwrap())
        .read_to_end(&mut out)
        .unwrap();
    Some(out)
}

/// (offset, type, length) of every block.
fn blocks(b: &[u8]) -> Vec<(usize, u32, usize)> {
    let mut v = Vec::new();
    let mut off = 0;
    while off + 8 <= b.len() {
        let ty = u32::from_le_bytes(b[off..off + 4].try_into().unwrap());
        let len = u32::from_le_bytes(b[off + 4..off + 8].try_into().unwrap()) as usize;
        v.push((off, ty, len));
        off += len;
    }
    v
}

const FIELDS: &[&str] = &[
    "evt.type",
    "evt.args",
    "proc.cmdline",
    "proc.aname",
    "fd.name",
    "fd.net",
    "user.name",
    "evt.arg.flags",
];

/// Reads everything the reader accepts, extracting fields from each event: the events read,
/// or the error.
fn run(bytes: &[u8]) -> Result<u64, ScapError> {
    let mut r = moat_scap::from_bytes(bytes, "hostile.scap")?;
    let mut st = State::new(r.metadata());
    let fields: Vec<_> = FIELDS
        .iter()
        .map(|f| st.resolve(f, &FieldArg::None).unwrap().0)
        .collect();
    let mut ev = Event::default();
    while r.next_event(&mut ev)? {
        st.process(&mut ev);
        for f in &fields {
            let mut out = Vec::new();
            st.extract(&ev, f, &mut out);
        }
    }
    Ok(r.events_read())
}

fn format_error(e: ScapError) -> (u64, String) {
    match e {
        ScapError::Format {
            file,
            offset,
            problem,
        } => {
            assert_eq!(file, "hostile.scap");
            (offset, problem)
        }
        other => panic!("expected a format error, got {other}"),
    }
}

#[test]
fn truncation_at_every_block_boundary_and_inside_every_block() {
    let Some(b) = cat_write() else { return };
    let bl = blocks(&b);
    assert_eq!(bl.len(), 423);
    let mut events_before = 0u64;
    for &(off, ty, len) in &bl {
        if off > 0 {
            // At a boundary the file simply ends: the events before it were read.
            assert_eq!(run(&b[..off]).unwrap(), events_before, "cut at {off}");
        }
        // Inside the block: its header, its body, its trailer.
        for cut in [off + 3, off + 8 + (len - 12) / 2, off + len - 1] {
            let err = run(&b[..cut]).unwrap_err();
            let (at, problem) = format_error(err);
            assert_eq!(at, off as u64, "cut at {cut}: {problem}");
            assert!(problem.contains("truncated"), "{problem}");
        }
        if ty == 0x204 {
            events_before += 1;
        }
    }
    assert_eq!(run(&b).unwrap(), 345);
}

#[test]
fn a_truncated_gzip_stream_is_an_error() {
    let Some(b) = cat_write() else { return };
    let mut gz = Vec::new();
    let mut enc = flate2::write::GzEncoder::new(&mut gz, flate2::Compression::fast());
    std::io::Write::write_all(&mut enc, &b).unwrap();
    enc.finish().unwrap();
    assert_eq!(run(&gz).unwrap(), 345);
    let err = run(&gz[..gz.len() / 2]).unwrap_err();
    assert!(err.to_string().starts_with("hostile.scap: "), "{err}");
}

#[test]
fn huge_and_inconsistent_lengths() {
    let Some(b) = cat_write() else { return };
    let bl = blocks(&b);
    let set_len =
        |b: &mut Vec<u8>, off: usize, v: u32| b[off + 4..off + 8].copy_from_slice(&v.to_le_bytes());

    // A metadata block claiming 4 GiB: over the limit, refused before reading.
    let (pl_off, pl_ty, _) = *bl.iter().find(|(_, t, _)| *t == 0x212).unwrap();
    assert_eq!(pl_ty, 0x212);
    let mut h = b.clone();
    set_len(&mut h, pl_off, 0xFFFF_FFF0);
    let (at, problem) = format_error(run(&h).unwrap_err());
    assert_eq!(at, pl_off as u64);
    assert!(problem.contains("over the limit"), "{problem}");

    // Under the limit but past the end of the file: truncated, and only the bytes present
    // were read.
    let mut h = b.clone();
    set_len(&mut h, pl_off, 200 << 20);
    let (at, problem) = format_error(run(&h).unwrap_err());
    assert_eq!(at, pl_off as u64);
    assert!(problem.contains("truncated"), "{problem}");

    // An event block over 64 KiB (only the LARGE event blocks may be).
    let (ev_off, _, _) = *bl.iter().find(|(_, t, _)| *t == 0x204).unwrap();
    let mut h = b.clone();
    set_len(&mut h, ev_off, 1 << 20);
    let (_, problem) = format_error(run(&h).unwrap_err());
    assert!(problem.contains("over the limit"), "{problem}");

    // A block shorter than its own header.
    let mut h = b.clone();
    set_len(&mut h, ev_off, 4);
    let (_, problem) = format_error(run(&h).unwrap_err());
    assert!(problem.contains("shorter than a block header"), "{problem}");

    // A trailer that disagrees with the header.
    let (off, _, len) = bl[10];
    let mut h = b.clone();
    h[off + len - 4] ^= 1;
    let (at, problem) = format_error(run(&h).unwrap_err());
    assert_eq!(at, (off + len - 4) as u64);
    assert!(problem.contains("trailer"), "{problem}");

    // The event's own length past its block; a parameter length past the event's end.
    let mut h = b.clone();
    h[ev_off + 8 + 2 + 16..ev_off + 8 + 2 + 20].copy_from_slice(&60000u32.to_le_bytes());
    let (at, problem) = format_error(run(&h).unwrap_err());
    assert_eq!(at, (ev_off + 8 + 2 + 16) as u64);
    assert!(problem.contains("over the"), "{problem}");
    let first_with_params = bl
        .iter()
        .find(|(o, t, l)| *t == 0x204 && *l > 8 + 2 + 22 + 2 + 4 && b[o + 8 + 2 + 20] != 234)
        .copied()
        .unwrap();
    let mut h = b.clone();
    let lens = first_with_params.0 + 8 + 2 + 22;
    h[lens..lens + 2].copy_from_slice(&0xFFFFu16.to_le_bytes());
    let (_, problem) = format_error(run(&h).unwrap_err());
    assert!(
        problem.contains("does not match") || problem.contains("cannot work out"),
        "{problem}"
    );

    // A process list entry whose string length runs past the block.
    let mut h = b.clone();
    // V6 entry: tid, pid, ptid, sid (32 bytes), then the comm length.
    let comm_len = pl_off + 8 + 32;
    h[comm_len..comm_len + 2].copy_from_slice(&0xFFF0u16.to_le_bytes());
    let (at, problem) = format_error(run(&h).unwrap_err());
    assert!(problem.contains("comm"), "{problem}");
    assert!(at >= pl_off as u64);
}

#[test]
fn unknown_blocks_and_event_codes_are_skipped() {
    let Some(b) = cat_write() else { return };
    let bl = blocks(&b);
    let (ev_off, _, ev_len) = *bl.iter().find(|(_, t, _)| *t == 0x204).unwrap();
    // An unknown block type before the events, and one between them: skipped.
    let mut unknown = Vec::new();
    unknown.extend_from_slice(&0x7777_0001u32.to_le_bytes());
    unknown.extend_from_slice(&20u32.to_le_bytes());
    unknown.extend_from_slice(b"abcdefgh");
    unknown.extend_from_slice(&20u32.to_le_bytes());
    let mut h = b[..ev_off].to_vec();
    h.extend_from_slice(&unknown);
    h.extend_from_slice(&b[ev_off..ev_off + ev_len]);
    h.extend_from_slice(&unknown);
    h.extend_from_slice(&b[ev_off + ev_len..]);
    let mut r = moat_scap::from_bytes(&h, "hostile.scap").unwrap();
    let mut ev = Event::default();
    while r.next_event(&mut ev).unwrap() {}
    assert_eq!(r.events_read(), 345);
    assert_eq!(r.metadata().skipped_blocks, 2);

    // An event code beyond the table: skipped, counted, the rest read.
    let mut h = b.clone();
    let code_at = ev_off + 8 + 2 + 20;
    h[code_at..code_at + 2].copy_from_slice(&9999u16.to_le_bytes());
    let mut r = moat_scap::from_bytes(&h, "hostile.scap").unwrap();
    while r.next_event(&mut ev).unwrap() {}
    assert_eq!((r.events_read(), r.skipped_events), (344, 1));
}

#[test]
fn not_a_capture() {
    for (bytes, want) in [
        (&b""[..], "empty file"),
        (&b"\x0a\x0d\x0d"[..], "truncated block header"),
        (&b"GIF89a\0\0\0\0\0\0\0\0\0\0"[..], "not a capture"),
    ] {
        let e = match moat_scap::from_bytes(bytes, "hostile.scap") {
            Err(e) => e,
            Ok(_) => panic!("accepted {bytes:?}"),
        };
        assert!(e.to_string().contains(want), "{e}");
    }
    // A section header with the wrong magic, and one in the other byte order.
    let mut shb = Vec::new();
    shb.extend_from_slice(&0x0A0D_0D0Au32.to_le_bytes());
    shb.extend_from_slice(&28u32.to_le_bytes());
    shb.extend_from_slice(&0x1A2B_3C4Du32.swap_bytes().to_le_bytes());
    shb.extend_from_slice(&[1, 0, 2, 0]);
    shb.extend_from_slice(&[0xff; 8]);
    shb.extend_from_slice(&28u32.to_le_bytes());
    let e = moat_scap::from_bytes(&shb, "hostile.scap").err().unwrap();
    assert!(e.to_string().contains("big-endian"), "{e}");
    shb[8] = 0;
    let e = moat_scap::from_bytes(&shb, "hostile.scap").err().unwrap();
    assert!(e.to_string().contains("magic"), "{e}");
}

#[test]
fn random_corruption_never_panics() {
    let Some(b) = cat_write() else { return };
    // A fixed linear congruential sequence: reproducible flips of bytes and lengths.
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 33) as usize
    };
    let mut errors = 0;
    for _ in 0..300 {
        let mut h = b.clone();
        for _ in 0..1 + next() % 8 {
            let i = next() % h.len();
            h[i] = (next() & 0xff) as u8;
        }
        if run(&h).is_err() {
            errors += 1;
        }
    }
    // Most single flips land in parameter data and are read without complaint.
    assert!(errors < 300);
}
