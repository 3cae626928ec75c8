//! An image archive (docker-archive or oci-archive, detected), opened and every layer read
//! as a tar stream (entries and their content, bounded), then drained and verified.
#![no_main]
use libfuzzer_sys::fuzz_target;
use moat_image::tarstream::TarReader;
use std::io::Read;

fuzz_target!(|data: &[u8]| {
    let Ok(dir) = tempfile::tempdir() else { return };
    let path = dir.path().join("image.tar");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let Some(p) = path.to_str() else { return };
    let Ok(spec) = moat_image::TargetSpec::parse(p) else { return };
    let mut opts = moat_image::OpenOptions::default();
    opts.limits.max_layer_bytes = 1 << 22;
    let Ok(moat_image::Source::Image(img)) = moat_image::open(&spec, &opts) else { return };
    for i in 0..img.layer_count() {
        if let Ok(mut r) = img.open_layer(i) {
            let mut tar = TarReader::new(&mut r);
            while let Ok(Some(_)) = tar.next_entry() {
                let _ = std::io::copy(&mut tar.data().take(1 << 20), &mut std::io::sink());
            }
            drop(tar);
            let _ = r.finish();
        }
    }
});
