//! # moat-image: image inputs as verified layer streams
//!
//! INTERFACE CONTRACT (the scan engine in `moat-scan` and the CLI code against this):
//!
//! ```ignore
//! let spec = TargetSpec::parse("oci-archive:/tmp/x.tar")?;      // prefix or detection
//! let src = open(&spec, &OpenOptions { platform, image, limits })?;
//! match src {
//!     Source::Image(img) => {
//!         // img.artifact: Artifact with kind, name, path, repo_tags, digests, platform,
//!         // layers (index, digest, diff_id, media_type, size, created_by), config.
//!         for i in 0..img.layer_count() {
//!             let mut r: LayerReader = img.open_layer(i)?;   // uncompressed tar bytes
//!             // ... tar::Archive::new(&mut r) ...
//!             let stats = r.finish()?;   // drains the rest, verifies digest + diff_id
//!         }
//!     }
//!     Source::Directory { kind, root, artifact } => { /* walked by moat-scan */ }
//! }
//! ```
