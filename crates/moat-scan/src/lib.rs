//! moat-scan
