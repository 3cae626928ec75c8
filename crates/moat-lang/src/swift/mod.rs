//! # Apple platforms: CocoaPods and Swift Package Manager
//!
//! | parser | file | module |
//! |---|---|---|
//! | [`parse_podfile_lock`] | `Podfile.lock` (CocoaPods, YAML) | `podfile_lock.rs` |
//! | [`parse_package_resolved`] | `Package.resolved` v1-v3 (SwiftPM, JSON) | `package_resolved.rs` |
//!
//! CocoaPods packages are pods by name (`pkg:cocoapods/Alamofire@5.8.1`; OSV has no
//! CocoaPods ecosystem, see [`moat_model::ecosystem`]). SwiftPM packages are named by their
//! repository URL without scheme and `.git` (`github.com/apple/swift-nio`), which is how
//! OSV's `SwiftURL` ecosystem names them (`pkg:swift/github.com/apple/swift-nio@2.62.0`).

mod package_resolved;
mod podfile_lock;

pub use package_resolved::{parse_package_resolved, swift_url_name};
pub use podfile_lock::parse_podfile_lock;
