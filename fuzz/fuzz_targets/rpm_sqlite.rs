//! `rpmdb.sqlite` built from the input, so the fuzzer reaches schemas and not just the file
//! header: the input up to its first NUL is SQL run on a hardened connection (tables,
//! generated columns, triggers, views, virtual tables...), the rest a header blob inserted
//! into `Packages`; the serialized database then goes through the reader.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (sql, blob) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let Ok(sql) = std::str::from_utf8(sql) else {
        return;
    };
    let Ok(mut conn) = rusqlite::Connection::open_in_memory() else {
        return;
    };
    // The harness's own SQL runs under the same budget, so it cannot run away either.
    if moat_pkgdb::rpm::sqlite::harden(&mut conn).is_err() {
        return;
    }
    let _ = conn.execute_batch(sql);
    let _ = conn.execute("INSERT INTO Packages(hnum, blob) VALUES (1, ?1)", [blob]);
    if let Ok(bytes) = conn.serialize(rusqlite::MAIN_DB) {
        let _ = moat_pkgdb::rpm::read(&bytes);
    }
});
